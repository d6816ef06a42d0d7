"""What a setting accepts (:class:`Limit`), and the one-sentence error when a value breaks it.

The model configs (hpotext.models.configs: MODEL_LIMITS) and the training config
(hpotext.train.config: TRAIN_LIMITS) check every field against a table of these, and the search
space checks its ranges, choices and fixed values against the same tables when Snakemake reads
the workflow (hpotext.space.parse), so the two cannot disagree. Free of torch on purpose.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, fields
from typing import Any

from hpotext.errors import ConfigError


@dataclass(frozen=True)
class Limit:
    """The values one setting accepts: one of ``choices``, or a number from ``low`` to ``high``
    (None: unbounded; inclusive unless ``low_open``/``high_open``), a whole one when ``whole``,
    a non-empty list of such numbers when ``many``, or any non-empty string when ``text``.

    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    whole: bool = False
    many: bool = False
    choices: tuple[Any, ...] = ()
    text: bool = False

    def __str__(self) -> str:
        """In words, to follow 'must be': 'in [0, 1)', '> 0', 'a whole number >= 1', ..."""
        if self.text:
            return "a non-empty string"
        if self.choices:
            if _is_flag(self.choices):
                return "true or false"
            return "one of " + ", ".join(map(str, self.choices))
        low, high = self.low, self.high
        if low is not None and high is not None:
            opened, closed = "(" if self.low_open else "[", ")" if self.high_open else "]"
            text = f"in {opened}{low:g}, {high:g}{closed}"
        elif low is not None:
            text = f"{'>' if self.low_open else '>='} {low:g}"
        elif high is not None:
            text = f"{'<' if self.high_open else '<='} {high:g}"
        else:
            text = "finite"
        if self.many:
            return f"a list of whole numbers {text}" if self.whole else f"a list of numbers {text}"
        return f"a whole number {text}" if self.whole else text

    def parse(self, value: object) -> Any:
        """``value`` as training takes it (128.0 -> 128, 'true' -> True, '3,4' -> (3, 4));
        ValueError when this limit does not allow it."""
        if self.text:
            if isinstance(value, str) and value.strip():
                return value
            raise ValueError(value)
        if self.many:
            items = _items(value)
            if not items:
                raise ValueError(value)
            one = dataclasses.replace(self, many=False)
            return tuple(one.parse(item) for item in items)
        if self.choices:
            if _is_flag(self.choices):
                return _flag(value)
            if isinstance(value, str) and value in self.choices:
                return value
            raise ValueError(value)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(value)  # True/False are not numbers
        number = float(value)
        below = self.low is not None and (number < self.low or self.low_open and number == self.low)
        above = self.high is not None and (
            number > self.high or self.high_open and number == self.high
        )
        if not math.isfinite(number) or below or above or self.whole and not number.is_integer():
            raise ValueError(value)
        return int(number) if self.whole else number  # e.g. 128.0 from YAML is the size 128


def _is_flag(choices: tuple[Any, ...]) -> bool:
    return set(choices) == {True, False} and all(isinstance(c, bool) for c in choices)


def _flag(value: object) -> bool:
    """True/False, 0/1 and the strings 'true'/'false'."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(value)


def _items(value: object) -> list[object]:
    """(3, 4), [3, 4], "3,4", "(3, 4)" or a single number as a list of items."""
    if isinstance(value, str):
        return [float(part) for part in value.strip().strip("()[]").split(",")]  # ValueError
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def check(owner: str, name: str, value: object, limit: Limit) -> Any:
    """``value`` as setting ``name`` of ``owner`` (a model family, or 'train') takes it; a
    ConfigError naming the setting and ``limit`` otherwise."""
    try:
        return limit.parse(value)
    except ValueError:
        pass
    if owner == "train":
        raise ConfigError(f"train.{name} must be {limit}, got {value!r}; fix it in the config")
    fix = "pick one of those" if limit.choices else "set it to such a value"
    raise ConfigError(
        f"model '{owner}' hyperparameter '{name}' must be {limit}, got {value!r}; {fix}"
    )


def check_fields(owner: str, config: Any, limits: dict[str, Limit]) -> None:
    """Check (and convert) every field of a dataclass instance against its limit in ``limits``."""
    for item in fields(config):
        value = getattr(config, item.name)
        setattr(config, item.name, check(owner, item.name, value, limits[item.name]))


WHOLE = Limit(1, whole=True)
FRACTION = Limit(0, 1, high_open=True)  # [0, 1): dropout, token_drop, label smoothing, warm-up
TEXT = Limit(text=True)
