# What the study learned: importance, figures, the summary and the report's pages.


rule importance:
    input:
        trials=rules.collect_search.output.trials,
        space=space_file,
    output:
        table="results/{exp}/importance/importance.parquet",
        json="results/{exp}/importance/importance.json",
        bars=report(
            "results/{exp}/report/importance.png",
            caption="../report/importance.rst",
            category="4 Importance",
        ),
        marginals=report(
            "results/{exp}/report/marginals.png",
            caption="../report/marginals.rst",
            category="4 Importance",
        ),
    log:
        "results/{exp}/logs/importance.log",
    benchmark:
        "results/{exp}/benchmarks/importance.tsv"
    conda:
        "../envs/hpotext.yaml"
    params:
        space=of_study("space_meaning"),
        settings=setting("importance"),
    script:
        "../scripts/importance.py"


rule search_plots:
    input:
        trials=rules.collect_search.output.trials,
        incumbent=rules.collect_search.output.incumbent,
        space=space_file,
    output:
        trace=report(
            "results/{exp}/report/search_trace.png",
            caption="../report/search_trace.rst",
            category="3 Search",
        ),
        curves=report(
            "results/{exp}/report/trial_curves.png",
            caption="../report/trial_curves.rst",
            category="3 Search",
        ),
        boundary=report(
            "results/{exp}/report/boundary.png",
            caption="../report/boundary.rst",
            category="3 Search",
        ),
    log:
        "results/{exp}/logs/search_plots.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        space=of_study("space_meaning"),
    script:
        "../scripts/search_plots.py"


rule plots:
    input:
        curves=of_study("per_seed", "final/tuned/seed{seed}/curve.parquet", ("tuned",)),
        metrics=of_study(
            "per_seed", "final/tuned/seed{seed}/test_metrics.json", ("tuned",)
        ),
    output:
        curves=report(
            "results/{exp}/report/learning_curves.png",
            caption="../report/learning_curves.rst",
            category="5 Tuned config",
        ),
        confusion=report(
            "results/{exp}/report/confusion.png",
            caption="../report/confusion.rst",
            category="5 Tuned config",
        ),
    log:
        "results/{exp}/logs/plots.log",
    conda:
        "../envs/hpotext.yaml"
    script:
        "../scripts/plots.py"


rule summary:
    input:
        info=base_file("data/dataset.json"),
        subset=base_file("data/search_subset.parquet"),
        tuned=of_study(
            "per_seed", "final/tuned/seed{seed}/test_metrics.json", ("tuned",)
        ),
        default=of_study(
            "per_seed", "final/default/seed{seed}/test_metrics.json", ("default",)
        ),
        tfidf=base_file("baseline/tfidf.json"),
        trials=rules.collect_search.output.trials,
        incumbent=rules.collect_search.output.incumbent,
        default_config=rules.default_config.output.config,
        space=space_file,
        importance=rules.importance.output.json,
        curves=of_study("per_seed", "final/{variant}/seed{seed}/curve.parquet"),
        benchmarks=of_study("benchmarks"),
        selection=of_study("selection"),
        validation=of_study("validation"),
        ensembles=of_study("per_variant", "final/{variant}/ensemble.json", True),
        choice=rules.study_bundle.output.choice,
    output:
        json="results/{exp}/summary.json",
        md="results/{exp}/summary.md",
        html=report(
            "results/{exp}/report/summary.html",
            caption="../report/summary.rst",
            category="1 Summary",
        ),
        compute=report(
            "results/{exp}/report/compute.png",
            caption="../report/compute.rst",
            category="6 Compute",
        ),
    log:
        "results/{exp}/logs/summary.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        space=of_study("space_meaning"),
        seeds=of_study("seeds"),
        optimizer=setting("search", "optimizer"),
        min_per_class=setting("data", "search_min_per_class"),
    script:
        "../scripts/summary.py"
