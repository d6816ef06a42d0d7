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
        space=space_meaning,
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
        space=space_meaning,
    script:
        "../scripts/search_plots.py"


rule plots:
    input:
        curves=tuned_curves,
        metrics=tuned_metrics,
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
        info=base_data("dataset.json"),
        subset=base_data("search_subset.parquet"),
        tuned=tuned_metrics,
        default=default_metrics,
        tfidf=lambda w: f"results/{base_exp(w.exp)}/baseline/tfidf.json",
        trials=rules.collect_search.output.trials,
        incumbent=rules.collect_search.output.incumbent,
        default_config=rules.default_config.output.config,
        space=space_file,
        importance=rules.importance.output.json,
        curves=final_curves,
        benchmarks=stage_benchmarks,
        selection=selection,
        validation=validation,
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
        space=space_meaning,
        seeds=seeds_of,
        optimizer=setting("search", "optimizer"),
    script:
        "../scripts/summary.py"
