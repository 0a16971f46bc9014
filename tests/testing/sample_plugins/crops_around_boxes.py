"""Well-behaved: a crop whose draw only shows around a box smaller than the image (``needs_targets``); the
harness shows it one."""

import gluon_augplug
from gluon_augplug import Transform


class BoxJitterCrop(Transform):
    """Crop the first box, each side moved out by up to ``jitter`` of its size, clipped to the image: a crop
    whose draw only shows when there is a box smaller than the image (``needs_targets``)."""

    random = True
    target_mode = gluon_augplug.TargetMode.GEOMETRIC
    needs_targets = True
    jitter = gluon_augplug.params.Number(0.25, 0.0, 1.0, doc="the most a side moves, a fraction of the box")

    def sample(self, rng, shape, targets=None):
        h, w = shape[:2]
        x0, y0, x1, y1 = (float(v) for v in targets[0, :4]) if targets is not None and len(targets) else \
            (0.0, 0.0, float(w), float(h))
        dx, dy = (x1 - x0) * self.jitter, (y1 - y0) * self.jitter
        move = rng.uniform(0.0, 1.0, 4)
        return {"window": [int(max(0, x0 - dx * move[0])), int(max(0, y0 - dy * move[1])),
                           int(min(w, x1 + dx * move[2] + 1)), int(min(h, y1 + dy * move[3] + 1))]}

    def apply(self, img, layout, window=(0, 0, 1, 1)):
        x0, y0, x1, y1 = window
        return img[y0:y1, x0:x1].copy()

    def geometry(self, params, in_hw, out_hw):
        import numpy as np

        x0, y0 = params["window"][:2]
        return np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0], [0.0, 0.0, 1.0]])


@gluon_augplug.hookimpl(specname="augplug_register_transforms")
def register_box_jitter_crop(register):
    register("BoxJitterCrop", BoxJitterCrop)
