# Playbook studies: one space per arm, and the comparison of the arms' tuned test scores.


localrules:
    arm_space,


rule arm_space:
    input:
        space=ancient(BASE_SPACE),
    output:
        space="results/{exp}/study/{arm}/space.yaml",
    log:
        "results/{exp}/logs/arm_space_{arm}.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        space=arm_space_meaning,
        study=config["study"],
    script:
        "../scripts/arm_space.py"


rule compare_arms:
    input:
        metrics=of_study("arm_metric_files"),
        space=ancient(BASE_SPACE),
    output:
        json="results/{exp}/study/comparison.json",
        md="results/{exp}/study/comparison.md",
        png=report(
            "results/{exp}/study/comparison.png",
            caption="../report/comparison.rst",
            category="0 Study",
        ),
    log:
        "results/{exp}/logs/compare_arms.log",
    conda:
        "../envs/hpotext.yaml"
    params:
        space=SPACE_MEANING,
        arms=PLAN.arm_names,
        study=config["study"],
        metric_files=of_study("arm_metrics"),
    script:
        "../scripts/compare_arms.py"
