"""Compare the optimizers' replays and select one for the search."""

from hpotext.selection.steps import select_optimizer
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
# the search that takes this selection (from the config, not a param: a param would rerun the
# selection whenever a playbook study comes or goes); a playbook arm's search checks its own
arms = bool(snakemake.config["study"]["scientific"])
search = [] if arms else [f"results/{snakemake.wildcards.exp}/search"]
run_step(
    snakemake,
    select_optimizer,
    run_paths=list(snakemake.input.runs),
    quality_path=snakemake.input.quality,
    out_json=snakemake.output.json,
    out_md=snakemake.output.md,
    curves_png=snakemake.output.curves,
    cd_png=snakemake.output.cd,
    stores=search,
    on_change=snakemake.config["search"]["on_change"],
    fallback=list(snakemake.params.fallback),
)
