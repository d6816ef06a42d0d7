"""config/schema.yaml, the one source of the config's defaults and bounds.

The workflow validates a whole config against it (hpotext.workflow.config); the settings
dataclasses of a section (training, stopping, proxy, importance) take their field defaults
from it (:func:`default`), check a mapping against it (:func:`checked`), and the training
limits are read from it (:func:`limit`), so no second hand-written validation can disagree.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from hpotext.errors import ConfigError
from hpotext.limits import Limit

SCHEMA = Path(__file__).resolve().parent.parent / "config" / "schema.yaml"


@functools.cache
def _schema(path: Path = SCHEMA) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def section(dotted: str) -> dict[str, Any]:
    """The schema of the config key ``dotted`` (e.g. 'stopping.diagnosis')."""
    node = _schema()
    for key in dotted.split("."):
        node = node["properties"][key]
    return node


def default(dotted: str) -> Any:
    """The schema's default of config key ``dotted`` (a field default of a settings dataclass)."""
    return copy.deepcopy(section(dotted)["default"])


def fill_defaults(schema: dict[str, Any], node: dict[str, Any]) -> None:
    """Fill in, recursively, every key of ``node`` that ``schema`` has a default for."""
    for key, sub in schema.get("properties", {}).items():
        if key not in node and "default" in sub:
            node[key] = copy.deepcopy(sub["default"])
        if isinstance(node.get(key), dict) and sub.get("type") == "object":
            fill_defaults(sub, node[key])


def checked(dotted: str, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """``raw`` (a mapping for config section ``dotted``) checked against the schema, with its
    defaults filled in; a ConfigError naming the first bad key otherwise."""
    schema = section(dotted)
    node = copy.deepcopy(dict(raw or {}))
    fill_defaults(schema, node)
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(node),
        key=lambda e: [str(p) for p in e.path],
    )
    if errors:
        err = errors[0]
        where = ".".join([dotted, *map(str, err.absolute_path)])
        if err.validator == "additionalProperties":
            valid = sorted(err.schema.get("properties", {}))
            extra = sorted(set(err.instance) - set(valid))
            raise ConfigError(
                f"unknown config key '{where}.{extra[0]}'; valid keys there: {', '.join(valid)}"
            )
        raise ConfigError(f"config key '{where}': {err.message}; fix it in the config")
    return node


def limit(dotted: str) -> Limit:
    """What config key ``dotted`` accepts, as a :class:`Limit` (for a key with a numeric and a
    named alternative, like train.batch_size's integer or 'auto', the numeric one)."""
    node = section(dotted)
    for alternative in node.get("oneOf", []):
        if alternative.get("type") in ("integer", "number"):
            node = alternative
    if "enum" in node:
        return Limit(choices=tuple(node["enum"]))
    if node.get("type") == "boolean":
        return Limit(choices=(True, False))
    low, high = (
        node.get("minimum", node.get("exclusiveMinimum")),
        node.get("maximum", node.get("exclusiveMaximum")),
    )
    return Limit(
        low=low,
        high=high,
        low_open="exclusiveMinimum" in node,
        high_open="exclusiveMaximum" in node,
        whole=node.get("type") == "integer",
    )
