"""Search progress, every trial's learning curve and the boundary check."""

from hpotext.report.steps import search_plots
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    search_plots,
    trials_path=snakemake.input.trials,
    space_path=snakemake.input.space,
    incumbent_path=snakemake.input.incumbent,
    trace_out=snakemake.output.trace,
    curves_out=snakemake.output.curves,
    boundary_out=snakemake.output.boundary,
)
