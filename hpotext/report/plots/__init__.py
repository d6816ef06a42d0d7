"""Figures, one module per stage; matplotlib is imported only here."""
