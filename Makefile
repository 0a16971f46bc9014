# `make demo` and `make test` work on a fresh machine: both create .venv with the pinned
# dependencies when it is missing or out of date, then run.
# PYTHON: the interpreter of .venv. Unset, tools/find-python picks one MXNet 1.9.1 runs on (3.8-3.11: python3.11,
# python3.10, ... on PATH, pyenv's, or one uv finds or installs), or stops saying what is missing and how to get it.
PYTHON ?=
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.augplug-installed
SHARED ?= ../shared/data
DEMO_OUT ?= runs/demo

.PHONY: venv demo test test-core dist lint docs bench clean

venv: $(STAMP)

# The albumentations and imgaug adapters are real distributions (plugins/), installed as a user
# installs a third-party plugin (not editable), so the suite checks them as such.
ADAPTERS := plugins/gluon-augplug-albumentations plugins/gluon-augplug-imgaug
ADAPTER_FILES := $(wildcard $(addsuffix /setup.cfg,$(ADAPTERS)) $(addsuffix /*/*.py,$(ADAPTERS)))

$(STAMP): setup.cfg pyproject.toml constraints.txt $(ADAPTER_FILES)
	@test -x $(PY) || { py=$$(tools/find-python mxnet "$(PYTHON)") && echo "$(VENV): Python $$("$$py" -c 'import platform; print(platform.python_version())') ($$py)" && "$$py" -m venv $(VENV); }
	@$(PY) -c 'import sys; sys.exit(not (3, 8) <= sys.version_info[:2] <= (3, 11))' || { echo "$(VENV) runs Python \
	$$($(PY) -c 'import platform; print(platform.python_version())'), and MXNet 1.9.1 needs 3.8-3.11: remove $(VENV) and run make again" >&2; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[cpu,gluoncv,test,lint,docs,video,release]"
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

# The core without MXNet (pipelines, presets, targets, clips, RecordIO and image readers, the plugin harness) in an
# environment of its own: the newest Python found (CORE_PYTHON to choose), the newest numpy, no MXNet, no GluonCV.
# Test modules that import MXNet or GluonCV are skipped there, each named (they run in `make test`).
CORE_VENV ?= .venv-core
CORE_PYTHON ?=
CORE_PY := $(CORE_VENV)/bin/python
CORE_STAMP := $(CORE_VENV)/.augplug-installed

$(CORE_STAMP): setup.cfg pyproject.toml
	@test -x $(CORE_PY) || { py=$$(tools/find-python core "$(CORE_PYTHON)") && echo "$(CORE_VENV): Python $$("$$py" -c 'import platform; print(platform.python_version())') ($$py)" && "$$py" -m venv $(CORE_VENV); }
	$(CORE_PY) -m pip install --quiet --disable-pip-version-check --upgrade -e ".[test]"
	touch $(CORE_STAMP)

test-core: $(CORE_STAMP)
	GLUON_AUGPLUG_CORE_TESTS=1 $(CORE_PY) -m pytest tests

# The release files: sdist and wheel of the package, the example plugin and the adapters, checked as PyPI would
DIST ?= runs/dist
RELEASED := . examples/gluon-augplug-gridmask $(ADAPTERS)
dist: $(STAMP)
	rm -rf $(DIST)
	for project in $(RELEASED); do $(PY) -m build --outdir $(DIST) $$project || exit 1; done
	$(PY) -m twine check --strict $(DIST)/*

# The benchmark's anchor libraries need numpy releases mxnet 1.9.1 cannot share a venv with:
# albumentations 2.x wants numpy>=1.24, imgaug 0.4 numpy<1.24. Each gets its own environment.
BENCH := .bench
$(BENCH)/albumentations/bin/python:
	py=$$(tools/find-python mxnet "$(PYTHON)") && "$$py" -m venv $(BENCH)/albumentations
	$(BENCH)/albumentations/bin/pip install --quiet --disable-pip-version-check "albumentations==2.0.8"

$(BENCH)/imgaug/bin/python:
	py=$$(tools/find-python mxnet "$(PYTHON)") && "$$py" -m venv $(BENCH)/imgaug
	$(BENCH)/imgaug/bin/pip install --quiet --disable-pip-version-check "imgaug==0.4.0" "numpy==1.23.5" \
		"opencv-python<4.9" "opencv-python-headless<4.9" "scikit-image<0.22" "scipy<1.12" "matplotlib<3.9" "imageio<2.35"

# DALI runs its CPU pipelines without a GPU; 424 MB, so it too lives in its own environment
$(BENCH)/dali/bin/python:
	py=$$(tools/find-python mxnet "$(PYTHON)") && "$$py" -m venv $(BENCH)/dali
	$(BENCH)/dali/bin/pip install --quiet --disable-pip-version-check "nvidia-dali-cuda120==2.4.0" "numpy<2.3"

bench: $(STAMP) $(BENCH)/albumentations/bin/python $(BENCH)/imgaug/bin/python $(BENCH)/dali/bin/python
	$(PY) benchmarks/bench.py --out runs/bench --docs

clean:
	rm -rf $(VENV) $(CORE_VENV) $(BENCH) runs .pytest_cache
