"""Space <-> ConfigSpace / NePS conversions: round trips, conditions, priors, log flags."""

from __future__ import annotations

from typing import Any

import ConfigSpace as CS
import numpy as np
import pytest

from hpotext import space as S
from hpotext.errors import ConfigError
from hpotext.optimizers._convert import (
    decode_choice,
    encode_choices,
    from_configspace,
    from_neps,
    same_config,
    to_configspace,
    to_neps,
)

SCRATCH = S.load("config/spaces/scratch.yaml")
DEFAULT = S.load("config/spaces/default.yaml")  # the encoder beside the from-scratch families
# Odd choices on purpose: tuples, booleans and ints, which NePS/Optuna cannot hold as they are.
TOY = S.from_dict(
    {
        "fidelity": {"name": "epochs", "min": 1, "max": 9, "eta": 3},
        "hyperparameters": {
            "model": {"type": "categorical", "choices": ["cnn", "lstm"], "prior": "lstm"},
            "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True, "prior": 1e-2,
                   "confidence": "high"},
            "embed_dim": {"type": "categorical", "choices": [32, 64], "prior": 64},
        },
        "families": {
            "cnn": {"kernel_sizes": {"type": "categorical", "choices": [[3, 4, 5], [2, 3]]}},
            "lstm": {
                "bidirectional": {"type": "categorical", "choices": [True, False],
                                  "prior": False},
                "num_layers": {"type": "int", "low": 1, "high": 4, "prior": 2},
            },
        },
    }
)  # fmt: skip
# a family's own lr over the shared one, and a shared embed_dim the encoder does not take
ENCODER = S.load("config/spaces/test_encoder.yaml")
SPACES = pytest.mark.parametrize(
    "space", [DEFAULT, SCRATCH, TOY, ENCODER], ids=["default", "scratch", "toy", "encoder"]
)


def _check_types(space: S.Space, config: dict) -> None:
    space.validate(config)
    for hp in space.active(config):
        value = config[hp.key]
        if hp.type == "int":
            assert type(value) is int
        elif hp.type == "float":
            assert type(value) is float
        else:
            assert any(value == c and type(value) is type(c) for c in hp.choices)


# --- ConfigSpace ------------------------------------------------------------------------------
@SPACES
def test_configspace_structure(space: S.Space) -> None:
    cs = to_configspace(space, seed=0)
    assert set(cs) == {hp.key for hp in space.hyperparameters}
    for hp in space.hyperparameters:
        made: Any = cs[hp.key]
        assert made.default_value == hp.prior
        if hp.type != "categorical":
            assert made.log == hp.log and (made.lower, made.upper) == (hp.low, hp.high)
        if hp.family is None and hp.families:  # shared by some families only
            (condition,) = cs.parent_conditions_of[hp.key]
            assert isinstance(condition, CS.InCondition)
            assert condition.parent.name == S.MODEL and condition.values == list(hp.families)
        elif hp.family is None:
            assert hp.key in cs.unconditional_hyperparameters
        else:
            (condition,) = cs.parent_conditions_of[hp.key]
            assert isinstance(condition, CS.EqualsCondition)
            assert condition.parent.name == S.MODEL and condition.value == hp.family
    assert from_configspace(space, cs.get_default_configuration()) == space.default()


@SPACES
def test_configspace_samples_convert_to_valid_configs(space: S.Space) -> None:
    cs = to_configspace(space, seed=1)
    for sample in cs.sample_configuration(200):
        config = from_configspace(space, sample)
        _check_types(space, config)
        assert config.keys() == {k for k in sample if k in config}  # only active keys


@SPACES
def test_configspace_round_trip(space: S.Space) -> None:
    cs = to_configspace(space, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(50):
        config = space.sample(rng)
        back = from_configspace(space, CS.Configuration(cs, values=config))
        # ConfigSpace stores floats rounded to about 13 significant digits
        assert back.keys() == config.keys()
        for key, value in config.items():
            if isinstance(value, float):
                assert back[key] == pytest.approx(value, rel=1e-10)
            else:
                assert back[key] == value and type(back[key]) is type(value)


def test_configspace_is_seeded() -> None:
    a = [dict(c) for c in to_configspace(SCRATCH, seed=5).sample_configuration(5)]
    b = [dict(c) for c in to_configspace(SCRATCH, seed=5).sample_configuration(5)]
    assert a == b


# --- NePS -------------------------------------------------------------------------------------
@SPACES
def test_neps_structure(space: S.Space) -> None:
    neps_space = to_neps(space)
    fid_name, fid = neps_space.fidelity  # type: ignore[misc]
    want = ("epochs", space.fidelity.min, space.fidelity.max, True)
    assert (fid_name, fid.lower, fid.upper, fid.is_fidelity) == want
    # no conditions in NePS: every family child is an always-present dimension
    assert set(neps_space.searchables) == {hp.key for hp in space.hyperparameters}
    for hp in space.hyperparameters:
        param = neps_space.searchables[hp.key]
        assert param.prior_confidence == hp.confidence
        if hp.type == "categorical":
            assert param.choices == encode_choices(hp)  # type: ignore[union-attr]
            assert decode_choice(hp, param.prior) == hp.prior
        else:
            assert param.prior == hp.prior and param.log == hp.log  # type: ignore[union-attr]
            assert (param.lower, param.upper) == (hp.low, hp.high)  # type: ignore[union-attr]


@SPACES
def test_neps_samples_convert_to_valid_configs(space: S.Space) -> None:
    import torch
    from neps.sampling import Prior, Sampler
    from neps.space import ConfigEncoder

    params = to_neps(space).searchables
    encoder = ConfigEncoder.from_parameters(params)
    torch.manual_seed(0)
    for sampler in (Prior.from_parameters(params), Sampler.uniform(ndim=encoder.ndim)):
        for raw in sampler.sample_configs(100, to=encoder):
            config = from_neps(space, {**raw, "epochs": 3})
            _check_types(space, config)
            assert "epochs" not in config
            inactive = set(raw) - set(config)
            assert all(space.by_key()[k].family != config.get("model") for k in inactive)


@SPACES
def test_neps_round_trip_drops_inactive_children(space: S.Space) -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        config = space.sample(rng)
        full = {hp.key: hp.sample(rng) for hp in space.hyperparameters}
        full.update(config)
        encoded = {
            key: encode_choices(hp)[hp.choices.index(full[key])]
            if hp.type == "categorical"
            else full[key]
            for key, hp in space.by_key().items()
        }
        assert from_neps(space, {**encoded, "epochs": 9}) == config


def test_prior_of_tuple_choice_is_encoded() -> None:
    kernel = TOY.by_key()["cnn__kernel_sizes"]
    assert encode_choices(kernel) == ["(3, 4, 5)", "(2, 3)"]
    assert decode_choice(kernel, "(2, 3)") == (2, 3)
    assert decode_choice(kernel, (2, 3)) == (2, 3)
    bidirectional = TOY.by_key()["lstm__bidirectional"]
    assert decode_choice(bidirectional, np.False_) is False
    assert decode_choice(bidirectional, "False") is False
    with pytest.raises(ConfigError):
        decode_choice(bidirectional, 0)  # 0 == False, but not a boolean


def test_conversion_errors() -> None:
    config = SCRATCH.default()
    del config["cnn__num_filters"]
    with pytest.raises(ConfigError, match="cnn__num_filters"):
        from_neps(SCRATCH, config)
    with pytest.raises(ConfigError, match="model"):
        from_neps(SCRATCH, {**SCRATCH.default(), "model": "gpt"})
    single = S.from_dict({**S.to_dict(SCRATCH), "fidelity": {"min": 9, "max": 9, "eta": 3}})
    with pytest.raises(ConfigError, match="min < max"):
        to_neps(single)


def test_out_of_bounds_floats_are_clipped() -> None:
    config = {**SCRATCH.default(), "lr": 0.03 * (1 + 1e-15), "cnn__num_filters": 256.4}
    out = from_neps(SCRATCH, config)
    assert out["lr"] == 0.03 and out["cnn__num_filters"] == 256


def test_same_config_ignores_tuple_vs_list() -> None:
    assert same_config({"a": (1, 2), "b": 0.5}, {"b": 0.5, "a": [1, 2]})
    assert not same_config({"a": 0.1}, {"a": 0.1 + 1e-17 + 1e-16})
