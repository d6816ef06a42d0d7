# Config validation, wildcard constraints and every input function.
import os
import re

from snakemake.exceptions import WorkflowError

from hpotext.config import experiment_name, is_registered, validate_config
from hpotext.datasets import dataset_names
from hpotext.errors import HpotextError
from hpotext.models import make_config

# NePS orders categorical choices through a set: every process must hash strings alike.
os.environ.update(PYTHONHASHSEED="0")

try:
    _validated = validate_config(config)
    config.clear()
    config.update(_validated)
    EXP = experiment_name(config)
    MODEL_NAME = config["model"]["name"]
    make_config(
        MODEL_NAME, 2, 2, config["text"]["max_len"], **config["model"][MODEL_NAME]
    )
except HpotextError as err:
    raise WorkflowError(f"hpotext: {err}") from None

SEEDS = config["final"]["seeds"]


wildcard_constraints:
    exp=re.escape(EXP),
    seed=r"\d+",
    dataset="|".join(dataset_names()),


def all_targets():
    return [
        f"results/{EXP}/summary.json",
        f"results/{EXP}/report/learning_curves.png",
        f"results/{EXP}/report/confusion.png",
    ]


def dataset_source(wildcards):
    """The fetched parquet of a shipped dataset, or the user's own file."""
    if is_registered(config["dataset"]):
        return f"resources/data/{config['dataset']}.parquet"
    return config["dataset"]


def default_curves(wildcards):
    return expand(
        "results/{exp}/default/seed{seed}/curve.parquet", exp=wildcards.exp, seed=SEEDS
    )


def default_metrics(wildcards):
    return expand(
        "results/{exp}/default/seed{seed}/test_metrics.json",
        exp=wildcards.exp,
        seed=SEEDS,
    )


def stage_benchmarks(wildcards):
    """Every benchmark file of the study, for compute per stage."""
    files = [
        f"results/{wildcards.exp}/benchmarks/{stage}.tsv"
        for stage in ("prepare", "subset", "tfidf")
    ]
    for stage in ("train_default", "evaluate_default"):
        files += expand(
            "results/{exp}/benchmarks/{stage}_seed{seed}.tsv",
            exp=wildcards.exp,
            stage=stage,
            seed=SEEDS,
        )
    if is_registered(config["dataset"]):
        files.append(f"resources/benchmarks/{config['dataset']}/fetch.tsv")
    return files


def default_model():
    """The configured family and only its own hyperparameters (so params change only with them)."""
    return {"name": MODEL_NAME, MODEL_NAME: config["model"][MODEL_NAME]}
