"""The wheel carries everything a pip-installed sapool needs to build firmware: both kernel sets, every board
folder and the templates. Built from a copy of the sources (not editable), installed into a fresh venv that
reuses this environment's dependencies (offline, --no-deps), and run from a directory apart from the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from sapool.boards import BOARDS_DIR, board_folders
from tests.conftest import shared_model
from tests.firmware.fixture_models import require_firmware_tools

CHECKOUT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(CHECKOUT / name, source / name)
    shutil.copytree(CHECKOUT / "sapool", source / "sapool", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(dist)], check=True, capture_output=True)
    (built,) = dist.glob("sapool-*.whl")
    return built


def test_the_wheel_holds_both_kernel_sets_every_board_and_the_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    kernels = CHECKOUT / "sapool" / "kernels"
    for folder in ("include", "reference", "arm"):
        for path in (kernels / folder).iterdir():
            assert f"sapool/kernels/{folder}/{path.name}" in names
    for board in board_folders():
        for path in board.iterdir():
            assert f"sapool/boards/{board.name}/{path.name}" in names
    for path in (BOARDS_DIR / "_common").iterdir():
        assert f"sapool/boards/_common/{path.name}" in names
    assert not any(name.startswith(("tests/", "firmware_templates/")) for name in names)


@pytest.mark.emu
def test_a_pip_installed_sapool_compiles_and_builds_firmware_from_elsewhere(wheel, tmp_path):
    require_firmware_tools()
    model = shared_model("ad01_int8")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # the dependencies come from this environment's site-packages, appended after the venv's own
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    alone = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}  # no checkout on the path
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True, capture_output=True, env=alone)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([python, "-c", "import sapool; print(sapool.__file__)"], cwd=elsewhere, check=True,
                           capture_output=True, text=True, env=alone).stdout.strip()
    assert where.startswith(str(venv)), where
    result = subprocess.run([venv / "bin" / "sapool", "compile", str(model), "--target", "stm32f4", "-o", "out", "-q"],
                            cwd=elsewhere, capture_output=True, text=True, env=alone)
    assert result.returncode == 0, result.stderr
    project = elsewhere / "out"
    manifest = (project / "sapool_project.json").read_text()
    assert '"kernels": "arm"' in manifest  # the DSP kernels came from the wheel
    assert (project / "build" / "firmware.elf").is_file()
