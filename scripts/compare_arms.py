"""A playbook study's arms compared on their tuned test scores."""

from hpotext.studies.steps import compare_arms
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    compare_arms,
    arm_names=list(snakemake.params.arms),
    metric_files={k: list(v) for k, v in dict(snakemake.params.metric_files).items()},
    study=dict(snakemake.params.study),
    space_path=snakemake.input.space,
    json_out=snakemake.output.json,
    md_out=snakemake.output.md,
    png_out=snakemake.output.png,
)
