# The multi-fidelity search: N workers share one trial store, then one job collects it.


rule search:
    input:
        subset=rules.subset.output.subset,
        val=rules.prepare.output.val,
        vocab=rules.prepare.output.vocab,
        info=rules.prepare.output.info,
        space=config["search"]["space"],
        selection=selection,
    output:
        done="results/{exp}/search/workers/{worker}.json",
    log:
        "results/{exp}/logs/search_{worker}.log",
    benchmark:
        "results/{exp}/benchmarks/search_{worker}.tsv"
    priority: 5  # before the default config's retrains, which are off the critical path
    conda:
        "../envs/hpotext.yaml"
    threads: 1
    resources:
        gpu=GPU,
    params:
        store="results/{exp}/search",
        optimizer=config["search"]["optimizer"],
        seed=config["search"]["seed"],
        budget=config["search"]["budget"],
        train=config["train"],
        max_len=config["text"]["max_len"],
        workers=WORKERS,
        max_failures=config["search"]["max_consecutive_failures"],
        stopping=config["stopping"],
        continuation=config["search"]["continuation"],
    script:
        "../scripts/search.py"


rule collect_search:
    input:
        workers=search_markers,
        space=config["search"]["space"],
    output:
        trials="results/{exp}/search/trials.parquet",
        incumbent="results/{exp}/search/incumbent.json",
    log:
        "results/{exp}/logs/collect_search.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        store="results/{exp}/search",
    script:
        "../scripts/collect_search.py"


rule default_config:
    input:
        space=config["search"]["space"],
    output:
        config="results/{exp}/final/default/config.json",
    log:
        "results/{exp}/logs/default_config.log",
    conda:
        "../envs/hpotext.yaml"
    script:
        "../scripts/default_config.py"
