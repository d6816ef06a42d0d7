"""Write summary.json and summary.md."""

from hpotext.report.steps import summary
from hpotext.workflow.scripting import run_step

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    summary,
    experiment=snakemake.wildcards.exp,
    info_path=snakemake.input.info,
    subset_path=snakemake.input.subset,
    tuned_metrics=list(snakemake.input.tuned),
    default_metrics=list(snakemake.input.default),
    seeds=list(snakemake.params.seeds),
    tfidf_path=snakemake.input.tfidf,
    trials_path=snakemake.input.trials,
    incumbent_path=snakemake.input.incumbent,
    default_config_path=snakemake.input.default_config,
    curve_files=list(snakemake.input.curves),
    benchmarks=list(snakemake.input.benchmarks),
    optimizer=snakemake.params.optimizer,
    selection_path=(list(snakemake.input.selection) or [None])[0],
    validation_path=(list(snakemake.input.validation) or [None])[0],
    space_path=snakemake.input.space,
    importance_path=snakemake.input.importance,
    json_out=snakemake.output.json,
    md_out=snakemake.output.md,
    html_out=snakemake.output.html,
    compute_out=snakemake.output.compute,
    ensemble_paths=list(snakemake.input.ensembles),
    choice_path=snakemake.input.choice,
    min_per_class=snakemake.params.min_per_class,
)
