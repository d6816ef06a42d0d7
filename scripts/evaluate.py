"""Score a trained model on the test split; keep its val and test class probabilities."""

from hpotext.final.steps import evaluate
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    evaluate,
    model_path=snakemake.input.model,
    test_path=snakemake.input.test,
    vocab_path=snakemake.input.vocab,
    info_path=snakemake.input.info,
    max_len=snakemake.params.max_len,
    out_path=snakemake.output.metrics,
    encoder=snakemake.input.get("encoder"),
    val_path=snakemake.input.val,
    predictions_out=snakemake.output.predictions,
)
