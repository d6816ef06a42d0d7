"""Train the configured model for one seed; keep the best epoch on validation."""

from hpotext.pipeline import train_config
from hpotext.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    train_config,
    train_path=snakemake.input.train,
    val_path=snakemake.input.val,
    vocab_path=snakemake.input.vocab,
    info_path=snakemake.input.info,
    model_cfg=dict(snakemake.params.model),
    train_cfg=dict(snakemake.params.train),
    max_len=snakemake.params.max_len,
    seed=int(snakemake.wildcards.seed),
    model_out=snakemake.output.model,
    curve_out=snakemake.output.curve,
    work_dir=snakemake.params.work,
)
