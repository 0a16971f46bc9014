"""Training: models by name, the multi-device loop, checkpoints, the with/without-augmentation report."""
