"""Run one optimizer live on the real search (its own store), for the proxy's validation."""

from hpotext.selection.steps import validate_run
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    validate_run,
    out=snakemake.output.run,
    space_path=snakemake.input.space,
    subset_path=snakemake.input.subset,
    val_path=snakemake.input.val,
    vocab_path=snakemake.input.vocab,
    info_path=snakemake.input.info,
    store_dir=snakemake.params.store,
    optimizer=snakemake.wildcards.optimizer,
    seed=int(snakemake.wildcards.seed),
    budget={"kind": "epochs", "amount": float(snakemake.params.budget)},
    base_train=dict(snakemake.params.train),
    max_len=int(snakemake.params.max_len),
    worker="w0",
    workers=["w0"],
    max_consecutive_failures=int(snakemake.params.max_failures),
    stopping=dict(snakemake.params.stopping),
    continuation=bool(snakemake.params.continuation),
)
