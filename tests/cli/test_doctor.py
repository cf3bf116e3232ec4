"""`sapool doctor`: every check listed, exit 3 with the fix when a piece is missing."""

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from sapool.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_json_lists_python_packages_tools_and_the_data_set():
    result = CliRunner().invoke(main, ["doctor", "--format", "json"])
    document = json.loads(result.stdout)
    names = {check["name"] for check in document["checks"]}
    assert {"highspy", "click", "torch", "arm-none-eabi-gcc", "qemu-system-arm", "fashion-mnist"} <= names
    assert result.exit_code == (0 if document["ok"] else 3)
    assert all(check["fix"] for check in document["checks"] if not check["ok"])


def test_a_missing_tool_exits_3_and_prints_the_apt_command(tmp_path):
    environment = {**os.environ, "PATH": str(tmp_path), "PYTHONPATH": str(REPO)}  # no toolchain, no QEMU on PATH
    result = subprocess.run([sys.executable, "-m", "sapool", "doctor", "-q"], capture_output=True, text=True,
                            env=environment, timeout=60)
    assert result.returncode == 3
    assert "MISSING qemu-system-arm" in result.stdout
    assert "fix: sudo apt-get install -y --no-install-recommends qemu-system-arm" in result.stdout
    assert result.stderr.startswith("Error: missing or wrong version:") and "qemu-system-arm" in result.stderr
