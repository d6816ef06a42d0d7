"""A tree-ensemble surrogate of the proxy table: validation error by config and epoch.

``extra_trees`` (extremely randomized trees, the default) ranked held-out proxy configs better
than ``random_forest`` on every table size and dataset of benchmarks/results/proxy_quality.md.
"""

from __future__ import annotations

import json
import math
import os
import pickle
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

from hpotext import space as space_mod
from hpotext.errors import ConfigError, StaleFileError
from hpotext.io import canonical_json
from hpotext.space.core import Space
from hpotext.space.encode import features

TREES = 200
MIN_LEAF = 2
REPEATS = 5  # dealings of the configs into folds that Surrogate.quality averages over
COLUMNS = ("config_id", "config", "epoch", "val_error", "epoch_seconds")
KINDS = {"extra_trees": ExtraTreesRegressor, "random_forest": RandomForestRegressor}
Forest: TypeAlias = ExtraTreesRegressor | RandomForestRegressor


# --- configs on the unit cube --------------------------------------------------------------------
def _forest(seed: int, kind: str) -> Forest:
    if kind not in KINDS:
        raise ConfigError(f"proxy.surrogate {kind!r} is unknown; use one of {', '.join(KINDS)}")
    return KINDS[kind](n_estimators=TREES, min_samples_leaf=MIN_LEAF, random_state=seed, n_jobs=1)


def check_table(table: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise StaleFileError(
            f"the proxy table lacks columns {missing}; rebuild it (rule proxy_table)"
        )
    if table.empty:
        raise ConfigError("the proxy table has no rows; rebuild it with proxy.configs >= 4")
    return table[list(COLUMNS)].reset_index(drop=True)


def _design(space: Space, table: pd.DataFrame) -> np.ndarray:
    """Error-model features (config features + epoch) of every table row."""
    pairs = zip(table.config, table.epoch, strict=True)
    return np.array([features(space, json.loads(c)) + [float(e)] for c, e in pairs])


def _fit_error(space: Space, table: pd.DataFrame, seed: int, kind: str) -> Forest:
    model = _forest(seed, kind)
    model.fit(_design(space, table), table.val_error.to_numpy(dtype=float))
    return model


# --- the surrogate ---------------------------------------------------------------------------
class Surrogate:
    """Tree ensembles (``kind``) for val_error(config, epoch) and log(epoch_seconds)(config)."""

    def __init__(
        self,
        space: Space,
        table: pd.DataFrame,
        error_model: Forest,
        time_model: Forest,
        seed: int,
        kind: str = "extra_trees",
    ) -> None:
        self.space, self.table, self.seed, self.kind = space, table, seed, kind
        self.error_model, self.time_model = error_model, time_model
        self.max_epoch = int(table.epoch.max())
        self._curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._seconds: dict[str, float] = {}

    @classmethod
    def fit(
        cls, table: pd.DataFrame, space: Space, seed: int = 0, kind: str = "extra_trees"
    ) -> Surrogate:
        """Fit both ensembles on a proxy table (columns as ``proxy_table_shard`` writes them)."""
        table = check_table(table)
        table = table.assign(val_error=table.val_error.astype(float).fillna(1.0).clip(0.0, 1.0))
        timed = table[np.isfinite(table.epoch_seconds.astype(float)) & (table.epoch_seconds > 0)]
        if timed.empty:
            raise ConfigError(
                "no row of the proxy table has a positive epoch_seconds (every config failed); "
                "check the training settings and rebuild the table"
            )
        x_time = np.array([features(space, json.loads(c)) for c in timed.config])
        time_model = _forest(seed, kind)
        time_model.fit(x_time, np.log(timed.epoch_seconds.to_numpy(dtype=float)))
        return cls(space, table, _fit_error(space, table, seed, kind), time_model, seed, kind)

    # --- queries -------------------------------------------------------------------------------
    def _tree_stats(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x32 = np.ascontiguousarray(x, dtype=np.float32)  # sklearn's tree dtype: skip its checks
        per_tree = np.stack(
            [tree.predict(x32, check_input=False) for tree in self.error_model.estimators_]
        )
        return per_tree.mean(axis=0), per_tree.std(axis=0)

    def curve(self, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of the predicted error at epochs 1..max_epoch (cached per config)."""
        key = canonical_json(config)
        if key not in self._curves:
            base = features(self.space, config)
            x = np.array([base + [float(e)] for e in range(1, self.max_epoch + 1)])
            self._curves[key] = self._tree_stats(x)
        return self._curves[key]

    def predict(self, config: dict[str, Any], epoch: int) -> tuple[float, float]:
        """(mean, std over trees) of the validation error of ``config`` after ``epoch`` epochs."""
        if 1 <= epoch <= self.max_epoch:
            mean, std = self.curve(config)
            return float(mean[epoch - 1]), float(std[epoch - 1])
        x = np.array([features(self.space, config) + [float(epoch)]])
        mean, std = self._tree_stats(x)
        return float(mean[0]), float(std[0])

    def error(self, config: dict[str, Any], epoch: int, rng: np.random.Generator) -> float:
        """A noisy observation: N(mean, std) of ``predict``, clipped to [0, 1]."""
        mean, std = self.predict(config, epoch)
        return float(min(1.0, max(0.0, rng.normal(mean, std) if std > 0 else mean)))

    def true_error(self, config: dict[str, Any]) -> float:
        """The noise-free predicted error at the table's last epoch."""
        return self.predict(config, self.max_epoch)[0]

    def epoch_seconds(self, config: dict[str, Any]) -> float:
        """Predicted seconds one epoch of ``config`` takes (as measured on the proxy)."""
        key = canonical_json(config)
        if key not in self._seconds:
            x = np.array([features(self.space, config)])
            self._seconds[key] = float(np.exp(self.time_model.predict(x)[0]))
        return self._seconds[key]

    def quality(self, folds: int = 5, seed: int = 0, repeats: int = REPEATS) -> dict[str, float]:
        """Cross-validate over configs, ``repeats`` times: each time the configs are dealt into
        ``folds`` folds anew (fold seed ``seed + r``), the ensemble is refitted on all but one
        fold and predicts that fold's configs' last-epoch error, and every config's
        out-of-fold prediction is scored at once.

        Every config is judged (a single 20 % hold-out of a 30-config table would rank six
        points, too few to tell a good surrogate from a poor one), and the score is the mean
        over the repeats: on a 30-config table one dealing alone moves it by up to 0.2
        (benchmarks/results/proxy_cv.md). Returns spearman (mean rank correlation; a repeat
        with constant predictions counts 0.0), spearman_sd (over the repeats), r2 (mean),
        folds, repeats and n_configs.
        """
        from scipy.stats import spearmanr
        from sklearn.metrics import r2_score

        ids = np.array(sorted(self.table.config_id.unique()))
        if len(ids) < 4:
            raise ConfigError(
                f"the proxy table has only {len(ids)} configs, too few to judge the surrogate; "
                "rebuild it with proxy.configs >= 4"
            )
        if folds < 2:
            raise ConfigError(f"folds is {folds!r}; cross-validate with at least 2 folds")
        if repeats < 1:
            raise ConfigError(f"repeats is {repeats!r}; cross-validate at least once")
        folds = min(folds, len(ids))
        last_epoch = self.table.groupby("config_id").epoch.transform("max")
        rhos, r2s = [], []
        for r in range(repeats):
            fold_of = dict(zip(np.random.default_rng(seed + r).permutation(ids).tolist(),
                               np.arange(len(ids)) % folds, strict=True))  # fmt: skip
            fold = self.table.config_id.map(fold_of).to_numpy()
            truth, pred = [], []
            for k in range(folds):
                model = _fit_error(self.space, self.table[fold != k], self.seed, self.kind)
                test = self.table[(fold == k) & (self.table.epoch == last_epoch)]
                truth += test.val_error.astype(float).tolist()
                pred += model.predict(_design(self.space, test)).tolist()
            rho = float(spearmanr(truth, pred).statistic)
            rhos.append(rho if math.isfinite(rho) else 0.0)
            r2s.append(float(r2_score(truth, pred)))
        return {
            "spearman": float(np.mean(rhos)),
            "spearman_sd": float(np.std(rhos)),
            "r2": float(np.mean(r2s)),
            "folds": float(folds),
            "repeats": float(repeats),
            "n_configs": float(len(ids)),
        }

    # --- files ---------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["space"] = space_mod.to_dict(self.space)
        state["_curves"], state["_seconds"] = {}, {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["space"] = space_mod.from_dict(state["space"], where="stored surrogate")
        state.setdefault("kind", "random_forest")  # written before proxy.surrogate existed
        self.__dict__.update(state)

    def save(self, path: str | Path) -> None:
        """Pickle the surrogate (atomically)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: str | Path) -> Surrogate:
        """Read a surrogate written by ``save``."""
        try:
            obj = pickle.loads(Path(path).read_bytes())
        except FileNotFoundError:
            raise StaleFileError(f"surrogate file {path} does not exist; fit it first") from None
        if not isinstance(obj, cls):
            raise StaleFileError(f"{path} does not hold a Surrogate; delete it and fit it again")
        return obj


def members(
    table: pd.DataFrame, space: Space, seed: int = 0, kind: str = "extra_trees", count: int = 1
) -> list[Surrogate]:
    """``count`` surrogates of one proxy table: the one fitted to the whole table (as
    ``Surrogate.fit`` with ``seed``), then ``count - 1`` fitted to bootstrap resamples of its
    configs (drawn with replacement, every epoch of a drawn config kept; resample and forest
    seeded by ``seed`` and the member's index). Replaying the optimizers across them averages
    their ranking over the landscapes the table cannot tell apart instead of one forest's;
    benchmarks/proxy_surrogates.py measures that, and the proxy stage keeps one surrogate (it
    helped on trec and hurt on vader: benchmarks/results/proxy_surrogates.md).
    """
    if count < 1:
        raise ConfigError(f"proxy.surrogates is {count!r}; fit at least 1 surrogate")
    table = check_table(table)
    found = [Surrogate.fit(table, space, seed=seed, kind=kind)]
    ids = np.array(sorted(table.config_id.unique()))
    rows = {i: part for i, part in table.groupby("config_id")}
    for member in range(1, count):
        rng = np.random.default_rng([seed, member])
        drawn = rng.choice(ids, size=len(ids), replace=True)
        resample = pd.concat([rows[i] for i in drawn], ignore_index=True)
        found.append(Surrogate.fit(resample, space, seed=seed + member, kind=kind))
    return found


def proxy_budget(table: pd.DataFrame, evaluations: float) -> float:
    """Simulated seconds worth ``evaluations`` full-fidelity proxy evaluations (median config)."""
    per_config = table.groupby("config_id")["epoch_seconds"].sum(min_count=1).dropna()
    if per_config.empty:
        raise ConfigError("the proxy table has no timed epoch; check the proxy_table log")
    return float(evaluations * per_config.median())
