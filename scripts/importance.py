"""Hyperparameter importance over the final search's trials."""

from hpotext.report.steps import importance
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    importance,
    trials_path=snakemake.input.trials,
    space_path=snakemake.input.space,
    settings=dict(snakemake.params.settings),
    table_out=snakemake.output.table,
    json_out=snakemake.output.json,
    bars_out=snakemake.output.bars,
    marginals_out=snakemake.output.marginals,
)
