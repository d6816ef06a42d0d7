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
        metrics=arm_metrics,
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
        arms=ARM_NAMES,
        study=config["study"],
        metric_files=lambda w: {arm: arm_metric_files(w.exp, arm) for arm in ARM_NAMES},
    script:
        "../scripts/compare_arms.py"
