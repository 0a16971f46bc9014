"""The harness's checks, a module per concern; importing this package registers them in their order."""
from . import contract, randomness, processes, batch, targets, clips, views, schedules  # noqa: F401  (the order is the checks' order)
from .registry import REGISTRY, SEEDS, Check, Skip, check

__all__ = ["REGISTRY", "SEEDS", "Check", "Skip", "check"]
