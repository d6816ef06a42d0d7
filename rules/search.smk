# The multi-fidelity search: N workers share one trial store, then one job collects it.


rule search:
    input:
        unpack(of_study("encoder_inputs", "search_subset")),
        subset=base_file("data/search_subset.parquet"),
        val=base_file("data/val.parquet"),
        vocab=base_file("data/vocab.json"),
        info=base_file("data/dataset.json"),
        space=space_file,
        selection=of_study("selection"),
        hurdles=of_study("hurdles"),
        portfolio=of_study("portfolio"),
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
        space=of_study("space_meaning"),
        store="results/{exp}/search",
        optimizer=setting("search", "optimizer"),
        seed=setting("search", "seed"),
        budget=setting("search", "budget"),
        train=setting("train"),
        max_len=setting("text", "max_len"),
        workers=of_study("workers"),
        max_failures=setting("search", "max_consecutive_failures"),
        stopping=setting("stopping"),
        continuation=setting("search", "continuation"),
        options=setting("search", "options"),
        portfolio=setting("search", "portfolio"),
    script:
        "../scripts/search.py"


rule collect_search:
    input:
        workers=of_study("search_markers"),
        space=space_file,
    output:
        trials="results/{exp}/search/trials.parquet",
        incumbent="results/{exp}/search/incumbent.json",
    log:
        "results/{exp}/logs/collect_search.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        space=of_study("space_meaning"),
        store="results/{exp}/search",
    script:
        "../scripts/collect_search.py"


rule runner_config:
    input:
        incumbent=rules.collect_search.output.incumbent,
    output:
        config="results/{exp}/final/runner{rank}/config.json",
    log:
        "results/{exp}/logs/runner_config{rank}.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        store=lambda wildcards, input: os.path.dirname(input.incumbent),
    script:
        "../scripts/runner_config.py"


rule default_config:
    input:
        space=space_file,
    output:
        config="results/{exp}/final/default/config.json",
    log:
        "results/{exp}/logs/default_config.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        space=of_study("space_meaning"),
    script:
        "../scripts/default_config.py"
