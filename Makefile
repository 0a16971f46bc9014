# `make demo` and `make test` work on a fresh machine: both create .venv with the pinned
# dependencies when it is missing or out of date, then run.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.augplug-installed
SHARED ?= ../shared/data
DEMO_OUT ?= runs/demo
CHAPTER_PIPELINE := RandomFlipLeftRight, RandomColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.5), RandomResizedCrop(200, scale=(0.1, 1), ratio=(0.5, 2))

.PHONY: venv demo test clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[cpu,gluoncv,test]"
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p $(DEMO_OUT)
	$(VENV)/bin/augplug plugins
	$(VENV)/bin/augplug show $(SHARED)/cat1.jpg --pipeline RandomFlipLeftRight --rows 2 --cols 4 --seed 0 -o $(DEMO_OUT)/flip_left_right.png
	$(VENV)/bin/augplug show $(SHARED)/cat1.jpg --pipeline RandomFlipTopBottom --rows 2 --cols 4 --seed 0 -o $(DEMO_OUT)/flip_top_bottom.png
	$(VENV)/bin/augplug show $(SHARED)/cat1.jpg --pipeline "RandomResizedCrop(200, scale=(0.1, 1), ratio=(0.5, 2))" --rows 2 --cols 4 --seed 0 -o $(DEMO_OUT)/resized_crop.png
	$(VENV)/bin/augplug show $(SHARED)/cat1.jpg --pipeline "RandomBrightness(0.5)" --rows 2 --cols 4 --seed 0 -o $(DEMO_OUT)/brightness.png
	$(VENV)/bin/augplug show $(SHARED)/cat1.jpg --pipeline "RandomHue(0.5)" --rows 2 --cols 4 --seed 0 -o $(DEMO_OUT)/hue.png
	$(VENV)/bin/augplug show $(SHARED)/cat1.jpg --pipeline "RandomColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.5)" --rows 2 --cols 4 --seed 0 -o $(DEMO_OUT)/color_jitter.png
	$(VENV)/bin/augplug show $(SHARED)/cat1.jpg --pipeline "$(CHAPTER_PIPELINE)" --rows 2 --cols 4 --seed 0 -o $(DEMO_OUT)/composed.png
	@echo "augmentation grids of the cat photo written to $(DEMO_OUT)/"

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(VENV) runs .pytest_cache
