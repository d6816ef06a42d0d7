"""Using what a study found: the self-contained model bundle (:mod:`hpotext.predict.bundle`),
prediction on new texts (``python -m hpotext.predict``, :mod:`hpotext.predict.table`) and the
seed ensemble's metrics (:mod:`hpotext.predict.ensemble`)."""
