"""The portfolio initial design: the committed file, selecting from it, and the optimizers and
search settings that take it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from benchmarks.portfolio import entries as table_entries
from hpotext import space as S
from hpotext.errors import ConfigError
from hpotext.optimizers import OPTIMIZERS, TAKES_INITIAL, make_optimizer
from hpotext.optimizers.records import Result, Suggestion
from hpotext.search.settings import resolution, search_meta
from hpotext.search.steps import portfolio_configs
from hpotext.search.store import SettingsChanged
from hpotext.space import portfolio as P

ROOT = Path(__file__).resolve().parent.parent
FILE = ROOT / "config" / "portfolio.yaml"
SCRATCH = S.load(str(ROOT / "config/spaces/scratch.yaml"))
DEFAULT = S.load(str(ROOT / "config/spaces/default.yaml"))


def entry(dataset: str, family: str, acc: float, **config: Any) -> P.Entry:
    base = {"lr": 0.01, "dropout": 0.2, "embed_dim": 64, "token_drop": 0.1,
            "label_smoothing": 0.05, "weight_decay": 1e-3}  # fmt: skip
    return P.Entry(dataset, family, acc, {**base, **config})


ENTRIES = [
    entry("a", "boe", 0.9, boe__pooling="max", boe__hidden_dim=64),
    entry("a", "cnn", 0.8, cnn__num_filters=50.4),
    entry("b", "lstm", 0.7, lstm__hidden_dim=64, lstm__pooling="last"),
    entry("b", "boe", 0.6, lr=0.5, boe__pooling="mean", boe__hidden_dim=0),  # lr out of range
    entry("c", "encoder", 0.99, encoder__lr=1e-3),
]


def test_the_committed_portfolio_is_the_families_table_and_fits_both_spaces() -> None:
    table = pd.read_parquet(ROOT / "benchmarks/results/families.parquet")
    found = P.read(FILE)
    assert [e.config for e in found] == [e["config"] for e in table_entries(table)]
    assert {e.dataset for e in found} == set(table["dataset"])
    for space in (SCRATCH, DEFAULT):
        for e in found:
            config = P.fit(space, e.family, e.config)
            assert config is None if e.family not in space.families else config is not None


def test_select_leaves_out_the_own_dataset_and_takes_each_datasets_best_first() -> None:
    chosen = P.select(ENTRIES, SCRATCH, 3, exclude=("c",))
    assert [c["model"] for c in chosen] == ["boe", "lstm", "cnn"]  # a's best, b's best, a's 2nd
    assert chosen[2]["cnn__num_filters"] == 50  # an int, rounded
    for c in chosen:
        SCRATCH.validate(c)
    assert P.select(ENTRIES, SCRATCH, 10, exclude=("a",))[-1]["lr"] == SCRATCH.by_key()["lr"].prior
    assert all(c["model"] != "encoder" for c in P.select(ENTRIES, SCRATCH, 10))  # not searched
    assert P.select(ENTRIES, DEFAULT, 1, exclude=("a", "b"))[0]["model"] == "encoder"
    assert P.select(ENTRIES, SCRATCH, 0) == []


def test_select_drops_duplicates_and_the_prior_config() -> None:
    prior = SCRATCH.default()
    family = prior["model"]
    same = P.Entry("a", family, 0.9, {k: v for k, v in prior.items() if k != "model"})
    twice = [same, entry("b", "boe", 0.5), entry("c", "boe", 0.4)]
    assert P.select(twice, SCRATCH, 5) == [P.fit(SCRATCH, "boe", entry("b", "boe", 0.5).config)]


@pytest.mark.parametrize(
    "text",
    ["entries: 3\n", "entries:\n  - {dataset: a, family: boe}\n", "- 1\n"],
    ids=["not a list", "no config", "no mapping"],
)
def test_a_bad_portfolio_file_is_one_sentence_naming_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=str(path)):
        P.read(path)
    with pytest.raises(ConfigError, match="portfolio file .* does not exist"):
        P.read(tmp_path / "missing.yaml")


def first_asks(name: str, space: S.Space, n: int, **options: Any) -> list[Suggestion]:
    opt = make_optimizer(name, space, seed=0, **options)
    asked: list[Suggestion] = []
    for _ in range(n):
        s = opt.ask()
        assert s is not None
        asked.append(s)
        if s.fidelity == space.fidelity.min and len(asked) % 2:
            opt.tell(s, Result(0.5, cost=1.0, epochs_trained=s.fidelity, curve=(0.5,)))
    return asked


@pytest.mark.parametrize("name", sorted(TAKES_INITIAL - {"optuna_tpe"}))
def test_the_builtin_optimizers_ask_the_initial_configs_first(name: str) -> None:
    initial = P.select(P.read(FILE), SCRATCH, 2, exclude=("vader",))
    asked = [s.config for s in first_asks(name, SCRATCH, 2, initial=initial)]
    assert asked == initial
    again = [s.config for s in first_asks(name, SCRATCH, 4, initial=initial)]
    assert again == [s.config for s in first_asks(name, SCRATCH, 4, initial=initial)]


def test_optuna_asks_the_prior_then_the_initial_configs() -> None:
    initial = P.select(P.read(FILE), SCRATCH, 3, exclude=("trec",))
    opt = make_optimizer("optuna_tpe", SCRATCH, seed=0, initial=initial)
    asked = []
    for _ in range(4):  # nothing told: every ask is a new trial
        s = opt.ask()
        assert s is not None
        asked.append(s.config)
    assert asked == [SCRATCH.default(), *initial]
    opt = make_optimizer("optuna_tpe", SCRATCH, seed=0, prior_first=False, initial=initial)
    assert opt.ask().config == initial[0]


@pytest.mark.parametrize("name", sorted(TAKES_INITIAL))
def test_an_initial_config_outside_the_space_is_refused(name: str) -> None:
    bad = {**SCRATCH.default(), "lr": 5.0}
    with pytest.raises(ConfigError, match="initial config 0"):
        make_optimizer(name, SCRATCH, seed=0, initial=[bad])


def test_dehb_and_priorband_take_no_portfolio(caplog: Any) -> None:
    assert set(OPTIMIZERS) - TAKES_INITIAL == {"dehb", "priorband"}
    on = {"size": 4, "file": str(FILE)}
    with caplog.at_level(logging.WARNING):
        assert portfolio_configs(on, SCRATCH, "dehb", "vader") == []
    assert "dehb takes no initial configs" in caplog.text
    assert portfolio_configs({"size": 0, "file": str(FILE)}, SCRATCH, "hyperband", "vader") == []
    assert portfolio_configs(on, SCRATCH, "hyperband", "vader") == P.select(
        P.read(FILE), SCRATCH, 4, exclude=("vader",)
    )


def test_the_study_s_own_dataset_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    rows = [{"dataset": e.dataset, "family": e.family, "val_accuracy": e.val_accuracy,
             "config": e.config} for e in ENTRIES]  # fmt: skip
    path.write_text(yaml.safe_dump({"entries": rows}))
    on = {"size": 9, "file": str(path)}
    got = portfolio_configs(on, SCRATCH, "random", "a")
    assert [c["model"] for c in got] == ["lstm", "boe"]  # b's two entries, none of a's
    assert len(portfolio_configs(on, SCRATCH, "random", "my_own_file")) == 4


def test_a_changed_portfolio_names_the_setting_and_the_command_to_continue(tmp_path: Path) -> None:
    off = search_meta(SCRATCH, "hyperband", 0, {}, 32, portfolio={"size": 0, "file": "p"})
    on = search_meta(SCRATCH, "hyperband", 0, {}, 32, portfolio={"size": 4, "file": "p"})
    assert "portfolio" not in off and on["portfolio"] == {"size": 4, "file": "p"}
    message = resolution(SettingsChanged(tmp_path, json.loads(json.dumps(on)), off))
    assert message.count("search.portfolio") == 1
    assert 'search.portfolio {"size": 4, "file": "p"} -> null' in message
    assert '--config search=\'{portfolio: {"size": 4, "file": "p"}}\'' in message
