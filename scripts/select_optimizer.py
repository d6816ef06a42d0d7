"""Compare the optimizers' replays and select one for the search."""

from hpotext.scripting import run_step
from hpotext.selection import select_optimizer

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    select_optimizer,
    run_paths=list(snakemake.input.runs),
    quality_path=snakemake.input.quality,
    out_json=snakemake.output.json,
    out_md=snakemake.output.md,
    curves_png=snakemake.output.curves,
    cd_png=snakemake.output.cd,
    stores=list(snakemake.params.stores),
    on_change=snakemake.config["search"]["on_change"],
)
