"""Fit the surrogate on the proxy table and report its quality on held-out configs."""

from hpotext.scripting import run_step
from hpotext.selection import fit_surrogate

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    fit_surrogate,
    table_path=snakemake.input.table,
    space_path=snakemake.input.space,
    settings=dict(snakemake.params.settings),
    budget_evaluations=float(snakemake.params.evaluations),
    model_out=snakemake.output.model,
    quality_out=snakemake.output.quality,
    cost=snakemake.params.cost,
)
