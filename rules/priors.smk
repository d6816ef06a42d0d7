# Priors: every study derives priors from its search's top configs for later studies, and a
# study that names a priors file (search.priors) searches a copy of its space with those priors.


rule derive_priors:
    input:
        trials="results/{exp}/search/trials.parquet",
        space=space_file,
    output:
        priors="results/{exp}/priors/derived.yaml",
    log:
        "results/{exp}/logs/derive_priors.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        space=of_study("space_meaning"),
        top_k=setting("priors", "top_k"),
    script:
        "../scripts/derive_priors.py"


if config["search"]["priors"]:

    rule prior_space:
        input:
            space=ancient(config["search"]["space"]),
            priors=ancient(config["search"]["priors"]),
        output:
            space=BASE_SPACE,
        log:
            f"results/{EXP}/logs/prior_space.log",
        localrule: True
        conda:
            "../envs/hpotext.yaml"
        params:
            space=SPACE_MEANING,  # the space with the priors: what both files mean together
        script:
            "../scripts/prior_space.py"
