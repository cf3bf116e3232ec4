# sapool developer entry points. `make demo` and `make test` are the two commands a newcomer needs.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
APT_PKGS := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm dataset-fashion-mnist chromium-headless-shell
SHARED  := ../shared/models/mlperf_tiny

PRETRAINED := sapool/pretrained/mcunet_sap_fmnist.pt
DEMO_OUT := out/demo

.PHONY: setup test demo bench pretrained clean

$(BIN)/sapool: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt torch
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@touch $@

setup: $(BIN)/sapool
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

test: setup
	$(BIN)/python -m pytest -q

# The main job on embedded defaults: plan a real int8 model for an STM32H7, run it compiled to C in QEMU as an
# STM32H7 (Cortex-M7, RAM capped to the part's: bit-exact yes/no, instructions, planned vs measured RAM), score
# the shipped SAP network (trained on Fashion-MNIST), then prune it until its int8 activations fit an 8 KiB
# budget, fine-tune and re-score.
demo: setup
	@rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	@if [ -f $(SHARED)/vww_96_int8.tflite ]; then \
	  $(BIN)/sapool plan $(SHARED)/vww_96_int8.tflite --target stm32h7 && \
	  $(BIN)/sapool plan $(SHARED)/vww_96_int8.tflite --target stm32h7 --format html -o $(DEMO_OUT)/vww_96_int8_plan.html && \
	  $(BIN)/sapool emulate $(SHARED)/vww_96_int8.tflite --target stm32h7; \
	else echo "(skipping the MLPerf Tiny plan and emulation: $(SHARED) is not in this clone)"; fi
	$(BIN)/sapool eval $(PRETRAINED)
	$(BIN)/sapool prune $(PRETRAINED) --ram-budget 8K --finetune-epochs 1 --subset 10000 -o $(DEMO_OUT)/pruned.pt
	@echo "demo outputs in $(DEMO_OUT)/"

# Every benchmark always runs; the target fails if one missed its target (planner, scaling, fuzz) or crashed.
bench: setup
	$(BIN)/python bench/planner_vs_tflm.py; planner=$$?; \
	$(BIN)/python bench/planner_scaling.py; scaling=$$?; \
	$(BIN)/python bench/fuzz.py; fuzz=$$?; \
	$(BIN)/python bench/pooling.py; pooling=$$?; \
	$(BIN)/python bench/firmware_qemu.py; firmware=$$?; \
	$(BIN)/python bench/tflm_export.py; tflm=$$?; \
	exit $$(( planner || scaling || fuzz || pooling || firmware || tflm ))

# Retrain the shipped demo checkpoint with the project's own CLI (about 5 min on 2 cores); recipe.md explains it.
pretrained: setup
	$(BIN)/sapool train --arch mcunet --pool sap-nowin --downsample aggressive --width 1 --input-size 64 \
	  --data fashion-mnist --epochs 8 --batch-size 128 --optimizer sgd --lr 0.05 --seed 0 --device cpu \
	  -o $(PRETRAINED)
	$(BIN)/python tools/pretrained_metrics.py $(PRETRAINED) -o sapool/pretrained/metrics.json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
