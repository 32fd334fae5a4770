"""Benchmarks, one module per family (engine, workers, render, app, store, cluster), each
registered by name in ``registry``; ``bench/run.py`` runs them. The scripts a benchmark runs in
a fresh process live in ``bench/scripts/`` as real files."""
