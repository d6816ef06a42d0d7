"""Stop bad trials early: BTTackler-style training diagnosis and an EMA trend stopper.

Both are trainer callbacks. They look only at the early part of a trial's training (epochs up
to ``check_fraction`` of the maximum fidelity) and stop a trial only when a symptom fires *and*
its validation accuracy is below ``percentile`` of comparable trials (other trials of the
search, at the same epoch; at least ``min_comparable`` of them), so an unusual but good trial
goes on. A non-finite training loss needs no diagnosis: the trainer stops at once (diverged).

Symptoms (defaults in ``DiagnosisSettings``; step-level ones are measured every ``interval``
optimiser steps, everything is decided at the end of an epoch, when validation is known):

- **EG** exploding gradients: some layer's gradient norm above ``eg_grad`` or not finite, or
  the training loss blown up to more than ``eg_loss`` times its first step's loss (with
  cross-entropy and Adam the norms stay bounded while the steps, and so the loss, explode).
- **VG** vanishing gradients: every layer's gradient norm below ``vg_grad``, or every layer's
  weights moving less than ``vg_update`` (relative change per step), i.e. nothing learns.
- **DR** dying ReLU: more than ``dr_fraction`` of the ReLU units output 0 on a whole batch.
- **SC** saturation / slow convergence: the training loss fell by less than ``sc_gain``
  (relative) from the first ``window`` steps of this run to the last ``window`` steps.
- **HO** heavy oscillation: mean |step-to-step change| of the training loss over the last
  ``window`` steps above ``ho_ratio`` times the mean loss of the run's first ``window`` steps.
- **NMG** no more gain: validation accuracy of the last ``nmg_window`` epochs not above the
  best before them by more than ``nmg_delta``.
- **OF** overfitting: validation loss rising and the validation-train loss gap widening over
  each of the last ``of_window`` epochs.

The EMA stopper smooths validation accuracy (``alpha``) and stops when the smoothed curve's
slope over ``window`` epochs falls below ``min_slope`` per epoch, gated the same way.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from hpotext.schema import checked, default
from hpotext.train.callbacks import Callback, TrainState

# epoch -> validation accuracies of comparable trials at that epoch
Comparables = Callable[[int], Sequence[float]]
SYMPTOMS = ("EG", "VG", "DR", "SC", "HO", "NMG", "OF")
WATCH_LIMIT = 1_000_000  # parameters with more elements are left out of VG's weight movement


@dataclass(frozen=True)
class Gate:
    """When a firing stopper may stop: early epochs only, and only a below-par trial."""

    check_fraction: float = default("stopping.check_fraction")
    percentile: float = default("stopping.percentile")
    min_comparable: int = default("stopping.min_comparable")

    def in_window(self, state: TrainState) -> bool:
        """Early enough to check, and not already at the trial's last epoch."""
        limit = self.check_fraction * max(state.max_epochs, 1)
        return state.epoch <= limit and state.epoch < state.target_epoch

    def below_par(self, accuracy: float, epoch: int, comparables: Comparables | None) -> str | None:
        """Why the trial is below par (a phrase), or None if it is not or cannot be told."""
        if comparables is None:
            return None
        peers = [float(a) for a in comparables(epoch) if math.isfinite(a)]
        if len(peers) < self.min_comparable:
            return None
        cut = float(np.percentile(peers, self.percentile))
        if accuracy >= cut:
            return None
        return (
            f"val acc {accuracy:.4f} < p{self.percentile:g} {cut:.4f} of {len(peers)} "
            f"trials at epoch {epoch}"
        )


@dataclass(frozen=True)
class DiagnosisSettings:
    """stopping.diagnosis: which symptoms the diagnosis looks for, and their thresholds."""

    enabled: bool = default("stopping.diagnosis.enabled")
    interval: int = default("stopping.diagnosis.interval")
    window: int = default("stopping.diagnosis.window")
    eg_grad: float = default("stopping.diagnosis.eg_grad")
    eg_loss: float = default("stopping.diagnosis.eg_loss")
    vg_grad: float = default("stopping.diagnosis.vg_grad")
    vg_update: float = default("stopping.diagnosis.vg_update")
    dr_fraction: float = default("stopping.diagnosis.dr_fraction")
    sc_gain: float = default("stopping.diagnosis.sc_gain")
    ho_ratio: float = default("stopping.diagnosis.ho_ratio")
    nmg_window: int = default("stopping.diagnosis.nmg_window")
    nmg_delta: float = default("stopping.diagnosis.nmg_delta")
    of_window: int = default("stopping.diagnosis.of_window")


@dataclass(frozen=True)
class EmaSettings:
    """stopping.ema: the EMA trend stopper's smoothing and slope."""

    enabled: bool = default("stopping.ema.enabled")
    alpha: float = default("stopping.ema.alpha")
    window: int = default("stopping.ema.window")
    min_slope: float = default("stopping.ema.min_slope")


class GatedStopper(Callback):
    """A stopper that may stop a trial only through its ``gate``."""

    def __init__(self, gate: Gate | None, comparables: Comparables | None) -> None:
        self.gate, self.comparables = gate or Gate(), comparables

    def stop_if_below_par(self, state: TrainState, reason: str) -> None:
        """Stop with ``reason`` if the trial's last validation accuracy is below par."""
        why = self.gate.below_par(state.history[-1].val_accuracy, state.epoch, self.comparables)
        if why:
            state.request_stop(f"{reason}; {why}")


class Diagnosis(GatedStopper):
    """BTTackler-style diagnosis of one trial's training (see the module docstring)."""

    def __init__(
        self,
        settings: DiagnosisSettings | None = None,
        gate: Gate | None = None,
        comparables: Comparables | None = None,
    ) -> None:
        super().__init__(gate, comparables)
        self.settings = settings or DiagnosisSettings()
        self.findings: dict[str, str] = {}  # symptom -> evidence, of the current trial
        self._hooks: list[Any] = []

    # --- lifecycle -----------------------------------------------------------------------------
    def on_train_begin(self, state: TrainState) -> None:
        s = self.settings
        self.findings = {}
        self._losses: deque[float] = deque(maxlen=s.window)
        self._first: list[float] = []
        self._snapshot: list[torch.Tensor] | None = None
        self._snapshot_step = 0
        self._armed, self._dead = False, [0, 0]
        for hook in self._hooks:
            hook.remove()
        self._hooks = [
            m.register_forward_hook(self._relu_hook)
            for m in state.model.modules()
            if isinstance(m, nn.ReLU)
        ]

    def on_train_end(self, state: TrainState) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []

    # --- step-level indicators -----------------------------------------------------------------
    def _relu_hook(self, module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        if not self._armed or not module.training or output.dim() < 2:
            return  # only the armed training step's forward pass, not validation
        with torch.no_grad():
            # units: the feature axis (dim 1 of (B, F, L) conv maps, the last axis otherwise)
            axis = 1 if output.dim() == 3 else output.dim() - 1
            alive = (output > 0).transpose(0, axis).reshape(output.shape[axis], -1).any(dim=1)
            self._dead[0] += int((~alive).sum())
            self._dead[1] += int(alive.numel())

    def on_step_end(self, state: TrainState) -> None:
        s = self.settings
        if len(self._first) < s.window:
            self._first.append(state.loss)
        self._losses.append(state.loss)
        if not self.gate.in_window(state):
            self._armed = False
            return
        if self._armed:  # the ReLU hooks saw this step's forward pass
            self._armed = False
            dead, total = self._dead
            self._dead = [0, 0]
            if total and dead / total > s.dr_fraction:
                self._note("DR", f"{dead / total:.0%} of {total} ReLU units dead on a batch")
        if state.step % s.interval == 0:
            self._check_gradients(state)
            self._check_loss()
        self._armed = (state.step + 1) % s.interval == 0 and bool(self._hooks)

    def _check_gradients(self, state: TrainState) -> None:
        s = self.settings
        params = [p for p in state.model.parameters() if p.grad is not None]
        if not params:
            return
        grads = cast(list[torch.Tensor], [p.grad for p in params])
        with torch.no_grad():
            norms = torch.stack(torch._foreach_norm(grads)).float().tolist()
            # weights to compare with the next check; big embedding tables are left out (a
            # copy every few steps would cost more than the check is worth)
            weights = [p.detach().clone() for p in params if p.numel() <= WATCH_LIMIT]
            bad = [n for n in norms if not math.isfinite(n) or n > s.eg_grad]
            if bad:
                self._note("EG", f"gradient norm {max(bad):.3g} > {s.eg_grad:g}")
            if max(norms) < s.vg_grad:
                self._note("VG", f"largest layer gradient norm {max(norms):.3g} < {s.vg_grad:g}")
            if weights and self._snapshot is not None and len(self._snapshot) == len(weights):
                steps = max(1, state.step - self._snapshot_step)
                moved = torch.stack(
                    torch._foreach_norm(torch._foreach_sub(weights, self._snapshot))
                )
                size = torch.stack(torch._foreach_norm(self._snapshot))
                change = (moved.float() / (size.float() + 1e-12) / steps).tolist()
                if max(change) < s.vg_update:
                    self._note("VG", f"weights move {max(change):.3g} per step < {s.vg_update:g}")
        self._snapshot, self._snapshot_step = weights, state.step

    def _check_loss(self) -> None:
        s = self.settings
        if self._first and self._first[0] > 0 and self._losses[-1] > s.eg_loss * self._first[0]:
            self._note(
                "EG",
                f"training loss {self._losses[-1]:.3g} > {s.eg_loss:g} x the first step's "
                f"{self._first[0]:.3g}",
            )
        if len(self._losses) < s.window or len(self._first) < s.window:
            return
        scale = float(np.mean(self._first))
        jumps = float(np.mean(np.abs(np.diff(np.asarray(self._losses)))))
        if scale > 0 and math.isfinite(jumps) and jumps / scale > s.ho_ratio:
            self._note("HO", f"step-to-step loss change {jumps / scale:.2f} x the initial loss")

    def _note(self, symptom: str, evidence: str) -> None:
        self.findings.setdefault(symptom, evidence)

    # --- epoch-level indicators and the decision ----------------------------------------------
    def on_epoch_end(self, state: TrainState) -> None:
        s = self.settings
        if not self.gate.in_window(state):
            return
        if len(self._first) == s.window and len(self._losses) == s.window:
            start, now = float(np.mean(self._first)), float(np.mean(self._losses))
            gain = (start - now) / start if start > 0 else 0.0
            if gain < s.sc_gain:
                self._note("SC", f"training loss fell {gain:.1%} < {s.sc_gain:.0%} this run")
        hist = state.history
        if len(hist) > s.nmg_window:
            before = max(r.val_accuracy for r in hist[: -s.nmg_window])
            recent = max(r.val_accuracy for r in hist[-s.nmg_window :])
            if recent <= before + s.nmg_delta:
                self._note("NMG", f"no val acc gain in {s.nmg_window} epochs")
        if len(hist) > s.of_window:
            tail = hist[-(s.of_window + 1) :]
            rising = all(b.val_loss > a.val_loss for a, b in zip(tail, tail[1:], strict=False))
            gaps = [r.val_loss - r.train_loss for r in tail]
            widening = all(b > a for a, b in zip(gaps, gaps[1:], strict=False))
            if rising and widening:
                self._note("OF", f"val loss up and train/val gap wider for {s.of_window} epochs")
        if self.findings:
            codes = "+".join(k for k in SYMPTOMS if k in self.findings)
            evidence = "; ".join(self.findings[k] for k in SYMPTOMS if k in self.findings)
            self.stop_if_below_par(state, f"diagnosis {codes}: {evidence}")


class EmaStopper(GatedStopper):
    """Stop when the EMA-smoothed validation accuracy stops rising (gated like ``Diagnosis``)."""

    def __init__(
        self,
        settings: EmaSettings | None = None,
        gate: Gate | None = None,
        comparables: Comparables | None = None,
    ) -> None:
        super().__init__(gate, comparables)
        self.settings = settings or EmaSettings()

    def on_epoch_end(self, state: TrainState) -> None:
        s = self.settings
        hist = state.history
        if not self.gate.in_window(state) or len(hist) <= s.window:
            return
        smooth = ema([r.val_accuracy for r in hist], s.alpha)
        slope = (smooth[-1] - smooth[-1 - s.window]) / s.window
        if slope < s.min_slope:
            self.stop_if_below_par(
                state,
                f"ema: smoothed val acc slope {slope:+.4f}/epoch < {s.min_slope:g} over "
                f"{s.window} epochs",
            )


def ema(values: Sequence[float], alpha: float) -> list[float]:
    """Exponential moving average, started at the first value."""
    out: list[float] = []
    for v in values:
        out.append(v if not out else alpha * v + (1.0 - alpha) * out[-1])
    return out


def stoppers(raw: dict[str, Any] | None, comparables: Comparables | None) -> tuple[Callback, ...]:
    """The callbacks a ``stopping`` config section asks for (both on by default); the section
    is checked against config/schema.yaml (one ConfigError naming the bad key)."""
    values = checked("stopping", raw)
    diag = DiagnosisSettings(**values.pop("diagnosis"))
    smooth = EmaSettings(**values.pop("ema"))
    gate = Gate(**values)
    out: list[Callback] = []
    if diag.enabled:
        out.append(Diagnosis(diag, gate, comparables))
    if smooth.enabled:
        out.append(EmaStopper(smooth, gate, comparables))
    return tuple(out)
