"""python -m hpotext.dashboard results/<exp>: the study's trials in optuna-dashboard.

    python -m hpotext.dashboard results/vader --port 8080

Open http://127.0.0.1:8080/dashboard/ in a browser. The trials are mirrored into an Optuna
journal under results/<exp>/dashboard/ and kept up to date while the search runs; the trial
store itself is only read.
"""

from __future__ import annotations

import argparse
import logging
import sys

from hpotext.errors import HpotextError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hpotext.dashboard", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("study", help="a study's results folder (results/<exp>)")
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between syncs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    from hpotext.dashboard.serve import serve

    try:
        serve(args.study, args.port, args.interval)
    except HpotextError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
