"""The top-k ensemble: greedy ensemble selection over the retrained variants on validation."""

from pathlib import Path

from hpotext.predict.steps import top_k
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
variants = list(snakemake.params.variants)
# results/<exp>/final/<variant>/seed<k>/predictions.parquet, grouped by variant
predictions = {v: [p for p in snakemake.input.predictions if Path(p).parent.parent.name == v]
               for v in variants}  # fmt: skip
run_step(
    snakemake,
    top_k,
    bundles=dict(zip(variants, snakemake.input.bundles, strict=True)),
    predictions=predictions,
    out_dir=snakemake.output.bundle,
    ensemble_out=snakemake.output.ensemble,
)
