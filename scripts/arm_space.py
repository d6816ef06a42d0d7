"""A playbook arm's search space: its scientific and the study's fixed hyperparameters held."""

from hpotext.playbook import write_arm_space
from hpotext.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    write_arm_space,
    space_path=snakemake.input.space,
    study=dict(snakemake.params.study),
    arm_name=snakemake.wildcards.arm,
    out=snakemake.output.space,
)
