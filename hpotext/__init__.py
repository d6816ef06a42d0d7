"""hpotext: hyperparameter optimisation for deep text classifiers, as a Snakemake workflow."""

from __future__ import annotations

__version__ = "0.1.0"
