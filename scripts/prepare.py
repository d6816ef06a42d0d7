"""Validate and split the dataset; build the vocabulary from the train split."""

from pathlib import Path

from hpotext.data.steps import prepare
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    prepare,
    source=snakemake.input.source,
    name=snakemake.wildcards.exp,
    out_dir=str(Path(snakemake.output.train).parent),
    data_cfg=snakemake.params.data,
    text_cfg=snakemake.params.text,
)
