"""Hostile files for the torch and ONNX front ends, generated from a seed by family (issue 18's attack classes).

Each generator mutates a small, real, valid seed file (a .pt2 export, a sapool checkpoint, an ONNX model) the
way an attacker or a broken tool would:
- "zip": truncated, bytes flipped, members dropped, duplicated, renamed, added (pickles, libraries, paths with
  `..`), and zip bombs (a member that declares gigabytes);
- "json": the .pt2's JSON members with values of the wrong JSON type, code in symbolic sizes (`expr_str`),
  operator targets outside ATen, guard code, deep nesting;
- "onnx": protobuf bytes flipped or cut, absurd input shapes, non-finite weights, external data outside the folder.
Every payload that would run code creates the file CANARY in the working folder. `judge` runs one case through
sapool's loader and says what is wrong with the outcome (None when allowed).
Used by tests/cli/test_attacks.py (a few hundred cases) and bench/fuzz.py (thousands, with counts per front end).
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

CANARY = "CANARY"
CODE = [f"__import__('os').system('touch {CANARY}')", f"open('{CANARY}', 'w')",
        f"exec(\"open('{CANARY}','w')\")", f"Symbol('s0').__class__.__init__.__globals__['os'].system('touch {CANARY}')",
        "9**9**9**9", "Symbol('s0', positive=True) + " * 50 + "1"]
TARGETS = ["torch.serialization.os.system", "builtins.exec", "torch._C._get_tracing_state", "#evil", "os.system",
           "torch.ops.aten.conv2d.default; import os"]
WRONG_TYPES = [None, 1, -1, 2 ** 63, 1.5, float("nan"), "x", "", [], [1, "a"], {}, {"a": []}, True]


def seed_files(folder: Path) -> dict[str, bytes]:
    """Small valid files of each front end, exported once: {"pt2", "pt", "onnx"} → bytes."""
    import torch
    from torch import nn

    from sapool.models.config import ModelConfig
    from sapool.train.checkpoint import Checkpoint, save_checkpoint
    from sapool.data.transforms import Normalization
    from sapool.models.build import build_model

    class Small(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)

        def forward(self, x):
            return torch.relu(self.conv(x)).mean(dim=(2, 3))

    torch.manual_seed(0)
    module = Small().eval()
    program = torch.export.export(module, (torch.randn(2, 1, 8, 8),),
                                  dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=8)},))
    torch.export.save(program, folder / "seed.pt2")
    torch.onnx.export(module, (torch.randn(1, 1, 8, 8),), str(folder / "seed.onnx"), dynamo=False)
    config = ModelConfig(arch="mcunet", pool="max", downsample="standard", width=0.25, input_size=32)
    network = build_model(config)
    save_checkpoint(Checkpoint(config=config, state_dict=network.state_dict(),
                               normalization=Normalization((0.3,), (0.35,)),
                               class_names=tuple(f"c{i}" for i in range(10)), dataset="fashion-mnist"),
                    folder / "seed.pt")
    return {kind: (folder / f"seed.{kind}").read_bytes() for kind in ("pt2", "pt", "onnx")}


def _members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info, archive.read(info)) for info in archive.infolist()]


def _zip(members: list[tuple[zipfile.ZipInfo | str, bytes]], bomb: tuple[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in members:
            archive.writestr(info, data)
        if bomb is not None:  # a member that declares `size` bytes of zeros, deflated to almost nothing
            info = zipfile.ZipInfo(bomb[0])
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as stream:
                block = bytes(1 << 22)
                for _ in range(bomb[1] // len(block)):
                    stream.write(block)
    return buffer.getvalue()


def zip_case(rng: random.Random, data: bytes) -> bytes:
    members = _members(data)
    root = members[0][0].filename.split("/")[0]
    choice = rng.randrange(8)
    if choice == 0:
        return data[:rng.randrange(len(data))]
    if choice == 1:
        mutated = bytearray(data)
        for _ in range(rng.randrange(1, 32)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        return bytes(mutated)
    if choice == 2:
        members.pop(rng.randrange(len(members)))
    elif choice == 3:
        members.append(members[rng.randrange(len(members))])
    elif choice == 4:
        info, payload = members[rng.randrange(len(members))]
        members.append((f"{root}/{rng.choice(['../evil.pkl', 'extra/../../x', 'data/evil.so', 'data.pkl', 'x/'])}",
                        payload))
    elif choice == 5:
        import pickle

        members.append((f"{root}/data/weights/weight_{rng.randrange(9)}", pickle.dumps(Path(CANARY))))
    elif choice == 6:
        return _zip(members, bomb=(f"{root}/data/weights/weight_99", 8 << 20))
    else:
        info, payload = members[rng.randrange(len(members))]
        members[members.index((info, payload))] = (info, payload[:rng.randrange(len(payload) + 1)])
    return _zip(members)


def _json_paths(value, path=()) -> list[tuple]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _json_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:8]):
            found += _json_paths(item, (*path, index))
    return found


def _set(document, path: tuple, value):
    if not path:
        return value
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def json_case(rng: random.Random, data: bytes) -> bytes:
    members = _members(data)
    jsons = [index for index, (info, _) in enumerate(members) if info.filename.endswith(".json")]
    index = rng.choice(jsons)
    info, payload = members[index]
    document = json.loads(payload)
    choice = rng.randrange(5)
    paths = _json_paths(document)
    if choice == 0 or "models/" not in info.filename:
        document = _set(document, rng.choice(paths), rng.choice(WRONG_TYPES))
    elif choice == 1:
        exprs = [path for path in paths if path and path[-1] == "expr_str"]
        document = _set(document, rng.choice(exprs), rng.choice(CODE)) if exprs else document
    elif choice == 2:
        targets = [path for path in paths if path and path[-1] == "target"]
        document = _set(document, rng.choice(targets), rng.choice(TARGETS)) if targets else document
    elif choice == 3:
        document["guards_code"] = [rng.choice(CODE)]
    else:
        nested = []
        for _ in range(rng.choice([50, 400])):
            nested = [nested]
        document = _set(document, rng.choice(paths[1:]), nested)
    text = json.dumps(document) if rng.randrange(6) else json.dumps(document)[:-rng.randrange(1, 20)]
    members[index] = (info, text.encode())
    return _zip(members)


def onnx_case(rng: random.Random, data: bytes, folder: Path) -> bytes:
    import numpy as np
    import onnx
    from onnx import TensorProto, numpy_helper

    choice = rng.randrange(6)
    if choice == 0:
        return data[:rng.randrange(len(data))]
    if choice == 1:
        mutated = bytearray(data)
        for _ in range(rng.randrange(1, 16)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        return bytes(mutated)
    model = onnx.load_from_string(data)
    if choice == 2:
        dims = model.graph.input[0].type.tensor_type.shape.dim
        dims[rng.randrange(len(dims))].dim_value = rng.choice([0, 10 ** 5, 2 ** 31, 10 ** 12])
    elif choice == 3:
        weight = model.graph.initializer[rng.randrange(len(model.graph.initializer))]
        values = numpy_helper.to_array(weight).copy()
        values.flat[rng.randrange(values.size)] = rng.choice([np.nan, np.inf, -np.inf, 1e38])
        weight.CopyFrom(numpy_helper.from_array(values.astype(np.float32), weight.name))
    elif choice == 4:
        weight = model.graph.initializer[0]
        (folder.parent / "outside.bin").write_bytes(weight.raw_data or bytes(64))
        weight.ClearField("raw_data")
        weight.ClearField("float_data")
        weight.data_location = TensorProto.EXTERNAL
        weight.external_data.add(key="location", value=rng.choice(["../outside.bin", "/etc/hostname",
                                                                   "/dev/zero", "missing.bin", ""]))
    else:
        node = model.graph.node[rng.randrange(len(model.graph.node))]
        node.name = rng.choice(["*/\n#error x", "$(shell touch CANARY)", "\x1b[31m", "a" * 10000])
        node.op_type = rng.choice([node.op_type, "Evil", ""])
    return model.SerializeToString()


def cases(count: int, seed: int, seeds: dict[str, bytes], folder: Path) -> Iterator[tuple[str, str, str, bytes]]:
    """`count` cases (front end, family, file name, content), cycling through the families."""
    rng = random.Random(seed)
    families: list[tuple[str, str, Callable[[], bytes]]] = [
        ("pt2", "zip", lambda: zip_case(rng, seeds["pt2"])),
        ("pt2", "json", lambda: json_case(rng, seeds["pt2"])),
        ("pt", "zip", lambda: zip_case(rng, seeds["pt"])),
        ("onnx", "onnx", lambda: onnx_case(rng, seeds["onnx"], folder)),
    ]
    for n in range(count):
        front_end, family, make = families[n % len(families)]
        yield front_end, family, f"case{n}.{front_end}", make()


def judge(path: Path) -> tuple[int, str | None]:
    """(exit code the CLI would give, problem or None) for loading `path` with sapool's front ends."""
    from sapool.errors import SapoolError
    from sapool.frontends import load_model

    try:
        load_model(path)
    except SapoolError as err:
        message = str(err)
        if not message or "\n" in message or "Traceback" in message:
            return err.exit_code, f"not one clean line: {message[:200]!r}"
        return err.exit_code, None if err.exit_code in (1, 2, 3) else f"exit {err.exit_code}"
    except RecursionError:
        return 1, "RecursionError"
    except Exception as err:  # noqa: BLE001 (any other exception is the traceback the suite looks for)
        return 1, f"uncaught {type(err).__name__}: {str(err)[:200]}"
    return 0, None
