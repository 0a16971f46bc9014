"""Test-time augmentation: views of every input by name, the network's predictions mapped back by each view's
inverse map and merged (class scores, dense maps, keypoint heatmaps, boxes, clips).

>>> from gluon_augplug.tta import TTA
>>> tta = TTA(net, "flip")                    # doctest: +SKIP
>>> probabilities = tta(batch)                # doctest: +SKIP
"""
from .views import (VIEW_SET_DOCS, VIEW_SETS, View, ViewError, black_of, crop, five_crop, get_views, hflip, identity, leaf_count,
                    multi_eval, multi_scale, random_views, sliding_window, spec_view, ten_crop, three_crop, vflip,
                    view_names)
from .wrapper import TASKS, TTA, TTAResult, merged_views

__all__ = ["TTA", "TTAResult", "TASKS", "View", "ViewError", "black_of", "get_views", "spec_view", "random_views", "view_names",
           "leaf_count", "merged_views", "crop", "hflip", "vflip", "identity", "five_crop", "ten_crop", "three_crop",
           "multi_scale", "multi_eval", "sliding_window", "VIEW_SETS", "VIEW_SET_DOCS"]
