"""République numérique's scale replayed under load: `python -m bench.replay` (see __main__)."""
