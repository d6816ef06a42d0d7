"""Priors for later studies from this study's top configs (results/<exp>/priors/derived.yaml)."""

from hpotext.space.steps import derive_priors
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    derive_priors,
    trials_path=snakemake.input.trials,
    space_path=snakemake.input.space,
    top_k=int(snakemake.params.top_k),
    out=snakemake.output.priors,
)
