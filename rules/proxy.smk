# The proxy benchmark: a learning-curve table on a shrunk task, a surrogate fitted to it, and
# every candidate optimizer replayed on the surrogate over many seeds. Built only when
# search.optimizer is auto.
#
# The table is trained in proxy.shards parallel one-thread jobs (configs i, i + shards, ...):
# a single two-thread job waits until both cores are free while one-core jobs keep taking
# whichever core frees first, which delayed the search by minutes on two cores.
#
# The replays run in proxy.shards jobs too, the optimizers balanced by replay cost: a process per
# (optimizer, seed), or even per optimizer, would pay 4-7 s of imports (torch, sklearn, every
# optimizer's library) for replays of about a second each. Every (optimizer, seed) is still its
# own deterministic replay. The proxy stage sits on the search's critical path, so its jobs go
# before independent ones (priority).


rule proxy_table_shard:
    input:
        unpack(of_study("encoder_inputs", "search_subset")),
        subset=rules.subset.output.subset,
        val=rules.prepare.output.val,
        vocab=rules.prepare.output.vocab,
        info=rules.prepare.output.info,
        space=ancient(BASE_SPACE),
    output:
        table=temp("results/{exp}/proxy/table_shard{shard}.parquet"),
    log:
        "results/{exp}/logs/proxy_table_shard{shard}.log",
    benchmark:
        "results/{exp}/benchmarks/proxy_table_shard{shard}.tsv"
    priority: 10
    conda:
        "../envs/hpotext.yaml"
    threads: 1
    resources:
        gpu=GPU,
    params:
        space=SPACE_MEANING,
        settings=PLAN.proxy_table,
        train=config["train"],
        shards=PLAN.proxy_shards,
    script:
        "../scripts/proxy_table_shard.py"


rule proxy_table:
    input:
        shards=of_study("proxy_files", "table"),
    output:
        table="results/{exp}/proxy/table.parquet",
    log:
        "results/{exp}/logs/proxy_table.log",
    priority: 10
    localrule: True
    run:
        # a pandas concat: in Snakemake's own process, not a new one that imports torch
        concat_parquets(
            list(input.shards), output.table, ["config_id", "epoch"], log[0]
        )


rule proxy_surrogate:
    input:
        table=rules.proxy_table.output.table,
        space=ancient(BASE_SPACE),
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
        space=SPACE_MEANING,
        settings=PLAN.proxy_table,
        evaluations=config["proxy"]["budget_evaluations"],
        cost=PLAN.proxy_cost,
        kind=config["proxy"]["surrogate"],
    script:
        "../scripts/proxy_surrogate.py"


rule proxy_run:
    input:
        model=rules.proxy_surrogate.output.model,
        quality=rules.proxy_surrogate.output.quality,
    output:
        run="results/{exp}/proxy/runs/part{part}.parquet",
    log:
        "results/{exp}/logs/proxy_run_part{part}.log",
    benchmark:
        "results/{exp}/benchmarks/proxy_run_part{part}.tsv"
    priority: 10
    conda:
        "../envs/hpotext.yaml"
    threads: 1
    params:
        optimizers=proxy_part,
        seeds=PLAN.proxy_seeds,
    script:
        "../scripts/proxy_run.py"
