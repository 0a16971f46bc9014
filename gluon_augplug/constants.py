"""Data-set constants shared by the readers, the presets, the harness and the benchmarks."""

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)  # the training set's per-pixel standard deviation
# GluonCV's CIFAR scripts normalise with these (a per-image average of standard deviations, not the set's)
GLUONCV_CIFAR10_STD = (0.2023, 0.1994, 0.2010)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# GluonCV's COCOKeyPoints.joint_pairs: the left and right joints of COCO's 17 keypoints (eyes, ears, shoulders,
# elbows, wrists, hips, knees, ankles), which trade places when the image is mirrored
COCO_FLIP_PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
