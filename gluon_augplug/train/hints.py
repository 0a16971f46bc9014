"""What to try when a run waits for its input: one line, from the settings of the run itself."""
from __future__ import annotations

from .config import TrainConfig, streamed

INPUT_BOUND = 0.25  # the data-wait share from which an epoch is called bound by its input


def input_bound_hint(cfg: TrainConfig, share: float) -> str:
    """``""`` below :data:`INPUT_BOUND`; else ``"; bound by its input: try ..."`` naming the settings to change
    (threads or workers, the fused decode of encoded data, the batch path), and ``augplug profile``."""
    if share < INPUT_BOUND:
        return ""
    tries = []
    if cfg.val_data or streamed(cfg.data):  # streamed: a thread pool per process, workers on top
        tries.append(f"--threads {max(2 * cfg.threads, 2)}")
        if not cfg.num_workers:
            tries.append("--num-workers 2")
    else:
        tries.append(f"--num-workers {max(2 * cfg.num_workers, 2)}")
        tries.append("a RecordIO or image tree with --val-data (encoded images, decoded fused with the first crop)")
    if not cfg.batch_aug:
        tries.append("moving the flips, colour jitter and erasing to --batch-aug (one pass per batch on the device)")
    spec = cfg.train_aug if isinstance(cfg.train_aug, str) else "SPEC"
    return (f"; bound by its input ({100 * share:.0f}% of the time waiting for data): try {', '.join(tries)}; "
            f"`augplug profile '{spec[:60]}' --data {cfg.data}` gives each step's cost")
