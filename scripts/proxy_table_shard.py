"""Train the sampled proxy configs to the proxy's max epochs; write their learning curves."""

from hpotext.data.info import SplitFiles
from hpotext.proxy.steps import proxy_table_shard
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    proxy_table_shard,
    space_path=snakemake.input.space,
    files=SplitFiles.of_job(snakemake.input, "subset"),
    settings=dict(snakemake.params.settings),
    base_train=dict(snakemake.params.train),
    out_path=snakemake.output.table,
    shard=int(snakemake.wildcards.shard),
    shards=int(snakemake.params.shards),
)
