"""Each missing external tool is an exit-3 error naming it, with the command that installs it."""

import shutil

import pytest

from sapool.errors import MissingToolError
from sapool.firmware.toolchain import APT_INSTALL, require_build_tools, require_emulator


def path_with_only(tmp_path, monkeypatch, *tools: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (make setup installs it)")
        (bin_dir / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("PATH", str(bin_dir))


def test_missing_emulator_names_qemu_and_the_apt_command(tmp_path, monkeypatch):
    path_with_only(tmp_path, monkeypatch, "make", "arm-none-eabi-gcc")
    require_build_tools()  # the compiler and newlib are found
    with pytest.raises(MissingToolError, match="qemu-system-arm not found") as caught:
        require_emulator()
    assert APT_INSTALL in str(caught.value) and caught.value.exit_code == 3


def test_missing_make_says_how_to_get_make(tmp_path, monkeypatch):
    path_with_only(tmp_path, monkeypatch)
    with pytest.raises(MissingToolError, match="make not found on PATH; install it with: apt-get install -y make"):
        require_build_tools()
