"""The TF-IDF + logistic-regression reference on the same split."""

from hpotext.final.steps import tfidf
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    tfidf,
    train_path=snakemake.input.train,
    val_path=snakemake.input.val,
    test_path=snakemake.input.test,
    info_path=snakemake.input.info,
    out_path=snakemake.output.metrics,
    seed=snakemake.params.seed,
)
