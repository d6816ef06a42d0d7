"""One search worker: ask, train, tell through the shared trial store until the budget is spent."""

from hpotext.data.info import DatasetInfo, SplitFiles
from hpotext.search.steps import search
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    search,
    space_path=snakemake.input.space,
    files=SplitFiles.of_job(snakemake.input, "subset"),
    store_dir=snakemake.params.store,
    optimizer=snakemake.params.optimizer,
    selection_path=(list(snakemake.input.selection) or [None])[0],
    seed=int(snakemake.params.seed),
    budget=dict(snakemake.params.budget),
    base_train=dict(snakemake.params.train),
    max_len=int(snakemake.params.max_len),
    worker=snakemake.wildcards.worker,
    workers=list(snakemake.params.workers),
    max_consecutive_failures=int(snakemake.params.max_failures),
    stopping=dict(snakemake.params.stopping),
    continuation=bool(snakemake.params.continuation),
    options=dict(snakemake.params.options),
    hurdle_paths=list(snakemake.input.hurdles),
    portfolio=dict(snakemake.params.portfolio),
    dataset=DatasetInfo.from_json(snakemake.input.info).name,
    # from the config, not a param: choosing what a change does is not itself a change
    on_change=snakemake.config["search"]["on_change"],
    done_out=snakemake.output.done,
)
