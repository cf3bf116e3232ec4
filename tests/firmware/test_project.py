"""Project folders: complete, written atomically, an existing folder replaced only with force."""

import json

import pytest

from sapool.errors import BadInputError
from sapool.firmware.project import MANIFEST, ProjectManifest, read_manifest, write_project
from sapool.targets import get_target
from tests.firmware.fixture_models import write_fixture_project


def test_a_project_has_model_firmware_build_files_and_manifest(tmp_path):
    project = write_fixture_project(tmp_path / "p", get_target("stm32h7"))
    names = {str(path.relative_to(project)) for path in project.rglob("*") if path.is_file()}
    assert {"Makefile", "README.md", "memory_report.txt", MANIFEST, "model/model.c", "model/model.h",
            "firmware/startup.c", "firmware/harness.c", "firmware/linker.ld", "firmware/m7_caches.c"} <= names
    makefile = (project / "Makefile").read_text()
    assert "-mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard" in makefile
    assert "-Wall -Wextra -Werror" in makefile and "model/model.c" in makefile
    linker = (project / "firmware/linker.ld").read_text()
    assert "DTCM (rw) : ORIGIN = 0x20000000, LENGTH = 131072" in linker
    assert "KEEP(*(.bss.sapool_arena.DTCM .bss.sapool_arena.DTCM.*))" in linker
    manifest = read_manifest(project)
    assert manifest.target == "stm32h7" and manifest.planned_arena_bytes == 32


def test_an_existing_folder_needs_force_and_is_then_replaced_whole(tmp_path):
    directory = tmp_path / "out"
    write_project(directory, {"a.txt": "old", "old_only.txt": "x"})
    with pytest.raises(BadInputError, match="--force"):
        write_project(directory, {"a.txt": "new"})
    write_project(directory, {"a.txt": "new"}, force=True)
    assert (directory / "a.txt").read_text() == "new" and not (directory / "old_only.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporaries left


def test_a_failed_write_leaves_the_old_folder_and_no_temporary(tmp_path):
    directory = tmp_path / "out"
    write_project(directory, {"a.txt": "old"})
    with pytest.raises(BadInputError, match="cannot write"):
        write_project(directory, {"x": "file", "x/y": "x cannot be a file and a folder"}, force=True)
    assert (directory / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_manifest_round_trips_and_rejects_other_schemas(tmp_path):
    manifest = ProjectManifest("m.tflite", "stm32f4", 65536, 1234, ({"name": "budget", "size_bytes": 65536,
                                                                      "used_bytes": 1234},))
    (tmp_path / MANIFEST).write_text(manifest.to_json())
    assert read_manifest(tmp_path) == manifest
    (tmp_path / MANIFEST).write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(BadInputError, match="schema_version"):
        read_manifest(tmp_path)



def test_a_project_generated_from_a_tflite_remembers_it_for_its_shipped_samples():
    from sapool.firmware.from_model import generate_project
    from tests.conftest import shared_model

    model = shared_model("kws_ref_model")
    project = generate_project(model, get_target("stm32f4"))
    assert project.manifest.source == str(model.resolve())
    assert project.files["model/model.tflite"] == model.read_bytes()
    assert json.loads(project.files[MANIFEST])["source"] == str(model.resolve())


def test_a_project_carries_one_kernel_set_and_each_weight_once_in_its_order():
    """A DSP core gets the arm twins where there is one (portable C for the rest) and model.c holds the arm
    weight order only; --kernels reference gives the portable set and order. Same arrays, same sizes."""
    from sapool.firmware.from_model import generate_project
    from tests.conftest import shared_model

    model = shared_model("kws_ref_model")
    arm = generate_project(model, get_target("stm32f4"))
    assert {"kernels/arm/conv.c", "kernels/arm/depthwise_conv.c", "kernels/arm/sapool_arm.h",
            "kernels/reference/softmax.c"} <= set(arm.files)
    assert "kernels/reference/conv.c" not in arm.files and "kernels/arm/softmax.c" not in arm.files
    makefile = arm.files["Makefile"]
    assert "kernels/arm/conv.c" in makefile and "-Ikernels/arm" in makefile and "KERNELS" not in makefile
    assert arm.manifest.kernels == "arm" and json.loads(arm.files[MANIFEST])["kernels"] == "arm"

    portable = generate_project(model, get_target("stm32f4"), kernels="reference")
    assert not any(path.startswith("kernels/arm/") for path in portable.files)
    arm_c, portable_c = arm.files["model/model.c"], portable.files["model/model.c"]
    assert "SAPOOL_KERNELS_ARM" not in arm_c and arm_c.count("static const int8_t sapool_t17[") == 1
    assert "in the order kernels/arm/ reads" in arm_c and "kernels/arm/" not in portable_c
    declarations = [line for line in arm_c.splitlines() if line.startswith("static const")]
    assert declarations == [line for line in portable_c.splitlines() if line.startswith("static const")]
    assert arm_c != portable_c


def test_emulating_a_project_with_the_other_kernel_set_is_refused(tmp_path):
    """Its model.c holds one weight order: building it with the other set would give wrong outputs."""
    from sapool.firmware.emulate import emulate
    from sapool.firmware.from_model import generate_project
    from tests.conftest import shared_model

    write_project(tmp_path / "project", generate_project(shared_model("ad01_int8"), get_target("qemu-m7")).files)
    with pytest.raises(BadInputError, match="carries the arm kernels.*--kernels reference"):
        emulate(tmp_path / "project", None, tmp_path / "work", kernels="reference")


def _fixture_project(tmp_path):
    from tests.firmware.fixture_models import write_fixture_project

    return write_fixture_project(tmp_path / "project", get_target("qemu-m7"))


def test_an_untouched_project_checks_out(tmp_path):
    from sapool.firmware.project_check import check_project_files

    project = _fixture_project(tmp_path)
    (project / "build").mkdir()
    (project / "build" / "firmware.elf").write_bytes(b"x")  # the compile step's own outputs are not checked
    (project / "report.json").write_text("{}")
    assert check_project_files(project, read_manifest(project).files) > 10


@pytest.mark.parametrize("tamper, message", [
    (lambda p: (p / "Makefile").write_text((p / "Makefile").read_text() + "\nall:\n\ttouch CANARY\n"), "Makefile differs"),
    (lambda p: (p / "GNUmakefile").write_text("all:\n\ttouch CANARY\n"), "GNUmakefile, which sapool did not write"),
    (lambda p: (p / "model" / "stdint.h").write_text("#error\n"), "model/stdint.h, which sapool did not write"),
    (lambda p: (p / "firmware" / "harness.c").unlink(), "firmware/harness.c is missing"),
])
def test_a_tampered_project_is_refused_in_one_line(tmp_path, tamper, message):
    from sapool.firmware.project_check import check_project_files

    project = _fixture_project(tmp_path)
    tamper(project)
    with pytest.raises(BadInputError, match=message) as refused:
        check_project_files(project, read_manifest(project).files)
    assert "--trust-project" in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize("field, value", [
    ("target", 7), ("planned_regions", "x"), ("planned_regions", [{"name": 1}]), ("planned_arena_bytes", "9"),
    ("planned_arena_bytes", True), ("kernels", "evil"), ("files", {"Makefile": 3}), ("samples", [1]),
])
def test_manifest_fields_of_the_wrong_json_type_are_one_error(tmp_path, field, value):
    project = _fixture_project(tmp_path)
    document = json.loads((project / MANIFEST).read_text())
    document[field] = value
    (project / MANIFEST).write_text(json.dumps(document))
    with pytest.raises(BadInputError, match=field):
        read_manifest(project)


def test_a_fifo_as_the_manifest_is_refused_without_blocking(tmp_path):
    import os

    (tmp_path / "p").mkdir()
    os.mkfifo(tmp_path / "p" / MANIFEST)
    with pytest.raises(BadInputError, match="no regular file"):
        read_manifest(tmp_path / "p")
