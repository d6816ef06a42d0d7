"""The proxy benchmark's settings and its shrunk search space (widths capped, fidelity cut)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from hpotext import models
from hpotext import space as space_mod
from hpotext.schema import checked, default
from hpotext.space.core import SEP, Fidelity, Hyperparameter, Space

# Hyperparameters (and fixed model settings) that set a layer width, capped on the proxy.
WIDTHS = ("embed_dim", "hidden_dim", "num_filters", "ff_dim")


@dataclass(frozen=True)
class ProxySettings:
    """Size of the proxy problem and of its table (the ``proxy`` config section's table keys;
    defaults and bounds from config/schema.yaml)."""

    rows: int = default("proxy.rows")  # stratified slice of the search subset
    max_len: int = default("proxy.max_len")  # tokens per text
    max_epochs: int = default("proxy.max_epochs")  # the proxy fidelity's maximum
    width_cap: int = default("proxy.width_cap")  # largest embed_dim / hidden_dim / ... / ff_dim
    configs: int = default("proxy.configs")  # configs in the table
    prior_fraction: float = default("proxy.prior_fraction")  # share sampled around the prior
    seed: int = default("proxy.seed")

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> ProxySettings:
        """Settings from a mapping of ``proxy`` keys (missing ones take their defaults, keys of
        the section that are not the table's are ignored); one ConfigError per fault."""
        values = checked("proxy", raw)
        return cls(**{f.name: values[f.name] for f in dataclasses.fields(cls)})


# --- the proxy space -------------------------------------------------------------------------
def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cap(hp: Hyperparameter, cap: int) -> Hyperparameter | tuple[Any]:
    """``hp`` with its widths capped, or a 1-tuple holding the only value left."""
    if hp.name not in WIDTHS:
        return hp
    if hp.type == "categorical":
        numbers = [c for c in hp.choices if is_number(c)]
        if not numbers or max(numbers) <= cap:
            return hp
        smallest = min(numbers)
        keep = tuple(c for c in hp.choices if not is_number(c) or c <= cap or c == smallest)
        if len(keep) == 1:
            return (keep[0],)
        kept_numbers = [c for c in keep if is_number(c)]
        prior = hp.prior if hp.prior in keep else max(kept_numbers)
        return dataclasses.replace(hp, choices=keep, prior=prior)
    assert hp.low is not None and hp.high is not None
    high = min(hp.high, cap)
    low = min(hp.low, high)
    if low == high:
        return (int(low) if hp.type == "int" else float(low),)
    prior = min(high, max(low, hp.prior))
    if hp.type == "int":
        low, high, prior = int(low), int(high), int(prior)
    return dataclasses.replace(hp, low=low, high=high, prior=prior)


def proxy_space(space: Space, settings: ProxySettings) -> Space:
    """``space`` with fidelity max min(max, settings.max_epochs) and widths capped.

    Width hyperparameters (``WIDTHS``) get ``high`` = min(high, width_cap) (categoricals lose
    the numeric choices above the cap, keeping at least the smallest); one left with a single
    value moves to ``fixed`` (a categorical whose choices all exceed the cap keeps its smallest
    one). Fixed widths above the cap are lowered to it, and so is every
    family's model default width that is neither searched nor fixed (as ``<family>__<name>``).
    """
    cap = settings.width_cap
    fixed = {
        key: cap if key.split(SEP)[-1] in WIDTHS and is_number(value) and value > cap else value
        for key, value in space.fixed.items()
    }
    hps: list[Hyperparameter] = []
    for hp in space.hyperparameters:
        capped = _cap(hp, cap)
        if isinstance(capped, Hyperparameter):
            hps.append(capped)
        else:
            fixed[hp.key] = capped[0]
    searched = {hp.key for hp in hps} | {hp.name for hp in hps if hp.family is None}
    for family in space.families:
        for name, value in models.hyperparameters(family).items():
            key = f"{family}{SEP}{name}"
            taken = name in searched or key in searched or name in fixed or key in fixed
            wide = isinstance(value, int | float) and is_number(value) and value > cap
            if name in WIDTHS and wide and not taken:
                fixed[key] = cap
    fid = space.fidelity
    top = max(1, min(fid.max, settings.max_epochs))
    fidelity = Fidelity(fid.name, min(fid.min, top), top, fid.eta)
    proxy = Space(tuple(hps), fidelity, fixed)
    return space_mod.from_dict(space_mod.to_dict(proxy), where="proxy search space")
