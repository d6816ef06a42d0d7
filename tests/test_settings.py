"""A changed search setting: refused with both commands that resolve it, or a new search with the
old one kept whole (hpotext/search/settings.py, TrialStore.open)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hpotext import space as space_mod
from hpotext.errors import ConfigError
from hpotext.search.events import Event
from hpotext.search.settings import check_optimizer, check_study, open_search, search_meta
from hpotext.search.store import TrialStore, stored_meta
from hpotext.workflow.config import canonical_order

RAW = {
    "fidelity": {"name": "epochs", "min": 1, "max": 3, "eta": 3},
    "hyperparameters": {
        "model": {"type": "categorical", "choices": ["boe", "cnn"], "prior": "boe"},
        "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True, "prior": 0.01},
    },
}
SPACE = space_mod.from_dict(RAW)


def cfg(**search: Any) -> dict[str, Any]:
    return {
        "search": {"optimizer": "asha", "seed": 0, "on_change": "stop", **search},
        "train": {"lr": 0.002, "batch_size": 32},
        "text": {"max_len": 32},
    }


def started(root: Path, config: dict[str, Any]) -> TrialStore:
    store = TrialStore(root)
    s = config["search"]
    meta = search_meta(SPACE, s["optimizer"], s["seed"], config["train"], 32, "data1")
    open_search(store, meta, "stop")
    store.append(Event("session", worker="w0", session="x"))
    return store


def one_sentence(message: str) -> None:
    assert "\n" not in message and not re.search(r"[.!?]\s+[A-Z]", message)


def test_a_changed_seed_is_refused_with_both_commands(tmp_path: Path) -> None:
    root = tmp_path / "search"
    started(root, cfg())
    check_study(root, SPACE, cfg())  # the same settings: nothing to say
    check_study(tmp_path / "none", SPACE, cfg(seed=5))  # no search yet: nothing to say
    with pytest.raises(ConfigError) as err:
        check_study(root, SPACE, cfg(seed=5))
    message = str(err.value)
    one_sentence(message)
    assert f"the search in {root} was started with other settings (search.seed 0 -> 5)" in message
    assert "to continue it rerun with --config search='{seed: 0}'" in message
    kept = tmp_path / "search.1"
    assert f"keep this one as {kept} rerun with --config search='{{on_change: new}}'" in message
    check_study(root, SPACE, cfg(seed=5, on_change="new"))  # the search job starts anew


def test_train_space_and_a_named_optimizer_are_compared(tmp_path: Path) -> None:
    root = tmp_path / "search"
    started(root, cfg())
    changed = cfg()
    changed["train"]["lr"] = 0.01
    with pytest.raises(ConfigError, match=r"train\.lr 0\.002 -> 0\.01.*train='\{lr: 0\.002\}'"):
        check_study(root, SPACE, changed)
    wider = space_mod.from_dict({**RAW, "hyperparameters": {**RAW["hyperparameters"], "lr": {
        "type": "float", "low": 1e-4, "high": 1e-1, "log": True, "prior": 0.01}}})  # fmt: skip
    with pytest.raises(ConfigError, match="search.space") as err:
        check_study(root, wider, cfg())
    # the command to continue names the space the search was started with, written beside it
    assert f"search='{{space: \"{root / 'space.yaml'}\"}}'" in str(err.value)
    assert space_mod.load(root / "space.yaml") == SPACE
    with pytest.raises(ConfigError, match='search.optimizer "asha" -> "random"'):
        check_study(root, SPACE, cfg(optimizer="random"))
    check_study(root, SPACE, cfg(optimizer="auto"))  # auto: the selection stage checks it
    with pytest.raises(ConfigError, match='optimizer: "asha"'):
        check_optimizer([str(tmp_path / "none"), str(root)], "random", "stop")
    check_optimizer([str(root)], "asha", "stop")
    check_optimizer([str(root)], "random", "new")


def test_new_keeps_the_old_search_whole_next_to_it(tmp_path: Path) -> None:
    root = tmp_path / "search"
    store = started(root, cfg())
    (root / "checkpoints" / "trial00000").mkdir(parents=True)
    old = store.path.read_bytes()
    other = TrialStore(root)  # a second worker, started at the same time
    meta = search_meta(SPACE, "asha", 1, cfg()["train"], 32, "data1")
    assert open_search(store, meta, "new") == tmp_path / "search.1"
    assert open_search(other, meta, "new") is None  # finds the new search, moves nothing
    kept = tmp_path / "search.1"
    assert (kept / "journal.jsonl").read_bytes() == old and (kept / "checkpoints").is_dir()
    assert (kept / "space.yaml").exists() and not (root / "checkpoints").exists()
    assert stored_meta(root)["seed"] == 1 and stored_meta(kept)["seed"] == 0
    assert [e.kind for e in store.read()] == ["meta"]
    assert open_search(TrialStore(root), {**meta, "seed": 2}, "new") == tmp_path / "search.2"


def test_changed_data_cannot_be_continued_by_a_config(tmp_path: Path) -> None:
    root = tmp_path / "search"
    started(root, cfg())
    meta = search_meta(SPACE, "asha", 0, cfg()["train"], 32, "data2")
    with pytest.raises(ConfigError, match="the data it searches.*restore the data it was started"):
        open_search(TrialStore(root), meta, "stop")


def test_config_key_order_is_canonical() -> None:
    a = yaml.safe_load("search: {seed: 0, budget: {kind: epochs, amount: 3}}\ntrain: {lr: 1}")
    b = yaml.safe_load("train: {lr: 1}\nsearch: {budget: {amount: 3, kind: epochs}, seed: 0}")
    assert repr(canonical_order(a)) == repr(canonical_order(b))  # what Snakemake compares
    assert canonical_order({"l": [{"b": 1, "a": 2}, 3]}) == {"l": [{"a": 2, "b": 1}, 3]}
    assert list(canonical_order({"l": [{"b": 1, "a": 2}]})["l"][0]) == ["a", "b"]


def test_space_key_order_and_comments_do_not_change_its_meaning(tmp_path: Path) -> None:
    text = yaml.safe_dump(RAW, sort_keys=False)
    (tmp_path / "a.yaml").write_text(text)
    reordered = {"hyperparameters": dict(reversed(list(RAW["hyperparameters"].items()))),
                 "fidelity": RAW["fidelity"]}  # fmt: skip
    (tmp_path / "b.yaml").write_text("# tuned by hand\n" + yaml.safe_dump(reordered) + "# end\n")
    a, b = space_mod.load(tmp_path / "a.yaml"), space_mod.load(tmp_path / "b.yaml")
    assert a == b and space_mod.meaning(a) == space_mod.meaning(b)
    assert space_mod.meaning(a) != space_mod.meaning(space_mod.from_dict(
        {**RAW, "fidelity": {**RAW["fidelity"], "max": 9}}))  # fmt: skip
