"""Reviewed snapshots of what a model is shown: one JSON file per tool, refreshed by one command."""
