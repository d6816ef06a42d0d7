"""Figures, one module per stage; matplotlib (on its Agg backend: no display, PNG out) is
imported only in this package."""

import matplotlib

matplotlib.use("Agg")  # before any submodule imports pyplot
