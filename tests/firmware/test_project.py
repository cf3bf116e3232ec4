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


def test_a_project_carries_both_kernel_sets_and_its_makefile_picks_arm_on_a_dsp_core():
    from sapool.firmware.from_model import generate_project
    from tests.conftest import shared_model

    project = generate_project(shared_model("kws_ref_model"), get_target("stm32f4"))
    assert {"kernels/reference/conv.c", "kernels/arm/conv.c", "kernels/reference/depthwise_conv.c",
            "kernels/arm/depthwise_conv.c", "kernels/arm/sapool_arm.h"} <= set(project.files)
    assert "kernels/arm/softmax.c" not in project.files and "kernels/reference/softmax.c" in project.files
    makefile = project.files["Makefile"]
    assert "KERNELS  ?= arm" in makefile and "-Ikernels/arm" in makefile
    assert "ARM_KERNELS := kernels/arm/conv.c kernels/arm/depthwise_conv.c kernels/arm/fully_connected.c" in makefile
    assert project.manifest.kernels == "arm" and json.loads(project.files[MANIFEST])["kernels"] == "arm"
