"""The search trace, and the tuned config's learning curves and confusion matrix."""

from hpotext.scripting import run_step
from hpotext.study import figures

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    figures,
    trials_path=snakemake.input.trials,
    curve_paths=list(snakemake.input.curves),
    metric_paths=list(snakemake.input.metrics),
    search_out=snakemake.output.search,
    curves_out=snakemake.output.curves,
    confusion_out=snakemake.output.confusion,
)
