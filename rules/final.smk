# Retrain the tuned and the default (prior) config over seeds, test them; the TF-IDF reference.
#
# The default config's retrains are off the critical path (data -> proxy -> search). They ask for
# two threads so that they start only when two cores are free: with one thread they would grab
# the first core that frees up and hold it for minutes while a proxy job waits (Snakemake cannot
# preempt a running job).


rule retrain:
    input:
        unpack(of_study("encoder_inputs", "train")),
        config=retrain_config,
        space=space_file,
        train=base_file("data/train.parquet"),
        val=base_file("data/val.parquet"),
        vocab=base_file("data/vocab.json"),
        info=base_file("data/dataset.json"),
    output:
        model="results/{exp}/final/{variant}/seed{seed}/model.pt",
        curve="results/{exp}/final/{variant}/seed{seed}/curve.parquet",
    log:
        "results/{exp}/logs/retrain_{variant}_seed{seed}.log",
    benchmark:
        "results/{exp}/benchmarks/retrain_{variant}_seed{seed}.tsv"
    conda:
        "../envs/hpotext.yaml"
    threads: lambda wildcards: 2 if wildcards.variant == "default" else 1
    resources:
        gpu=GPU,
    params:
        space=of_study("space_meaning"),
        train=setting("train"),
        max_len=setting("text", "max_len"),
        work="results/{exp}/final/{variant}/seed{seed}/checkpoints",
    script:
        "../scripts/retrain.py"


rule evaluate:
    input:
        unpack(of_study("encoder_inputs")),
        model=rules.retrain.output.model,
        val=base_file("data/val.parquet"),
        test=base_file("data/test.parquet"),
        vocab=base_file("data/vocab.json"),
        info=base_file("data/dataset.json"),
    output:
        metrics="results/{exp}/final/{variant}/seed{seed}/test_metrics.json",
        predictions="results/{exp}/final/{variant}/seed{seed}/predictions.parquet",
    log:
        "results/{exp}/logs/evaluate_{variant}_seed{seed}.log",
    benchmark:
        "results/{exp}/benchmarks/evaluate_{variant}_seed{seed}.tsv"
    conda:
        "../envs/hpotext.yaml"
    threads: 1
    resources:
        gpu=GPU,
    params:
        max_len=setting("text", "max_len"),
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
        seed=setting("data", "split_seed"),
    script:
        "../scripts/tfidf.py"
