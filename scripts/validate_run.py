"""Run one optimizer live on the real search (its own store), for the proxy's validation."""

from hpotext.data.info import SplitFiles
from hpotext.selection.steps import validate_run
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    validate_run,
    out=snakemake.output.run,
    space_path=snakemake.input.space,
    files=SplitFiles.of_job(snakemake.input, "subset"),
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
