"""A model file whose name is an attack: the generated project and TFLite-Micro export build, run nothing and
carry the name only as inert text (sapool.sanitize at every template)."""

import os
import shutil
import subprocess

import pytest

from sapool.backends.tflm.export import write_tflm_export
from sapool.firmware.from_model import generate_project
from sapool.firmware.project import write_project
from sapool.ir.read import read_tflite
from sapool.memory.analyze import regions_for
from sapool.memory.layout import plan_layout
from sapool.targets import get_target
from tests.verify.int8_models import tiny_int8_bytes

# One file name with every way out of a comment, a Makefile line or a Markdown heading a name without '/' has,
# and a byte that is not UTF-8 (`*/` cannot be in a file name; tests/test_sanitize.py tries it).
HOSTILE_STEM = ("m\n$(shell touch CANARY)\n#error injected\n`touch CANARY` $$(touch CANARY) ; touch CANARY"
                " \"q\" 'q' ?? \\" + os.fsdecode(b"\xff") + " [x](y) <b> \\")


@pytest.fixture
def hostile_model(tmp_path):
    path = tmp_path / f"{HOSTILE_STEM}.tflite"
    path.write_bytes(tiny_int8_bytes())
    return path


def _no_line_injected(text: str) -> None:
    for line in text.splitlines():
        assert not line.lstrip().startswith(("#error injected", "$(shell", "`touch", "touch CANARY"))


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None,
                    reason="arm-none-eabi-gcc and make not installed (make setup installs them)")
def test_the_firmware_project_builds_and_runs_nothing(tmp_path, hostile_model):
    project = generate_project(hostile_model, get_target("qemu-m7"))
    folder = tmp_path / "project"
    write_project(folder, project.files)
    for path, content in project.files.items():
        if isinstance(content, str):
            _no_line_injected(content)
    subprocess.run(["make", "-C", str(folder), "-j2"], check=True, capture_output=True, timeout=300)
    assert (folder / "build" / "firmware.elf").is_file()
    assert not list(tmp_path.rglob("CANARY"))


@pytest.mark.skipif(shutil.which("g++") is None or shutil.which("make") is None, reason="needs g++ and make")
def test_the_tflm_export_compiles_and_its_makefile_runs_nothing(tmp_path, hostile_model):
    graph = read_tflite(hostile_model)
    layout = plan_layout(graph, regions_for(get_target("stm32h7"), None))
    export = tmp_path / "out"
    write_tflm_export(hostile_model.read_bytes(), graph, layout, export)
    for path in (export / "tflm").iterdir():
        _no_line_injected(path.read_text())
    for source in ("model_data.cc", "arena_size.h"):
        subprocess.run(["g++", "-std=c++17", "-fsyntax-only", "-Werror", "-trigraphs", "-Wno-trigraphs",
                        str(export / "tflm" / source)], check=True, capture_output=True)
    # make parses the whole Makefile (and would expand a $(shell) in it) before it stops at the missing checkout
    subprocess.run(["make", "-n", "-C", str(export / "tflm"), "TFLM_DIR=/nonexistent"], capture_output=True,
                   timeout=60)
    assert not list(tmp_path.rglob("CANARY"))
    heading = (export / "tflm" / "README.md").read_text().splitlines()[0]
    assert heading.startswith("# m") and "<b>" not in heading and "](y)" not in heading
