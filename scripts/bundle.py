"""Bundle a retrained variant (every seed a member) with its seed ensemble's metrics."""

from hpotext.predict.steps import bundle
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    bundle,
    variant=snakemake.wildcards.variant,
    config_path=snakemake.input.config,
    models=list(snakemake.input.models),
    predictions=list(snakemake.input.predictions),
    seeds=list(snakemake.params.seeds),
    vocab=snakemake.input.vocab,
    info=snakemake.input.info,
    max_len=int(snakemake.params.max_len),
    out_dir=snakemake.output.bundle,
    ensemble_out=snakemake.output.ensemble,
    encoder=snakemake.input.get("encoder"),
)
