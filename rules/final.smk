# Train the configured (default) config over seeds, test it, and the TF-IDF reference.


rule train_default:
    input:
        train=rules.prepare.output.train,
        val=rules.prepare.output.val,
        vocab=rules.prepare.output.vocab,
        info=rules.prepare.output.info,
    output:
        model="results/{exp}/default/seed{seed}/model.pt",
        curve="results/{exp}/default/seed{seed}/curve.parquet",
    log:
        "results/{exp}/logs/train_default_seed{seed}.log",
    benchmark:
        "results/{exp}/benchmarks/train_default_seed{seed}.tsv"
    conda:
        "../envs/hpotext.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        model=default_model(),
        train=config["train"],
        max_len=config["text"]["max_len"],
        work="results/{exp}/default/seed{seed}/checkpoints",
    script:
        "../scripts/train_default.py"


rule evaluate_default:
    input:
        model=rules.train_default.output.model,
        test=rules.prepare.output.test,
        vocab=rules.prepare.output.vocab,
        info=rules.prepare.output.info,
    output:
        metrics="results/{exp}/default/seed{seed}/test_metrics.json",
    log:
        "results/{exp}/logs/evaluate_default_seed{seed}.log",
    benchmark:
        "results/{exp}/benchmarks/evaluate_default_seed{seed}.tsv"
    conda:
        "../envs/hpotext.yaml"
    threads: 1
    resources:
        gpu=1,
    params:
        max_len=config["text"]["max_len"],
    script:
        "../scripts/evaluate.py"


rule tfidf:
    input:
        train=rules.prepare.output.train,
        val=rules.prepare.output.val,
        test=rules.prepare.output.test,
        info=rules.prepare.output.info,
    output:
        metrics="results/{exp}/baseline/tfidf.json",
    log:
        "results/{exp}/logs/tfidf.log",
    benchmark:
        "results/{exp}/benchmarks/tfidf.tsv"
    conda:
        "../envs/hpotext.yaml"
    params:
        seed=config["data"]["split_seed"],
    script:
        "../scripts/tfidf.py"
