"""Training one config: the loop and its callbacks (diagnosis, early stopping, progress),
the training config, batching and metrics. The trainer knows nothing of optimizers."""
