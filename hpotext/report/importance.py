"""Which hyperparameters mattered: fANOVA main effects and interactions, and PED-ANOVA.

The analysis reads the final search's trial table. Each config counts once, with its
validation error after ``epoch`` epochs (taken from the per-epoch curve of its longest trial),
at the highest rung of the fidelity where at least ``min_trials`` configs got that far
(lower rungs are a fallback, with a warning). Conditional hyperparameters are analysed in
scopes: ``all`` covers the hyperparameters every config has (the model family among them), and
each model family with enough configs gets its own scope over its own hyperparameters too.

Backends:

* ``optuna`` (default): Optuna's ``FanovaImportanceEvaluator`` for main effects and, on the
  same forest, pairwise interactions (the variance of a pair's joint marginal minus both main
  effects, as in Hutter et al. 2014); ``PedAnovaImportanceEvaluator`` once there are
  ``ped_anova_min_trials`` configs (it asks which hyperparameters separate the top 10 %).
* ``fanova``: the original ``fanova`` package (pyrfr random forests; an optional extra, see
  README), main effects and pairwise interactions.

Importances are fractions of the variance of the fitted forest's predictions (unnormalised:
main effects and interactions of one scope sum to at most 1). PED-ANOVA's values are on their
own scale and are not fractions.
"""

from __future__ import annotations

import itertools
import logging
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hpotext.errors import ConfigError
from hpotext.io import json_safe
from hpotext.schema import default
from hpotext.space.core import MODEL, Hyperparameter, Space

log = logging.getLogger(__name__)


BACKENDS = ("optuna", "fanova", "both")
N_TREES = 64
ALL = "all"


@dataclass(frozen=True)
class Importance:
    """One importance value: a main effect (one param) or an interaction (two)."""

    scope: str  # "all" or a model family
    backend: str  # "optuna" | "fanova"
    method: str  # "fanova" | "ped_anova"
    params: tuple[str, ...]
    importance: float
    std: float
    fidelity: int
    n_configs: int


@dataclass(frozen=True)
class Settings:
    """The ``importance`` config section (defaults from config/schema.yaml)."""

    backend: str = default("importance.backend")
    min_trials: int = default("importance.min_trials")
    pairs: int = default("importance.pairs")  # interactions among this many top hyperparameters
    ped_anova_min_trials: int = default("importance.ped_anova_min_trials")
    seed: int = default("importance.seed")


# --- data --------------------------------------------------------------------------------------
def observations(trials: pd.DataFrame, space: Space, epoch: int) -> pd.DataFrame:
    """One row per distinct config that trained ``epoch`` epochs: its hyperparameters + value.

    ``value`` is the validation error after ``epoch`` epochs, read from the curve of the
    config's longest successful trial (a continued trial's curve starts at epoch 1).
    """
    ok = trials[trials.status.isin(["completed", "stopped"])]
    rows: dict[str, dict[str, Any]] = {}
    reached: dict[str, int] = {}
    keys = list(space.by_key())
    for _, t in ok.iterrows():
        curve = list(t["curve"]) if t["curve"] is not None else []
        if len(curve) < epoch or not math.isfinite(curve[epoch - 1]):
            continue
        config = {k: json_safe(t.get(f"config.{k}")) for k in keys}
        config = {k: v for k, v in config.items() if v is not None}
        fingerprint = repr(sorted(config.items()))
        if reached.get(fingerprint, -1) >= len(curve):
            continue
        reached[fingerprint] = len(curve)
        rows[fingerprint] = {**config, "value": float(curve[epoch - 1])}
    return pd.DataFrame(list(rows.values()))


def choose_fidelity(
    trials: pd.DataFrame, space: Space, min_trials: int
) -> tuple[int, pd.DataFrame, list[str]]:
    """The highest rung with at least ``min_trials`` configs, its observations, and warnings
    when it is not the top rung."""
    found = {r: observations(trials, space, r) for r in space.fidelity.rungs()}
    counts = {r: len(obs) for r, obs in found.items()}
    top = max(counts)
    enough = [r for r, n in counts.items() if n >= min_trials]
    if not enough:
        best = max(counts, key=lambda r: (counts[r], r))
        return (
            best,
            found[best],
            [
                f"importance: only {counts[best]} configs reached {best} epochs (fewer than "
                f"importance.min_trials={min_trials}); the importances below are rough"
            ],
        )
    chosen = max(enough)
    if chosen == top:
        return chosen, found[chosen], []
    return (
        chosen,
        found[chosen],
        [
            f"importance: only {counts[top]} configs reached {top} epochs (fewer than "
            f"importance.min_trials={min_trials}); analysed at {chosen} epochs ({counts[chosen]} "
            "configs) instead"
        ],
    )


def scopes(obs: pd.DataFrame, space: Space, min_trials: int) -> dict[str, list[str]]:
    """Scope -> the hyperparameters analysed there (only ones that vary in the space)."""
    shared = [hp for hp in space.hyperparameters if hp.family is None and _varies(hp)]
    out = {ALL: [hp.key for hp in shared if not hp.families]}  # set in every config
    if MODEL not in obs:
        return out
    for family in space.families:
        n = int((obs[MODEL] == family).sum())
        own = [hp for hp in space.hyperparameters if hp.family == family and _varies(hp)]
        if (own or any(hp.families for hp in shared)) and n >= min_trials:
            out[family] = [hp.key for hp in shared if hp.key != MODEL and hp.active_for(family)] + [
                hp.key for hp in own
            ]
    return out


def _varies(hp: Hyperparameter) -> bool:
    return len(hp.choices) > 1 if hp.type == "categorical" else hp.low != hp.high


def rows_of(obs: pd.DataFrame, scope: str) -> pd.DataFrame:
    return obs if scope == ALL else obs[obs[MODEL] == scope]


# --- optuna backend ----------------------------------------------------------------------------
def distributions(space: Space, keys: list[str]) -> dict[str, Any]:
    import optuna.distributions as od

    by_key = space.by_key()
    out: dict[str, Any] = {}
    for key in keys:
        hp = by_key[key]
        if hp.type == "categorical":
            out[key] = od.CategoricalDistribution(list(hp.choices))
        elif hp.type == "int":
            out[key] = od.IntDistribution(int(hp.low or 0), int(hp.high or 0), log=hp.log)
        else:
            out[key] = od.FloatDistribution(float(hp.low or 0.0), float(hp.high or 0.0), log=hp.log)
    return out


def cast(value: Any, hp: Hyperparameter) -> Any:
    if hp.type == "int":
        return int(round(value))
    if hp.type == "float":
        return float(value)
    return value


def optuna_study(obs: pd.DataFrame, space: Space, keys: list[str]) -> Any:
    """The observations as a finished Optuna study (minimising validation error)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists, by_key = distributions(space, keys), space.by_key()
    study = optuna.create_study(direction="minimize")
    for _, row in obs.iterrows():
        params = {k: cast(row[k], by_key[k]) for k in keys}
        study.add_trial(
            optuna.trial.create_trial(params=params, distributions=dists, value=row["value"])
        )
    return study


def optuna_importances(
    obs: pd.DataFrame, space: Space, keys: list[str], settings: Settings
) -> list[tuple[str, tuple[str, ...], float, float]]:
    """(method, params, importance, std) from Optuna's evaluators."""
    import optuna
    from optuna._transform import _SearchSpaceTransform
    from optuna.importance._fanova._fanova import _Fanova

    study = optuna_study(obs, space, keys)
    evaluator = optuna.importance.FanovaImportanceEvaluator(n_trees=N_TREES, seed=settings.seed)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    main = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=False)
    out: list[tuple[str, tuple[str, ...], float, float]] = []
    # Interactions on the same forest (same settings and seed as the evaluator builds): the
    # evaluator only reports main effects, so the pair variances come from its trees.
    trans = _SearchSpaceTransform(distributions(space, keys), transform_log=False,
                                  transform_step=False)  # fmt: skip
    x = np.array([trans.transform(p) for p in (t.params for t in study.trials)])
    y = np.array([t.value for t in study.trials])
    forest = _Fanova(n_trees=N_TREES, max_depth=64, min_samples_split=2, min_samples_leaf=1,
                     seed=settings.seed)  # fmt: skip
    forest.fit(x, y, trans.bounds, trans.column_to_encoded_columns)
    assert forest._trees is not None
    trees = [t for t in forest._trees if t.variance > 0]
    cols = dict(zip(keys, trans.column_to_encoded_columns, strict=True))

    def fractions(names: tuple[str, ...]) -> np.ndarray:
        features = np.concatenate([cols[n] for n in names])
        return np.array([max(t.get_marginal_variance(features), 0.0) / t.variance for t in trees])

    singles = {k: fractions((k,)) for k in keys}
    for k in keys:
        out.append(("fanova", (k,), float(main[k]), float(singles[k].std())))
    for a, b in top_pairs(main, settings.pairs):
        inter = np.clip(fractions((a, b)) - singles[a] - singles[b], 0.0, None)
        out.append(("fanova", (a, b), float(inter.mean()), float(inter.std())))
    if len(obs) >= settings.ped_anova_min_trials:
        ped = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.PedAnovaImportanceEvaluator(), normalize=False
        )
        out += [("ped_anova", (k,), float(v), 0.0) for k, v in ped.items()]
    return out


def top_pairs(main: dict[str, float], n: int) -> list[tuple[str, str]]:
    """Every pair among the ``n`` hyperparameters with the largest main effects."""
    top = sorted(main, key=lambda k: -main[k])[:n]
    return list(itertools.combinations(top, 2))


# --- fanova package backend --------------------------------------------------------------------
def load_fanova() -> Any:
    """The ``fanova`` package, with the numpy shim it needs (it uses ``np.float``)."""
    for alias, kind in (("float", float), ("int", int), ("bool", bool)):
        if alias not in np.__dict__:
            setattr(np, alias, kind)  # removed in numpy 1.24; fanova 2.0.19 still uses them
    try:
        import fanova
    except ImportError:
        raise ConfigError(
            "importance.backend asks for the fanova package, which is not installed; "
            "run `make fanova` (needs apt swig and a C++ compiler) or use backend: optuna"
        ) from None
    return fanova


def fanova_importances(
    obs: pd.DataFrame, space: Space, keys: list[str], settings: Settings
) -> list[tuple[str, tuple[str, ...], float, float]]:
    """(method, params, importance, std) from the fanova package (pyrfr forests)."""
    import ConfigSpace as CS

    fanova = load_fanova()
    by_key = space.by_key()
    cs = CS.ConfigurationSpace(seed=settings.seed)
    columns = []
    for key in keys:
        hp = by_key[key]
        if hp.type == "categorical":
            cs.add(CS.CategoricalHyperparameter(key, list(range(len(hp.choices)))))
            columns.append([hp.choices.index(cast(v, hp)) for v in obs[key]])
        else:  # fanova marginalises over the stated range: log ones on their log scale
            lo, hi = float(hp.low or 0.0), float(hp.high or 0.0)
            if hp.log:
                lo, hi = math.log(lo), math.log(hi)
            cs.add(CS.UniformFloatHyperparameter(key, lo, hi))
            values = obs[key].astype(float)
            columns.append(list(np.log(values) if hp.log else values))
    # a labelled frame: fanova reorders the columns to ConfigSpace's own (sorted) order
    x = pd.DataFrame(np.array(columns, dtype=float).T, columns=keys)
    y = obs["value"].to_numpy(dtype=float)

    def quantify(f: Any, names: tuple[str, ...]) -> tuple[float, float]:
        found = f.quantify_importance(names)
        res = next(v for k, v in found.items() if len(k) == len(names))
        return float(res["individual importance"]), float(res["individual std"])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = fanova.fANOVA(x, y, config_space=cs, n_trees=N_TREES, seed=settings.seed)
        main: dict[str, float] = {}
        out: list[tuple[str, tuple[str, ...], float, float]] = []
        for key in keys:
            main[key], std = quantify(f, (key,))
            out.append(("fanova", (key,), main[key], std))
        for a, b in top_pairs(main, settings.pairs):
            out.append(("fanova", (a, b), *quantify(f, (a, b))))
    return out


# --- the analysis ------------------------------------------------------------------------------
def analyse(
    trials: pd.DataFrame, space: Space, settings: Settings
) -> tuple[list[Importance], dict[str, Any]]:
    """Importances of every scope and backend, and a summary (fidelity, counts, warnings)."""
    fidelity, obs, notes = choose_fidelity(trials, space, settings.min_trials)
    return analyse_observations(obs, fidelity, notes, space, settings)


def analyse_observations(
    obs: pd.DataFrame, fidelity: int, notes: list[str], space: Space, settings: Settings
) -> tuple[list[Importance], dict[str, Any]]:
    """``analyse`` on the observations ``choose_fidelity`` picked (``notes``: its warnings)."""
    if settings.backend not in BACKENDS:
        raise ConfigError(
            f"importance.backend is {settings.backend!r}; use one of {', '.join(BACKENDS)}"
        )
    backends = ["optuna", "fanova"] if settings.backend == "both" else [settings.backend]
    records: list[Importance] = []
    if len(obs) < 3 or obs["value"].nunique() < 2:
        notes.append(
            f"importance: {len(obs)} configs with {obs['value'].nunique() if len(obs) else 0} "
            "distinct values are too few to analyse; run a bigger search"
        )
        return records, {"fidelity": fidelity, "n_configs": len(obs), "warnings": notes}
    found = scopes(obs, space, settings.min_trials)
    for scope, keys in list(found.items()):
        rows = rows_of(obs, scope)
        if rows["value"].nunique() < 2 or not keys:  # the forests would have nothing to split
            notes.append(
                f"importance: the {len(rows)} configs of scope '{scope}' all scored "
                f"{rows['value'].iloc[0]:.4f}; nothing to attribute there"
            )
            del found[scope]
            continue
        for backend in backends:
            run = optuna_importances if backend == "optuna" else fanova_importances
            for method, params, value, std in run(rows, space, keys, settings):
                records.append(
                    Importance(scope, backend, method, params, value, std, fidelity, len(rows))
                )
    info = {
        "fidelity": fidelity,
        "n_configs": len(obs),
        "warnings": notes,
        "scopes": found,
        "top": ranking(records, backends[0]),
    }
    return records, info


def ranking(records: list[Importance], backend: str, scope: str = ALL) -> list[dict[str, Any]]:
    """Main effects of one scope and backend (fANOVA), most important first."""
    mains = [
        r
        for r in records
        if r.scope == scope and r.backend == backend and r.method == "fanova" and len(r.params) == 1
    ]
    mains.sort(key=lambda r: -r.importance)
    return [{"param": r.params[0], "importance": r.importance, "std": r.std} for r in mains]


def to_frame(records: list[Importance]) -> pd.DataFrame:
    columns = ["scope", "backend", "method", "params", "importance", "std", "fidelity",
               "n_configs"]  # fmt: skip
    frame = pd.DataFrame([r.__dict__ for r in records], columns=columns)
    frame["params"] = frame["params"].map(list)
    return frame
