"""The proxy benchmark: proxy space, config sampling, table, surrogate and simulated runs."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from hpotext import io as data_mod
from hpotext import space as space_mod
from hpotext.data import steps as pipeline
from hpotext.data.info import SplitFiles
from hpotext.errors import ConfigError, StaleFileError
from hpotext.optimizers._convert import from_configspace, to_configspace, to_neps
from hpotext.optimizers.records import Result, Suggestion
from hpotext.proxy import replay as replay_mod
from hpotext.proxy.replay import SurrogateBenchmark, best_true, run_optimizer
from hpotext.proxy.settings import ProxySettings, proxy_space
from hpotext.proxy.steps import proxy_table_shard as build_table
from hpotext.proxy.surrogate import Surrogate
from hpotext.proxy.table import partial_path, sample_configs, scratch_path
from hpotext.space.encode import to_unit
from tests.test_pipeline import DATA_CFG, TEXT_CFG

ROOT = Path(__file__).resolve().parents[1]

TOY = {
    "fidelity": {"name": "epochs", "min": 1, "max": 9, "eta": 3},
    "hyperparameters": {
        "model": {"type": "categorical", "choices": ["boe", "cnn"], "prior": "cnn"},
        "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True, "prior": 3e-3},
        "dropout": {"type": "float", "low": 0.0, "high": 0.5, "prior": 0.1, "confidence": "high"},
        "embed_dim": {"type": "categorical", "choices": [16, 32, 128], "prior": 128},
    },
    "families": {"cnn": {"num_filters": {"type": "int", "low": 4, "high": 256, "log": True}}},
}


def toy_space(max_epochs: int = 4, **changes: Any) -> space_mod.Space:
    raw = {**TOY, **changes}
    settings = ProxySettings(max_epochs=max_epochs, width_cap=64)
    return proxy_space(space_mod.from_dict(raw), settings)


def known_error(config: dict[str, Any], epoch: int) -> float:
    """A smooth function of lr and epoch (the others do not matter), in (0, 1)."""
    return 0.05 + 0.08 * (math.log10(config["lr"]) + 2.5) ** 2 + 0.3 / epoch


def make_table(space: space_mod.Space, n: int, error: Any, seed: int = 0) -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(seed)
    for i, config in enumerate(sample_configs(space, n, 0.0, seed)):
        for epoch in range(1, space.fidelity.max + 1):
            rows.append(
                {
                    "config_id": i,
                    "model": config["model"],
                    "config": json.dumps(config, sort_keys=True),
                    "epoch": epoch,
                    "val_error": float(error(config, epoch, rng)),
                    "epoch_seconds": 2.0 if config["model"] == "cnn" else 1.0,
                    "status": "completed",
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def surrogate() -> Surrogate:
    space = toy_space()
    table = make_table(space, 60, lambda c, e, rng: known_error(c, e))
    return Surrogate.fit(table, space, seed=0)


# --- settings and proxy space ---------------------------------------------------------------
def test_settings_from_dict() -> None:
    assert ProxySettings.from_dict(None) == ProxySettings()
    s = ProxySettings.from_dict({"configs": 8, "prior_fraction": 0.5})
    assert (s.configs, s.prior_fraction, s.rows, s.max_epochs) == (8, 0.5, 1200, 4)
    with pytest.raises(ConfigError, match="unknown config key"):
        ProxySettings.from_dict({"config": 8})
    with pytest.raises(ConfigError, match="proxy.rows"):
        ProxySettings.from_dict({"rows": 0})
    with pytest.raises(ConfigError, match="proxy.rows.*minimum of 50"):  # the schema's bound
        ProxySettings.from_dict({"rows": 49})
    with pytest.raises(ConfigError, match="prior_fraction"):
        ProxySettings.from_dict({"prior_fraction": 1.5})


def test_proxy_space_caps_the_scratch_space() -> None:
    full = space_mod.load(ROOT / "config" / "spaces" / "scratch.yaml")
    space = proxy_space(full, ProxySettings())
    assert (space.fidelity.min, space.fidelity.max, space.fidelity.eta) == (1, 4, 3)
    hps = space.by_key()
    assert [hp.key for hp in space.hyperparameters] == [hp.key for hp in full.hyperparameters]
    assert hps["embed_dim"].choices == (32, 64) and hps["embed_dim"].prior == 64
    assert hps["boe__hidden_dim"].choices == (0, 64)
    assert (hps["cnn__num_filters"].low, hps["cnn__num_filters"].high) == (32, 64)
    assert hps["cnn__num_filters"].prior == 64
    assert (hps["lstm__hidden_dim"].low, hps["lstm__hidden_dim"].high) == (32, 64)
    assert space.fixed["transformer__ff_dim"] == 64  # an unsearched default width, capped
    family, model_hp, _ = space.to_training(
        {k: v for k, v in space.default().items() if not k.startswith("cnn__")}
        | {"model": "transformer", "transformer__num_layers": 1}
    )
    assert family == "transformer" and model_hp["ff_dim"] == 64 and model_hp["embed_dim"] == 64
    cs = to_configspace(space, 0)  # still converts for DEHB and PriorBand
    to_neps(space)
    for config in cs.sample_configuration(20):
        space.validate(from_configspace(space, config))


def test_proxy_space_keeps_the_default_encoder_space() -> None:
    full = space_mod.load(ROOT / "config" / "spaces" / "default.yaml")
    space = proxy_space(full, ProxySettings())
    assert (space.fidelity.min, space.fidelity.max) == (1, 3)  # below the proxy's 4 epochs
    hps = space.by_key()
    assert hps["model"].prior == "encoder" and "encoder" in hps["model"].choices
    assert (hps["encoder__lr"].low, hps["encoder__lr"].high) == (5e-5, 2e-3)  # lrs are not widths
    assert hps["encoder__train_layers"].choices == (1, 2)
    assert space.fixed["encoder__max_len"] == 64
    for config in to_configspace(space, 0).sample_configuration(10):
        space.validate(from_configspace(space, config))


def test_proxy_space_moves_single_values_to_fixed() -> None:
    raw = {
        "fidelity": {"min": 1, "max": 9, "eta": 3},
        "hyperparameters": {
            "model": {"type": "categorical", "choices": ["cnn", "lstm"]},
            "embed_dim": {"type": "categorical", "choices": [128, 256]},
            "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
        },
        "families": {
            "cnn": {"num_filters": {"type": "int", "low": 100, "high": 300}},
            "lstm": {"hidden_dim": {"type": "int", "low": 16, "high": 128, "prior": 100}},
        },
        "fixed": {"batch_size": 32},
    }
    settings = ProxySettings(max_epochs=20, width_cap=64)
    space = proxy_space(space_mod.from_dict(raw), settings)
    assert space.fidelity.max == 9  # never above the real space's
    assert space.fixed == {"batch_size": 32, "embed_dim": 128, "cnn__num_filters": 64}
    hidden = space.by_key()["lstm__hidden_dim"]
    assert (hidden.low, hidden.high, hidden.prior) == (16, 64, 64)
    assert set(space.by_key()) == {"model", "lr", "lstm__hidden_dim"}
    one = proxy_space(space_mod.from_dict(raw), ProxySettings(max_epochs=1))
    assert (one.fidelity.min, one.fidelity.max) == (1, 1)


# --- sampling ---------------------------------------------------------------------------------
def test_sample_configs_valid_deterministic_prior_first() -> None:
    space = toy_space()
    configs = sample_configs(space, 24, prior_fraction=0.25, seed=3)
    assert len(configs) == 24
    assert configs[0] == space.default()
    for config in configs:
        space.validate(config)
    assert len({json.dumps(c, sort_keys=True) for c in configs}) == 24
    assert configs == sample_configs(space, 24, prior_fraction=0.25, seed=3)
    assert configs != sample_configs(space, 24, prior_fraction=0.25, seed=4)
    # the 6 prior-centred configs sit close to the confident dropout prior (0.1)
    assert all(abs(c["dropout"] - 0.1) < 0.15 for c in configs[:6])
    assert sample_configs(space, 5, prior_fraction=0.0, seed=0)[0] != space.default()


def test_sample_configs_fill_the_space() -> None:
    space = toy_space()
    configs = sample_configs(space, 40, prior_fraction=0.0, seed=0)
    lr = space.by_key()["lr"]
    units = [to_unit(lr, c["lr"]) for c in configs]
    counts, _ = np.histogram(units, bins=10, range=(0.0, 1.0))
    assert counts.min() >= 2 and counts.max() <= 6  # a Latin hypercube: ~4 per tenth
    models = [c["model"] for c in configs]
    assert 15 <= models.count("cnn") <= 25
    assert all(("cnn__num_filters" in c) == (c["model"] == "cnn") for c in configs)


def test_sample_configs_refuses_a_too_small_space() -> None:
    raw = {
        "fidelity": {"min": 1, "max": 2, "eta": 2},
        "hyperparameters": {"embed_dim": {"type": "categorical", "choices": [8, 16]}},
        "fixed": {"model": "boe"},
    }
    with pytest.raises(ConfigError, match="fewer than 5 distinct"):
        sample_configs(space_mod.from_dict(raw), 5, 0.0, 0)


# --- surrogate ---------------------------------------------------------------------------------
def test_surrogate_learns_a_known_table(surrogate: Surrogate, tmp_path: Path) -> None:
    space = surrogate.space
    fresh = sample_configs(space, 30, 0.0, seed=99)
    for epoch in (1, 4):
        truth = [known_error(c, epoch) for c in fresh]
        pred = [surrogate.predict(c, epoch)[0] for c in fresh]
        assert np.corrcoef(truth, pred)[0, 1] > 0.9
    mean, std = surrogate.predict(fresh[0], 2)
    assert 0.0 <= mean <= 1.0 and std >= 0.0
    quality = surrogate.quality(folds=4, seed=0)
    assert quality["spearman"] > 0.85 and quality["r2"] > 0.7
    assert (quality["folds"], quality["n_configs"]) == (4, 60)
    assert surrogate.quality(folds=4, seed=0) == quality  # deterministic
    assert quality["repeats"] == 5 and quality["spearman_sd"] >= 0.0
    singles = [surrogate.quality(folds=4, seed=k, repeats=1)["spearman"] for k in range(3)]
    assert surrogate.quality(folds=4, seed=0, repeats=3)["spearman"] == pytest.approx(
        np.mean(singles)
    )  # the mean over dealings with fold seeds 0, 1, 2
    with pytest.raises(ConfigError, match="at least 2 folds"):
        surrogate.quality(folds=1)
    with pytest.raises(ConfigError, match="at least once"):
        surrogate.quality(repeats=0)
    cnn = {**fresh[0], "model": "cnn", "cnn__num_filters": 8}
    boe = {k: v for k, v in cnn.items() if k != "cnn__num_filters"} | {"model": "boe"}
    assert surrogate.epoch_seconds(cnn) == pytest.approx(2.0, rel=0.05)
    assert surrogate.epoch_seconds(boe) == pytest.approx(1.0, rel=0.05)
    rng = np.random.default_rng(0)
    assert 0.0 <= surrogate.error(cnn, 3, rng) <= 1.0
    surrogate.save(tmp_path / "s.pkl")
    again = Surrogate.load(tmp_path / "s.pkl")
    assert again.predict(cnn, 3) == surrogate.predict(cnn, 3)
    assert again.space == space
    (tmp_path / "x.pkl").write_bytes(__import__("pickle").dumps({"no": 1}))
    with pytest.raises(StaleFileError, match="does not hold a Surrogate"):
        Surrogate.load(tmp_path / "x.pkl")


def test_surrogate_flags_a_noise_table() -> None:
    space = toy_space()
    table = make_table(space, 80, lambda c, e, rng: rng.uniform(0.1, 0.9))
    quality = Surrogate.fit(table, space).quality(seed=0)
    assert quality["spearman"] < 0.4 and quality["r2"] < 0.1


def test_fit_refuses_bad_tables() -> None:
    space = toy_space()
    with pytest.raises(StaleFileError, match="lacks columns"):
        Surrogate.fit(pd.DataFrame({"config_id": [0]}), space)
    table = make_table(space, 4, lambda c, e, rng: 0.5).assign(epoch_seconds=math.nan)
    with pytest.raises(ConfigError, match="epoch_seconds"):
        Surrogate.fit(table, space)


def test_members_are_the_whole_table_fit_then_bootstrap_resamples() -> None:
    from hpotext.proxy.surrogate import members

    space = toy_space()
    table = make_table(space, 20, lambda c, e, rng: known_error(c, e))
    found = members(table, space, seed=3, count=3)
    assert len(found) == 3 and all(isinstance(m, Surrogate) for m in found)
    whole = Surrogate.fit(table, space, seed=3)
    probe = json.loads(table.config.iloc[0])
    assert found[0].predict(probe, 2) == pytest.approx(whole.predict(probe, 2))
    # each resample draws 20 configs with replacement, every epoch of a drawn config kept
    for m in found[1:]:
        assert len(m.table) == 20 * space.fidelity.max and m.table.config_id.nunique() < 20
    assert not found[1].table.equals(found[2].table)
    again = members(table, space, seed=3, count=3)
    assert again[2].predict(probe, 4) == pytest.approx(found[2].predict(probe, 4))
    assert len(members(table, space, count=1)) == 1
    with pytest.raises(ConfigError, match="proxy.surrogates is 0"):
        members(table, space, count=0)


# --- the simulated benchmark ------------------------------------------------------------------
def test_benchmark_is_repeatable_and_charges_missing_epochs(surrogate: Surrogate) -> None:
    space = surrogate.space
    config = {**space.default(), "cnn__num_filters": 16}
    bench = SurrogateBenchmark(surrogate, space, seed=1, cost="seconds")
    full = bench.evaluate(Suggestion(0, config, 4), 0)
    assert full == SurrogateBenchmark(surrogate, space, seed=1, cost="seconds").evaluate(
        Suggestion(5, config, 4), 0
    )
    assert (
        full.curve
        != SurrogateBenchmark(surrogate, space, seed=2).evaluate(Suggestion(0, config, 4), 0).curve
    )
    low = bench.evaluate(Suggestion(1, config, 1), 0)
    assert low.curve == full.curve[:1] and low.objective == full.curve[0]
    cont = bench.evaluate(Suggestion(2, config, 4, parent=1), 1)
    assert cont.curve == full.curve and cont.epochs_trained == 3 and full.epochs_trained == 4
    assert cont.cost == pytest.approx(3 * surrogate.epoch_seconds(config))
    assert full.cost == pytest.approx(4 * surrogate.epoch_seconds(config))
    assert all(0.0 <= e <= 1.0 for e in full.curve) and full.ok
    assert bench.true_error(config) == surrogate.predict(config, 4)[0]
    by_epoch = SurrogateBenchmark(surrogate, space, seed=1)  # the default cost: epochs trained
    assert by_epoch.evaluate(Suggestion(2, config, 4, parent=1), 1) == replace(cont, cost=3.0)
    with pytest.raises(ConfigError, match="replay cost"):
        SurrogateBenchmark(surrogate, space, seed=1, cost="flops")
    quiet = SurrogateBenchmark(surrogate, space, seed=1, noise=False)
    assert quiet.evaluate(Suggestion(0, config, 4), 0).objective == bench.true_error(config)
    with pytest.raises(ConfigError, match="proxy space"):
        SurrogateBenchmark(surrogate, toy_space(max_epochs=9), seed=0)


@pytest.mark.parametrize("name", ["random", "asha", "dehb"])
def test_run_optimizer(surrogate: Surrogate, name: str) -> None:
    space = surrogate.space
    budget = 150.0
    traj = run_optimizer(name, space, surrogate, seed=0, budget=budget, cost="seconds")
    assert list(traj.columns[:7]) == [
        "optimizer", "seed", "trial", "fidelity", "epochs_trained", "cost", "objective",
    ]  # fmt: skip
    assert {"incumbent_true", "config"} <= set(traj.columns)
    assert len(traj) >= 10 and (traj.optimizer == name).all() and (traj.seed == 0).all()
    assert traj.cost.iloc[-1] >= budget > traj.cost.iloc[-2]
    assert traj.cost.is_monotonic_increasing and list(traj.trial) == list(range(len(traj)))
    assert traj.epochs_trained.sum() * 1.0 <= traj.cost.iloc[-1] <= 2.0 * traj.epochs_trained.sum()
    if name != "random":
        assert traj.fidelity.nunique() > 1
        assert (traj.epochs_trained < traj.fidelity).any()  # promotions continue their parent
    pd.testing.assert_frame_equal(
        traj, run_optimizer(name, space, surrogate, seed=0, budget=budget, cost="seconds")
    )
    other = run_optimizer(name, space, surrogate, seed=1, budget=budget, cost="seconds")
    assert not traj.equals(other)
    bench = SurrogateBenchmark(surrogate, space, seed=0)
    best: tuple[int, float, int] | None = None
    for row in traj.itertuples():  # incumbent: best observed objective at the top fidelity
        if best is None or (row.fidelity, -row.objective) > (best[0], -best[1]):
            best = (row.fidelity, row.objective, row.trial)
        assert row.incumbent_trial == best[2]
        config = json.loads(traj.config.iloc[best[2]])
        assert row.incumbent_true == pytest.approx(bench.true_error(config))
    # noise-free, the incumbent only improves once the top fidelity is reached
    quiet = run_optimizer(
        name, space, surrogate, seed=0, budget=budget, noise=False, cost="seconds"
    )
    top = quiet[quiet.fidelity.cummax() == space.fidelity.max].incumbent_true
    assert len(top) > 0 and top.is_monotonic_decreasing
    assert best_true(surrogate, surrogate.table) <= quiet.incumbent_true.min() + 1e-12


def test_run_optimizer_passes_options_to_the_optimizer(surrogate: Surrogate) -> None:
    space = surrogate.space
    first = run_optimizer("optuna_tpe", space, surrogate, seed=0, budget=20.0, cost="seconds")
    assert json.loads(first.config.iloc[0]) == space.default()  # it starts at the prior config
    plain = run_optimizer("optuna_tpe", space, surrogate, seed=0, budget=20.0, cost="seconds",
                          options={"prior_first": False})  # fmt: skip
    assert json.loads(plain.config.iloc[0]) != space.default()


def test_run_optimizer_continues_same_config_without_parent(
    surrogate: Surrogate, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Repeat:
        """Asks one config at fidelity 1, 2 and 4 (no parent), then nothing."""

        name = "repeat"

        def __init__(self, space: space_mod.Space, seed: int) -> None:
            self.config, self.asks = space.default(), [1, 2, 4]

        def ask(self) -> Suggestion | None:
            if not self.asks:
                return None
            fidelity = self.asks.pop(0)
            return Suggestion(3 - len(self.asks) - 1, self.config, fidelity)

        def tell(self, suggestion: Suggestion, result: Result) -> None:
            pass

    monkeypatch.setattr(replay_mod, "make_optimizer", lambda name, space, seed: Repeat(space, seed))
    traj = run_optimizer("repeat", surrogate.space, surrogate, 0, budget=1e9, cost="seconds")
    assert list(traj.epochs_trained) == [1, 1, 2] and list(traj.fidelity) == [1, 2, 4]
    seconds = surrogate.epoch_seconds(surrogate.space.default())
    assert traj.cost.iloc[-1] == pytest.approx(4 * seconds)
    with pytest.raises(ConfigError, match="replay budget"):
        run_optimizer("random", surrogate.space, surrogate, 0, budget=0)


# --- the real table -----------------------------------------------------------------------------
TINY = {
    "fidelity": {"name": "epochs", "min": 1, "max": 4, "eta": 2},
    "hyperparameters": {
        "model": {"type": "categorical", "choices": ["boe", "cnn"], "prior": "boe"},
        "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True, "prior": 0.03},
        "embed_dim": {"type": "categorical", "choices": [4, 8, 64], "prior": 8},
    },
    "families": {"cnn": {"num_filters": {"type": "int", "low": 2, "high": 32, "log": True}}},
    "fixed": {"batch_size": 16},
}


def test_build_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good, bad = ["great", "fun", "superb"], ["dull", "awful", "weak"]
    rows = [
        {"text": f"a {(good if i % 2 else bad)[i % 3]} film", "label": "pos" if i % 2 else "neg"}
        for i in range(200)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "reviews.csv", index=False)
    d = tmp_path / "data"
    pipeline.prepare(str(tmp_path / "reviews.csv"), "reviews", str(d), DATA_CFG, TEXT_CFG)
    (tmp_path / "space.yaml").write_text(yaml.safe_dump(TINY))

    from hpotext.search.objective import TrialRunner

    real_call = TrialRunner.__call__

    def flaky(self: TrialRunner, s: Suggestion, parent: Path | None, own: Path) -> Result:
        if s.trial_id == 2:  # a failed config: worst error at every epoch
            return Result(float("inf"), 0.0, 0, status="failed", stop_reason="boom")
        return real_call(self, s, parent, own)

    monkeypatch.setattr(TrialRunner, "__call__", flaky)
    settings = {"configs": 4, "max_epochs": 2, "rows": 60, "max_len": 8, "width_cap": 8}
    out = tmp_path / "proxy" / "table.parquet"

    def build(path: Path, **shards: int) -> None:
        files = SplitFiles(str(d / "train.parquet"), str(d / "val.parquet"),
                           str(d / "vocab.json"), str(d / "dataset.json"))  # fmt: skip
        build_table(str(tmp_path / "space.yaml"), files, settings, {"batch_size": 16}, str(path),
                    **shards)  # fmt: skip

    build(out)
    table = pd.read_parquet(out)
    space = proxy_space(space_mod.from_dict(TINY), ProxySettings.from_dict(settings))
    assert len(table) == 8 and sorted(table.config_id.unique()) == [0, 1, 2, 3]
    assert list(table.epoch) == [1, 2] * 4
    assert {"config_id", "model", "config", "epoch", "val_error", "epoch_seconds", "status"} <= set(
        table.columns
    )
    assert {f"config.{hp.key}" for hp in space.hyperparameters} <= set(table.columns)
    failed = table[table.config_id == 2]
    assert (failed.status == "failed").all() and (failed.val_error == 1.0).all()
    assert failed.epoch_seconds.isna().all()
    ok = table[table.config_id != 2]
    assert (ok.status == "completed").all() and (ok.epoch_seconds > 0).all()
    assert ok.val_error.between(0.0, 1.0).all()
    for row in table.itertuples():
        config = json.loads(row.config)
        space.validate(config)
        assert row.model == config["model"]
        cnn = table["config.cnn__num_filters"][row.Index]
        assert math.isnan(cnn) if config["model"] == "boe" else cnn == config["cnn__num_filters"]
    assert json.loads(table.config.iloc[0]) == space.default()
    assert set(table["config.embed_dim"]) <= {4.0, 8.0}  # 64 is above the width cap
    model = Surrogate.fit(table, space)
    assert 0.0 <= model.predict(space.default(), 2)[0] <= 1.0
    assert not list(tmp_path.glob("proxy/.*tmp"))
    # two shards trained apart and merged give the same table (timings aside)
    parts = []
    for shard in (0, 1):
        parts.append(str(tmp_path / "proxy" / f"shard{shard}.parquet"))
        build(Path(parts[-1]), shard=shard, shards=2)
    assert sorted(pd.read_parquet(parts[1]).config_id.unique()) == [1, 3]
    data_mod.concat_parquets(
        parts[::-1], tmp_path / "proxy" / "merged.parquet", sort_by=["config_id", "epoch"]
    )
    merged = pd.read_parquet(tmp_path / "proxy" / "merged.parquet")
    pd.testing.assert_frame_equal(
        merged.drop(columns="epoch_seconds"), table.drop(columns="epoch_seconds")
    )
    assert not list(tmp_path.glob("proxy/*.partial.jsonl"))  # removed once a table is written
    assert not list(tmp_path.glob("proxy/*.scratch"))  # and the trials' checkpoints with it

    # killed after two configs: the rerun trains only the other two and gives the same table
    calls: list[int] = []

    def killed_after_two(
        self: TrialRunner, s: Suggestion, parent: Path | None, own: Path
    ) -> Result:
        if len(calls) == 2:
            raise KeyboardInterrupt  # stands in for SIGKILL: nothing after this point runs
        calls.append(s.trial_id)
        return flaky(self, s, parent, own)

    resumed = tmp_path / "proxy" / "resumed.parquet"
    monkeypatch.setattr(TrialRunner, "__call__", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        build(resumed)
    assert not resumed.exists() and calls == [0, 1]
    partial = partial_path(resumed)
    with partial.open("a") as torn:
        torn.write('{"config_id": 2, "con')  # the kill tore the line being written
    left = scratch_path(resumed) / "config0002"  # a signal skips clean-up: checkpoints stay
    left.mkdir(parents=True, exist_ok=True)
    (left / "epoch001.pt").write_bytes(b"torn")
    calls.clear()
    monkeypatch.setattr(TrialRunner, "__call__", lambda self, s, parent, own: (
        calls.append(s.trial_id), flaky(self, s, parent, own))[1])  # fmt: skip
    build(resumed)
    assert calls == [2, 3] and not partial.exists()
    assert not scratch_path(resumed).exists()  # the rerun removed the stale checkpoints too
    pd.testing.assert_frame_equal(
        pd.read_parquet(resumed).drop(columns="epoch_seconds"),
        table.drop(columns="epoch_seconds"),
    )


def test_surrogate_kinds_and_old_pickles(surrogate: Surrogate, tmp_path: Path) -> None:
    """proxy.surrogate picks the tree ensemble; a pickle from before it reads as a random forest."""
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

    assert surrogate.kind == "extra_trees"
    assert isinstance(surrogate.error_model, ExtraTreesRegressor)
    forest = Surrogate.fit(surrogate.table, surrogate.space, seed=0, kind="random_forest")
    assert isinstance(forest.error_model, RandomForestRegressor)
    assert forest.quality(folds=4, seed=0)["spearman"] > 0.8
    with pytest.raises(ConfigError, match="proxy.surrogate 'gbm' is unknown"):
        Surrogate.fit(surrogate.table, surrogate.space, kind="gbm")
    state = forest.__getstate__()
    del state["kind"]
    old = Surrogate.__new__(Surrogate)
    old.__setstate__(state)
    assert old.kind == "random_forest" and old.predict({"model": "boe"}, 2) is not None
