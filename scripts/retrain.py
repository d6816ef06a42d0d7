"""Retrain a config (tuned or default) on the full train split; keep its best epoch on val."""

from hpotext.data.info import SplitFiles
from hpotext.final.steps import retrain
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    retrain,
    config_path=snakemake.input.config,
    space_path=snakemake.input.space,
    files=SplitFiles.of_job(snakemake.input, "train"),
    base_train=dict(snakemake.params.train),
    max_len=int(snakemake.params.max_len),
    seed=int(snakemake.wildcards.seed),
    model_out=snakemake.output.model,
    curve_out=snakemake.output.curve,
    work_dir=snakemake.params.work,
)
