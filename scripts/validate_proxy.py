"""Rank correlation between the proxy's ordering of the optimizers and the live one."""

from hpotext.selection.steps import validate_proxy
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    validate_proxy,
    selection_path=snakemake.input.selection,
    run_paths=list(snakemake.input.runs),
    budget=float(snakemake.params.budget),
    out_json=snakemake.output.json,
    out_md=snakemake.output.md,
)
