"""Write config/portfolio.yaml: the portfolio initial design from the families benchmark.

Every (dataset, model family) cell of benchmarks/results/families.parquet holds the config its
search tuned and the validation accuracy that search reached; the portfolio file keeps them
all, and a study draws from it the entries of the *other* datasets (hpotext/space/portfolio.py).
Nothing is trained here.

    python benchmarks/portfolio.py
    python benchmarks/portfolio.py --table benchmarks/results/families.parquet --out /tmp/p.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent


def entries(table: pd.DataFrame) -> list[dict]:
    """One entry per row, datasets and families in name order."""
    rows = table.sort_values(["dataset", "family"])
    return [
        {
            "dataset": str(r.dataset),
            "family": str(r.family),
            "val_accuracy": round(float(r.search_val_accuracy), 4),
            "config": json.loads(r.tuned_config),
        }
        for r in rows.itertuples()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default=str(ROOT / "benchmarks/results/families.parquet"))
    parser.add_argument("--out", default=str(ROOT / "config/portfolio.yaml"))
    args = parser.parse_args()
    found = entries(pd.read_parquet(args.table))
    header = (
        "# The portfolio initial design (hpotext/space/portfolio.py): per shipped dataset and\n"
        "# model family, the config the families benchmark tuned and its search's validation\n"
        f"# accuracy. Written by `python benchmarks/portfolio.py` from {Path(args.table).name};\n"
        "# a study starts with the other datasets' entries (search.portfolio).\n"
    )
    text = yaml.safe_dump({"entries": found}, sort_keys=False, default_flow_style=None, width=100)
    Path(args.out).write_text(header + text)
    print(f"wrote {len(found)} entries to {args.out}")


if __name__ == "__main__":
    main()
