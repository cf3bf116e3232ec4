"""Record what the shipped demo checkpoint is: the exact `sapool train` command, its accuracy, size and memory.

Run by `make pretrained` after `sapool train` has written the checkpoint. Everything written comes from the
checkpoint itself (config, training arguments, per-epoch history) or is measured here with the library's own
calls: `run_evaluation` (what `sapool eval` prints, on the whole test split) and `int8_peak_activation` (the
planner `sapool plan` uses). tests/test_pretrained.py checks the checkpoint against these numbers.

    python tools/pretrained_metrics.py sapool/pretrained/mcunet_sap_fmnist.pt -o sapool/pretrained/metrics.json
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from sapool.outputs import strict_json, write_json_atomically

SCHEMA_VERSION = 1


def train_command(config: dict, train_args: dict, output: str) -> str:
    """The `sapool train` command line that reproduces the checkpoint (CPU, one process, one thread: the thread
    count splits floating-point sums differently and so changes the last bits of the weights)."""
    return (f"sapool train --arch {config['arch']} --pool {config['pool']} --downsample {config['downsample']} "
            f"--width {config['width']:g} --input-size {config['input_size']} --data {train_args['data']} "
            f"--epochs {train_args['epochs']} --batch-size {train_args['batch_size']} "
            f"--optimizer {train_args['optimizer']} --lr {train_args['lr']:g} --seed {train_args['seed']}"
            + (f" --subset {train_args['subset']}" if train_args.get("subset") else "")
            + f" --device cpu --threads 1 -o {output}")


def measure(checkpoint_path: Path) -> dict:
    import torch

    from sapool.models.footprint import int8_peak_activation
    from sapool.train.checkpoint import load_model
    from sapool.train.session import run_evaluation

    model, checkpoint = load_model(checkpoint_path)
    evaluation = run_evaluation(checkpoint_path, device="cpu")
    footprint = int8_peak_activation(model, checkpoint.config)
    history = checkpoint.metrics.get("history", [])
    config = checkpoint.config.to_dict()
    return {
        "schema_version": SCHEMA_VERSION,
        "checkpoint": checkpoint_path.name,
        "sha256": hashlib.sha256(checkpoint_path.read_bytes()).hexdigest(),
        "command": train_command(config, checkpoint.train_args, str(checkpoint_path)),
        "seed": checkpoint.train_args["seed"],
        "config": config,
        "dataset": checkpoint.dataset,
        "test_images": evaluation["test_images"],
        "test_accuracy": evaluation["test_accuracy"],
        "test_loss": evaluation["test_loss"],
        "params": sum(p.numel() for p in model.parameters()),
        "macs": footprint.macs,
        "peak_activation_bytes": footprint.peak_arena_bytes,
        "lower_bound_bytes": footprint.lower_bound_bytes,
        "train_images_per_second": [round(epoch["images_per_second"], 1) for epoch in history],
        "epoch_test_accuracy": [epoch["test_accuracy"] for epoch in history],
        "torch": torch.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    from sapool.errors import SapoolError

    try:
        document = measure(args.checkpoint)
    except SapoolError as err:
        print(f"Error: {err}", file=sys.stderr)
        return err.exit_code
    write_json_atomically(args.output, document)
    print(strict_json({key: document[key] for key in ("test_accuracy", "params", "macs", "peak_activation_bytes")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
