"""User-facing errors: one clear sentence naming the input and the fix."""

from __future__ import annotations


class HpotextError(Exception):
    """An error caused by user input; its message is shown to the user as one sentence."""


class ConfigError(HpotextError):
    """A config key or search-space entry is invalid."""


class DataError(HpotextError):
    """A dataset file is missing, unreadable or unusable."""
