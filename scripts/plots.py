"""The tuned config's learning curves and confusion matrix."""

from hpotext.report.steps import plots
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    plots,
    curve_paths=list(snakemake.input.curves),
    metric_paths=list(snakemake.input.metrics),
    curves_out=snakemake.output.curves,
    confusion_out=snakemake.output.confusion,
    label="tuned config",
)
