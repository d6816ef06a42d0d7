"""Helpers shared by the model files: hyperparameter coercion with clear errors, length masks."""

from __future__ import annotations

import numbers

import torch

from hpotext.errors import ConfigError


def as_int(model: str, name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum``; int-valued floats such as 128.0 are accepted."""
    number: int | None = None
    if isinstance(value, bool):
        pass  # True/False are not sizes
    elif isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real) and float(value).is_integer():
        number = int(float(value))  # e.g. 128.0 from YAML or a float-valued search space
    if number is None:
        raise ConfigError(
            f"model '{model}' hyperparameter '{name}' must be a whole number, got {value!r}; "
            f"set it to an integer of at least {minimum}"
        )
    if number < minimum:
        raise ConfigError(
            f"model '{model}' hyperparameter '{name}' must be at least {minimum}, got {number}; "
            f"set it to {minimum} or more"
        )
    return number


def as_float(model: str, name: str, value: object) -> float:
    """Return ``value`` as a float, or raise ConfigError if it is not a number."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise ConfigError(
        f"model '{model}' hyperparameter '{name}' must be a number, got {value!r}; "
        "set it to a number such as 0.2"
    )


def check_dropout(model: str, value: object) -> float:
    """Return ``value`` as a dropout probability in [0, 1)."""
    rate = as_float(model, "dropout", value)
    if not 0.0 <= rate < 1.0:
        raise ConfigError(
            f"model '{model}' hyperparameter 'dropout' must be in [0, 1), got {rate}; "
            "set it to a value such as 0.2"
        )
    return rate


def as_bool(model: str, name: str, value: object) -> bool:
    """Return ``value`` as a bool; accepts True/False, 0/1 and the strings 'true'/'false'."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(
        f"model '{model}' hyperparameter '{name}' must be true or false, got {value!r}; "
        "set it to true or false"
    )


def check_choice(model: str, name: str, value: object, options: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``options``, else raise ConfigError listing them."""
    if isinstance(value, str) and value in options:
        return value
    raise ConfigError(
        f"model '{model}' hyperparameter '{name}' must be one of {', '.join(options)}, "
        f"got {value!r}; pick one of those"
    )


def length_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """Boolean mask (B, width) that is True at real-token positions (left-aligned)."""
    positions = torch.arange(width, device=lengths.device)  # (width,)
    return positions.unsqueeze(0) < lengths.to(positions.device).unsqueeze(1)  # (B, width)


# --- bag of embeddings ----------------------------------------------------------------------
