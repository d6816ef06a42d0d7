"""trials.parquet and incumbent.json from the search's trial store."""

from hpotext.scripting import run_step
from hpotext.study import collect

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    collect,
    store_dir=snakemake.params.store,
    space_path=snakemake.input.space,
    trials_out=snakemake.output.trials,
    incumbent_out=snakemake.output.incumbent,
)
