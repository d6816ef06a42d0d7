# Figures for the report and the study summary.


rule plots:
    input:
        trials=rules.collect_search.output.trials,
        curves=tuned_curves,
        metrics=tuned_metrics,
    output:
        search=report(
            "results/{exp}/report/search_trace.png",
            caption="../report/search_trace.rst",
            category="Search",
        ),
        curves=report(
            "results/{exp}/report/learning_curves.png",
            caption="../report/learning_curves.rst",
            category="Tuned config",
        ),
        confusion=report(
            "results/{exp}/report/confusion.png",
            caption="../report/confusion.rst",
            category="Tuned config",
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
        tuned=tuned_metrics,
        default=default_metrics,
        tfidf=rules.tfidf.output.metrics,
        trials=rules.collect_search.output.trials,
        incumbent=rules.collect_search.output.incumbent,
        default_config=rules.default_config.output.config,
        curves=final_curves,
        benchmarks=stage_benchmarks,
        selection=selection,
        validation=validation,
    output:
        json="results/{exp}/summary.json",
        md="results/{exp}/summary.md",
    log:
        "results/{exp}/logs/summary.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        seeds=SEEDS,
        optimizer=config["search"]["optimizer"],
    script:
        "../scripts/summary.py"
