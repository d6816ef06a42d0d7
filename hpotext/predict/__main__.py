"""python -m hpotext.predict BUNDLE INPUT -o OUTPUT: label new texts with a study's bundle.

    python -m hpotext.predict results/vader/bundle new.csv -o new_predicted.csv
    python -m hpotext.predict results/vader/bundle reviews.jsonl --text-column body -o out.parquet

The output holds every input row and column, then ``label`` (the seed ensemble's prediction)
and one ``prob_<class>`` column per class in the bundle's class order. Formats come from the
suffixes (csv, tsv, jsonl, parquet; csv/tsv/jsonl may end in .gz, .bz2, .xz or .zip).
"""

from __future__ import annotations

import argparse
import logging
import sys

from hpotext.errors import HpotextError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hpotext.predict", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("bundle", help="a model bundle folder (results/<exp>/bundle)")
    parser.add_argument("input", help="csv, tsv, jsonl or parquet file of texts")
    parser.add_argument("-o", "--output", required=True, help="where to write the predictions")
    parser.add_argument("--text-column", default="text", help="column holding the texts")
    parser.add_argument(
        "--format", default="auto", help="input format: auto (by suffix), csv, tsv, jsonl, parquet"
    )
    parser.add_argument("--delimiter", default="", help="csv/tsv field delimiter")
    parser.add_argument("--encoding", default="utf-8", help="text encoding of csv/tsv/jsonl")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f"--batch-size is {args.batch_size}; give 1 or more")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    from hpotext.predict.steps import predict_file

    try:
        predict_file(
            args.bundle,
            args.input,
            args.output,
            text_column=args.text_column,
            format=args.format,
            delimiter=args.delimiter,
            encoding=args.encoding,
            batch_size=args.batch_size,
            device=args.device,
        )
    except HpotextError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
