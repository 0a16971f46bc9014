"""Pipelines built by name: spec parsing, building, and the Pipeline object."""
