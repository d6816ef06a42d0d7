"""Serve a study's trials in optuna-dashboard 0.21 on the loopback interface.

The trials come from an Optuna journal that mirrors the trial store (hpotext.status.mirror),
written under ``results/<exp>/dashboard/`` and synced every ``interval`` seconds while the
server runs; the dashboard reads only that mirror, never the trial store.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import optuna

from hpotext.errors import ConfigError, DataError
from hpotext.status.mirror import mirror_storage, open_mirror, sync

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


def mirror_path(study: Path) -> Path:
    return study / "dashboard" / "optuna_journal.log"


def check_port(port: int) -> None:
    """A ConfigError when ``port`` on the loopback interface is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError as err:
            raise ConfigError(
                f"port {port} on {HOST} is in use ({err.strerror}); pick a free one with --port"
            ) from err


def keep_syncing(store: Path, study: optuna.Study, interval: float, stop: threading.Event
                 ) -> None:  # fmt: skip
    while not stop.wait(interval):
        try:
            added = sync(store, study)
            if added:
                log.info("dashboard: %d new trials", added)
        except Exception:  # noqa: BLE001 - a torn read is retried at the next tick
            log.warning("dashboard: could not sync the mirror", exc_info=True)


def serve(study: str | Path, port: int = 8080, interval: float = 5.0) -> None:
    """Mirror ``study``'s search and serve it until interrupted."""
    from optuna_dashboard import run_server

    root = Path(study)
    store = root / "search"
    if not (store / "journal.jsonl").exists():
        raise DataError(
            f"{root} has no search (no search/journal.jsonl); give the results/<experiment> "
            "folder of a study whose search has started, e.g. results/vader"
        )
    check_port(port)
    storage = mirror_storage(mirror_path(root))
    mirror = open_mirror(storage, root.name)
    sync(store, mirror)
    stop = threading.Event()
    thread = threading.Thread(target=keep_syncing, args=(store, mirror, interval, stop),
                              daemon=True)  # fmt: skip
    thread.start()
    log.info("optuna-dashboard on http://%s:%d/dashboard/ (study %s)", HOST, port, root.name)
    try:
        run_server(storage, host=HOST, port=port)
    finally:
        stop.set()
