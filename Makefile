# sapool developer entry points. `make demo` and `make test` are the two commands a newcomer needs.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
APT_PKGS := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm dataset-fashion-mnist
SHARED  := ../shared/models/mlperf_tiny

.PHONY: setup test demo bench pretrained clean

$(BIN)/sapool: pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q --pre -e '.[dev]'
	@touch $@

setup: $(BIN)/sapool
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

test: setup
	$(BIN)/python -m pytest -q

demo: setup
	$(BIN)/sapool plan $(SHARED)/vww_96_int8.tflite --target stm32h7

bench: setup
	$(BIN)/python bench/planner_vs_tflm.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
