"""The data stage: fetch a shipped dataset, read a user's table, clean and split it, build the
vocabulary, and take the search subset."""
