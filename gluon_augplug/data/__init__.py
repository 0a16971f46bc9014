"""Datasets: per-sample seeded augmentation (and, later, data-set readers)."""
