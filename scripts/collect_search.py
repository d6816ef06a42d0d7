"""trials.parquet and incumbent.json from the search's trial store."""

from hpotext.search.steps import collect_search
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    collect_search,
    store_dir=snakemake.params.store,
    space_path=snakemake.input.space,
    trials_out=snakemake.output.trials,
    incumbent_out=snakemake.output.incumbent,
)
