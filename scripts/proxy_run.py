"""Replay this job's optimizers on the proxy surrogate, once per seed."""

from hpotext.proxy.steps import proxy_run
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    proxy_run,
    surrogate_path=snakemake.input.model,
    quality_path=snakemake.input.quality,
    optimizers=list(snakemake.params.optimizers),
    seeds=[int(s) for s in snakemake.params.seeds],
    out=snakemake.output.run,
)
