# `make demo` and `make test` work on a fresh machine: both create .venv with the pinned
# dependencies when it is missing or out of date, then run.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.augplug-installed
SHARED ?= ../shared/data
DEMO_OUT ?= runs/demo

.PHONY: venv demo test clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[cpu,gluoncv,test]"
	touch $(STAMP)

# The reduced version of D2L's with/without-augmentation experiment that runs on 2 CPU cores
# in a few minutes (the chapter's full run is for GPUs: see the README).
COMPARE_ARGS ?= --data $(SHARED)/cifar10-jpg.tar.gz --model cifar_resnet20_v1 --train-limit 5000 \
	--test-limit 2000 --epochs 8 --batch-size 128 --aug flip=d2l-flip --aug none=d2l-none

demo: $(STAMP)
	$(VENV)/bin/augplug plugins --all
	$(PY) examples/augmentation_tour.py --image $(SHARED)/cat1.jpg --out $(DEMO_OUT)
	$(VENV)/bin/augplug compare $(COMPARE_ARGS) --out $(DEMO_OUT)/compare
	@echo "augmentation grids of the cat photo and the comparison report are in $(DEMO_OUT)/"

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(VENV) runs .pytest_cache
