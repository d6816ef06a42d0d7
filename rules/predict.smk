# Using what the study found: a bundle per retrained variant, the top-k ensemble of them, the
# study's bundle chosen on validation, and predictions on new texts (--config predict=FILE).


rule bundle:
    input:
        unpack(of_study("encoder_inputs")),
        config=retrain_config,
        models=each_seed("final/{variant}/seed{seed}/model.pt"),
        predictions=each_seed("final/{variant}/seed{seed}/predictions.parquet"),
        vocab=base_file("data/vocab.json"),
        info=base_file("data/dataset.json"),
    output:
        bundle=directory("results/{exp}/final/{variant}/bundle"),
        ensemble="results/{exp}/final/{variant}/ensemble.json",
    log:
        "results/{exp}/logs/bundle_{variant}.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        seeds=variant_seeds,
        max_len=setting("text", "max_len"),
    script:
        "../scripts/bundle.py"


rule ensemble:
    input:
        bundles=of_study("per_variant", "final/{variant}/bundle"),
        predictions=of_study(
            "per_seed", "final/{variant}/seed{seed}/predictions.parquet"
        ),
    output:
        bundle=directory("results/{exp}/final/ensemble/bundle"),
        ensemble="results/{exp}/final/ensemble/ensemble.json",
    log:
        "results/{exp}/logs/ensemble.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        variants=of_study("variants"),
    script:
        "../scripts/ensemble.py"


rule study_bundle:
    input:
        bundles=of_study("per_variant", "final/{variant}/bundle", True),
        ensembles=of_study("per_variant", "final/{variant}/ensemble.json", True),
        val=base_file("data/val.parquet"),
    output:
        bundle=directory("results/{exp}/bundle"),
        choice="results/{exp}/final/chosen.json",
    log:
        "results/{exp}/logs/study_bundle.log",
    conda:
        "../envs/hpotext.yaml"
    threads: 1  # the inference speed it reports is one CPU thread's
    params:
        variants=of_study("candidates"),
    script:
        "../scripts/study_bundle.py"


rule predict:
    input:
        bundle=rules.study_bundle.output.bundle,
        texts=setting("predict"),
    output:
        "results/{exp}/predictions/{name}",
    log:
        "results/{exp}/logs/predict_{name}.log",
    conda:
        "../envs/hpotext.yaml"
    threads: 1
    resources:
        gpu=GPU,
    params:
        data=setting("data"),
    script:
        "../scripts/predict.py"
