"""Search-space YAML: parsing, conditions, priors, sampling and one-sentence errors."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from hpotext import space as space_mod
from hpotext.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "config/spaces/scratch.yaml"


def raw() -> dict:
    return yaml.safe_load(SCRATCH.read_text())


@pytest.mark.parametrize("name", ["default.yaml", "scratch.yaml", "test.yaml", "test_encoder.yaml"])
def test_shipped_spaces_load_and_their_prior_config_is_valid(name):
    space = space_mod.load(ROOT / "config/spaces" / name)
    prior = space.default()
    space.validate(prior)
    family, model_hp, train_hp = space.to_training(prior)
    assert family == prior["model"] and "lr" in train_hp
    assert ("max_len" if family == "encoder" else "embed_dim") in model_hp


def test_the_default_space_has_the_encoder_as_its_prior_beside_the_scratch_families():
    space = space_mod.load(ROOT / "config/spaces/default.yaml")
    assert space.default()["model"] == "encoder"
    family, model_hp, train_hp = space.to_training(space.default())
    assert model_hp["train_layers"] == 2 and model_hp["max_len"] == 64 and train_hp["lr"] == 2e-4
    by_key = space.by_key()
    assert by_key["lr"].families == ("boe", "cnn", "lstm", "transformer")
    assert by_key["embed_dim"].families == ("boe", "cnn", "lstm", "transformer")
    assert by_key["embed_init"].families == ("boe", "cnn", "lstm", "transformer")
    assert by_key["embed_init"].prior == "pretrained"  # benchmarks/results/embed_init.md
    rng = np.random.default_rng(0)
    seen = {space.sample(rng)["model"] for _ in range(100)}
    assert seen == {"boe", "cnn", "lstm", "transformer", "encoder"}
    assert space.fidelity.max == 3 and space.values("encoder", "train_layers") == (1, 2)


def test_conditional_children_are_active_only_for_their_family():
    space = space_mod.load(SCRATCH)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(200):
        config = space.sample(rng)
        space.validate(config)
        family = config["model"]
        seen.add(family)
        children = {k.split("__")[0] for k in config if "__" in k}
        assert children <= {family}
        if family == "lstm":
            assert {"lstm__hidden_dim", "lstm__pooling"} <= set(config)
    assert seen == {"boe", "cnn", "lstm", "transformer"}


def test_a_family_sets_its_own_training_range_and_shared_ones_skip_families_without_them():
    space = space_mod.load(ROOT / "config/spaces/test_encoder.yaml")
    by_key = space.by_key()
    assert by_key["lr"].families == ("boe",)  # the encoder has its own lr
    assert by_key["embed_dim"].families == ("boe",)  # the encoder has no embed_dim
    rng = np.random.default_rng(0)
    for _ in range(50):
        config = space.sample(rng)
        space.validate(config)
        family, model_hp, train_hp = space.to_training(config)
        if family == "encoder":
            assert "lr" not in config and "embed_dim" not in config
            assert 1e-4 <= train_hp["lr"] <= 2e-3 and model_hp["max_len"] == 24
        else:
            assert not any(k.startswith("encoder__") for k in config)
            assert 1e-3 <= train_hp["lr"] <= 5e-2 and "embed_dim" in model_hp
    assert space.default() == {
        "model": "encoder", "encoder__lr": 5e-4, "encoder__pooling": "mean",
        "encoder__train_layers": 1,
    }  # fmt: skip
    assert space.values("encoder", "max_len") == (24,)
    assert space.values("encoder", "train_layers") == (0, 1)
    assert space.values("encoder", "layer_decay") == (1.0,)  # the family's default
    assert space.values("boe", "embed_dim") == (8, 16) and space.values("boe", "lr") is None
    # the files' meaning is unchanged for spaces every family shares (no rerun of old studies)
    assert all(not hp.families for hp in space_mod.load(SCRATCH).hyperparameters)


def test_a_shared_hyperparameter_no_family_takes_is_one_sentence():
    cfg = yaml.safe_load((ROOT / "config/spaces/test_encoder.yaml").read_text())
    cfg["families"]["boe"] = {"lr": {"type": "float", "low": 0.01, "high": 0.1}}
    with pytest.raises(ConfigError, match="shared hyperparameter 'lr' is active for no family"):
        space_mod.from_dict(cfg)
    cfg = yaml.safe_load((ROOT / "config/spaces/test_encoder.yaml").read_text())
    cfg["hyperparameters"]["num_filters"] = {"type": "int", "low": 4, "high": 8}
    with pytest.raises(ConfigError, match="'num_filters' is neither a training setting"):
        space_mod.from_dict(cfg)  # neither boe nor encoder takes it


def test_sampling_respects_bounds_log_and_ints():
    space = space_mod.load(SCRATCH)
    rng = np.random.default_rng(1)
    lrs = np.array([space.sample(rng)["lr"] for _ in range(2000)])
    assert lrs.min() >= 1e-4 and lrs.max() <= 3e-2
    # log-uniform: about half the draws below the geometric centre
    assert abs(np.mean(lrs < np.sqrt(1e-4 * 3e-2)) - 0.5) < 0.05
    configs = [space.sample(rng) for _ in range(300)]
    filters = [c["cnn__num_filters"] for c in configs if "cnn__num_filters" in c]
    assert filters and all(isinstance(f, int) and 32 <= f <= 256 for f in filters)


def test_to_training_routes_family_keys_and_fixed_values():
    space = space_mod.load(SCRATCH)
    config = {**space.default(), "model": "lstm"}
    config.pop("cnn__num_filters")
    config.update(lstm__hidden_dim=64, lstm__pooling="last")
    family, model_hp, train_hp = space.to_training(config)
    assert family == "lstm"
    assert model_hp == {"embed_dim": 128, "dropout": 0.3, "hidden_dim": 64, "pooling": "last"}
    assert train_hp["batch_size"] == 64 and train_hp["lr"] == 0.002


def test_round_trip_and_digest():
    space = space_mod.load(SCRATCH)
    again = space_mod.from_dict(space_mod.to_dict(space))
    assert again == space and again.digest() == space.digest()
    changed = raw()
    changed["hyperparameters"]["lr"]["high"] = 0.1
    assert space_mod.from_dict(changed).digest() != space.digest()


def test_fidelity_rungs():
    assert space_mod.Fidelity(min=1, max=9, eta=3).rungs() == [1, 3, 9]
    assert space_mod.Fidelity(min=2, max=27, eta=3).rungs() == [3, 9, 27]
    assert space_mod.Fidelity(min=1, max=8, eta=2).rungs() == [1, 2, 4, 8]


def edit(path: list, value) -> dict:
    cfg = copy.deepcopy(raw())
    node = cfg
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return cfg


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (edit(["hyperparameters", "lr", "low"], 0.5), "low 0.5 >= high 0.03; make low < high"),
        (edit(["hyperparameters", "dropout", "log"], True), "log-scaled, so low must be > 0"),
        (edit(["hyperparameters", "lr", "prior"], 1.0), "prior 1 of 'lr' is outside"),
        (edit(["hyperparameters", "model", "prior"], "gpt"), "not among its choices"),
        (
            edit(["families", "cnn", "hidden_dim"], {"type": "int", "low": 1, "high": 4}),
            "family 'cnn' has no hyperparameter 'hidden_dim'",
        ),
        (
            edit(["hyperparameters", "num_filters"], {"type": "int", "low": 1, "high": 4}),
            "shared hyperparameter 'num_filters'",
        ),
        (edit(["hyperparameters", "lr", "type"], "double"), "needs type one of"),
        (edit(["hyperparameters", "lr", "confidence"], "sure"), "confidence must be one of"),
        (
            edit(["hyperparameters", "epochs"], {"type": "int", "low": 1, "high": 4}),
            "'epochs' is the fidelity",
        ),
        (edit(["fidelity", "eta"], 1), "eta >= 2"),
        (edit(["families", "rnn"], {}), "family 'rnn' is not among the model choices"),
        (edit(["fixed", "lr"], 0.1), "defined twice"),
        (edit(["hyperparameters", "model", "choices"], ["cnn", "gpt"]), "unknown model family"),
    ],
)
def test_bad_spaces_fail_with_one_sentence(cfg, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as err:
        space_mod.from_dict(cfg)
    assert "\n" not in str(err.value)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        space_mod.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("fidelity: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        space_mod.load(bad)


def test_yaml_syntax_error_is_one_line_with_its_place(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("fidelity: {min: 1, max: 3\nhyperparameters:\n")
    with pytest.raises(ConfigError) as err:
        space_mod.load(bad)
    assert str(err.value) == (
        f"search space file {bad} is not valid YAML (line 2, column 16: expected ',' or '}}', "
        "but got ':'); fix it"
    )


def test_validate_rejects_inactive_or_out_of_range_values():
    space = space_mod.load(SCRATCH)
    config = space.default()
    with pytest.raises(ConfigError, match="expected keys"):
        space.validate({**config, "lstm__hidden_dim": 64})
    with pytest.raises(ConfigError, match="outside the space"):
        space.validate({**config, "lr": 1.0})


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (edit(["fidelity"], [1, 9]), "'fidelity' is [1, 9]; write it as a mapping"),
        (edit(["fidelity", "min"], "one"), "fidelity needs whole numbers"),
        (edit(["fidelity", "max"], 2.5), "fidelity needs whole numbers"),
        (edit(["fixed"], ["batch_size", 64]), "'fixed' is ['batch_size', 64]; write it as"),
        (edit(["hyperparameters"], ["lr"]), "'hyperparameters' is ['lr']; write it as"),
        (edit(["families"], 3), "'families' is 3; write it as a mapping"),
        (edit(["families", "cnn"], ["num_filters"]), "family 'cnn' is ['num_filters']; write"),
        (edit(["fixed", "weight_decy"], 0.0), "fixed setting 'weight_decy' is neither"),
        (edit(["fixed", "cnn__hidden_dim"], 8), "fixed setting 'cnn__hidden_dim' is neither"),
        (edit(["fixed", "epochs"], 3), "'epochs' is the fidelity"),
        (edit(["hyperparameters", "lr", "low"], float("nan")), "'low' is nan; write a finite"),
        (edit(["hyperparameters", "lr", "log"], "no"), "'log' of 'lr' is 'no'; write true or"),
        (edit(["hyperparameters", "lr", "default"], 0.01), "; use type, low, high, log, choices"),
        (edit(["hyperparameters", "model", "choices"], ["cnn", "cnn"]), "'cnn' twice"),
    ],
)
def test_malformed_sections_and_silent_typos_fail_with_one_sentence(cfg, message):
    """Before: tracebacks (a list where a mapping belongs), or typos ignored without a word."""
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        space_mod.from_dict(cfg)
    assert "\n" not in str(err.value)


def test_fixed_accepts_training_settings_and_family_hyperparameters():
    fixed = {"batch_size": 32, "momentum": 0.8, "kernel_sizes": [3], "lstm__num_layers": 2}
    assert space_mod.from_dict(edit(["fixed"], fixed)).fixed == fixed


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (edit(["hyperparameters", "token_drop", "high"], 1.5),
         "'token_drop' has high 1.5, but token_drop must be in [0, 1) for training"),
        (edit(["hyperparameters", "dropout", "high"], 1.0),
         "'dropout' has high 1, but dropout must be in [0, 1) for model family 'boe'"),
        (edit(["hyperparameters", "lr"], {"type": "float", "low": 0.0, "high": 0.1}),
         "'lr' has low 0, but lr must be > 0 for training"),
        (edit(["hyperparameters", "weight_decay"], {"type": "float", "low": -0.1, "high": 0.1}),
         "'weight_decay' has low -0.1, but weight_decay must be >= 0 for training"),
        (edit(["hyperparameters", "label_smoothing", "high"], 1.0),
         "label_smoothing must be in [0, 1) for training"),
        (edit(["hyperparameters", "embed_dim"], {"type": "float", "low": 8, "high": 64}),
         "'embed_dim' is a float range, but embed_dim must be a whole number >= 1"),
        (edit(["families", "cnn", "num_filters"], {"type": "int", "low": 0, "high": 64}),
         "'cnn__num_filters' has low 0, but num_filters must be a whole number >= 1 for model "
         "family 'cnn'"),
        (edit(["hyperparameters", "optimizer"],
              {"type": "categorical", "choices": ["adamw", "adam"]}),
         "'optimizer' lists the choice 'adam', but optimizer must be one of adamw, sgd"),
        (edit(["hyperparameters", "schedule"], {"type": "int", "low": 0, "high": 1}),
         "'schedule' is a range of type int, but schedule must be one of cosine, constant"),
        (edit(["families", "lstm", "pooling", "choices"], ["max", "mean"]),
         "pooling must be one of last, max for model family 'lstm'"),
        (edit(["fixed", "warmup_fraction"], 1.0),
         "fixed 'warmup_fraction' is 1.0, but warmup_fraction must be in [0, 1) for training"),
        (edit(["fixed", "batch_size"], 0),
         "fixed 'batch_size' is 0, but batch_size must be a whole number >= 1"),
        (edit(["fixed", "kernel_sizes"], [3, 0]), "kernel_sizes must be a list of whole numbers"),
        (edit(["fixed", "lstm__bidirectional"], "maybe"), "bidirectional must be true or false"),
    ],
)  # fmt: skip
def test_ranges_the_trainer_refuses_fail_at_parse(cfg, message):
    """Before: such a space parsed, then every trial that drew a value out there failed."""
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        space_mod.from_dict(cfg, where="s.yaml")
    assert str(err.value).startswith("s.yaml: ") and "\n" not in str(err.value)


def test_the_space_and_the_trainer_share_one_table_of_limits():
    """Every field of every dataclass has a limit, and what the space lets through trains."""
    from hpotext.models.configs import CONFIGS
    from hpotext.space.parse import limit_of
    from hpotext.train.config import TrainConfig

    for family, cls in CONFIGS.items():
        for item in dataclasses.fields(cls):
            limit_of(family, item.name)  # no KeyError
    for item in dataclasses.fields(TrainConfig):
        limit_of("train", item.name)
    ok = edit(["hyperparameters", "token_drop", "high"], 0.99)
    ok["fixed"] = {"batch_size": "auto", "lstm__bidirectional": "false", "kernel_sizes": "3,4"}
    space = space_mod.from_dict(ok)
    for family in space.families:
        config = {**space.default(), "model": family, "token_drop": 0.99}
        _, model_hp, train_hp = space.to_training(config)
        TrainConfig(**{**train_hp, "batch_size": 8})
        CONFIGS[family](vocab_size=10, num_classes=2, **model_hp)
    with pytest.raises(ConfigError, match=r"train.token_drop must be in \[0, 1\), got 1.5"):
        TrainConfig(token_drop=1.5)


def test_a_directory_or_unreadable_file_is_one_sentence(tmp_path):
    with pytest.raises(ConfigError) as err:
        space_mod.load(tmp_path)  # was an IsADirectoryError traceback
    assert str(err.value) == (
        f"search space file {tmp_path} is a directory; set search.space to a file"
    )
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("fidelity: {min: 1}  # caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="is not utf-8 text; save it as utf-8 YAML"):
        space_mod.load(latin)
