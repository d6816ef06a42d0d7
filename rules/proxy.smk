# The proxy benchmark: a learning-curve table on a shrunk task, a surrogate fitted to it, and
# every candidate optimizer replayed on the surrogate over many seeds. Built only when
# search.optimizer is auto.
#
# One job per optimizer runs all its seeds: a process per (optimizer, seed) would pay 4-7 s of
# imports (torch, sklearn, the optimizer's library) for a replay of about a second, i.e. minutes
# for the default 7 optimizers x 10 seeds, more than the whole proxy stage may cost. Optimizers
# still run in parallel, and every seed is its own deterministic replay. The proxy stage sits on
# the search's critical path, so its jobs go before independent ones (priority).


rule proxy_table:
    input:
        subset=rules.subset.output.subset,
        val=rules.prepare.output.val,
        vocab=rules.prepare.output.vocab,
        info=rules.prepare.output.info,
        space=config["search"]["space"],
    output:
        table="results/{exp}/proxy/table.parquet",
    log:
        "results/{exp}/logs/proxy_table.log",
    benchmark:
        "results/{exp}/benchmarks/proxy_table.tsv"
    priority: 10
    conda:
        "../envs/hpotext.yaml"
    threads: 2
    resources:
        gpu=GPU,
    params:
        settings=PROXY_TABLE,
        train=config["train"],
    script:
        "../scripts/proxy_table.py"


rule proxy_surrogate:
    input:
        table=rules.proxy_table.output.table,
        space=config["search"]["space"],
    output:
        model="results/{exp}/proxy/surrogate.pkl",
        quality="results/{exp}/proxy/quality.json",
    log:
        "results/{exp}/logs/proxy_surrogate.log",
    benchmark:
        "results/{exp}/benchmarks/proxy_surrogate.tsv"
    priority: 10
    conda:
        "../envs/hpotext.yaml"
    params:
        settings=PROXY_TABLE,
        evaluations=config["proxy"]["budget_evaluations"],
    script:
        "../scripts/proxy_surrogate.py"


rule proxy_run:
    input:
        model=rules.proxy_surrogate.output.model,
        quality=rules.proxy_surrogate.output.quality,
    output:
        run="results/{exp}/proxy/runs/{optimizer}.parquet",
    log:
        "results/{exp}/logs/proxy_run_{optimizer}.log",
    benchmark:
        "results/{exp}/benchmarks/proxy_run_{optimizer}.tsv"
    priority: 10
    conda:
        "../envs/hpotext.yaml"
    threads: 1
    params:
        seeds=PROXY_SEEDS,
    script:
        "../scripts/proxy_run.py"
