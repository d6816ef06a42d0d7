"""A runner-up of the search: its rank-th best distinct config after the incumbent."""

from hpotext.search.steps import runner_up
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    runner_up,
    store_dir=snakemake.params.store,
    rank=int(snakemake.wildcards.rank),
    out=snakemake.output.config,
)
