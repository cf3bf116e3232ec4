# sapool developer entry points. `make demo` and `make test` are the two commands a newcomer needs.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
APT_PKGS := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm dataset-fashion-mnist chromium-headless-shell cmake
SHARED  := ../shared/models/mlperf_tiny

PRETRAINED := sapool/pretrained/mcunet_sap_fmnist.pt
DEMO_OUT := out/demo

.PHONY: setup test demo bench pooling-study pretrained clean

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

# The main job on embedded defaults: compile the shipped SAP network (Fashion-MNIST) for an STM32H7 (int8,
# accuracy, TFLite-Micro export, firmware), run that firmware on an emulated Cortex-M7, then prune the network
# until its int8 activations fit an 8 KiB budget and compile the pruned one too; plan an MLPerf model on the way.
demo: setup
	@rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	@if [ -f $(SHARED)/vww_96_int8.tflite ]; then \
	  $(BIN)/sapool plan $(SHARED)/vww_96_int8.tflite --target stm32h7 --format html -o $(DEMO_OUT)/vww_96_int8_plan.html; \
	else echo "(skipping the MLPerf Tiny plan: $(SHARED) is not in this clone)"; fi
	$(BIN)/sapool compile $(PRETRAINED) --target stm32h7 -o $(DEMO_OUT)/mcunet_sap
	$(BIN)/sapool emulate $(DEMO_OUT)/mcunet_sap --target stm32h7
	$(BIN)/sapool prune $(PRETRAINED) --ram-budget 5.5K --finetune-epochs 1 --subset 10000 -o $(DEMO_OUT)/pruned.pt
	$(BIN)/sapool compile $(DEMO_OUT)/pruned.pt --target stm32h7 --ram-budget 5.5K -o $(DEMO_OUT)/mcunet_sap_pruned
	@echo "demo outputs in $(DEMO_OUT)/ (open mcunet_sap/report.html)"

# The pooling study trains for many hours, so `make bench` only reports its committed rows; `make pooling-study`
# runs (or continues) it in the background at the lowest priority (bench/results/pooling_logs/README.md).
pooling-study: setup
	mkdir -p bench/work && nohup setsid nice -n 19 env OMP_NUM_THREADS=1 $(BIN)/python bench/pooling.py \
	  > bench/work/pooling-runner.out 2>&1 < /dev/null &

# Every benchmark always runs; the target fails if one missed its target (planner, scaling, fuzz) or crashed.
bench: setup
	$(BIN)/python bench/planner_vs_tflm.py; planner=$$?; \
	$(BIN)/python bench/planner_scaling.py; scaling=$$?; \
	$(BIN)/python bench/fuzz.py; fuzz=$$?; \
	$(BIN)/python bench/pooling.py --report; pooling=$$?; \
	$(BIN)/python bench/firmware_qemu.py; firmware=$$?; \
	$(BIN)/python bench/tflm_export.py; tflm=$$?; \
	$(BIN)/python bench/compile.py; compile=$$?; \
	$(BIN)/python bench/coverage.py; coverage=$$?; \
	exit $$(( planner || scaling || fuzz || pooling || firmware || tflm || compile || coverage ))

# Retrain the shipped demo checkpoint with the project's own CLI (10-50 min on 2 cores); recipe.md explains it.
pretrained: setup
	$(BIN)/sapool train --arch mcunet --pool sap-nowin --downsample aggressive --width 1 --input-size 64 \
	  --data fashion-mnist --epochs 10 --batch-size 128 --optimizer sgd --lr 0.05 --seed 0 --device cpu --threads 1 \
	  -o $(PRETRAINED)
	$(BIN)/python tools/pretrained_metrics.py $(PRETRAINED) -o sapool/pretrained/metrics.json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
