"""Take the stratified search subset of the train split."""

from hpotext.data.steps import subset
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    subset,
    train_path=snakemake.input.train,
    out_path=snakemake.output.subset,
    fraction=snakemake.params.fraction,
    seed=snakemake.params.seed,
    min_per_class=snakemake.params.min_per_class,
)
