"""Fit the surrogate on the proxy table and report its quality on held-out configs."""

from hpotext.proxy.steps import proxy_surrogate
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    proxy_surrogate,
    table_path=snakemake.input.table,
    space_path=snakemake.input.space,
    settings=dict(snakemake.params.settings),
    budget_evaluations=float(snakemake.params.evaluations),
    model_out=snakemake.output.model,
    quality_out=snakemake.output.quality,
    cost=snakemake.params.cost,
    kind=snakemake.params.kind,
)
