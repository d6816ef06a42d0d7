"""Playbook studies: arms from scientific values, their spaces and configs, the comparison."""

from __future__ import annotations

import json

import pytest

from hpotext.errors import ConfigError
from hpotext.space.parse import from_dict
from hpotext.studies.playbook import (
    arm_config,
    arm_of,
    arms,
    base_exp,
    fix,
)
from hpotext.studies.playbook import (
    arm_search_space as arm_space,
)
from hpotext.studies.playbook import (
    compare_scores as compare_arms,
)
from hpotext.studies.steps import compare_arms as compare_step
from hpotext.workflow.config import load_yaml, validate_config

SPACE = from_dict({
    "fidelity": {"min": 1, "max": 3, "eta": 3},
    "hyperparameters": {
        "model": {"type": "categorical", "choices": ["boe", "cnn"], "prior": "boe"},
        "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True, "prior": 1e-2},
        "token_drop": {"type": "float", "low": 0.0, "high": 0.5, "prior": 0.1},
    },
    "families": {
        "boe": {"pooling": {"type": "categorical", "choices": ["mean", "max"], "prior": "mean"}},
        "cnn": {"num_filters": {"type": "int", "low": 8, "high": 32, "prior": 16}},
    },
})  # fmt: skip


def test_each_scientific_value_is_an_arm_with_that_value_fixed() -> None:
    study = {"scientific": {"model": ["boe", "cnn"]}, "fixed": {"token_drop": 0.0}}
    boe, cnn = arms(study, SPACE)
    assert (boe.name, cnn.name) == ("model-boe", "model-cnn")
    space = arm_space(SPACE, study, cnn)
    assert space.fixed == {"model": "cnn", "token_drop": 0.0}
    assert [hp.key for hp in space.hyperparameters] == ["lr", "cnn__num_filters"]  # nuisance
    assert space.families == ("cnn",) and space.default() == {"lr": 1e-2, "cnn__num_filters": 16}
    family, model_hp, train_hp = space.to_training({"lr": 0.01, "cnn__num_filters": 8})
    assert family == "cnn" and model_hp["num_filters"] == 8 and train_hp["token_drop"] == 0.0


def test_a_setting_can_be_scientific_seed_002s_prior_fraction_ablation() -> None:
    study = {"scientific": {"search.options.prior_fraction": [0.5, 0.8]}}
    low, high = arms(study, SPACE)
    assert (low.name, high.name) == ("prior_fraction-0.5", "prior_fraction-0.8")
    base = validate_config({**load_yaml("config/test.yaml"), "study": study})
    cfg = validate_config(arm_config(base, high, SPACE))
    assert cfg["search"]["options"] == {"prior_fraction": 0.8} and cfg["study"]["scientific"] == {}
    assert base["search"]["options"] == {}  # the base config is untouched
    assert arm_space(SPACE, study, high) == SPACE  # nothing fixed: all nuisance


def test_combinations_of_two_keys() -> None:
    study = {"scientific": {"model": ["boe", "cnn"], "token_drop": [0.0, 0.3]}}
    names = [a.name for a in arms(study, SPACE)]
    assert names == ["model-boe_token_drop-0.0", "model-boe_token_drop-0.3",
                     "model-cnn_token_drop-0.0", "model-cnn_token_drop-0.3"]  # fmt: skip


@pytest.mark.parametrize(
    ("study", "message"),
    [
        ({"scientific": {"model": ["boe"]}}, "at least two values"),
        ({"scientific": {"model": ["boe", "lstm"]}}, "outside the search space"),
        ({"scientific": {"text.max_len": [16, 32]}}, "neither a hyperparameter"),
        ({"scientific": {"lr": [0.01, 0.02]}, "fixed": {"lr": 0.01}}, "both scientific and fixed"),
        ({"scientific": {"model": ["boe", "cnn"]}, "fixed": {"depth": 2}}, "not a hyperparameter"),
        ({"scientific": {"model": ["boe", "cnn"]}, "fixed": {"lr": 5.0}}, "outside the search"),
    ],
)
def test_bad_studies_are_one_clear_error(study, message) -> None:
    with pytest.raises(ConfigError, match=message):
        for arm in arms(study, SPACE):
            arm_space(SPACE, study, arm)


def test_fixing_everything_leaves_nothing_to_search() -> None:
    study = {"scientific": {"model": ["boe", "cnn"]}, "fixed": {"lr": 0.01, "token_drop": 0.1}}
    boe = arms(study, SPACE)[0]
    space = arm_space(SPACE, study, boe)
    assert [hp.key for hp in space.hyperparameters] == ["boe__pooling"]
    with pytest.raises(ConfigError, match="nothing is left to search"):
        fix(space, {"boe__pooling": "max"})


def test_paths_of_arms() -> None:
    assert base_exp("vader/study/model-cnn") == "vader"
    assert arm_of("vader/study/model-cnn") == "model-cnn"
    assert arm_of("vader") is None


def test_comparison_says_whether_the_difference_exceeds_seed_noise(tmp_path) -> None:
    clear = compare_arms({"a": [0.80, 0.81, 0.82], "b": [0.70, 0.71, 0.69]})
    assert clear["best"] == "a" and clear["versus_best"]["b"]["beyond_noise"]
    low, high = clear["arms"]["a"]["ci"]
    assert low < 0.81 < high
    noisy = compare_arms({"a": [0.80, 0.70, 0.75], "b": [0.74, 0.76, 0.72]})
    assert not noisy["versus_best"][noisy["best"] == "a" and "b" or "a"]["beyond_noise"]
    study = {"scientific": {"model": ["boe", "cnn"]}}
    files = {}
    for arm, values in (("model-boe", [0.8, 0.81]), ("model-cnn", [0.7, 0.72])):
        files[arm] = []
        for seed, v in enumerate(values):
            path = tmp_path / f"{arm}{seed}.json"
            path.write_text(json.dumps({"accuracy": v}))
            files[arm].append(str(path))
    space_path = tmp_path / "space.yaml"
    space_path.write_text(json.dumps({
        "fidelity": {"min": 1, "max": 3, "eta": 3},
        "hyperparameters": {"model": {"type": "categorical", "choices": ["boe", "cnn"],
                                      "prior": "boe"}},
    }))  # fmt: skip
    outs = [str(tmp_path / n) for n in ("c.json", "c.md", "c.png")]
    result = compare_step(["model-boe", "model-cnn"], files, study, str(space_path), *outs)
    assert result["best"] == "model-boe" and result["scientific"]["model-cnn"] == {"model": "cnn"}
    md = (tmp_path / "c.md").read_text()
    assert "| model-boe | boe |" in md and "seed noise" in md
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_values_given_as_strings_on_the_command_line_are_typed() -> None:
    """Snakemake's --config hands nested numbers over as strings."""
    study = {"scientific": {"token_drop": ["0.0", "0.3"]}, "fixed": {"lr": "0.01"}}
    low, high = arms(study, SPACE)
    assert low.values == {"token_drop": 0.0} and high.name == "token_drop-0.3"
    assert arm_space(SPACE, study, low).fixed == {"token_drop": 0.0, "lr": 0.01}
    ablation = arms({"scientific": {"search.options.prior_fraction": ["0.5", "0.8"]}},
                             SPACE)  # fmt: skip
    assert ablation[1].values == {"search.options.prior_fraction": 0.8}
