"""The proxy stage's steps: one shard of the proxy table, the surrogate fitted to it, and the
candidate optimizers replayed on it. Heavy libraries (torch, scikit-learn, the optimizers') are
imported by the functions that need them.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from typing import Any

import numpy as np
import pandas as pd

from hpotext import space as space_mod
from hpotext.data.info import SplitFiles
from hpotext.io import canonical_json, read_json, write_json, write_parquet
from hpotext.optimizers.records import Suggestion
from hpotext.proxy.settings import ProxySettings, proxy_space
from hpotext.proxy.surrogate import proxy_budget
from hpotext.proxy.table import (
    EpochSeconds,
    append_partial,
    column_kind,
    column_value,
    partial_path,
    proxy_data,
    read_partial,
    sample_configs,
    scratch_path,
)
from hpotext.space.core import MODEL
from hpotext.train.loop import default_device

log = logging.getLogger(__name__)


def proxy_table_shard(
    space_path: str,
    files: SplitFiles,
    settings: dict[str, Any],
    base_train: dict[str, Any],
    out_path: str,
    shard: int = 0,
    shards: int = 1,
) -> None:
    """Train the sampled proxy configs from scratch to the proxy's max fidelity; write the
    long table (config_id, model, config, config.<key>..., epoch, val_error, epoch_seconds,
    status) to ``out_path`` (parquet, atomically). Checkpoints live in a temporary folder.

    With ``shards`` > 1 only the configs whose index is ``shard`` modulo ``shards`` are
    trained: shards run as parallel jobs and ``merge_tables`` joins them. Every config trains
    with the same seed whichever shard it lands in, so the joined table does not depend on
    the number of shards (timings aside).

    Each finished config is also appended to ``partial_path(out_path)``; a rerun after a kill
    reuses those and trains only the rest.

    ``batch_size: auto`` in ``base_train`` trains with 64 (the proxy slice is too small for
    the largest batch that fits on the device).
    """
    from hpotext.search.objective import TrialRunner

    opts = ProxySettings.from_dict(settings)
    space = proxy_space(space_mod.load(space_path), opts)
    data = proxy_data(files, opts.rows, opts.max_len, opts.seed)
    configs = sample_configs(space, opts.configs, opts.prior_fraction, opts.seed)
    timer = EpochSeconds()
    runner = TrialRunner(space, data, base_train, opts.seed, default_device(), callbacks=(timer,))
    top = space.fidelity.max
    kinds = {hp.key: column_kind(hp) for hp in space.hyperparameters}
    partial = partial_path(out_path)
    partial.parent.mkdir(parents=True, exist_ok=True)
    done = read_partial(partial, {i: canonical_json(c) for i, c in enumerate(configs)})
    if done:
        log.info("resuming: %d proxy configs already trained (%s)", len(done), partial)
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    tmp = scratch_path(out_path)
    shutil.rmtree(tmp, ignore_errors=True)  # checkpoints a killed run of this shard left
    with partial.open("a") as keep:
        for i, config in enumerate(configs):
            if i % shards != shard:
                continue
            if i in done:
                rows += done[i]
                continue
            timer.seconds = []
            result = runner(Suggestion(i, config, top), None, tmp / f"config{i:04d}")
            ok = result.ok and len(result.curve) > 0
            errors = list(result.curve) if ok else [1.0] * top
            seconds = list(timer.seconds)
            mean = float(np.mean(seconds)) if seconds else math.nan
            seconds += [mean] * (len(errors) - len(seconds))
            text = canonical_json(config)
            base = {
                "config_id": i,
                "model": str(config.get(MODEL, space.fixed.get(MODEL))),
                "config": text,
            }
            for hp in space.hyperparameters:
                base[f"config.{hp.key}"] = column_value(hp, config.get(hp.key), kinds[hp.key])
            config_rows = [
                {**base, "epoch": epoch, "val_error": float(err), "epoch_seconds": sec,
                 "status": result.status}
                for epoch, (err, sec) in enumerate(zip(errors, seconds, strict=True), start=1)
            ]  # fmt: skip
            append_partial(keep, i, text, config_rows)
            rows += config_rows
            log.info(
                "proxy config %d/%d (%s): %s, error %.4f, %.1f s in all",
                i + 1, len(configs), base["model"], result.status, errors[-1],
                time.perf_counter() - started,
            )  # fmt: skip
    write_parquet(pd.DataFrame(rows), out_path)
    partial.unlink(missing_ok=True)
    shutil.rmtree(tmp, ignore_errors=True)


POOR_SPEARMAN = 0.5  # below this rank correlation the surrogate's ordering is not trusted


def proxy_surrogate(
    table_path: str,
    space_path: str,
    settings: dict[str, Any],
    budget_evaluations: float,
    model_out: str,
    quality_out: str,
    cost: str = "epochs",
    kind: str = "extra_trees",
) -> dict[str, Any]:
    """Fit the surrogate (``kind``: proxy.surrogate) on the proxy table; write it and its
    quality on held-out configs.

    ``cost`` is the unit the replays count (``hpotext.proxy.replay.SurrogateBenchmark``): epochs
    for a search budget in epochs or evaluations, seconds for one in seconds; the budget is
    ``budget_evaluations`` full-fidelity proxy evaluations in that unit.
    """
    from hpotext.proxy.replay import best_true
    from hpotext.proxy.settings import ProxySettings, proxy_space  # torch: only the proxy's steps
    from hpotext.proxy.surrogate import Surrogate

    opts = ProxySettings.from_dict(settings)
    space = proxy_space(space_mod.load(space_path), opts)
    table = pd.read_parquet(table_path)
    surrogate = Surrogate.fit(table, space, seed=opts.seed, kind=kind)
    quality: dict[str, Any] = dict(surrogate.quality(seed=opts.seed))
    quality["best_true"] = best_true(surrogate, table)
    quality["cost_unit"] = cost
    quality["surrogate"] = kind
    quality["budget"] = (
        proxy_budget(table, budget_evaluations)
        if cost == "seconds"
        else float(budget_evaluations * space.fidelity.max)
    )
    quality["budget_evaluations"] = float(budget_evaluations)
    quality["poor"] = bool(quality["spearman"] < POOR_SPEARMAN)
    quality["warning"] = (
        f"the surrogate ranks held-out proxy configs poorly (Spearman {quality['spearman']:.2f} "
        f"< {POOR_SPEARMAN}); treat the selection with care or raise proxy.configs"
        if quality["poor"]
        else None
    )
    if quality["warning"]:
        log.warning(quality["warning"])
    surrogate.save(model_out)
    write_json(quality, quality_out)
    log.info("surrogate: Spearman %.3f, R2 %.3f", quality["spearman"], quality["r2"])
    return quality


def proxy_run(
    surrogate_path: str, quality_path: str, optimizers: list[str], seeds: list[int], out: str
) -> None:
    """Replay each optimizer on the surrogate once per seed, for the shared simulated budget.

    One job replays several optimizers: its cost is mostly the imports (torch, sklearn and
    every optimizer's library), paid once per job.
    """
    from hpotext.proxy.replay import run_optimizer  # every optimizer's library
    from hpotext.proxy.surrogate import Surrogate

    surrogate = Surrogate.load(surrogate_path)
    quality = read_json(quality_path)
    budget, cost = float(quality["budget"]), str(quality["cost_unit"])
    runs = []
    for optimizer in optimizers:
        for seed in seeds:
            traj = run_optimizer(optimizer, surrogate.space, surrogate, seed, budget, cost=cost)
            log.info(
                "%s seed %d: %d trials, final incumbent error %.4f",
                optimizer,
                seed,
                len(traj),
                traj["incumbent_true"].iloc[-1] if len(traj) else float("nan"),
            )
            runs.append(traj)
    write_parquet(pd.concat(runs, ignore_index=True), out)
