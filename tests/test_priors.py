"""Priors derived from an earlier search's top configs, and a priors file applied to a space."""

from __future__ import annotations

import math

import pytest

from hpotext import space as space_mod
from hpotext.errors import ConfigError
from hpotext.space.priors import apply_priors, derive_priors, load_priors
from tests.test_importance import SPACE, trial_table


@pytest.fixture(scope="module")
def space() -> space_mod.Space:
    return space_mod.from_dict(SPACE)


def test_priors_centre_on_the_top_configs(space: space_mod.Space) -> None:
    # the planted error is lowest at lr = 10^-2.5; the space's own prior is 10^-3
    table = trial_table(200, fidelities=(3, 9))
    table["config.embed_dim"] = table["config.embed_dim"].astype(float)  # as parquet with NaN
    derived = derive_priors(table, space, top_k=10, source="t")
    assert derived["fidelity"] == 9 and derived["top_k"] == 10 and derived["source"] == "t"
    lr = derived["priors"]["lr"]
    assert abs(math.log10(lr["prior"]) + 2.5) < 0.25
    assert lr["confidence"] in ("high", "medium")  # the top configs agree on lr
    assert lr["configs"] == 10
    dropout = derived["priors"]["dropout"]  # barely matters: spread over its range
    assert dropout["confidence"] in ("low", "medium") and 0.0 <= dropout["prior"] <= 0.5
    assert derived["priors"]["model"]["prior"] in ("boe", "cnn")
    embed = derived["priors"]["embed_dim"]["prior"]  # parquet gives 64.0: the choice is 64
    assert embed in (32, 64, 128) and isinstance(embed, int)
    for key, entry in derived["priors"].items():
        assert space.by_key()[key].contains(entry["prior"])


def test_a_lower_rung_when_too_few_configs_reached_the_top(space: space_mod.Space) -> None:
    table = trial_table(30, fidelities=(1, 3))
    assert derive_priors(table, space, top_k=10)["fidelity"] == 3
    with pytest.raises(ConfigError, match="fewer than two configs"):
        derive_priors(table.head(1), space, top_k=10)
    with pytest.raises(ConfigError, match="priors.top_k"):
        derive_priors(table, space, top_k=1)


def test_applied_priors_replace_the_space_priors(space: space_mod.Space) -> None:
    derived = derive_priors(trial_table(200), space, top_k=10)
    tuned = apply_priors(space, derived)
    for key, entry in derived["priors"].items():
        hp = tuned.by_key()[key]
        assert hp.prior == entry["prior"] and hp.confidence == entry["confidence"]
    assert tuned.default()["lr"] == derived["priors"]["lr"]["prior"]
    untouched = [hp for hp in space.hyperparameters if hp.key not in derived["priors"]]
    assert all(tuned.by_key()[hp.key] == hp for hp in untouched)
    # a hand-written file: only some keys, confidence optional
    hand = apply_priors(space, {"priors": {"lr": {"prior": 0.005}, "model": {"prior": "boe"}}})
    assert hand.by_key()["lr"].prior == 0.005 and hand.by_key()["model"].prior == "boe"
    assert hand.by_key()["lr"].confidence == space.by_key()["lr"].confidence
    as_float = apply_priors(space, {"priors": {"embed_dim": {"prior": 128.0}}})
    assert type(as_float.by_key()["embed_dim"].prior) is int


@pytest.mark.parametrize(
    ("priors", "message"),
    [
        ({}, "has no 'priors:' mapping"),
        ({"priors": {"lrr": {"prior": 0.01}}}, "'lrr' is not a hyperparameter"),
        ({"priors": {"lr": 0.01}}, "'lr' needs a 'prior:'"),
        ({"priors": {"lr": {"prior": 5.0}}}, "prior 5.0 of 'lr' is outside"),
        ({"priors": {"lr": {"prior": 0.01, "confidence": "sure"}}}, "confidence of 'lr'"),
        ({"priors": {"model": {"prior": "gru"}}}, "prior 'gru' of 'model'"),
    ],
)
def test_bad_priors_files_fail_with_one_sentence(
    space: space_mod.Space, priors: dict, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        apply_priors(space, priors, where="my_priors.yaml")


def test_a_bad_priors_file_is_one_sentence(tmp_path) -> None:
    """search.priors is read at parse: a directory was reported as missing, and a YAML error
    printed over several lines."""
    with pytest.raises(ConfigError, match="priors file .* is a directory; set search.priors to"):
        load_priors(tmp_path)
    with pytest.raises(ConfigError, match="priors file .* does not exist; set search.priors to"):
        load_priors(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("priors: {lr: {prior: 0.1}\nother: 1\n")
    with pytest.raises(ConfigError) as err:
        load_priors(bad)
    assert str(err.value).startswith(f"priors file {bad} is not valid YAML (line ")
    assert "\n" not in str(err.value) and str(err.value).endswith("; fix it")
