"""The figures of D2L's image-augmentation chapter, made with gluon_augplug.

    python examples/augmentation_tour.py --image ../shared/data/cat1.jpg --out runs/demo

For each of the chapter's augmentations it applies the pipeline 8 times to the cat photo
and saves a 2x4 grid (the chapter's apply() + show_images()), seeded so the figures are
reproducible.
"""
import argparse
import os

from gluon_augplug import build_pipeline
from gluon_augplug.visual.grid import augmentation_grid, save_png
from gluon_augplug.io.images import read_image

# (file name, the chapter's augmentation)
FIGURES = [
    ("flip_left_right", "RandomFlipLeftRight"),
    ("flip_top_bottom", "RandomFlipTopBottom"),
    ("resized_crop", "RandomResizedCrop(200, scale=(0.1, 1), ratio=(0.5, 2))"),
    ("brightness", "RandomBrightness(0.5)"),
    ("hue", "RandomHue(0.5)"),
    ("color_jitter", "RandomColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.5)"),
    ("composed", "d2l-cat"),
]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", required=True)
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rows", type=int, default=2)
    p.add_argument("--cols", type=int, default=4)
    args = p.parse_args(argv)
    image = read_image(args.image)
    written = []
    for name, spec in FIGURES:
        pipeline = build_pipeline(spec, seed=args.seed)
        path = os.path.join(args.out, f"{name}.png")
        save_png(path, augmentation_grid(image, pipeline, args.rows, args.cols))
        print(f"{path}: {pipeline.to_string()}")
        written.append(path)
    return written


if __name__ == "__main__":
    main()
