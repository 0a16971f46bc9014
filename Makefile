# `make demo` and `make test` work on a fresh machine: both create .venv with the pinned
# dependencies when it is missing or out of date, then run.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.augplug-installed
SHARED ?= ../shared/data
DEMO_OUT ?= runs/demo

.PHONY: venv demo test lint docs bench clean

venv: $(STAMP)

# The albumentations and imgaug adapters are real distributions (plugins/), installed as a user
# installs a third-party plugin (not editable), so the suite checks them as such.
ADAPTERS := plugins/gluon-augplug-albumentations plugins/gluon-augplug-imgaug
ADAPTER_FILES := $(wildcard $(addsuffix /setup.cfg,$(ADAPTERS)) $(addsuffix /*/*.py,$(ADAPTERS)))

$(STAMP): setup.cfg pyproject.toml constraints.txt $(ADAPTER_FILES)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[cpu,gluoncv,test,lint,docs,video]"
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt --force-reinstall --no-deps $(ADAPTERS)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt $(ADAPTERS)
	touch $(STAMP)

# The reduced version of D2L's with/without-augmentation experiment that runs on 2 CPU cores
# in a few minutes (the chapter's full run is for GPUs: see the README).
COMPARE_ARGS ?= --data $(SHARED)/cifar10-jpg.tar.gz --model cifar_resnet20_v1 --train-limit 5000 \
	--test-limit 2000 --epochs 8 --batch-size 128 --aug flip=d2l-flip --aug none=d2l-none

demo: $(STAMP)
	$(VENV)/bin/augplug plugins --all
	$(VENV)/bin/augplug gallery -o $(DEMO_OUT)/gallery --voc $(SHARED)/voc-cat
	$(PY) examples/augmentation_tour.py --image $(SHARED)/cat1.jpg --out $(DEMO_OUT)
	$(VENV)/bin/augplug show $(SHARED)/voc-cat/JPEGImages/cat1.jpg --pipeline ssd-train --seed 0 \
		--boxes $(SHARED)/voc-cat/Annotations/cat1.xml -o $(DEMO_OUT)/ssd-train.png
	$(VENV)/bin/augplug compare $(COMPARE_ARGS) --out $(DEMO_OUT)/compare --overwrite
	@echo "augmentation grids of the cat photo, the gallery of every installed transform ($(DEMO_OUT)/gallery/index.html) and the comparison report are in $(DEMO_OUT)/"

# lint (ruff), the Python versions setup.cfg claims (vermin: syntax and standard-library members; the
# runtime typing it does not see is tests/test_python_support.py's) and the public API's types (mypy)
lint: $(STAMP)
	$(PY) -m ruff check .
	$(VENV)/bin/vermin --target=3.8- --violations --no-tips --quiet gluon_augplug
	$(PY) -m mypy

# the documentation site, warnings as errors (links and anchors included), into runs/site/
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

test: lint docs
	$(PY) -m pytest

# The benchmark's anchor libraries need numpy releases mxnet 1.9.1 cannot share a venv with:
# albumentations 2.x wants numpy>=1.24, imgaug 0.4 numpy<1.24. Each gets its own environment.
BENCH := .bench
$(BENCH)/albumentations/bin/python:
	$(PYTHON) -m venv $(BENCH)/albumentations
	$(BENCH)/albumentations/bin/pip install --quiet --disable-pip-version-check "albumentations==2.0.8"

$(BENCH)/imgaug/bin/python:
	$(PYTHON) -m venv $(BENCH)/imgaug
	$(BENCH)/imgaug/bin/pip install --quiet --disable-pip-version-check "imgaug==0.4.0" "numpy==1.23.5" \
		"opencv-python<4.9" "opencv-python-headless<4.9" "scikit-image<0.22" "scipy<1.12" "matplotlib<3.9" "imageio<2.35"

# DALI runs its CPU pipelines without a GPU; 424 MB, so it too lives in its own environment
$(BENCH)/dali/bin/python:
	$(PYTHON) -m venv $(BENCH)/dali
	$(BENCH)/dali/bin/pip install --quiet --disable-pip-version-check "nvidia-dali-cuda120==2.4.0" "numpy<2.3"

bench: $(STAMP) $(BENCH)/albumentations/bin/python $(BENCH)/imgaug/bin/python $(BENCH)/dali/bin/python
	$(PY) benchmarks/bench.py --out runs/bench --docs

clean:
	rm -rf $(VENV) $(BENCH) runs .pytest_cache
