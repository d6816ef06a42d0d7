# Config validation, wildcard constraints and every input function.
import os
import re
import shutil

from snakemake.exceptions import WorkflowError

from hpotext.config import (
    canonical_order,
    experiment_name,
    is_registered,
    split_optimizers,
    validate_config,
)
from hpotext.data import concat_parquets
from hpotext.datasets import dataset_names
from hpotext.errors import ConfigError, HpotextError
from hpotext.priors import apply_priors, load_priors
from hpotext.playbook import arm_config, arm_of, arm_space, arms, base_exp
from hpotext.sequence import earlier, task_config, task_of, tasks
from hpotext.space import load as load_space
from hpotext.space import meaning
from hpotext.settings import check_study

# NePS orders categorical choices through a set: every process must hash strings alike.
os.environ.update(PYTHONHASHSEED="0")

try:
    from hpotext.config import config_sources

    # errors name the source that set the key: config/config.yaml, a --configfile or --config
    _sources = config_sources(
        workflow.configfiles,
        workflow.config_settings.configfiles,
        workflow.config_settings.config,
    )
    _validated = validate_config(config, sources=_sources)
    config.clear()
    config.update(_validated)
    EXP = experiment_name(config)
    SPACE = load_space(
        config["search"]["space"]
    )  # a bad space fails here, before any job
    # search.priors: the study searches a copy of its space with those priors (rule prior_space)
    BASE_SPACE = config["search"]["space"]
    if config["search"]["priors"]:
        SPACE = apply_priors(
            SPACE, load_priors(config["search"]["priors"]), config["search"]["priors"]
        )
        BASE_SPACE = f"results/{EXP}/priors/space.yaml"
    # A playbook study: one arm per combination of scientific values, each a study of its own
    # under results/<exp>/study/<arm>/ with its own config (validated here) and space.
    ARMS = arms(config["study"], SPACE)
    if config["study"]["fixed"] and not ARMS:
        raise ConfigError(
            "study.fixed needs study.scientific; to hold a hyperparameter constant in an "
            "ordinary study, move it to the search space's fixed section"
        )
    ARM_CONFIGS = {
        arm.name: validate_config(arm_config(config, arm, SPACE)) for arm in ARMS
    }
    # each arm's space (study.fixed and its scientific values held), checked here once
    ARM_SPACES = {arm.name: arm_space(SPACE, config["study"], arm) for arm in ARMS}
    # A sequence study: one study per task under results/<exp>/task/<name>/ (hpotext/sequence.py)
    TASKS = tasks(config)
    TASK_CONFIGS = {t.name: task_config(config, t, i) for i, t in enumerate(TASKS)}
except HpotextError as err:
    raise WorkflowError(f"hpotext: {err}") from None
# A study asked to run with other settings than the search in its folder stops here, before
# any job, naming what changed and the commands that resolve it (hpotext/settings.py).
try:
    if TASKS:
        for task in TASKS:
            check_study(
                f"results/{EXP}/task/{task.name}/search", SPACE, TASK_CONFIGS[task.name]
            )
    elif ARMS:
        for arm in ARMS:
            check_study(
                f"results/{EXP}/study/{arm.name}/search",
                ARM_SPACES[arm.name],
                ARM_CONFIGS[arm.name],
            )
    else:
        check_study(f"results/{EXP}/search", SPACE, config)
except HpotextError as err:
    raise WorkflowError(f"hpotext: {err}") from None
# Sorted keys: reordering a config file changes no param, so it reruns nothing.
_ordered = canonical_order(dict(config))
config.clear()
config.update(_ordered)
ARM_CONFIGS = canonical_order(ARM_CONFIGS)
TASK_CONFIGS = canonical_order(TASK_CONFIGS)
# A space file is an ancient() input and its meaning a param: Snakemake reruns a job when a
# param changes, so editing a comment, the key order or the formatting of a space reruns
# nothing, while a changed range, prior or choice reruns every job that reads the space.
SPACE_MEANING = meaning(SPACE)
ARM_MEANINGS = {name: meaning(space) for name, space in ARM_SPACES.items()}
ARM_NAMES = [arm.name for arm in ARMS]
TASK_NAMES = [task.name for task in TASKS]

VARIANTS = ["tuned", "default"]
AUTO = config["search"]["optimizer"] == "auto"
# config validation refuses proxy.validate without auto
VALIDATE = AUTO and config["proxy"]["validate"]
PROXY_SEEDS = list(range(config["proxy"]["seeds"]))
PROXY_SHARDS = min(config["proxy"]["shards"], config["proxy"]["configs"])
PROXY_PARTS = split_optimizers(config["proxy"]["optimizers"], config["proxy"]["shards"])
# the settings of the proxy table (the rest of `proxy` drives the replays)
PROXY_TABLE = {
    k: config["proxy"][k]
    for k in (
        "rows",
        "max_len",
        "max_epochs",
        "width_cap",
        "configs",
        "prior_fraction",
        "seed",
    )
}
# What a replayed trial costs: the unit of the search's budget (epochs, also for evaluations)
PROXY_COST = "seconds" if config["search"]["budget"]["kind"] == "seconds" else "epochs"
# Training jobs share the GPU one at a time (--resources gpu=1). Without a GPU there is nothing
# to share, so they ask for none and run side by side on the cores.
GPU = 1 if shutil.which("nvidia-smi") else 0


wildcard_constraints:
    exp=re.escape(EXP)
    + (f"(/study/({'|'.join(map(re.escape, ARM_NAMES))}))?" if ARMS else "")
    + (f"(/task/({'|'.join(map(re.escape, TASK_NAMES))}))?" if TASKS else ""),
    arm="|".join(map(re.escape, ARM_NAMES)) or "none",
    seed=r"\d+",
    shard=r"\d+",
    part=r"\d+",
    worker=r"w\d+",
    variant="|".join(VARIANTS),
    optimizer="|".join(config["proxy"]["optimizers"]),
    dataset="|".join(dataset_names()),


REPORT_FIGURES = [
    "learning_curves",
    "confusion",
    "search_trace",
    "trial_curves",
    "boundary",
    "importance",
    "marginals",
]


def all_targets():
    """The study's summary and figures; for a playbook study every arm's and the comparison."""
    studies = [f"{EXP}/study/{arm}" for arm in ARM_NAMES] or [EXP]
    targets = [f"results/{EXP}/study/comparison.json"] if ARMS else []
    if TASKS:
        studies = [f"{EXP}/task/{task}" for task in TASK_NAMES]
        targets = [f"results/{EXP}/sequence.md"]
    for exp in studies:
        targets.append(f"results/{exp}/summary.json")
        targets.append(f"results/{exp}/priors/derived.yaml")
        targets += [f"results/{exp}/report/{name}.png" for name in REPORT_FIGURES]
    return targets


# --- per-study settings: an arm of a playbook study has its own config and space -------------
def cfg(wildcards):
    """The config of the study ``wildcards.exp`` (an arm's, a task's, or the base study's)."""
    task = task_of(wildcards.exp)
    if task is not None:
        return TASK_CONFIGS[task]
    return ARM_CONFIGS.get(arm_of(wildcards.exp), config)


def setting(*path):
    """An input/params function: the value at ``path`` in the study's config."""

    def get(wildcards):
        node = cfg(wildcards)
        for key in path:
            node = node[key]
        return node

    return get


def space_of(wildcards):
    """The search space file: the config's, or an arm's (its scientific values fixed)."""
    if arm_of(wildcards.exp) is None:
        return BASE_SPACE
    return f"results/{wildcards.exp}/space.yaml"


def space_file(wildcards):
    """The study's space file as an input whose edits count only through space_meaning."""
    return ancient(space_of(wildcards))


def space_meaning(wildcards):
    """A param: the meaning of the study's space (canonical JSON), see SPACE_MEANING."""
    arm = arm_of(wildcards.exp)
    return SPACE_MEANING if arm is None else ARM_MEANINGS[arm]


def arm_space_meaning(wildcards):
    return ARM_MEANINGS[wildcards.arm]


def base_data(name):
    """An input function: a file of the base study's data (shared by every arm)."""
    return lambda wildcards: f"results/{base_exp(wildcards.exp)}/data/{name}"


def workers_of(wildcards):
    return [f"w{i}" for i in range(cfg(wildcards)["search"]["workers"])]


def seeds_of(wildcards):
    return cfg(wildcards)["final"]["seeds"]


def dataset_source(wildcards):
    """The fetched parquet of a shipped dataset, or the user's own file."""
    dataset = cfg(wildcards)["dataset"]
    if is_registered(dataset):
        return f"resources/data/{dataset}.parquet"
    return dataset


def hurdles_of(wildcards):
    """RUSH in a sequence: the incumbents of the tasks before this one (none otherwise)."""
    task = task_of(wildcards.exp)
    if task is None or cfg(wildcards)["search"]["optimizer"] != "rush":
        return []
    return [
        f"results/{EXP}/task/{name}/search/incumbent.json"
        for name in earlier(TASK_NAMES, task)
    ]


def selection(wildcards):
    """The selection stage's choice when search.optimizer is auto; nothing (no proxy) otherwise.
    Arms share the base study's selection."""
    if cfg(wildcards)["search"]["optimizer"] != "auto":
        return []
    return [f"results/{base_exp(wildcards.exp)}/selection/optimizer.json"]


def proxy_shards(wildcards):
    return expand(
        "results/{exp}/proxy/table_shard{shard}.parquet",
        exp=wildcards.exp,
        shard=range(PROXY_SHARDS),
    )


def proxy_runs(wildcards):
    return expand(
        "results/{exp}/proxy/runs/part{part}.parquet",
        exp=wildcards.exp,
        part=range(len(PROXY_PARTS)),
    )


def validation(wildcards):
    """The live check of the proxy's ordering when proxy.validate is true; nothing otherwise."""
    return [f"results/{wildcards.exp}/selection/validation.json"] if VALIDATE else []


def validate_runs(wildcards):
    return expand(
        "results/{exp}/validate/{optimizer}_seed{seed}.parquet",
        exp=wildcards.exp,
        optimizer=config["proxy"]["optimizers"],
        seed=range(config["proxy"]["validate_seeds"]),
    )


def search_markers(wildcards):
    return expand(
        "results/{exp}/search/workers/{worker}.json",
        exp=wildcards.exp,
        worker=workers_of(wildcards),
    )


def retrain_config(wildcards):
    """The config a retrain job trains: the search's incumbent or the space's prior config."""
    if wildcards.variant == "tuned":
        return f"results/{wildcards.exp}/search/incumbent.json"
    return f"results/{wildcards.exp}/final/default/config.json"


def final_curves(wildcards):
    return expand(
        "results/{exp}/final/{variant}/seed{seed}/curve.parquet",
        exp=wildcards.exp,
        variant=VARIANTS,
        seed=seeds_of(wildcards),
    )


def final_metrics(wildcards):
    """Test metrics of every seed, tuned ones first then default ones."""
    return expand(
        "results/{exp}/final/{variant}/seed{seed}/test_metrics.json",
        exp=wildcards.exp,
        variant=VARIANTS,
        seed=seeds_of(wildcards),
    )


def tuned_curves(wildcards):
    return expand(
        "results/{exp}/final/tuned/seed{seed}/curve.parquet",
        exp=wildcards.exp,
        seed=seeds_of(wildcards),
    )


def default_metrics(wildcards):
    return expand(
        "results/{exp}/final/default/seed{seed}/test_metrics.json",
        exp=wildcards.exp,
        seed=seeds_of(wildcards),
    )


def tuned_metrics(wildcards):
    return expand(
        "results/{exp}/final/tuned/seed{seed}/test_metrics.json",
        exp=wildcards.exp,
        seed=seeds_of(wildcards),
    )


def stage_benchmarks(wildcards):
    """Every benchmark file of the study, for compute per stage. An arm of a playbook study
    counts its own jobs only (the data, reference and proxy stages are the base study's).
    """
    exp = wildcards.exp
    files = expand(
        "results/{exp}/benchmarks/search_{w}.tsv", exp=exp, w=workers_of(wildcards)
    )
    files.append(f"results/{exp}/benchmarks/importance.tsv")
    for stage in ("retrain", "evaluate"):
        files += expand(
            "results/{exp}/benchmarks/{stage}_{variant}_seed{seed}.tsv",
            exp=exp,
            stage=stage,
            variant=VARIANTS,
            seed=seeds_of(wildcards),
        )
    if arm_of(exp) is not None:
        return files
    files += [
        f"results/{exp}/benchmarks/{s}.tsv" for s in ("prepare", "subset", "tfidf")
    ]
    if AUTO:
        files += [
            f"results/{exp}/benchmarks/{s}.tsv"
            for s in ("proxy_surrogate", "select_optimizer")
        ]
        files += expand(
            "results/{exp}/benchmarks/proxy_table_shard{shard}.tsv",
            exp=exp,
            shard=range(PROXY_SHARDS),
        )
        files += expand(
            "results/{exp}/benchmarks/proxy_run_part{part}.tsv",
            exp=exp,
            part=range(len(PROXY_PARTS)),
        )
    if VALIDATE:
        files += expand(
            "results/{exp}/benchmarks/validate_run_{optimizer}_seed{seed}.tsv",
            exp=exp,
            optimizer=config["proxy"]["optimizers"],
            seed=range(config["proxy"]["validate_seeds"]),
        )
    dataset = cfg(wildcards)["dataset"]
    if is_registered(dataset):
        files.append(f"resources/benchmarks/{dataset}/fetch.tsv")
    return files


def arm_metric_files(exp, arm):
    seeds = ARM_CONFIGS[arm]["final"]["seeds"]
    return [
        f"results/{exp}/study/{arm}/final/tuned/seed{seed}/test_metrics.json"
        for seed in seeds
    ]


def arm_metrics(wildcards):
    return [f for arm in ARM_NAMES for f in arm_metric_files(wildcards.exp, arm)]


def task_files(path):
    """An input function: ``path`` of every task's study, in sequence order."""
    return lambda wildcards: [
        f"results/{wildcards.exp}/task/{name}/{path}" for name in TASK_NAMES
    ]
