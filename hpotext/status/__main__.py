"""python -m hpotext.status results/<exp>: which stage a study is at, and its search's progress.

    python -m hpotext.status results/vader

Prints the stages done, the search's trials by status, the budget used over all workers with an
ETA from the recent rate, the incumbent and the last failures. Reads files only: safe to call
while the workers write.
"""

from __future__ import annotations

import argparse
import sys

from hpotext.errors import HpotextError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hpotext.status", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("study", help="a study's results folder (results/<exp>)")
    args = parser.parse_args(argv)
    from hpotext.status.study import study_status

    try:
        status = study_status(args.study)
    except HpotextError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("\n".join(status.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
