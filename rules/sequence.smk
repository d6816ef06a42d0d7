# A sequence study: every task is a study of its own (its search waits for the earlier tasks'
# incumbents with rush); one table sums the sequence up.


rule sequence_summary:
    input:
        incumbents=of_study("task_files", "search/incumbent.json"),
        trials=of_study("task_files", "search/trials.parquet"),
        summaries=of_study("task_files", "summary.json"),
    output:
        md="results/{exp}/sequence.md",
        table="results/{exp}/sequence.parquet",
    log:
        "results/{exp}/logs/sequence_summary.log",
    localrule: True
    conda:
        "../envs/hpotext.yaml"
    params:
        names=PLAN.task_names,
        optimizer=config["search"]["optimizer"],
    script:
        "../scripts/sequence_summary.py"
