"""The one Protocol every optimizer adapter implements, and the registry by name."""

from __future__ import annotations

from typing import Protocol

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
