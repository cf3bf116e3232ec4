"""`load_model(path)`: pick the front end from the file's content (magic bytes) and its suffix.

Content decides where it can (a .tflite flatbuffer carries "TFL3" at byte 4; torch.save and torch.export.save
both write zip archives, told apart by their members); ONNX has no magic number (a bare protobuf), so the
.onnx suffix names it. Nothing here unpickles: the torch front ends load with weights_only / a checked archive.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from sapool.errors import BadInputError
from sapool.input_files import require_regular_file
from sapool.frontends.loaded import ONNX, SAPOOL_CHECKPOINT, TFLITE_INT8, TORCH_EXPORT, LoadedModel, check_weights

SUFFIXES = (".pt", ".pth", ".pt2", ".onnx", ".tflite")
ZIP_MAGIC = b"PK\x03\x04"
TFLITE_IDENTIFIER = b"TFL3"
ACCEPTED = ("a sapool checkpoint (.pt), a torch.export archive (.pt2), an ONNX model (.onnx) "
            "or an int8 TFLite model (.tflite)")


def load_model(path: str | Path) -> LoadedModel:
    """Load any model sapool compiles; every problem with the file is one BadInputError/UnsupportedError line."""
    path = Path(path)
    kind = detect_kind(path)
    if kind == TFLITE_INT8:
        from sapool.frontends.tflite import load_int8_tflite
        return load_int8_tflite(path)
    if kind == SAPOOL_CHECKPOINT:
        from sapool.frontends.checkpoint import load_sapool_checkpoint
        loaded = load_sapool_checkpoint(path)
    elif kind == TORCH_EXPORT:
        from sapool.frontends.torch_export import load_torch_export
        loaded = load_torch_export(path)
    else:
        from sapool.frontends.onnx import load_onnx
        loaded = load_onnx(path)
    check_weights(path, loaded.module)
    return loaded


def detect_kind(path: Path) -> str:
    """The front end for `path`, from its suffix and first bytes; BadInputError for anything we cannot read."""
    if path.is_dir():
        raise BadInputError(f"{path} is a directory; give a model file: {ACCEPTED}")
    require_regular_file(path, "model")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BadInputError(f"{path}: unknown model file type {suffix or '(no suffix)'!r}; sapool reads {ACCEPTED}")
    try:
        with path.open("rb") as stream:
            head = stream.read(8)
    except OSError as err:
        raise BadInputError(f"{path}: cannot read ({err.strerror or err})") from None
    if not head:
        raise BadInputError(f"{path} is empty")
    if head[4:8] == TFLITE_IDENTIFIER:
        return TFLITE_INT8
    if head[:4] == ZIP_MAGIC:
        return _zip_kind(path, suffix)
    if suffix == ".onnx":
        return ONNX
    raise BadInputError(f"{path}: not a {suffix} file sapool can read (no zip archive or TFLite header; "
                        f"starts with {head[:4]!r}); sapool reads {ACCEPTED}")


def _zip_kind(path: Path, suffix: str) -> str:
    """torch.export.save writes `<name>/archive_format`; torch.save writes `<name>/data.pkl`. A .pt2 must be the
    former: a truncated .pt2 can still open as a zip, as the torch.save archive of its sample inputs inside it."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as err:
        raise BadInputError(f"{path}: damaged or truncated zip archive ({err})") from None
    if any(name.rsplit("/", 1)[-1] == "archive_format" for name in names):
        return TORCH_EXPORT
    if suffix == ".pt2":
        raise BadInputError(f"{path}: not a torch.export archive (no archive_format member; damaged or truncated?)")
    if any(name.rsplit("/", 1)[-1] == "data.pkl" for name in names):
        return SAPOOL_CHECKPOINT
    raise BadInputError(f"{path}: a zip archive but neither a torch.save checkpoint nor a torch.export archive")
