"""The frozen encoder bottom's states of one split, cached for the trials that train its top."""

from hpotext.data.steps import features
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    features,
    split_path=snakemake.input.split,
    encoder=snakemake.input.encoder,
    grid=dict(snakemake.params.grid),
    out_dir=snakemake.output.folder,
)
