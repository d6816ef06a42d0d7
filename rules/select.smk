# Compare the optimizers replayed on the proxy and select the one the search uses.


rule select_optimizer:
    input:
        runs=of_study("proxy_files", "runs"),
        quality=rules.proxy_surrogate.output.quality,
    output:
        json="results/{exp}/selection/optimizer.json",
        md="results/{exp}/selection/optimizer.md",
        curves=report(
            "results/{exp}/report/selection_curves.png",
            caption="../report/selection_curves.rst",
            category="2 Optimizer selection",
        ),
        cd=report(
            "results/{exp}/report/selection_cd.png",
            caption="../report/selection_cd.rst",
            category="2 Optimizer selection",
        ),
    log:
        "results/{exp}/logs/select_optimizer.log",
    benchmark:
        "results/{exp}/benchmarks/select_optimizer.tsv"
    priority: 10
    conda:
        "../envs/hpotext.yaml"
    params:
        fallback=setting("proxy", "fallback"),
    script:
        "../scripts/select_optimizer.py"
