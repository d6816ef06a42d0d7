"""The proxy benchmark: a learning-curve table on a shrunk task, a surrogate fitted to it, and
the candidate optimizers replayed on it."""
