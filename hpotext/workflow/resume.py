"""Resume a killed or crashed study: ``python -m hpotext.workflow.resume [ARGS...]``.

A Snakemake run killed with SIGKILL (or a lost terminal, the OOM killer, a rebooted node) leaves
its lock in ``.snakemake/locks``; the next run refuses to start until ``snakemake --unlock``.
Unlocking while another Snakemake still runs in the same folder would let two runs write the
same files, so this command first looks for live processes of a run here (the Snakemake process
itself or one of its jobs, on this machine), refuses with one sentence if there is one, and
otherwise clears the stale lock and runs Snakemake again with ``--rerun-incomplete``: jobs the
kill interrupted run again, and those that keep their own progress continue from it (the search
from its trial store, retraining from its last epoch, a proxy table shard from its finished
configs). ARGS are passed to Snakemake unchanged (e.g. ``--cores 6 --resources gpu=1``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hpotext.errors import HpotextError
from hpotext.workflow.config import load_yaml

CONFIGFILE = ("--configfile", "--configfiles")


def lock_files(workdir: Path) -> list[Path]:
    """Snakemake's lock files in ``workdir`` (empty when no run holds or left a lock)."""
    return sorted((workdir / ".snakemake" / "locks").glob("*.lock"))


def running_here(workdir: Path, own: set[int] | None = None) -> list[tuple[int, str]]:
    """(pid, command line) of live processes started from ``workdir`` that belong to a
    Snakemake run (Snakemake itself or a job script under ``.snakemake/``), except ``own``."""
    own = own or {os.getpid(), os.getppid()}
    target = workdir.resolve()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in own:
            continue
        try:
            cwd = (proc / "cwd").resolve(strict=True)
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone, or not ours to read
            continue
        args = [a.decode(errors="replace") for a in argv if a]
        if cwd == target and of_a_run(args) and not _is_zombie(proc):
            found.append((int(proc.name), " ".join(args)))
    return found


def of_a_run(args: list[str]) -> bool:
    """Snakemake (``snakemake ...``, ``python -m snakemake ...``) or one of its jobs (a script
    or command under ``.snakemake/``)."""
    return any(
        Path(a).name == "snakemake" or ".snakemake/" in a or (a == "-m" and nxt == "snakemake")
        for a, nxt in zip(args, [*args[1:], ""][: len(args)], strict=True)
    )


def _is_zombie(proc: Path) -> bool:
    try:
        return (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def configfiles(args: list[str]) -> list[str]:
    """The files named by --configfile: every word after it up to the next option, as Snakemake
    reads them (so a target after it counts as a config file), or one in ``--configfile=a.yaml``."""
    files: list[str] = []
    taking = False
    for arg in args:
        name, eq, value = arg.partition("=")
        if arg.startswith("-"):
            taking = name in CONFIGFILE and not eq
            if name in CONFIGFILE and eq:
                files.append(value)
        elif taking:
            files.append(arg)
    return files


def check_configfiles(args: list[str]) -> None:
    """Every --configfile is a readable YAML mapping; else one sentence (Snakemake prints a
    traceback of 25 lines for a missing one)."""
    for name in configfiles(args):
        try:
            load_yaml(name)
        except HpotextError as err:
            hint = ""
            if not name.endswith((".yaml", ".yml")):
                hint = (" (Snakemake reads every word after --configfile as a config file: put "
                        "targets before the options)")  # fmt: skip
            raise HpotextError(f"{err}{hint}") from None


def clear_stale_lock(workdir: Path, args: list[str]) -> bool:
    """Remove a lock left by a dead run (via ``snakemake --unlock``); True when there was one.

    Raises HpotextError when a run still lives here: its lock is not stale.
    """
    if not lock_files(workdir):
        return False
    live = running_here(workdir)
    if live:
        pid, line = live[0]
        raise HpotextError(
            f"another Snakemake run is still active in {workdir} (pid {pid}: {line[:80]}); "
            "wait for it to finish or stop it (kill -TERM the Snakemake process) before resuming"
        )
    subprocess.run(
        [sys.executable, "-m", "snakemake", *args, "--unlock"],
        cwd=workdir, check=True, capture_output=True,
    )  # fmt: skip
    return True


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    workdir = Path.cwd()
    try:
        check_configfiles(args)
    except HpotextError as err:
        print(f"hpotext: {err}", file=sys.stderr)
        return 2
    try:
        if clear_stale_lock(workdir, args):
            print(f"hpotext: cleared the stale lock of a killed run in {workdir}", file=sys.stderr)
    except HpotextError as err:
        print(f"hpotext: {err}", file=sys.stderr)
        return 1
    # exec: signals (Ctrl-C, SIGTERM) reach Snakemake itself, as with a plain snakemake command
    os.execv(sys.executable, [sys.executable, "-m", "snakemake", *args, "--rerun-incomplete"])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
