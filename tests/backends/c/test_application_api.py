"""model.h as an application sees it: a host program that includes model.h only and uses the documented API
(sapool_model_init / _input / _invoke / _output and the per-port macros), built with gcc -std=c99 -pedantic
-Wall -Wextra -Werror from model/ + the reference kernels, gives TFLite's reference kernels' outputs on the model's
shipped (real) inputs; its macros carry the TFLite tensors' shape and quantisation."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from sapool.backends.c import generate, prepare_for_c, scratch_needs
from sapool.ir.read import read_tflite
from sapool.memory.layout import UNBOUNDED, plan_layout
from sapool.verify.interpreters import run_model
from sapool.verify.samples import model_inputs
from tests.conftest import shared_model

APPLICATION = r"""#include <stdio.h>
#include <string.h>

#include "model.h"

static const int input_dims[] = SAPOOL_MODEL_INPUT0_DIMS;
static const int output_dims[] = SAPOOL_MODEL_OUTPUT0_DIMS;

int main(int argc, char **argv)
{
    static int8_t sample[SAPOOL_MODEL_INPUT0_BYTES];
    const int8_t *scores;
    FILE *inputs;
    int i;
    if (argc != 2 || (inputs = fopen(argv[1], "rb")) == NULL) {
        return 2;
    }
    printf("before init: %d\n", sapool_model_invoke());
    if (sapool_model_init() != SAPOOL_MODEL_OK || sapool_model_input(SAPOOL_MODEL_NUM_INPUTS) != NULL) {
        return 3;
    }
    printf("input %d", SAPOOL_MODEL_INPUT0_RANK);
    for (i = 0; i < SAPOOL_MODEL_INPUT0_RANK; ++i) {
        printf(" %d", input_dims[i]);
    }
    printf(" %.9g %d\noutput %d", (double)SAPOOL_MODEL_INPUT0_SCALE, SAPOOL_MODEL_INPUT0_ZERO_POINT,
           SAPOOL_MODEL_OUTPUT0_RANK);
    for (i = 0; i < SAPOOL_MODEL_OUTPUT0_RANK; ++i) {
        printf(" %d", output_dims[i]);
    }
    printf(" %.9g %d\n", (double)SAPOOL_MODEL_OUTPUT0_SCALE, SAPOOL_MODEL_OUTPUT0_ZERO_POINT);
    while (fread(sample, 1, sizeof sample, inputs) == sizeof sample) {
        memcpy(sapool_model_input(0), sample, sizeof sample);
        if (sapool_model_invoke() != SAPOOL_MODEL_OK) {
            return 4;
        }
        scores = sapool_model_output(0);
        printf("scores");
        for (i = 0; i < SAPOOL_MODEL_OUTPUT0_BYTES; ++i) {
            printf(" %d", scores[i]);
        }
        printf("\n");
    }
    return fclose(inputs) != 0;
}
"""


@pytest.mark.parametrize("name", ["kws_ref_model"])
def test_an_application_using_only_model_h_matches_tflite(name, tmp_path):
    path = shared_model(name)
    graph = prepare_for_c(read_tflite(path), "auto")
    files = generate(graph, plan_layout(graph, (UNBOUNDED,), scratch=scratch_needs(graph)))
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    (tmp_path / "app.c").write_text(APPLICATION)
    sources = [str(tmp_path / relative) for relative in files if relative.endswith(".c")]
    build = subprocess.run(["gcc", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-O1",
                            f"-I{tmp_path / 'model'}", f"-I{tmp_path / 'kernels/include'}", *sources,
                            str(tmp_path / "app.c"), "-o", str(tmp_path / "app"), "-lm"],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]

    original = read_tflite(path)
    inputs = model_inputs(path, original, 3)
    assert inputs.shipped >= 1  # real inputs, not only random ones
    (tmp_path / "inputs.bin").write_bytes(inputs.data.tobytes())
    run = subprocess.run([str(tmp_path / "app"), str(tmp_path / "inputs.bin")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "before init: 1"  # SAPOOL_MODEL_ERROR_NOT_INITIALISED

    for line, index in zip(lines[1:3], (original.inputs[0], original.outputs[0]), strict=True):
        tensor = original.tensor(index)
        fields = line.split()[1:]
        rank = int(fields[0])
        assert [int(d) for d in fields[1:1 + rank]] == list(tensor.shape)
        assert np.float32(float(fields[1 + rank])) == np.float32(tensor.quantization.scale[0])
        assert int(fields[2 + rank]) == tensor.quantization.zero_point[0]

    expected = run_model(path, inputs.data.reshape(len(inputs.data), *original.tensor(original.inputs[0]).shape[1:]),
                         "litert-ref").outputs
    got = np.array([[int(v) for v in line.split()[1:]] for line in lines[3:]])
    assert np.array_equal(got, expected.reshape(len(got), -1))


def test_a_checkpoints_class_names_and_normalisation_reach_model_h(tmp_path):
    """The names are data: quoted and escaped; the program reads them back exactly."""
    from sapool.backends.c import ModelInfo

    graph = prepare_for_c(read_tflite(shared_model("kws_ref_model")), "auto")
    names = tuple(f"class {k}" for k in range(10)) + ('say "yes"', "caf\u00e9 */")
    info = ModelInfo(class_names=names, mean=(0.5,), std=(0.25,))
    header = generate(graph, plan_layout(graph, (UNBOUNDED,), scratch=scratch_needs(graph)), info)["model/model.h"]
    (tmp_path / "model.h").write_text(header)
    (tmp_path / "names.c").write_text(
        '#include <stdio.h>\n#include "model.h"\n'
        "static const char *const names[] = SAPOOL_MODEL_CLASS_NAMES;\n"
        "static const float mean[] = SAPOOL_MODEL_INPUT0_MEAN;\nstatic const float std_[] = SAPOOL_MODEL_INPUT0_STD;\n"
        'int main(void) { int i; printf("%g %g\\n", (double)mean[0], (double)std_[0]);\n'
        '  for (i = 0; i < SAPOOL_MODEL_NUM_CLASSES; ++i) { printf("%s\\n", names[i]); } return 0; }\n')
    build = subprocess.run(["gcc", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", str(tmp_path / "names.c"),
                            "-o", str(tmp_path / "names")], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(tmp_path / "names")], capture_output=True)
    assert run.stdout.decode("utf-8").splitlines() == ["0.5 0.25", *names]


def test_the_projects_cmake_target_builds_on_the_host_and_matches_tflite(tmp_path):
    """An existing CMake project adds the generated folder with add_subdirectory and links sapool_model; built
    with the host gcc (a project compiled with --kernels reference: portable C99), the application gives TFLite's
    outputs. The Zephyr module lists the same sources."""
    import shutil

    from sapool.firmware.from_model import generate_project
    from sapool.firmware.project import write_files
    from sapool.targets import get_target

    if shutil.which("cmake") is None:
        pytest.skip("cmake not installed (apt-get install -y cmake)")
    path = shared_model("kws_ref_model")
    project = generate_project(path, get_target("stm32f4"), kernels="reference")
    write_files(tmp_path / "model_project", project.files)
    (tmp_path / "app.c").write_text(APPLICATION)
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\nadd_subdirectory(model_project sapool_model)\n"
        "add_executable(app app.c)\ntarget_link_libraries(app PRIVATE sapool_model)\n"
        "target_compile_options(app PRIVATE -std=c99 -pedantic -Wall -Wextra -Werror)\n")
    for command in (["cmake", "-S", str(tmp_path), "-B", str(tmp_path / "build"), "-DCMAKE_C_COMPILER=gcc"],
                    ["cmake", "--build", str(tmp_path / "build"), "-j2"]):
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    graph = read_tflite(path)
    inputs = model_inputs(path, graph, 2)
    (tmp_path / "inputs.bin").write_bytes(inputs.data.tobytes())
    run = subprocess.run([str(tmp_path / "build" / "app"), str(tmp_path / "inputs.bin")], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    expected = run_model(path, inputs.data.reshape(len(inputs.data), *graph.tensor(graph.inputs[0]).shape[1:]),
                         "litert-ref").outputs
    got = np.array([[int(v) for v in line.split()[1:]] for line in run.stdout.splitlines()[3:]])
    assert np.array_equal(got, expected.reshape(len(got), -1))

    module = project.files["zephyr/module.yml"].splitlines()
    assert {"build:", "  cmake: zephyr", "  kconfig: zephyr/Kconfig"} <= set(module)
    library = sorted(p for p in project.files if p.endswith(".c") and p.startswith(("model/", "kernels/")))
    assert all(f"${{SAPOOL_MODEL_DIR}}/{source}" in project.files["zephyr/CMakeLists.txt"] for source in library)
