# Figures for the report and the study summary.


rule plots:
    input:
        curves=default_curves,
        metrics=default_metrics,
    output:
        curves=report(
            "results/{exp}/report/learning_curves.png",
            caption="../report/learning_curves.rst",
            category="Default config",
        ),
        confusion=report(
            "results/{exp}/report/confusion.png",
            caption="../report/confusion.rst",
            category="Default config",
        ),
    log:
        "results/{exp}/logs/plots.log",
    conda:
        "../envs/hpotext.yaml"
    script:
        "../scripts/plots.py"


rule summary:
    input:
        info=rules.prepare.output.info,
        subset=rules.subset.output.subset,
        metrics=default_metrics,
        tfidf=rules.tfidf.output.metrics,
        benchmarks=stage_benchmarks,
    output:
        json="results/{exp}/summary.json",
        md="results/{exp}/summary.md",
    log:
        "results/{exp}/logs/summary.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        seeds=SEEDS,
        model=default_model(),
        train=config["train"],
    script:
        "../scripts/summary.py"
