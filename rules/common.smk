# Config validation, wildcard constraints and every input function.
import os
import re
import shutil

from snakemake.exceptions import WorkflowError

from hpotext.config import (
    experiment_name,
    is_registered,
    split_optimizers,
    validate_config,
)
from hpotext.data import concat_parquets
from hpotext.datasets import dataset_names
from hpotext.errors import HpotextError
from hpotext.space import load as load_space

# NePS orders categorical choices through a set: every process must hash strings alike.
os.environ.update(PYTHONHASHSEED="0")

try:
    _validated = validate_config(config)
    config.clear()
    config.update(_validated)
    EXP = experiment_name(config)
    SPACE = load_space(
        config["search"]["space"]
    )  # a bad space fails here, before any job
except HpotextError as err:
    raise WorkflowError(f"hpotext: {err}") from None

SEEDS = config["final"]["seeds"]
WORKERS = [f"w{i}" for i in range(config["search"]["workers"])]
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
# Training jobs share the GPU one at a time (--resources gpu=1). Without a GPU there is nothing
# to share, so they ask for none and run side by side on the cores.
GPU = 1 if shutil.which("nvidia-smi") else 0


wildcard_constraints:
    exp=re.escape(EXP),
    seed=r"\d+",
    shard=r"\d+",
    part=r"\d+",
    worker=r"w\d+",
    variant="|".join(VARIANTS),
    optimizer="|".join(config["proxy"]["optimizers"]),
    dataset="|".join(dataset_names()),


def all_targets():
    return [
        f"results/{EXP}/summary.json",
        f"results/{EXP}/report/learning_curves.png",
        f"results/{EXP}/report/confusion.png",
        f"results/{EXP}/report/search_trace.png",
    ]


def dataset_source(wildcards):
    """The fetched parquet of a shipped dataset, or the user's own file."""
    if is_registered(config["dataset"]):
        return f"resources/data/{config['dataset']}.parquet"
    return config["dataset"]


def selection(wildcards):
    """The selection stage's choice when search.optimizer is auto; nothing (no proxy) otherwise."""
    return [f"results/{wildcards.exp}/selection/optimizer.json"] if AUTO else []


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
        "results/{exp}/search/workers/{worker}.json", exp=wildcards.exp, worker=WORKERS
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
        seed=SEEDS,
    )


def final_metrics(wildcards):
    """Test metrics of every seed, tuned ones first then default ones."""
    return expand(
        "results/{exp}/final/{variant}/seed{seed}/test_metrics.json",
        exp=wildcards.exp,
        variant=VARIANTS,
        seed=SEEDS,
    )


def tuned_curves(wildcards):
    return expand(
        "results/{exp}/final/tuned/seed{seed}/curve.parquet",
        exp=wildcards.exp,
        seed=SEEDS,
    )


def default_metrics(wildcards):
    return expand(
        "results/{exp}/final/default/seed{seed}/test_metrics.json",
        exp=wildcards.exp,
        seed=SEEDS,
    )


def tuned_metrics(wildcards):
    return expand(
        "results/{exp}/final/tuned/seed{seed}/test_metrics.json",
        exp=wildcards.exp,
        seed=SEEDS,
    )


def stage_benchmarks(wildcards):
    """Every benchmark file of the study, for compute per stage."""
    exp = wildcards.exp
    files = [
        f"results/{exp}/benchmarks/{s}.tsv" for s in ("prepare", "subset", "tfidf")
    ]
    files += expand("results/{exp}/benchmarks/search_{w}.tsv", exp=exp, w=WORKERS)
    for stage in ("retrain", "evaluate"):
        files += expand(
            "results/{exp}/benchmarks/{stage}_{variant}_seed{seed}.tsv",
            exp=exp,
            stage=stage,
            variant=VARIANTS,
            seed=SEEDS,
        )
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
    if is_registered(config["dataset"]):
        files.append(f"resources/benchmarks/{config['dataset']}/fetch.tsv")
    return files
