"""The search stage's steps: one search worker, collecting the search, the runners-up and the
default config."""

from __future__ import annotations

import logging
import math
from typing import Any

from hpotext import space as space_mod
from hpotext.data.info import SplitFiles
from hpotext.errors import ConfigError, NoResultError
from hpotext.io import write_json, write_parquet
from hpotext.optimizers import TAKES_INITIAL, make_optimizer
from hpotext.search.driver import Budget, SearchWorker, comparables, incumbent, ranked_configs
from hpotext.search.objective import TrialRunner
from hpotext.search.settings import data_digest, open_search, search_meta
from hpotext.search.store import TrialStore
from hpotext.selection.rule import chosen_optimizer
from hpotext.space import portfolio as portfolio_mod
from hpotext.studies.sequence import hurdle_configs
from hpotext.train.diagnosis import stoppers
from hpotext.train.inputs import TrainInputs
from hpotext.train.loop import default_device
from hpotext.train.setup import ModelConfig, find_batch_size

log = logging.getLogger(__name__)
DEFAULT_FILE = "config/portfolio.yaml"


def search(
    space_path: str,
    files: SplitFiles,
    store_dir: str,
    optimizer: str,
    seed: int,
    budget: dict[str, Any],
    base_train: dict[str, Any],
    max_len: int,
    worker: str,
    workers: list[str],
    max_consecutive_failures: int,
    done_out: str,
    selection_path: str | None = None,
    stopping: dict[str, Any] | None = None,
    continuation: bool = True,
    options: dict[str, Any] | None = None,
    hurdle_paths: list[str] | None = None,
    on_change: str = "stop",
    portfolio: dict[str, Any] | None = None,
    dataset: str | None = None,
) -> int:
    """Run one search worker until the shared budget is spent; writes a small marker file.

    ``optimizer`` "auto" takes the name the selection stage wrote to ``selection_path``.
    ``stopping`` is the config's ``stopping`` section (diagnosis and EMA stopper, both on by
    default); ``continuation`` False trains promoted trials from scratch; ``options`` go to the
    optimizer (``search.options``). ``hurdle_paths`` are earlier tasks' incumbent.json files,
    whose configs RUSH evaluates first and uses as hurdles (hpotext/studies/sequence.py).
    ``on_change`` (search.on_change): what to do with an existing search started with other
    settings, "stop" with the commands that resolve it, or "new" to keep it aside and start anew.
    ``portfolio`` (search.portfolio: ``size`` and ``file``): the optimizer asks that many configs
    of the file's datasets other than ``dataset`` first (hpotext/space/portfolio.py).
    """
    optimizer, _ = chosen_optimizer(optimizer, selection_path)
    options = dict(options or {})
    if hurdle_paths:
        if optimizer != "rush":
            raise ConfigError(
                f"earlier tasks' incumbents are hurdles for rush only, not for {optimizer!r}; "
                "set search.optimizer to rush or drop the hurdles"
            )
        hurdles = hurdle_configs(hurdle_paths)
        options["hurdles"] = list(options.get("hurdles") or []) + hurdles
        log.info("RUSH hurdles from %s: %s", ", ".join(hurdle_paths), hurdles)
    space = space_mod.load(space_path)
    search_budget = Budget.from_dict(budget)  # a bad budget stops before the store is opened
    store = TrialStore(store_dir)
    digest = data_digest(*files.training())
    initial = portfolio_configs(portfolio, space, optimizer, dataset)
    if initial:
        options["initial"] = list(options.get("initial") or []) + initial
    meta = search_meta(
        space, optimizer, seed, base_train, max_len, digest, files.encoder, portfolio=portfolio
    )
    open_search(store, meta, on_change)
    data = TrainInputs(files, max_len)
    device = default_device()

    def batch_size_for(model: ModelConfig) -> int:
        return find_batch_size(model.family, model.hparams, data.for_model(model), device)

    opt = make_optimizer(optimizer, space, seed, **options)
    search = SearchWorker(
        store,
        opt,
        worker,
        search_budget,
        max_epochs=space.fidelity.max,
        eta=space.fidelity.eta,
        peers=tuple(workers),
        max_consecutive_failures=max_consecutive_failures,
        continuation=continuation,
    )
    callbacks = stoppers(stopping, comparables(store))
    runner = TrialRunner(space, data, base_train, seed, device, callbacks=callbacks,
                         batch_size_for=batch_size_for, on_epoch=search.report)  # fmt: skip
    finished = search.run(runner)
    write_json({"worker": worker, "trials_finished_this_run": finished}, done_out)
    return finished


def portfolio_configs(
    portfolio: dict[str, Any] | None, space: space_mod.Space, optimizer: str, dataset: str | None
) -> list[dict[str, Any]]:
    """The search.portfolio configs for ``optimizer`` (none when size is 0 or the optimizer
    takes no initial design, which the log says)."""
    size = int((portfolio or {}).get("size", 0))
    if size <= 0:
        return []
    if optimizer not in TAKES_INITIAL:
        log.warning("search.portfolio: %s takes no initial configs; the portfolio is not used",
                    optimizer)  # fmt: skip
        return []
    path = str((portfolio or {}).get("file") or DEFAULT_FILE)
    exclude = (dataset,) if dataset else ()
    configs = portfolio_mod.select(portfolio_mod.read(path), space, size, exclude)
    log.info("portfolio (%s, without %s): %d configs first", path, dataset, len(configs))
    return configs


def collect_search(store_dir: str, space_path: str, trials_out: str, incumbent_out: str) -> None:
    """trials.parquet and incumbent.json (the best config at the highest fidelity reached)."""
    store = TrialStore(store_dir)
    trials = store.trials()
    best = incumbent(trials)
    if best is None:
        raise NoResultError(
            f"no trial of the search in {store_dir} succeeded; see its logs, widen the space or "
            "raise search.budget"
        )
    write_parquet(store.table(), trials_out)
    space = space_mod.load(space_path)
    counts = {
        s: sum(t.status == s for t in trials.values())
        for s in ("completed", "stopped", "failed", "diverged", "pending")
    }
    write_json(
        {
            "trial_id": best.trial_id,
            "config": best.config,
            "fidelity": best.fidelity,
            "val_accuracy": 1.0 - float(best.objective if best.objective is not None else math.inf),
            "trials": len(trials),
            "status_counts": counts,
            "epochs_trained": sum(t.epochs_trained for t in trials.values()),
            "cost_seconds": sum(t.cost_seconds for t in trials.values()),
            "optimizer": store.meta().get("optimizer"),
            "space_digest": space.digest(),
        },
        incumbent_out,
    )
    log.info("incumbent trial %d: val accuracy %.4f", best.trial_id, 1.0 - (best.objective or 0))


def runner_up(store_dir: str, rank: int, out: str) -> dict[str, Any]:
    """The search's ``rank``-th best distinct config after the incumbent (rank 1: the second
    best), ranked as the incumbent is: the highest fidelity first, then validation error."""
    ranked = ranked_configs(TrialStore(store_dir).trials())
    if len(ranked) <= rank:
        raise NoResultError(
            f"the search in {store_dir} finished {len(ranked)} distinct config(s), too few for "
            f"runner-up {rank}; lower final.ensemble_top_k to {max(len(ranked), 1)} or raise "
            "search.budget"
        )
    t = ranked[rank]
    found = {
        "rank": rank,
        "trial_id": t.trial_id,
        "config": t.config,
        "fidelity": t.fidelity,
        "val_accuracy": 1.0 - float(t.objective or 0.0),
    }
    write_json(found, out)
    log.info("runner-up %d: trial %d, val accuracy %.4f", rank, t.trial_id, found["val_accuracy"])
    return found


def default_config(space_path: str, out: str) -> None:
    """The space's prior config (every hyperparameter at its prior), the default to beat."""
    space = space_mod.load(space_path)
    write_json({"config": space.default()}, out)
