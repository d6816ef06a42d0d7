"""User-facing errors: one clear sentence naming the input and the fix."""

from __future__ import annotations


class HpotextError(Exception):
    """An error caused by user input; its message is shown to the user as one sentence."""


class ConfigError(HpotextError):
    """A config key or search-space entry is invalid."""


class DataError(HpotextError):
    """A dataset file is missing, unreadable or unusable."""


class SearchError(HpotextError):
    """The search cannot go on: too many of its trials failed in a row."""


class NoResultError(HpotextError):
    """A stage found nothing to continue with: no trial of a search (or a live run) succeeded."""


class StaleFileError(HpotextError):
    """A file an earlier step wrote is missing or not what this step needs; rebuild it."""


class ReplayError(HpotextError):
    """A search journal does not replay: it was written with another optimizer, seed or space."""
