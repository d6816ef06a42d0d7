"""A sequence study's table: each task's search cost, hurdle trials and tuned test score."""

from hpotext.studies.steps import sequence_summary
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    sequence_summary,
    names=list(snakemake.params.names),
    incumbents=list(snakemake.input.incumbents),
    trials=list(snakemake.input.trials),
    summaries=list(snakemake.input.summaries),
    optimizer=str(snakemake.params.optimizer),
    md_out=snakemake.output.md,
    parquet_out=snakemake.output.table,
)
