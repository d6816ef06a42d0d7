"""Join the proxy table's shards."""

from hpotext.proxy import merge_tables
from hpotext.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    merge_tables,
    shard_paths=list(snakemake.input.shards),
    out_path=snakemake.output.table,
)
