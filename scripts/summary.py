"""Write summary.json and summary.md."""

from hpotext.scripting import run_step
from hpotext.summary import summarize

snakemake = globals()["snakemake"]
run_step(
    snakemake,
    summarize,
    experiment=snakemake.wildcards.exp,
    info_path=snakemake.input.info,
    subset_path=snakemake.input.subset,
    default_metrics=list(snakemake.input.metrics),
    seeds=list(snakemake.params.seeds),
    tfidf_path=snakemake.input.tfidf,
    benchmarks=list(snakemake.input.benchmarks),
    default_config={"model": dict(snakemake.params.model), "train": dict(snakemake.params.train)},
    json_out=snakemake.output.json,
    md_out=snakemake.output.md,
)
