"""What the workflow computes when Snakemake reads it: one :class:`Plan` per run.

``plan(config)`` validates the config, loads the space (with the priors of ``search.priors``),
expands a playbook study into its arms and a sequence into its tasks, refuses a study whose
settings differ from the search already in its folder, and works out the proxy stage's shards.
rules/common.smk keeps only wildcard constraints and input functions over the plan's methods,
each taking a study name ``exp`` (the base study's, ``<exp>/study/<arm>`` or ``<exp>/task/<name>``).
Free of torch and scikit-learn: it runs on every Snakemake invocation.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpotext.data.datasets import dataset_names
from hpotext.errors import ConfigError
from hpotext.models.weights import (
    EncoderSource,
    encoder_names,
    needs_encoder,
    pretrained_vectors,
    resolve_encoder,
)
from hpotext.search.settings import check_study
from hpotext.space import Space, load, meaning
from hpotext.space.priors import apply_priors, load_priors
from hpotext.studies.playbook import Arm, arm_config, arm_of, arm_search_space, arms, base_exp
from hpotext.studies.sequence import Task, earlier, task_config, task_of, tasks
from hpotext.workflow.config import (
    ConfigSources,
    canonical_order,
    experiment_name,
    is_registered,
    split_optimizers,
    validate_config,
)

# the retrained configs: the search's incumbent, the prior config, the runners-up (runner1, ...)
VARIANTS = ("tuned", "default")
VARIANT_PATTERN = r"tuned|default|runner\d+"
REPORT_FIGURES = (
    "learning_curves",
    "confusion",
    "search_trace",
    "trial_curves",
    "boundary",
    "importance",
    "marginals",
)
# the proxy table's settings (the rest of `proxy` drives the replays)
PROXY_TABLE_KEYS = (
    "rows", "max_len", "max_epochs", "width_cap", "configs", "prior_fraction", "seed",
)  # fmt: skip


@dataclass(frozen=True)
class Plan:
    """The validated config and everything derived from it, for every study of the run."""

    config: dict[str, Any]  # validated, keys in canonical order
    exp: str
    space: Space
    base_space: str  # the base study's space file (a copy with priors when search.priors is set)
    arms: tuple[Arm, ...] = ()
    arm_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    arm_spaces: dict[str, Space] = field(default_factory=dict)
    tasks: tuple[Task, ...] = ()
    task_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    gpu: int = 0  # what a training job asks of the `gpu` resource: 1 where there is a GPU
    meanings: dict[str, str] = field(default_factory=dict)  # arm name ("" for base) -> meaning

    # --- the run as a whole ------------------------------------------------------------------
    @property
    def arm_names(self) -> list[str]:
        return [arm.name for arm in self.arms]

    @property
    def task_names(self) -> list[str]:
        return [task.name for task in self.tasks]

    @property
    def auto(self) -> bool:
        """Whether the optimizer is selected on the proxy benchmark (search.optimizer: auto)."""
        return bool(self.config["search"]["optimizer"] == "auto")

    @property
    def validate(self) -> bool:
        """Whether the proxy's ordering is checked live (validation refuses it without auto)."""
        return self.auto and bool(self.config["proxy"]["validate"])

    @property
    def proxy_table(self) -> dict[str, Any]:
        return {key: self.config["proxy"][key] for key in PROXY_TABLE_KEYS}

    @property
    def proxy_shards(self) -> int:
        return int(min(self.config["proxy"]["shards"], self.config["proxy"]["configs"]))

    @property
    def proxy_parts(self) -> list[list[str]]:
        """The optimizers of each replay job, balanced by replay cost."""
        return split_optimizers(self.config["proxy"]["optimizers"], self.config["proxy"]["shards"])

    @property
    def proxy_seeds(self) -> list[int]:
        return list(range(self.config["proxy"]["seeds"]))

    @property
    def proxy_cost(self) -> str:
        """What a replayed trial costs: the unit of the search's budget (epochs for evaluations)."""
        return "seconds" if self.config["search"]["budget"]["kind"] == "seconds" else "epochs"

    def studies(self) -> list[str]:
        """Every study of the run: the base study, or each arm, or each task."""
        if self.tasks:
            return [f"{self.exp}/task/{name}" for name in self.task_names]
        return [f"{self.exp}/study/{name}" for name in self.arm_names] or [self.exp]

    def targets(self) -> list[str]:
        """What `snakemake` builds by default: every study's summary, priors and figures, and the
        arms' comparison or the sequence's table."""
        found = [f"results/{self.exp}/study/comparison.json"] if self.arms else []
        if self.tasks:
            found = [f"results/{self.exp}/sequence.md"]
        for exp in self.studies():
            found.append(f"results/{exp}/summary.json")
            found.append(f"results/{exp}/bundle")
            found += self.predictions(exp)
            found.append(f"results/{exp}/priors/derived.yaml")
            found += [f"results/{exp}/report/{name}.png" for name in REPORT_FIGURES]
        return found

    def wildcard_constraints(self) -> dict[str, str]:
        escaped = "|".join
        exp = re.escape(self.exp)
        if self.arms:
            exp += f"(/study/({escaped(map(re.escape, self.arm_names))}))?"
        if self.tasks:
            exp += f"(/task/({escaped(map(re.escape, self.task_names))}))?"
        return {
            "exp": exp,
            "arm": escaped(map(re.escape, self.arm_names)) or "none",
            "seed": r"\d+",
            "rank": r"\d+",
            "shard": r"\d+",
            "name": r"[^/]+",
            "part": r"\d+",
            "worker": r"w\d+",
            "variant": VARIANT_PATTERN,
            "optimizer": escaped(self.config["proxy"]["optimizers"]),
            "dataset": escaped(dataset_names()),
            "encoder": escaped(encoder_names()),
            "split": "search_subset|train|val",
        }

    # --- one study ---------------------------------------------------------------------------
    def config_of(self, exp: str) -> dict[str, Any]:
        """The config of study ``exp``: a task's, an arm's, or the base study's."""
        task = task_of(exp)
        if task is not None:
            return self.task_configs[task]
        return self.arm_configs.get(arm_of(exp) or "", self.config)

    def predictions(self, exp: str) -> list[str]:
        """The predictions file of the ``predict`` key's texts, when it is set."""
        source = self.setting(exp, "predict")
        return [f"results/{exp}/predictions/{Path(source).name}"] if source else []

    def setting(self, exp: str, *path: str) -> Any:
        """The value at ``path`` in the config of study ``exp``."""
        node: Any = self.config_of(exp)
        for key in path:
            node = node[key]
        return node

    def space_path(self, exp: str) -> str:
        """The study's space file: the base study's, or an arm's (its scientific values fixed)."""
        return self.base_space if arm_of(exp) is None else f"results/{exp}/space.yaml"

    def space_meaning(self, exp: str) -> str:
        """The meaning of the study's space (canonical JSON), a param of every rule reading it:
        editing a comment, the key order or the formatting of a space reruns nothing."""
        return self.meanings[arm_of(exp) or ""]

    def workers(self, exp: str) -> list[str]:
        return [f"w{i}" for i in range(self.setting(exp, "search", "workers"))]

    def search_markers(self, exp: str) -> list[str]:
        """The file each search worker writes when it is done."""
        return [f"results/{exp}/search/workers/{w}.json" for w in self.workers(exp)]

    def seeds(self, exp: str) -> list[int]:
        return list(self.setting(exp, "final", "seeds"))

    def variants(self, exp: str) -> list[str]:
        """The retrained configs: tuned, default and the final.ensemble_top_k - 1 runners-up."""
        runners = self.setting(exp, "final", "ensemble_top_k") - 1
        return [*VARIANTS, *(f"runner{rank}" for rank in range(1, runners + 1))]

    def variant_seeds(self, exp: str, variant: str) -> list[int]:
        """The seeds ``variant`` is retrained with: final.seeds, the first one for a runner-up."""
        seeds = self.seeds(exp)
        return seeds[:1] if variant.startswith("runner") else seeds

    def top_k(self, exp: str) -> list[str]:
        """The top-k ensemble's record, when final.ensemble_top_k > 1."""
        if self.setting(exp, "final", "ensemble_top_k") < 2:
            return []
        return [f"results/{exp}/final/ensemble/ensemble.json"]

    def per_seed(self, exp: str, path: str, variants: tuple[str, ...] | None = None) -> list[str]:
        """``results/<exp>/<path>`` for every variant (all of the study's when None) and each
        of its retraining seeds, in that order, with ``{variant}`` and ``{seed}`` filled in."""
        return [
            f"results/{exp}/" + path.format(variant=variant, seed=seed)
            for variant in (self.variants(exp) if variants is None else variants)
            for seed in self.variant_seeds(exp, variant)
        ]

    def candidates(self, exp: str) -> list[str]:
        """What the study's model is chosen from: every variant's seed ensemble and, when
        final.ensemble_top_k > 1, the top-k ensemble (results/<exp>/final/ensemble/)."""
        return self.variants(exp) + (["ensemble"] if self.top_k(exp) else [])

    def per_variant(self, exp: str, path: str, candidates: bool = False) -> list[str]:
        """``results/<exp>/<path>`` for every variant (or candidate), ``{variant}`` filled in."""
        names = self.candidates(exp) if candidates else self.variants(exp)
        return [f"results/{exp}/" + path.format(variant=v) for v in names]

    def space_of(self, exp: str) -> Space:
        return self.arm_spaces.get(arm_of(exp) or "", self.space)

    def encoder(self, exp: str) -> EncoderSource | None:
        """The study's pretrained encoder (encoder.name), when its space has the encoder family
        or a family whose embeddings may start from its word vectors."""
        if not needs_encoder(self.space_of(exp)):
            return None
        return resolve_encoder(self.setting(exp, "encoder", "name"))

    def feature_grid(self, exp: str) -> dict[str, list[int]]:
        """The (max_len, train_layers) values the features rule caches the frozen bottom for:
        every value the space allows (at most 4 max_len values); empty when there is no
        encoder, caching is off, or a float/long range leaves nothing finite to cache."""
        space = self.space_of(exp)
        if "encoder" not in space.families or not self.setting(exp, "encoder", "cache_features"):
            return {}
        lengths = space.values("encoder", "max_len", most=4)
        layers = space.values("encoder", "train_layers")
        if not lengths or not layers:
            return {}
        return {"max_len": sorted(map(int, lengths)), "train_layers": sorted(map(int, layers))}

    def encoder_inputs(self, exp: str, split: str | None = None) -> dict[str, str]:
        """A training rule's inputs for the encoder family: the model folder and, for ``split``
        (search_subset or train), the cached features of that split and of val."""
        source = self.encoder(exp)
        if source is None:
            return {}
        found = {"encoder": source.folder}
        if pretrained_vectors(self.space_of(exp)):
            found["vectors"] = f"results/{base_exp(exp)}/data/vectors.npy"
        if split is not None and self.feature_grid(exp):
            found["features_train"] = f"results/{exp}/features/{split}"
            found["features_val"] = f"results/{exp}/features/val"
        return found

    def dataset_source(self, exp: str) -> str:
        """The fetched parquet of a shipped dataset, or the user's own file."""
        dataset = self.setting(exp, "dataset")
        return f"resources/data/{dataset}.parquet" if is_registered(dataset) else str(dataset)

    def hurdles(self, exp: str) -> list[str]:
        """RUSH in a sequence: the incumbents of the tasks before this one (none otherwise)."""
        task = task_of(exp)
        if task is None or self.setting(exp, "search", "optimizer") != "rush":
            return []
        return [
            f"results/{self.exp}/task/{name}/search/incumbent.json"
            for name in earlier(self.task_names, task)
        ]

    def portfolio(self, exp: str) -> list[str]:
        """The search.portfolio file when the study starts from a portfolio (none otherwise)."""
        portfolio = self.setting(exp, "search", "portfolio")
        return [str(portfolio["file"])] if int(portfolio["size"]) > 0 else []

    def selection(self, exp: str) -> list[str]:
        """The selection's choice when the study's optimizer is auto (arms share the base
        study's); nothing otherwise."""
        if self.setting(exp, "search", "optimizer") != "auto":
            return []
        return [f"results/{base_exp(exp)}/selection/optimizer.json"]

    def validation(self, exp: str) -> list[str]:
        return [f"results/{exp}/selection/validation.json"] if self.validate else []

    def proxy_files(self, exp: str, kind: str) -> list[str]:
        """The proxy stage's shard tables (``kind`` table), replay parts (runs) or live runs
        of the proxy check (validate)."""
        if kind == "table":
            return [f"results/{exp}/proxy/table_shard{i}.parquet" for i in range(self.proxy_shards)]
        if kind == "runs":
            return [
                f"results/{exp}/proxy/runs/part{i}.parquet" for i in range(len(self.proxy_parts))
            ]
        return [
            f"results/{exp}/validate/{optimizer}_seed{seed}.parquet"
            for optimizer in self.config["proxy"]["optimizers"]
            for seed in range(self.config["proxy"]["validate_seeds"])
        ]

    def benchmarks(self, exp: str) -> list[str]:
        """Every benchmark file of study ``exp``, for compute per stage. An arm counts its own
        jobs only (the data, reference and proxy stages are the base study's)."""
        files = [f"results/{exp}/benchmarks/search_{w}.tsv" for w in self.workers(exp)]
        files.append(f"results/{exp}/benchmarks/importance.tsv")
        for stage in ("retrain", "evaluate"):
            files += self.per_seed(exp, f"benchmarks/{stage}_{{variant}}_seed{{seed}}.tsv")
        if arm_of(exp) is not None:
            return files
        files += [f"results/{exp}/benchmarks/{s}.tsv" for s in ("prepare", "subset", "tfidf")]
        if self.auto:
            files += [
                f"results/{exp}/benchmarks/{s}.tsv" for s in ("proxy_surrogate", "select_optimizer")
            ]
            files += [
                f"results/{exp}/benchmarks/proxy_table_shard{i}.tsv"
                for i in range(self.proxy_shards)
            ]
            files += [
                f"results/{exp}/benchmarks/proxy_run_part{i}.tsv"
                for i in range(len(self.proxy_parts))
            ]
        if self.validate:
            files += [
                f"results/{exp}/benchmarks/validate_run_{optimizer}_seed{seed}.tsv"
                for optimizer in self.config["proxy"]["optimizers"]
                for seed in range(self.config["proxy"]["validate_seeds"])
            ]
        dataset = self.setting(exp, "dataset")
        if is_registered(dataset):
            files.append(f"resources/benchmarks/{dataset}/fetch.tsv")
        return files

    def arm_metrics(self, exp: str) -> dict[str, list[str]]:
        """Every arm's tuned test metrics, one file per retraining seed."""
        return {
            name: [
                f"results/{exp}/study/{name}/final/tuned/seed{seed}/test_metrics.json"
                for seed in self.arm_configs[name]["final"]["seeds"]
            ]
            for name in self.arm_names
        }

    def arm_metric_files(self, exp: str) -> list[str]:
        return [path for files in self.arm_metrics(exp).values() for path in files]

    def task_files(self, exp: str, path: str) -> list[str]:
        """``path`` of every task's study, in sequence order."""
        return [f"results/{exp}/task/{name}/{path}" for name in self.task_names]


def plan(
    config: dict[str, Any], sources: ConfigSources | None = None, gpu: bool | None = None
) -> Plan:
    """The run's plan from Snakemake's ``config`` (``sources`` name where each key was set, for
    the errors); a ConfigError (one sentence) for a bad config or space, or a study whose
    settings differ from its existing search's. ``gpu``: None detects one (nvidia-smi)."""
    cfg = validate_config(config, sources=sources)
    exp = experiment_name(cfg)
    space = load(cfg["search"]["space"])
    base_space = cfg["search"]["space"]
    if cfg["search"]["priors"]:  # the study searches a copy of its space with those priors
        space = apply_priors(space, load_priors(cfg["search"]["priors"]), cfg["search"]["priors"])
        base_space = f"results/{exp}/priors/space.yaml"
    # a playbook study: one arm per combination of scientific values, each a study of its own
    # under results/<exp>/study/<arm>/ with its own config and space
    found_arms = arms(cfg["study"], space)
    if cfg["study"]["fixed"] and not found_arms:
        raise ConfigError(
            "study.fixed needs study.scientific; to hold a hyperparameter constant in an "
            "ordinary study, move it to the search space's fixed section"
        )
    arm_configs = {a.name: validate_config(arm_config(cfg, a, space)) for a in found_arms}
    arm_spaces = {a.name: arm_search_space(space, cfg["study"], a) for a in found_arms}
    # a sequence: one study per task under results/<exp>/task/<name>/
    found_tasks = tasks(cfg)
    task_configs = {t.name: task_config(cfg, t, i) for i, t in enumerate(found_tasks)}
    # a study asked to run with other settings than the search in its folder stops here
    if found_tasks:
        for t in found_tasks:
            check_study(f"results/{exp}/task/{t.name}/search", space, task_configs[t.name])
    elif found_arms:
        for a in found_arms:
            check_study(
                f"results/{exp}/study/{a.name}/search", arm_spaces[a.name], arm_configs[a.name]
            )
    else:
        check_study(f"results/{exp}/search", space, cfg)
    for study_space, study_cfg in [
        (space, cfg),
        *((arm_spaces[a.name], arm_configs[a.name]) for a in found_arms),
        *((space, task_configs[t.name]) for t in found_tasks),
    ]:
        check_encoder(study_space, study_cfg["encoder"]["name"])
    check_predict(cfg)
    if gpu is None:
        gpu = shutil.which("nvidia-smi") is not None
    # sorted keys: Snakemake compares params by repr, so reordering a config file reruns nothing
    return Plan(
        config=canonical_order(cfg),
        exp=exp,
        space=space,
        base_space=base_space,
        arms=tuple(found_arms),
        arm_configs=canonical_order(arm_configs),
        arm_spaces=arm_spaces,
        tasks=tuple(found_tasks),
        task_configs=canonical_order(task_configs),
        gpu=int(gpu),
        meanings={"": meaning(space), **{n: meaning(s) for n, s in arm_spaces.items()}},
    )


def check_predict(cfg: dict[str, Any]) -> None:
    """``predict``, when set, names a file whose format the data.* settings tell."""
    source = cfg["predict"]
    if not source:
        return
    if not Path(source).is_file():
        raise ConfigError(
            f"predict is '{source}', which is not a file; set predict to a csv, tsv, jsonl or "
            "parquet file of texts, or leave it empty"
        )
    from hpotext.predict.table import file_format

    file_format(source, cfg["data"]["format"], "predict file", "data.format")


def check_encoder(space: Space, name: str) -> None:
    """A space that needs the encoder needs a readable encoder.name whose positions hold the
    longest max_len the space allows plus [CLS] and [SEP]; one ConfigError sentence otherwise."""
    if not needs_encoder(space):
        return
    source = resolve_encoder(name)
    if "encoder" not in space.families:
        return
    hp = space.by_key().get("encoder__max_len")
    values = space.values("encoder", "max_len")
    longest = int(hp.high) if hp is not None and hp.high is not None else max(values or (0,))
    if source.positions is not None and longest + 2 > source.positions:
        raise ConfigError(
            f"the search space lets encoder max_len reach {longest}, but encoder '{name}' has "
            f"{source.positions} positions, two of them for [CLS] and [SEP]; keep max_len at "
            f"most {source.positions - 2}"
        )
