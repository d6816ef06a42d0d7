"""Config validation against config/schema.yaml: defaults, one-sentence errors naming the key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from hpotext.errors import ConfigError
from hpotext.workflow.config import experiment_name, validate_config

ROOT = Path(__file__).resolve().parent.parent


def base() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_shipped_configs_validate_and_fill_defaults() -> None:
    for name in ("config.yaml", "test.yaml"):
        cfg = validate_config(yaml.safe_load((ROOT / "config" / name).read_text()))
        assert cfg["data"]["val_fraction"] == 0.1
        assert cfg["train"]["optimizer"] == "adamw"
        assert cfg["search"]["optimizer"] == "auto" and cfg["proxy"]["seeds"] >= 2
        assert cfg["search"]["space"].startswith("config/spaces/")
    assert experiment_name(validate_config(base())) == "vader"


def test_every_schema_key_has_description_and_default() -> None:
    schema = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text())

    def walk(node: dict, path: str) -> None:
        for key, sub in node.get("properties", {}).items():
            assert "description" in sub, f"{path}{key} lacks a description"
            assert "default" in sub, f"{path}{key} lacks a default"
            walk(sub, f"{path}{key}.")

    walk(schema, "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["train"].update(lrr=0.1), "unknown config key 'train.lrr'"),
        (lambda c: c.update(epochs=3), "unknown config key 'epochs'"),
        (lambda c: c["train"].update(lr=-1), "config key 'train.lr'"),
        (lambda c: c["train"].update(epochs=3), "unknown config key 'train.epochs'"),
        (lambda c: c["train"].update(batch_size=0), "config key 'train.batch_size'"),
        (lambda c: c["data"].update(search_fraction=1.5), "config key 'data.search_fraction'"),
        (lambda c: c["search"].update(optimizer="smac"), "config key 'search.optimizer'"),
        (lambda c: c["search"].update(workers=0), "config key 'search.workers'"),
        (lambda c: c["search"]["budget"].update(kind="flops"), "config key 'search.budget.kind'"),
        (lambda c: c["final"].update(seeds=[]), "config key 'final.seeds'"),
        (lambda c: c["data"].update(val_fraction=0.5, test_fraction=0.45), "at least 10 %"),
        (lambda c: c.update(dataset="no/such/file.csv"), "neither a shipped dataset"),
        (lambda c: c.update(experiment="bad name!"), "experiment name"),
    ],
)
def test_bad_config_gives_one_sentence_naming_the_key(change, message: str) -> None:
    cfg = copy.deepcopy(base())
    change(cfg)
    with pytest.raises(ConfigError, match=message) as err:
        experiment_name(validate_config(cfg))
    assert "\n" not in str(err.value)


def test_user_file_names_the_experiment(tmp_path) -> None:
    path = tmp_path / "my_reviews.csv"
    path.write_text("text,label\na,b\n")
    cfg = validate_config({**base(), "dataset": str(path)})
    assert experiment_name(cfg) == "my_reviews"
    assert experiment_name({**cfg, "experiment": "run1"}) == "run1"


def test_command_line_strings_are_coerced() -> None:
    """What `--config data={max_rows: 0} experiment=` hands over: strings and None."""
    cfg = base()
    cfg["data"] = {"max_rows": "0", "val_fraction": "0.2", "split_column": None}
    cfg["text"] = {"lowercase": "false"}
    cfg["experiment"] = None
    out = validate_config(cfg)
    assert out["data"]["max_rows"] == 0 and out["data"]["val_fraction"] == 0.2
    assert out["data"]["split_column"] == "" and out["text"]["lowercase"] is False
    assert experiment_name(out) == "vader"
    cfg["final"] = {"seeds": ["0", "3"]}  # `--config final={seeds: [0, 3]}`
    assert validate_config(cfg)["final"]["seeds"] == [0, 3]
    cfg["final"] = {"seeds": ["0", "x"]}
    with pytest.raises(ConfigError, match="final.seeds.1"):
        validate_config(cfg)
    cfg["final"] = {}
    cfg["data"] = {"max_rows": "many"}
    with pytest.raises(ConfigError, match="config key 'data.max_rows'"):
        validate_config(cfg)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [("search", "budget", {"amount": float("nan")}), ("train", "lr", float("inf")),
     ("data", "val_fraction", float("nan"))],
)  # fmt: skip
def test_nan_and_infinite_numbers_are_refused(section: str, key: str, value) -> None:
    """JSON Schema's bounds let NaN through (every comparison with NaN is false)."""
    cfg = base()
    cfg.setdefault(section, {})[key] = value
    name = f"{section}.{key}" + (".amount" if isinstance(value, dict) else "")
    with pytest.raises(ConfigError, match=rf"config key '{name}' is (nan|inf); set it to a finite"):
        validate_config(cfg)


def test_either_or_key_says_what_it_accepts() -> None:
    cfg = base()
    cfg.setdefault("train", {})["batch_size"] = "big"
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    assert str(err.value) == (
        "config key 'train.batch_size' is 'big'; set it to an integer >= 1 or 'auto' in "
        "config/config.yaml or on --config"
    )


def test_reading_the_workflow_imports_no_torch() -> None:
    """Snakemake reads the workflow on every run and in every cluster job: the hpotext modules
    its rules import at the top level stay free of torch and scikit-learn (seconds each)."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sources = [root / "Snakefile", *sorted((root / "rules").glob("*.smk"))]
    pattern = re.compile(r"^from (hpotext[\w.]*) import", re.MULTILINE)
    modules = sorted({m for path in sources for m in pattern.findall(path.read_text())})
    assert "hpotext.workflow.plan" in modules
    code = (f"import sys; import {', '.join(modules)}; "
            "print('torch' in sys.modules, 'sklearn' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    assert out.split() == ["False", "False"]


def test_the_script_boundary_and_cpu_steps_import_no_torch() -> None:
    """CPU-only rules (selection, summary) pay no torch or scikit-learn import (~5 s each)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = ("import sys, hpotext.workflow.scripting, hpotext.io, hpotext.selection.steps, "
            "hpotext.report.steps; "
            "assert 'torch' not in sys.modules and 'sklearn' not in sys.modules")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


def test_errors_name_the_source_that_set_the_key(tmp_path, monkeypatch) -> None:
    """The fix named config/config.yaml or --config even for a key from another --configfile."""
    from hpotext.workflow.config import ConfigSources, config_sources

    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("search: {workers: 2}\n")
    (tmp_path / "a.yaml").write_text("search: {workers: 0}\ntrain: {lr: -1}\n")
    (tmp_path / "b.yaml").write_text("search: {workers: 0, workerz: 1}\n")
    sources = config_sources(
        [tmp_path / "a.yaml", tmp_path / "b.yaml", "config/config.yaml"],
        [tmp_path / "a.yaml", tmp_path / "b.yaml"],
        {"train": {"batch_size": "big"}},
    )
    assert sources == ConfigSources(
        ("config/config.yaml", "a.yaml", "b.yaml"), {"train": {"batch_size": "big"}}
    )
    assert sources.where(["search", "workers"]) == "in b.yaml"  # the last file that sets it
    assert sources.where(["train", "lr"]) == "in a.yaml"
    assert sources.where(["train", "batch_size"]) == "on --config"
    assert sources.where(["sequence", 0, "name"]) == "in config/config.yaml or a.yaml or b.yaml"

    def message(cfg: dict) -> str:
        with pytest.raises(ConfigError) as err:
            validate_config({**base(), **cfg}, sources=sources)
        return str(err.value)

    assert message({"search": {"workers": 0}}).endswith("minimum of 1; fix it in b.yaml")
    assert message({"train": {"lr": -1}}).endswith("; fix it in a.yaml")
    assert message({"train": {"batch_size": "big"}}).endswith("or 'auto' on --config")
    assert message({"train": {"lr": float("nan")}}) == (
        "config key 'train.lr' is nan; set it to a finite number in a.yaml"
    )
    assert message({"search": {"workerz": 1}}).startswith(
        "unknown config key 'search.workerz' (set in b.yaml); valid keys there: budget"
    )


def test_a_dataset_directory_is_named(tmp_path) -> None:
    with pytest.raises(ConfigError, match="is a directory; pass the path of a csv"):
        validate_config({**base(), "dataset": str(tmp_path)})


def test_a_bad_config_file_is_one_sentence(tmp_path) -> None:
    from hpotext.workflow.config import load_yaml

    with pytest.raises(ConfigError, match="config file .* does not exist; give the path"):
        load_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("search: {workers: 2\ntrain: {}\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(bad)
    assert "is not valid YAML (line " in str(err.value) and "\n" not in str(err.value)
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="must hold a mapping of keys"):
        load_yaml(bad)
