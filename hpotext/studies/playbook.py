"""Playbook studies: scientific, nuisance and fixed hyperparameters (Google's tuning playbook).

``study.scientific`` maps a key to the values to compare, e.g. ``{model: [lstm, transformer]}``
or ``{search.options.prior_fraction: [0.5, 0.8]}``. A key is a hyperparameter of the search
space (fixed to the value in that arm's space) or a dotted config path under ``search``,
``train``, ``stopping``, ``final`` or ``importance`` (set in that arm's config). Several keys
combine into every combination. ``study.fixed`` holds hyperparameters at one value in every
arm; everything else the space searches is a nuisance hyperparameter, tuned separately for each
arm. Each arm is a full study of its own under ``results/<exp>/study/<arm>/`` sharing the data,
the reference and the optimizer selection; the arms' tuned test scores are then compared against
seed noise.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import yaml

from hpotext.errors import ConfigError
from hpotext.space.core import MODEL, Hyperparameter, Space

SETTING_ROOTS = ("search", "train", "stopping", "final", "importance")
ARM_SEP = "/study/"


@dataclass(frozen=True)
class Arm:
    """One combination of scientific values."""

    name: str  # safe for a path: key-value pairs joined by "_"
    values: dict[str, Any]  # scientific key -> value

    def hyperparameters(self, space: Space) -> dict[str, Any]:
        keys = set(space.by_key())
        return {k: v for k, v in self.values.items() if k in keys}

    def settings(self, space: Space) -> dict[str, Any]:
        keys = set(space.by_key())
        return {k: v for k, v in self.values.items() if k not in keys}


def typed(hp: Hyperparameter, value: Any) -> Any:
    """``value`` as ``hp`` holds it: Snakemake's --config hands nested numbers over as strings."""
    if not isinstance(value, str):
        return value
    if hp.type == "categorical":
        return next((c for c in hp.choices if str(c) == value), value)
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if hp.type == "int" and number.is_integer() else number


def setting_value(value: Any) -> Any:
    """A setting's value from --config: numbers and booleans written as strings become them."""
    if isinstance(value, str):
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    return value


def arm_name(values: dict[str, Any]) -> str:
    parts = [f"{key.split('.')[-1]}-{value}" for key, value in values.items()]
    return re.sub(r"[^A-Za-z0-9_.=-]", "", "_".join(parts))


def arms(study: dict[str, Any], space: Space) -> list[Arm]:
    """Every combination of the scientific values; [] when the study names none."""
    scientific = study.get("scientific") or {}
    if not scientific:
        return []
    by_key = space.by_key()
    for key, values in scientific.items():
        if not isinstance(values, list) or len(values) < 2:
            raise ConfigError(
                f"study.scientific.{key} must list at least two values to compare, got {values!r}"
            )
        if key in by_key:
            bad = [v for v in values if not by_key[key].contains(typed(by_key[key], v))]
            if bad:
                raise ConfigError(
                    f"study.scientific.{key}: {bad} lie outside the search space's range for "
                    f"{key}; pick values the space allows"
                )
        elif key.split(".")[0] not in SETTING_ROOTS:
            raise ConfigError(
                f"study.scientific key {key!r} is neither a hyperparameter of the search space "
                f"nor a setting under {', '.join(SETTING_ROOTS)} (data and text settings change "
                "the data: compare them as separate studies)"
            )
        if key in (study.get("fixed") or {}):
            raise ConfigError(f"study: {key!r} is both scientific and fixed; keep one")
    keys = list(scientific)
    lists = [
        [typed(by_key[k], v) if k in by_key else setting_value(v) for v in scientific[k]]
        for k in keys
    ]
    combos = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*lists)]
    out = [Arm(arm_name(values), values) for values in combos]
    if len({a.name for a in out}) < len(out):
        raise ConfigError(
            "study.scientific values give two arms the same name; use distinct values"
        )
    return out


def fix(space: Space, values: dict[str, Any], where: str = "study.fixed") -> Space:
    """``space`` with the given hyperparameters held at a value (moved to its ``fixed``)."""
    by_key = space.by_key()
    values = {k: typed(by_key[k], v) if k in by_key else v for k, v in values.items()}
    for key, value in values.items():
        if key not in by_key:
            raise ConfigError(
                f"{where}: {key!r} is not a hyperparameter of the search space; use one of "
                f"{', '.join(sorted(by_key))}"
            )
        if not by_key[key].contains(value):
            raise ConfigError(f"{where}: {key}={value!r} lies outside the search space's range")
    family = values.get(MODEL)
    kept = tuple(
        hp
        for hp in space.hyperparameters
        if hp.key not in values and (family is None or hp.key == MODEL or hp.active_for(family))
    )
    if not kept:
        raise ConfigError(f"{where} fixes every hyperparameter: nothing is left to search")
    return replace(space, hyperparameters=kept, fixed={**space.fixed, **values})


def arm_search_space(space: Space, study: dict[str, Any], arm: Arm) -> Space:
    """The space one arm searches: study.fixed and the arm's scientific hyperparameters fixed."""
    return fix(space, {**(study.get("fixed") or {}), **arm.hyperparameters(space)},
               where=f"study arm {arm.name}")  # fmt: skip


def arm_config(config: dict[str, Any], arm: Arm, space: Space) -> dict[str, Any]:
    """The study config with the arm's settings set (dotted paths), not yet re-validated."""
    out = copy.deepcopy(config)
    for path, value in arm.settings(space).items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"study.scientific key {path!r}: {part} is not a section")
        node[leaf] = value
    out["study"] = {}
    return out


def base_exp(exp: str) -> str:
    return exp.split(ARM_SEP)[0]


def arm_of(exp: str) -> str | None:
    return exp.split(ARM_SEP)[1] if ARM_SEP in exp else None


# --- comparison --------------------------------------------------------------------------------
def compare_scores(scores: dict[str, list[float]], confidence: float = 0.95) -> dict[str, Any]:
    """Mean, std and t-interval per arm; is the best arm better than each other beyond noise?

    "Beyond seed noise": a two-sided Welch t-test between the best arm (highest mean) and the
    other, p < 1 - confidence.
    """
    from scipy import stats  # the statistics load only where arms are compared, not at parse

    from hpotext.report.stats import welch_p

    rows: dict[str, dict[str, Any]] = {}
    for arm, values in scores.items():
        a = np.asarray(values, float)
        half = (
            float(stats.t.ppf(0.5 + confidence / 2, len(a) - 1) * a.std(ddof=1) / np.sqrt(len(a)))
            if len(a) > 1
            else float("nan")
        )
        rows[arm] = {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
                     "ci": [float(a.mean()) - half, float(a.mean()) + half],
                     "seeds": len(a), "per_seed": list(map(float, a))}  # fmt: skip
    best = max(rows, key=lambda k: float(rows[k]["mean"]))
    tests = {}
    for arm, values in scores.items():
        if arm == best:
            continue
        a, b = np.asarray(scores[best], float), np.asarray(values, float)
        p = welch_p(a, b)
        tests[arm] = {"difference": float(a.mean() - b.mean()), "welch_p": p,
                      "beyond_noise": bool(p == p and p < 1 - confidence)}  # fmt: skip
    return {"arms": rows, "best": best, "versus_best": tests, "confidence": confidence}


def comparison_markdown(result: dict[str, Any], arms_: list[Arm], metric: str) -> str:
    values = {a.name: a.values for a in arms_}
    keys = list(arms_[0].values) if arms_ else []
    lines = [
        "# Playbook study: scientific comparison",
        "",
        f"Tuned test {metric} of each arm (its own search over the nuisance hyperparameters, "
        f"retrained over seeds); {int(100 * result['confidence'])} % t-intervals over seeds.",
        "",
        "| arm | " + " | ".join(keys) + f" | {metric} mean ± std | CI | vs best: Welch p |",
        "| --- | " + " | ".join("---" for _ in keys) + " | --- | --- | --- |",
    ]
    for arm, row in result["arms"].items():
        test = result["versus_best"].get(arm)
        versus = "best" if test is None else f"{test['difference']:+.4f}, p = {test['welch_p']:.3f}"
        lines.append(
            f"| {arm} | "
            + " | ".join(str(values[arm][k]) for k in keys)
            + f" | {row['mean']:.4f} ± {row['std']:.4f} | [{row['ci'][0]:.4f}, "
            f"{row['ci'][1]:.4f}] | {versus} |"
        )
    beyond = [a for a, t in result["versus_best"].items() if t["beyond_noise"]]
    within = [a for a, t in result["versus_best"].items() if not t["beyond_noise"]]
    lines += [""]
    if beyond:
        lines.append(f"**{result['best']}** beats {', '.join(beyond)} beyond seed noise.")
    if within:
        lines.append(
            f"The difference between **{result['best']}** and {', '.join(within)} does not "
            "exceed seed noise: more seeds, or a bigger search per arm, would be needed to tell."
        )
    return "\n".join(lines) + "\n"
