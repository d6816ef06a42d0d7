"""The one Protocol every optimizer adapter implements, and the registry by name."""

from __future__ import annotations

from typing import Any, Protocol

from hpotext.errors import ReplayError
from hpotext.io import canonical_json
from hpotext.optimizers.records import Result, Suggestion


class Optimizer(Protocol):
    """An ask/tell optimizer over a ``Space`` with epochs as fidelity.

    Adapters are deterministic given their seed and the sequence of calls: the trial store
    rebuilds an optimizer after a restart (or in a second worker) by replaying the journal —
    ``replay(suggestion)`` for every recorded ask and ``tell`` for every recorded result, in
    journal order. Trial ids are handed out by the adapter, counting from 0 in ask order.

    ``ask`` returns None when nothing can be suggested until a pending trial is told (e.g. a
    synchronous successive-halving rung waiting for its last member).
    """

    name: str

    def ask(self) -> Suggestion | None: ...

    def replay(self, suggestion: Suggestion) -> None:
        """Bring the optimizer to the state it had right after it asked ``suggestion``."""
        ...

    def tell(self, suggestion: Suggestion, result: Result) -> None: ...


def _replayed(s: Suggestion, info_keys: tuple[str, ...] | None, recorded: Suggestion) -> Any:
    info = s.info
    if info_keys is not None:
        info = {k: s.info.get(k) for k in info_keys if k in recorded.info}
    return canonical_json([s.trial_id, s.config, s.fidelity, s.parent, info])


def check_replay(
    name: str,
    recorded: Suggestion,
    asked: Suggestion | None,
    info_keys: tuple[str, ...] | None = (),
) -> None:
    """The replay check every adapter's ``replay`` ends with: ``asked`` (what the rebuilt
    optimizer asks now) must be the journal's ``recorded`` suggestion again: the same trial id,
    config, fidelity, parent, and ``info`` (all of it when ``info_keys`` is None, else those keys
    where the journal recorded them). A ReplayError names both otherwise."""
    if asked is not None and _replayed(asked, info_keys, recorded) == _replayed(
        recorded, info_keys, recorded
    ):
        return
    shown = "nothing" if asked is None else _replayed(asked, info_keys, recorded)
    raise ReplayError(
        f"the search journal does not match optimizer '{name}' on this search space: it "
        f"recorded trial {recorded.trial_id} as {_replayed(recorded, info_keys, recorded)} "
        f"(id, config, fidelity, parent, info), but replaying asked {shown}; the journal was "
        "written with a different optimizer, seed, space or options: start a new search folder "
        "(search.on_change: new) or restore the old settings"
    )
