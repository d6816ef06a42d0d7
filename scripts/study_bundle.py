"""The study's bundle: the variant whose seed ensemble scores best on validation."""

from hpotext.predict.steps import study_bundle
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
variants = list(snakemake.params.variants)
run_step(
    snakemake,
    study_bundle,
    bundles=dict(zip(variants, snakemake.input.bundles, strict=True)),
    ensembles=dict(zip(variants, snakemake.input.ensembles, strict=True)),
    out_dir=snakemake.output.bundle,
    choice_out=snakemake.output.choice,
    speed_texts=snakemake.input.val,
)
