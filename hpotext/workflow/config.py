"""Study config: validation against config/schema.yaml (with defaults), experiment naming."""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from hpotext.data.datasets import dataset_names
from hpotext.errors import ConfigError
from hpotext.schema import SCHEMA, fill_defaults
from hpotext.space.parse import read_yaml

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """A config file's mapping; a missing, unreadable or malformed file is one ConfigError."""
    raw = read_yaml(Path(path), "config file", "give the path of a YAML config file")
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys; fix its YAML")
    return raw


@dataclass(frozen=True)
class ConfigSources:
    """Where a study's config came from, lowest priority first: the config files (the
    workflow's config/config.yaml, then every --configfile in order) and the --config values,
    which override them all."""

    files: tuple[str, ...] = ("config/config.yaml",)
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def where(self, path: Sequence[str | int]) -> str:
        """Where the key at ``path`` is set, to fix it there: 'on --config', 'in <the last file
        that sets it>', or 'in <every file>' when none does (a missing key)."""
        if path and _sets(self.overrides, path):
            return "on --config"
        for name in reversed(self.files):
            if path and _sets(_read_quietly(name), path):
                return f"in {name}"
        return "in " + " or ".join(self.files)


def config_sources(
    read: Sequence[str | Path], given: Sequence[str | Path], overrides: Mapping[str, Any]
) -> ConfigSources:
    """The sources as Snakemake knows them: ``read``, every config file it read
    (workflow.configfiles); ``given``, the --configfile ones among them
    (workflow.config_settings.configfiles); ``overrides``, the --config values
    (workflow.config_settings.config)."""
    cli = [_shown(p) for p in given]
    own = [name for name in map(_shown, read) if name not in cli]
    return ConfigSources(tuple(own + cli), dict(overrides))


def _shown(path: str | Path) -> str:
    """``path`` relative to the working directory when below it (as the user wrote it)."""
    full = os.path.abspath(path)
    inside = full.startswith(os.getcwd() + os.sep)
    return os.path.relpath(full) if inside else str(path)


def _read_quietly(path: str) -> Any:
    """A config file's YAML, or None (Snakemake read it already; this only looks up keys)."""
    try:
        return yaml.safe_load(Path(path).read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _sets(node: Any, path: Sequence[str | int]) -> bool:
    """Whether ``node`` sets the key at ``path`` (a list sets everything below it: Snakemake
    replaces lists whole)."""
    for key in path:
        if isinstance(node, list):
            return True
        if not isinstance(node, dict) or str(key) not in node:
            return False
        node = node[str(key)]
    return True


def _coerce(schema: dict[str, Any], node: dict[str, Any]) -> None:
    """Command-line values arrive as strings (``--config data={max_rows: 0}``,
    ``final={seeds: [0, 1]}``): parse scalars and list items whose schema type is a number or
    boolean, and read an empty value as the empty string."""
    for key, sub in schema.get("properties", {}).items():
        if key not in node:
            continue
        value, kind = node[key], sub.get("type")
        if value is None and kind == "string":
            node[key] = ""
        elif isinstance(value, dict) and kind == "object":
            _coerce(sub, value)
        elif isinstance(value, list) and kind == "array":
            node[key] = [_scalar(item, sub.get("items", {}).get("type")) for item in value]
        else:
            node[key] = _scalar(value, kind)


def _scalar(value: Any, kind: str | None) -> Any:
    if isinstance(value, str) and kind in ("integer", "number", "boolean") and value.strip():
        parsed = yaml.safe_load(value)
        if isinstance(parsed, int | float | bool):
            return parsed
    return value


def _non_finite(node: Any, path: str = "") -> tuple[str, float] | None:
    """(dotted key, value) of the first NaN or infinite number in ``node``, or None."""
    if isinstance(node, float) and not math.isfinite(node):
        return path, node
    if isinstance(node, list):
        node = dict(enumerate(node))
    for key, value in node.items() if isinstance(node, dict) else ():
        found = _non_finite(value, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def _expected(schema: dict[str, Any]) -> str:
    """A value that ``schema`` accepts, in words (for errors of oneOf/anyOf keys)."""
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    kind = schema.get("type", "value")
    words = {"integer": "an integer", "number": "a number", "string": "a string",
             "boolean": "true or false", "array": "a list", "object": "a mapping"}  # fmt: skip
    text = words.get(kind, str(kind))
    for key, op in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                    ("exclusiveMaximum", "<")):  # fmt: skip
        if key in schema:
            text += f" {op} {schema[key]}"
    return text


def _where(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        key = ".".join([path, extra[0]]) if path else extra[0]
        return f"unknown config key '{key}'"
    return f"config key '{path or '<top>'}'"


def validate_config(
    config: dict[str, Any], schema_path: str | Path = SCHEMA, sources: ConfigSources | None = None
) -> dict[str, Any]:
    """Return a validated copy of ``config`` with schema defaults filled in.

    Raises ConfigError naming the first offending key (in document order) and how to fix it:
    in the last of ``sources`` that sets it (else, without sources, config/config.yaml or
    --config).
    """

    def where(path: Sequence[str | int]) -> str:
        return sources.where(path) if sources else "in config/config.yaml or on --config"

    schema = load_yaml(schema_path)
    config = copy.deepcopy(config)
    _coerce(schema, config)
    fill_defaults(schema, config)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.path])
    if errors:
        err = errors[0]
        path = list(err.absolute_path)
        if err.validator == "additionalProperties":
            valid = sorted(err.schema.get("properties", {}))
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            raise ConfigError(
                f"{_where(err)} (set {where([*path, extra[0]])}); valid keys there: "
                f"{', '.join(valid)}"
            )
        if err.validator in ("oneOf", "anyOf"):
            wanted = " or ".join(_expected(sub) for sub in err.validator_value)
            raise ConfigError(
                f"{_where(err)} is {err.instance!r}; set it to {wanted} {where(path)}"
            )
        raise ConfigError(f"{_where(err)}: {err.message}; fix it {where(path)}")
    bad = _non_finite(config)
    if bad is not None:
        raise ConfigError(
            f"config key '{bad[0]}' is {bad[1]}; set it to a finite number "
            f"{where(bad[0].split('.'))}"
        )
    _check_dataset(config)
    if config["proxy"]["validate"] and config["search"]["optimizer"] != "auto":
        raise ConfigError(
            "proxy.validate checks the proxy's selection, but search.optimizer names "
            f"'{config['search']['optimizer']}' (no selection); set search.optimizer to auto "
            "or proxy.validate to false"
        )
    return config


def _check_dataset(config: dict[str, Any]) -> None:
    data = config["data"]
    if data["val_fraction"] + data["test_fraction"] >= 0.9:
        raise ConfigError(
            "data.val_fraction + data.test_fraction must leave at least 10 % for training; "
            "lower them"
        )
    name = config["dataset"]
    if is_registered(name):
        return
    path = Path(name)
    if path.is_dir():
        raise ConfigError(
            f"dataset '{name}' is a directory; pass the path of a csv/tsv/jsonl/parquet file in "
            "it (or a shipped dataset's name)"
        )
    if not path.is_file():
        raise ConfigError(
            f"dataset '{name}' is neither a shipped dataset ({', '.join(dataset_names())}) nor an "
            "existing file; pass a registry name or the path of a csv/tsv/jsonl/parquet file"
        )


def is_registered(dataset: str) -> bool:
    return dataset in dataset_names()


def experiment_name(config: dict[str, Any]) -> str:
    """results/<experiment>/: the configured name, else the dataset name or the file's stem."""
    name = config.get("experiment") or (
        config["dataset"] if is_registered(config["dataset"]) else Path(config["dataset"]).stem
    )
    if not NAME.match(name):
        raise ConfigError(
            f"experiment name '{name}' must use letters, digits, '_', '-' or '.'; "
            "set config key 'experiment' to such a name"
        )
    return str(name)


# replay cost of each optimizer on the proxy relative to successive halving, hyperband and asha
# (10 seeds at 80 evaluations on a vader table, 2026-12-06: priorband 72 s, dehb ~28 s, optuna_tpe
# 24 s, random 11 s, the three halving schemes ~20 s together; NePS asks are slow)
REPLAY_COST = {"priorband": 6.0, "dehb": 2.5, "optuna_tpe": 2.0, "random": 0.5}


def split_optimizers(optimizers: list[str], parts: int) -> list[list[str]]:
    """Deal the optimizers to ``parts`` jobs of about equal replay cost (longest first, each to
    the cheapest job so far); every job keeps the config's order."""
    parts = max(1, min(parts, len(optimizers)))
    jobs: list[list[str]] = [[] for _ in range(parts)]
    load = [0.0] * parts
    for name in sorted(optimizers, key=lambda o: -REPLAY_COST.get(o, 1.0)):  # stable
        i = load.index(min(load))
        jobs[i].append(name)
        load[i] += REPLAY_COST.get(name, 1.0)
    return [sorted(job, key=optimizers.index) for job in jobs]


def canonical_order(node: Any) -> Any:
    """``node`` with every mapping's keys sorted (lists keep their order). The order of keys in a
    config file means nothing, and Snakemake compares params by their repr: sorted, reordering a
    config file reruns nothing."""
    if isinstance(node, dict):
        return {key: canonical_order(node[key]) for key in sorted(node, key=str)}
    if isinstance(node, list):
        return [canonical_order(item) for item in node]
    return node
