"""A playbook arm's search space: its scientific and the study's fixed hyperparameters held."""

from hpotext.studies.steps import arm_space
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    arm_space,
    space_path=snakemake.input.space,
    study=dict(snakemake.params.study),
    arm_name=snakemake.wildcards.arm,
    out=snakemake.output.space,
)
