"""The final stage: retrain the tuned and the default config over several seeds, evaluate them
on the test split, and the TF-IDF reference."""
