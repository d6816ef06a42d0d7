"""The proxy benchmark's settings and its shrunk search space (widths capped, fidelity cut)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from hpotext import models
from hpotext import space as space_mod
from hpotext.errors import ConfigError
from hpotext.space.core import SEP, Fidelity, Hyperparameter, Space

# Hyperparameters (and fixed model settings) that set a layer width, capped on the proxy.
WIDTHS = ("embed_dim", "hidden_dim", "num_filters", "ff_dim")


@dataclass(frozen=True)
class ProxySettings:
    """Size of the proxy problem and of its table (the ``proxy`` config section)."""

    rows: int = 1200  # stratified slice of the search subset
    max_len: int = 32  # tokens per text
    max_epochs: int = 4  # the proxy fidelity's maximum
    width_cap: int = 64  # largest embed_dim / hidden_dim / num_filters / ff_dim
    configs: int = 30  # configs in the table
    prior_fraction: float = 0.25  # share of configs sampled around the prior
    seed: int = 0

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> ProxySettings:
        """Settings from a mapping (missing keys keep their defaults); one ConfigError per fault."""
        raw = dict(raw or {})
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ConfigError(
                f"proxy settings have unknown key(s) {unknown}; valid ones: {', '.join(known)}"
            )
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name == "prior_fraction":
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                if not ok or not 0.0 <= float(value) <= 1.0:
                    raise ConfigError(
                        f"proxy.prior_fraction is {value!r}; set it to a number in [0, 1], "
                        "e.g. 0.25"
                    )
                values[name] = float(value)
                continue
            lowest = 0 if name == "seed" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
                raise ConfigError(
                    f"proxy.{name} is {value!r}; set it to a whole number >= {lowest}"
                )
            values[name] = int(value)
        return cls(**values)


# --- the proxy space -------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cap(hp: Hyperparameter, cap: int) -> Hyperparameter | tuple[Any]:
    """``hp`` with its widths capped, or a 1-tuple holding the only value left."""
    if hp.name not in WIDTHS:
        return hp
    if hp.type == "categorical":
        numbers = [c for c in hp.choices if _is_number(c)]
        if not numbers or max(numbers) <= cap:
            return hp
        smallest = min(numbers)
        keep = tuple(c for c in hp.choices if not _is_number(c) or c <= cap or c == smallest)
        if len(keep) == 1:
            return (keep[0],)
        kept_numbers = [c for c in keep if _is_number(c)]
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
        key: cap if key.split(SEP)[-1] in WIDTHS and _is_number(value) and value > cap else value
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
        for name, default in models.hyperparameters(family).items():
            key = f"{family}{SEP}{name}"
            taken = name in searched or key in searched or name in fixed or key in fixed
            wide = isinstance(default, int | float) and _is_number(default) and default > cap
            if name in WIDTHS and wide and not taken:
                fixed[key] = cap
    fid = space.fidelity
    top = max(1, min(fid.max, settings.max_epochs))
    fidelity = Fidelity(fid.name, min(fid.min, top), top, fid.eta)
    proxy = Space(tuple(hps), fidelity, fixed)
    return space_mod.from_dict(space_mod.to_dict(proxy), where="proxy search space")
