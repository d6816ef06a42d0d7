"""Sequences of related tasks: repeated HPO as data and preprocessing change (RUSH, seed 003).

``sequence`` lists tasks, each a dataset and/or data and text settings on top of the study's
config, e.g. the same reviews truncated to 16, 32 and 64 tokens. Every task is a full study of
its own under ``results/<exp>/task/<name>/`` (data, search, retraining, report). With
``search.optimizer: rush`` the search of task k takes the incumbents of tasks 1..k-1 as input
(a Snakemake dependency, so the DAG orders the tasks) and uses them as hurdles; with any other
optimizer the tasks are tuned independently, which is the comparison without transfer.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from hpotext.errors import ConfigError
from hpotext.io import read_json
from hpotext.workflow.config import NAME, validate_config

TASK_SEP = "/task/"
TASK_KEYS = ("dataset", "data", "text")


@dataclass(frozen=True)
class Task:
    """One task of a sequence: its name and its overrides of dataset, data and text."""

    name: str
    overrides: dict[str, Any]


def tasks(config: dict[str, Any]) -> list[Task]:
    """The tasks of ``config['sequence']`` in order; [] for an ordinary study."""
    raw = config.get("sequence") or []
    if not raw:
        return []
    if len(raw) < 2:
        raise ConfigError(
            "sequence must list at least two tasks (one task is an ordinary study); add a task "
            "or remove sequence"
        )
    if (config.get("study") or {}).get("scientific"):
        raise ConfigError(
            "sequence and study.scientific cannot be combined; run the playbook comparison "
            "within one task as a study of its own"
        )
    out: list[Task] = []
    for i, item in enumerate(raw):
        name = str(item.get("name", ""))
        if not NAME.match(name):
            raise ConfigError(
                f"sequence[{i}].name {name!r} must use letters, digits, '_', '-' or '.'; "
                "rename the task"
            )
        overrides = {k: copy.deepcopy(item[k]) for k in TASK_KEYS if k in item}
        if not overrides:
            raise ConfigError(
                f"sequence task {name!r} changes nothing; give it a dataset, data or text "
                "setting that sets it apart"
            )
        out.append(Task(name, overrides))
    names = [t.name for t in out]
    if len(set(names)) < len(names):
        raise ConfigError("sequence: two tasks have the same name; name every task uniquely")
    return out


def task_config(config: dict[str, Any], task: Task, index: int) -> dict[str, Any]:
    """The validated config of task number ``index``: the study's with the task's overrides.

    Its search seed is ``search.seed + index``: with one seed every task's optimizer would draw
    the same configs again, re-evaluating the hurdles it was handed as new configs.
    """
    out = copy.deepcopy(config)
    out["sequence"] = []
    out["search"] = {**out["search"], "seed": int(out["search"]["seed"]) + index}
    for key, value in task.overrides.items():
        if key == "dataset":
            out["dataset"] = value
        else:
            out[key] = {**out.get(key, {}), **value}
    try:
        return validate_config(out)
    except ConfigError as err:
        raise ConfigError(f"sequence task {task.name!r}: {err}") from None


def task_of(exp: str) -> str | None:
    """The task name of a study path ``<exp>/task/<name>``, else None."""
    return exp.split(TASK_SEP)[1] if TASK_SEP in exp else None


def earlier(names: list[str], name: str) -> list[str]:
    """The tasks before ``name`` in the sequence, in order."""
    return names[: names.index(name)]


def hurdle_configs(paths: list[str]) -> list[dict[str, Any]]:
    """The configs of earlier tasks' ``incumbent.json`` files, in order."""
    return [dict(read_json(p)["config"]) for p in paths]


# --- the sequence's summary ------------------------------------------------------------------
def summarize(
    names: list[str],
    incumbents: list[str],
    trials: list[str],
    summaries: list[str],
    optimizer: str,
) -> pd.DataFrame:
    """One row per task: its search's cost and outcome, hurdle trials, tuned test score."""
    rows = []
    for name, inc_path, trials_path, summary_path in zip(
        names, incumbents, trials, summaries, strict=True
    ):
        inc = read_json(inc_path)
        table = pd.read_parquet(trials_path)
        summary = read_json(summary_path)
        infos = table["info"] if "info" in table.columns else pd.Series("", index=table.index)
        hurdle = infos.map(_is_hurdle)
        rows.append(
            {
                "task": name,
                "optimizer": optimizer,
                "trials": len(table),
                "hurdle_trials": int(hurdle.sum()),
                "epochs": int(table["epochs_trained"].sum()),
                "top_rung_trials": int((table["fidelity"] == table["fidelity"].max()).sum()),
                "val_accuracy": float(inc["val_accuracy"]),
                "incumbent_is_hurdle": bool(hurdle[table["trial_id"] == inc["trial_id"]].any()),
                "test_accuracy": float(summary["test"]["accuracy"]["mean"]),
            }
        )
    return pd.DataFrame(rows)


def _is_hurdle(info: Any) -> bool:
    if isinstance(info, str):
        info = json.loads(info) if info else {}
    return isinstance(info, dict) and "hurdle" in info


def summary_markdown(frame: pd.DataFrame) -> str:
    """The sequence's table for people: what each task's search cost and found."""
    lines = [
        "# Sequence of tasks",
        "",
        "Each task is a study of its own; with rush, a task's search first evaluates the earlier "
        "tasks' incumbents (hurdle trials) and promotes only configs at least as good as the "
        "best of them at each rung.",
        "",
        "| task | optimizer | trials | hurdle trials | epochs | top-rung trials | best val acc | "
        "incumbent is a hurdle | tuned test acc |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in frame.itertuples():
        lines.append(
            f"| {row.task} | {row.optimizer} | {row.trials} | {row.hurdle_trials} | {row.epochs} "
            f"| {row.top_rung_trials} | {row.val_accuracy:.4f} | "
            f"{'yes' if row.incumbent_is_hurdle else 'no'} | {row.test_accuracy:.4f} |"
        )
    return "\n".join(lines) + "\n"
