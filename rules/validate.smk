# proxy.validate: every proxy candidate runs live on the real search (own store, one worker, a
# small epoch budget) for a few seeds; validate_proxy compares the live ranking with the proxy's.
# Off by default: it costs optimizers x seeds x proxy.validate_budget training epochs.


rule validate_run:
    input:
        unpack(of_study("encoder_inputs", "search_subset")),
        subset=rules.subset.output.subset,
        val=rules.prepare.output.val,
        vocab=rules.prepare.output.vocab,
        info=rules.prepare.output.info,
        space=ancient(BASE_SPACE),
    output:
        run="results/{exp}/validate/{optimizer}_seed{seed}.parquet",
    log:
        "results/{exp}/logs/validate_run_{optimizer}_seed{seed}.log",
    benchmark:
        "results/{exp}/benchmarks/validate_run_{optimizer}_seed{seed}.tsv"
    conda:
        "../envs/hpotext.yaml"
    threads: 1
    resources:
        gpu=GPU,
    params:
        space=SPACE_MEANING,
        store="results/{exp}/validate/{optimizer}/seed{seed}",
        budget=config["proxy"]["validate_budget"],
        train=config["train"],
        max_len=setting("text", "max_len"),
        max_failures=config["search"]["max_consecutive_failures"],
        stopping=config["stopping"],
        continuation=config["search"]["continuation"],
    script:
        "../scripts/validate_run.py"


rule validate_proxy:
    input:
        selection=rules.select_optimizer.output.json,
        runs=of_study("proxy_files", "validate"),
    output:
        json="results/{exp}/selection/validation.json",
        md="results/{exp}/selection/validation.md",
    log:
        "results/{exp}/logs/validate_proxy.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        budget=config["proxy"]["validate_budget"],
    script:
        "../scripts/validate_proxy.py"
