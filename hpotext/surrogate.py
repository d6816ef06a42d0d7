"""A random-forest surrogate of the proxy table, and optimizer runs simulated on it.

``Surrogate.fit(table, space)`` learns validation error per (config, epoch) and the seconds per
epoch of a config from the long table ``hpotext.proxy.build_table`` writes. Features are the
``model`` one-hot, every hyperparameter scaled into [0, 1] (log scale for log hyperparameters,
a one-hot for categoricals) with -1 for a hyperparameter inactive in the config, and the epoch.

``SurrogateBenchmark`` answers a Suggestion like the real objective would, at a cost of the
epochs it trains (or of simulated seconds), with observation noise drawn from the spread of the
forest's trees; the noise is fixed per (benchmark seed, config, epoch), so asking the same
config again gives the same curve. ``run_optimizer`` runs one optimizer on it to a budget and
returns its trajectory (the format ``hpotext.compare`` reads).

Epochs are the default cost because they are what the search's default budget counts and
because they make a replay a function of the table's validation errors and the seed alone: the
measured seconds per epoch change with every build of the table (machine load, warm-up), and
with them the budget and every trial's cost, so replays on seconds picked different optimizers
from tables that differed only in their timings.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor

from hpotext import space as space_mod
from hpotext.errors import ConfigError
from hpotext.optimizers import make_optimizer
from hpotext.optimizers.records import Result, Suggestion
from hpotext.space import Hyperparameter, Space

TREES = 200
MIN_LEAF = 2
COLUMNS = ("config_id", "config", "epoch", "val_error", "epoch_seconds")
# Columns of a run_optimizer trajectory, in order (hpotext.compare reads these).
TRAJECTORY = (
    "optimizer", "seed", "trial", "fidelity", "epochs_trained", "cost", "objective",
    "incumbent_trial", "incumbent_true", "config",
)  # fmt: skip


# --- configs on the unit cube --------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def canonical(config: dict[str, Any]) -> str:
    """A config as sorted-key JSON (tuples become lists): equal configs give equal strings."""
    return json.dumps(config, sort_keys=True, default=_plain)


def _bounds(hp: Hyperparameter) -> tuple[float, float]:
    """The numeric range mapped onto [0, 1]; an int's range is widened by 0.5 on each side so
    every integer gets an equal share of the unit interval (on the log scale when ``log``)."""
    assert hp.low is not None and hp.high is not None
    pad = 0.5 if hp.type == "int" else 0.0
    low, high = float(hp.low) - pad, float(hp.high) + pad
    if hp.log:
        return math.log(max(low, 1e-12)), math.log(high)
    return low, high


def choice_index(hp: Hyperparameter, value: Any) -> int:
    """Position of ``value`` among a categorical's choices (lists match tuples, as in JSON)."""
    text = json.dumps(value, default=_plain)
    for i, choice in enumerate(hp.choices):
        if json.dumps(choice, default=_plain) == text:
            return i
    raise ConfigError(
        f"value {value!r} of '{hp.key}' is not among its choices {list(hp.choices)}; "
        "build the table and the surrogate from the same search space"
    )


def to_unit(hp: Hyperparameter, value: Any) -> float:
    """``value`` of a numeric hyperparameter in [0, 1] (a categorical: its slot's centre)."""
    if hp.type == "categorical":
        return (choice_index(hp, value) + 0.5) / len(hp.choices)
    low, high = _bounds(hp)
    x = math.log(max(float(value), 1e-12)) if hp.log else float(value)
    return min(1.0, max(0.0, (x - low) / (high - low)))


def from_unit(hp: Hyperparameter, u: float) -> Any:
    """The value at ``u`` in [0, 1]: inverse of ``to_unit``, always inside the hyperparameter."""
    u = min(1.0, max(0.0, float(u)))
    if hp.type == "categorical":
        return hp.choices[min(len(hp.choices) - 1, int(u * len(hp.choices)))]
    assert hp.low is not None and hp.high is not None
    low, high = _bounds(hp)
    x = low + u * (high - low)
    value = math.exp(x) if hp.log else x
    if hp.type == "int":
        return int(min(hp.high, max(hp.low, round(value))))
    return float(min(hp.high, max(hp.low, value)))


def features(space: Space, config: dict[str, Any]) -> list[float]:
    """The feature vector of ``config`` (without the epoch); inactive entries are -1."""
    row: list[float] = []
    for hp in space.hyperparameters:
        present = hp.key in config and config[hp.key] is not None
        if hp.type == "categorical":
            onehot = [-1.0] * len(hp.choices)
            if present:
                onehot = [0.0] * len(hp.choices)
                onehot[choice_index(hp, config[hp.key])] = 1.0
            row.extend(onehot)
        else:
            row.append(to_unit(hp, config[hp.key]) if present else -1.0)
    return row


def _forest(seed: int) -> RandomForestRegressor:
    return RandomForestRegressor(
        n_estimators=TREES, min_samples_leaf=MIN_LEAF, random_state=seed, n_jobs=1
    )


def _check_table(table: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ConfigError(
            f"the proxy table lacks columns {missing}; rebuild it with hpotext.proxy.build_table"
        )
    if table.empty:
        raise ConfigError("the proxy table has no rows; rebuild it with proxy.configs >= 4")
    return table[list(COLUMNS)].reset_index(drop=True)


def _design(space: Space, table: pd.DataFrame) -> np.ndarray:
    """Error-model features (config features + epoch) of every table row."""
    pairs = zip(table.config, table.epoch, strict=True)
    return np.array([features(space, json.loads(c)) + [float(e)] for c, e in pairs])


def _fit_error(space: Space, table: pd.DataFrame, seed: int) -> RandomForestRegressor:
    model = _forest(seed)
    model.fit(_design(space, table), table.val_error.to_numpy(dtype=float))
    return model


# --- the surrogate ---------------------------------------------------------------------------
class Surrogate:
    """Random forests for val_error(config, epoch) and log(epoch_seconds)(config)."""

    def __init__(
        self,
        space: Space,
        table: pd.DataFrame,
        error_model: RandomForestRegressor,
        time_model: RandomForestRegressor,
        seed: int,
    ) -> None:
        self.space, self.table, self.seed = space, table, seed
        self.error_model, self.time_model = error_model, time_model
        self.max_epoch = int(table.epoch.max())
        self._curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._seconds: dict[str, float] = {}

    @classmethod
    def fit(cls, table: pd.DataFrame, space: Space, seed: int = 0) -> Surrogate:
        """Fit both forests on a proxy table (columns as ``build_table`` writes them)."""
        table = _check_table(table)
        table = table.assign(val_error=table.val_error.astype(float).fillna(1.0).clip(0.0, 1.0))
        timed = table[np.isfinite(table.epoch_seconds.astype(float)) & (table.epoch_seconds > 0)]
        if timed.empty:
            raise ConfigError(
                "no row of the proxy table has a positive epoch_seconds (every config failed); "
                "check the training settings and rebuild the table"
            )
        x_time = np.array([features(space, json.loads(c)) for c in timed.config])
        time_model = _forest(seed)
        time_model.fit(x_time, np.log(timed.epoch_seconds.to_numpy(dtype=float)))
        return cls(space, table, _fit_error(space, table, seed), time_model, seed)

    # --- queries -------------------------------------------------------------------------------
    def _tree_stats(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x32 = np.ascontiguousarray(x, dtype=np.float32)  # sklearn's tree dtype: skip its checks
        per_tree = np.stack(
            [tree.predict(x32, check_input=False) for tree in self.error_model.estimators_]
        )
        return per_tree.mean(axis=0), per_tree.std(axis=0)

    def curve(self, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of the predicted error at epochs 1..max_epoch (cached per config)."""
        key = canonical(config)
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
        key = canonical(config)
        if key not in self._seconds:
            x = np.array([features(self.space, config)])
            self._seconds[key] = float(np.exp(self.time_model.predict(x)[0]))
        return self._seconds[key]

    def quality(self, folds: int = 5, seed: int = 0) -> dict[str, float]:
        """Cross-validate over configs: refit on all but one fold, predict that fold's configs'
        last-epoch error, and score every config's out-of-fold prediction at once.

        Every config is judged (a single 20 % hold-out of a 30-config table would rank six
        points, too few to tell a good surrogate from a poor one). Returns spearman (rank
        correlation; 0.0 when undefined, e.g. constant predictions), r2, folds and n_configs.
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
        folds = min(folds, len(ids))
        fold_of = dict(zip(np.random.default_rng(seed).permutation(ids).tolist(),
                           np.arange(len(ids)) % folds, strict=True))  # fmt: skip
        fold = self.table.config_id.map(fold_of).to_numpy()
        last_epoch = self.table.groupby("config_id").epoch.transform("max")
        truth, pred = [], []
        for k in range(folds):
            model = _fit_error(self.space, self.table[fold != k], self.seed)
            test = self.table[(fold == k) & (self.table.epoch == last_epoch)]
            truth += test.val_error.astype(float).tolist()
            pred += model.predict(_design(self.space, test)).tolist()
        rho = float(spearmanr(truth, pred).statistic)
        return {
            "spearman": rho if math.isfinite(rho) else 0.0,
            "r2": float(r2_score(truth, pred)),
            "folds": float(folds),
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
            raise ConfigError(f"surrogate file {path} does not exist; fit it first") from None
        if not isinstance(obj, cls):
            raise ConfigError(f"{path} does not hold a Surrogate; delete it and fit it again")
        return obj


# --- the simulated benchmark ---------------------------------------------------------------------
COST_UNITS = ("epochs", "seconds")


class SurrogateBenchmark:
    """Evaluates suggestions on a surrogate with noise fixed per (seed, config, epoch).

    ``noise=False`` observes the forest's mean instead (a noise-free ablation). ``cost`` is what
    a trial costs: ``epochs`` trained (the unit of an epochs or evaluations budget; a function of
    the table's errors only) or predicted ``seconds`` (from the table's measured epoch times,
    which differ from one build of the table to the next).
    """

    def __init__(
        self,
        surrogate: Surrogate,
        space: Space,
        seed: int,
        noise: bool = True,
        cost: str = "epochs",
    ) -> None:
        if cost not in COST_UNITS:
            raise ConfigError(
                f"replay cost {cost!r} is unknown; use one of {', '.join(COST_UNITS)}"
            )
        if space.fidelity.max > surrogate.max_epoch:
            raise ConfigError(
                f"the space's fidelity goes to {space.fidelity.max} epochs but the surrogate "
                f"only knows epochs up to {surrogate.max_epoch}; simulate on the proxy space "
                "(hpotext.proxy.proxy_space) the table was built with"
            )
        self.surrogate, self.space, self.seed = surrogate, space, int(seed)
        self.noise, self.cost = noise, cost

    def _rng(self, config: dict[str, Any], epoch: int) -> np.random.Generator:
        text = json.dumps([self.seed, canonical(config), int(epoch)])
        return np.random.default_rng(int(hashlib.sha256(text.encode()).hexdigest()[:16], 16))

    def observed(self, config: dict[str, Any], epoch: int) -> float:
        """The (noisy, but repeatable) validation error of ``config`` after ``epoch`` epochs."""
        if not self.noise:
            return self.surrogate.predict(config, epoch)[0]
        return self.surrogate.error(config, epoch, self._rng(config, epoch))

    def evaluate(self, suggestion: Suggestion, start_epoch: int) -> Result:
        """Train ``suggestion`` from ``start_epoch`` (0: from scratch) to its fidelity."""
        fidelity = int(suggestion.fidelity)
        start = min(max(0, int(start_epoch)), fidelity)
        config = suggestion.config
        curve = tuple(self.observed(config, e) for e in range(1, fidelity + 1))
        per_epoch = self.surrogate.epoch_seconds(config) if self.cost == "seconds" else 1.0
        return Result(
            objective=curve[-1],
            cost=per_epoch * (fidelity - start),
            epochs_trained=fidelity - start,
            curve=curve,
            metrics={"accuracy": 1.0 - curve[-1]},
        )

    def true_error(self, config: dict[str, Any]) -> float:
        """Noise-free predicted error at the proxy's maximum fidelity."""
        return self.surrogate.true_error(config)


Incumbent = tuple[int, float, int]  # (fidelity, objective, trial id)


def better_incumbent(best: Incumbent | None, new: Incumbent) -> Incumbent:
    """The incumbent after a new successful result: the highest fidelity wins, then the lower
    objective, then the earlier trial."""
    if best is None or (new[0], -new[1], -new[2]) > (best[0], -best[1], -best[2]):
        return new
    return best


def run_optimizer(
    name: str,
    space: Space,
    surrogate: Surrogate,
    seed: int,
    budget: float,
    max_trials: int = 100_000,
    noise: bool = True,
    cost: str = "epochs",
) -> pd.DataFrame:
    """Simulate optimizer ``name`` (one worker) until it has spent ``budget`` (in ``cost``
    units: simulated epochs or seconds, as ``SurrogateBenchmark`` counts them).

    A suggestion continues its parent, or else the highest-fidelity earlier trial of the same
    config below its fidelity, and pays only the missing epochs. One row per trial, in order:
    optimizer, seed, trial, fidelity, epochs_trained, cost (cumulative), objective,
    incumbent_trial, incumbent_true (the noise-free error of the trial with the best observed
    objective at the highest fidelity reached so far; it can rise when a noisy observation or a
    new, higher fidelity changes the incumbent), config (JSON). ``noise`` as in
    ``SurrogateBenchmark``; ``max_trials`` guards against optimizers that never spend.
    """
    if not budget > 0:
        raise ConfigError(f"the replay budget is {budget!r}; give a positive number")
    bench = SurrogateBenchmark(surrogate, space, seed, noise, cost)
    optimizer = make_optimizer(name, space, seed)
    fidelity_of: dict[int, int] = {}
    seen: dict[str, list[int]] = {}  # canonical config -> fidelities tried
    best: Incumbent | None = None
    config_of: dict[int, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    spent = 0.0
    while spent < budget and len(rows) < max_trials:
        s = optimizer.ask()
        if s is None:  # one worker: nothing is pending, so nothing will ever come
            break
        key = canonical(s.config)
        if s.parent is not None and s.parent in fidelity_of:
            start = fidelity_of[s.parent]
        else:
            start = max((f for f in seen.get(key, []) if f < s.fidelity), default=0)
        result = bench.evaluate(s, start)
        optimizer.tell(s, result)
        spent += result.cost
        fidelity_of[s.trial_id] = s.fidelity
        seen.setdefault(key, []).append(s.fidelity)
        config_of[s.trial_id] = s.config
        if result.ok and math.isfinite(result.objective):
            best = better_incumbent(best, (s.fidelity, result.objective, s.trial_id))
        rows.append(
            {
                "optimizer": name,
                "seed": int(seed),
                "trial": s.trial_id,
                "fidelity": s.fidelity,
                "epochs_trained": result.epochs_trained,
                "cost": spent,
                "objective": result.objective,
                "incumbent_trial": best[2] if best else -1,
                "incumbent_true": bench.true_error(config_of[best[2]]) if best else math.nan,
                "config": key,
            }
        )
    return pd.DataFrame(rows, columns=list(TRAJECTORY))


def best_true(surrogate: Surrogate, table: pd.DataFrame) -> float:
    """The lowest noise-free error over the table's configs: the reference for regret."""
    configs = pd.unique(_check_table(table).config)
    return min(surrogate.true_error(json.loads(c)) for c in configs)
