# hpotext: hyperparameter optimisation for deep text classifiers.
# Run the default study: snakemake --cores 6 --resources gpu=1  (see README.md)
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/proxy.smk"
include: "rules/select.smk"
include: "rules/validate.smk"
include: "rules/search.smk"
include: "rules/final.smk"
include: "rules/predict.smk"
include: "rules/report.smk"
include: "rules/playbook.smk"
include: "rules/priors.smk"
include: "rules/sequence.smk"


# Small bookkeeping steps run where Snakemake runs, not as cluster jobs (--profile profiles/slurm).
localrules:
    default_config,
    runner_config,
    collect_search,
    select_optimizer,
    compare_arms,
    study_bundle,
    ensemble,


rule all:
    default_target: True
    input:
        PLAN.targets(),
