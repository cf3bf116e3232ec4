"""Check a torch.export archive (.pt2) holds only data before torch.export.load touches it.

torch.export.load unpickles with weights_only=False in several places (weights or constants saved "use_pickle",
custom and opaque objects, legacy .pt members, and a fallback for sample inputs that fail weights_only), and it
loads AOTInductor shared libraries. A .pt2 made by `torch.export.save` of an ordinary model needs none of that: its
weights and constants are raw tensor bytes described by JSON. So we accept exactly the members such an archive
has, check the JSON says no member is pickled, and load the one pickled member left (sample inputs) ourselves
with weights_only=True first. Members are checked by their declared sizes before any is inflated (zip_limits),
and the program JSON is checked as data (pt2_program: no expression, operator name or guard that torch would
evaluate).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

from sapool.errors import BadInputError, UnsupportedError
from sapool.frontends.pt2_program import check_program_json
from sapool.zip_limits import open_checked, read_member

MAX_JSON_BYTES = 64 << 20

# Paths below the archive's root folder that a plain torch.export.save archive contains.
PLAIN_MEMBERS = re.compile(
    r"archive_format|archive_version|byteorder|\.data/[^/]+|models/[^/]+\.json|extra/.+"
    r"|data/weights/(weight_\d+|[^/]+_weights_config\.json)"
    r"|data/constants/(tensor_\d+|[^/]+_constants_config\.json)"
    r"|data/sample_inputs/[^/]+\.pt")


def check_plain_archive(path: Path) -> None:
    """Raise UnsupportedError when loading `path` with torch.export.load could run pickled code or a library."""
    try:
        with open_checked(path) as archive:
            for name in archive.namelist():
                _check_member(path, archive, name)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as err:
        raise BadInputError(f"{path}: damaged torch.export archive ({err})") from None


def _check_member(path: Path, archive: zipfile.ZipFile, name: str) -> None:
    inner = name.split("/", 1)[1] if "/" in name else name
    if not inner or name.endswith("/"):
        return
    if not PLAIN_MEMBERS.fullmatch(inner):
        raise UnsupportedError(f"{path}: the archive holds {inner!r}, which torch.export.load would unpickle or "
                               "run as code; sapool loads only plain torch.export.save archives of a model")
    if inner.endswith(".json"):
        document = _json(path, archive, name)
        if inner.startswith("models/"):
            check_program_json(path, inner, document)
    if inner.endswith("_config.json"):
        config = document.get("config", {}) if isinstance(document, dict) else None
        if not isinstance(config, dict) or not all(isinstance(entry, dict) for entry in config.values()):
            raise BadInputError(f"{path}: {inner} is not a torch.export weights/constants config "
                                "(a JSON object of entries)")
        pickled = [fqn for fqn, entry in config.items() if entry.get("use_pickle")]
        if pickled:
            raise UnsupportedError(f"{path}: {pickled[0]!r} is stored pickled (a tensor subclass); sapool loads "
                                   "only archives whose weights and constants are plain tensors")
    if inner.startswith("data/sample_inputs/"):
        _check_weights_only(path, read_member(path, archive, name, MAX_JSON_BYTES))


def _json(path: Path, archive: zipfile.ZipFile, name: str):
    try:
        return json.loads(read_member(path, archive, name, MAX_JSON_BYTES))
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise BadInputError(f"{path}: {name} is not valid JSON ({str(err)[:120]})") from None


def _check_weights_only(path: Path, payload: bytes) -> None:
    """Sample inputs must load with weights_only=True (torch's own loader would retry without it)."""
    import torch

    try:
        torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as err:  # weights_only refusals and damaged payloads raise many types
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise UnsupportedError(f"{path}: the archive's sample inputs are not plain tensors ({reason[:160]})") from None
