"""ir.read on bad input: always one BadInputError (or UnsupportedError) line naming the file, never a traceback."""

import os
import random
import socket
import struct

import pytest
from ai_edge_litert import schema_py_generated as fb
from tflite.Model import Model

from sapool.errors import BadInputError, UnsupportedError
from sapool.ir.read import read_tflite, read_tflite_bytes
from tests.conftest import shared_model
from tests.ir.tflite_models import make_buffer, make_tensor, pack, tiny_float_model


def read_error(path, match: str, error=BadInputError) -> str:
    """Read `path`, expect `error` whose single-line message names the file and matches `match`."""
    with pytest.raises(error, match=match) as caught:
        read_tflite(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


def write(tmp_path, content: bytes, name="model.tflite"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


# ---- the file itself ----

def test_missing_file(tmp_path):
    read_error(tmp_path / "absent.tflite", "no such file")


def test_directory(tmp_path):
    read_error(tmp_path, "is a directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway; test_socket covers the OS error")
def test_unreadable_file(tmp_path):
    path = write(tmp_path, pack(tiny_float_model()))
    path.chmod(0)
    read_error(path, "cannot read .*Permission denied")


def test_socket_cannot_be_read(tmp_path):
    """An existing path that is not a regular file is refused before it is opened."""
    path = tmp_path / "model.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        read_error(path, "a device or socket, not a regular file")
    finally:
        server.close()


def test_empty_file(tmp_path):
    read_error(write(tmp_path, b""), "the file is empty")


@pytest.mark.parametrize("content", [b"TFL3", b"\x1c\x00\x00\x00TF"])
def test_shorter_than_a_header(tmp_path, content):
    read_error(write(tmp_path, content), "too short")


def test_wrong_identifier(tmp_path):
    content = bytearray(pack(tiny_float_model()))
    content[4:8] = b"TFL2"
    read_error(write(tmp_path, bytes(content)), "identifier is b'TFL2', expected b'TFL3'")


def test_text_file(tmp_path):
    read_error(write(tmp_path, b"this is not a model, just some text\n" * 4), "identifier")


# ---- damaged flatbuffers ----

# The reader's wordings for a file that ends too early: which one depends on what the cut hits first.
TRUNCATED = "corrupt or truncated|outside the file|past the end|cannot fit"


@pytest.mark.parametrize("keep", [8, 12, 40, 200, 0.5, -64, -4, -1])
def test_truncated_float_model(tmp_path, keep):
    content = pack(tiny_float_model())
    length = int(len(content) * keep) if isinstance(keep, float) else keep % len(content)
    read_error(write(tmp_path, content[:length]), TRUNCATED)


@pytest.mark.parametrize("fraction", [0.001, 0.1, 0.5, 0.9, 0.999])
def test_truncated_mlperf_model(tmp_path, fraction):
    content = shared_model("kws_ref_model").read_bytes()
    read_error(write(tmp_path, content[:int(len(content) * fraction)]), TRUNCATED)


@pytest.mark.parametrize("cut", [1, 4])
def test_cut_inside_a_field_the_reader_does_not_use(tmp_path, cut):
    """kws ends with the `version` of an OperatorCode (the first, stored last); no getter the reader calls reads it."""
    content = shared_model("kws_ref_model").read_bytes()
    read_error(write(tmp_path, content[:-cut]), "operator code 0 extends past the end of the file")


def test_absurd_vector_length(tmp_path):
    """A flipped length must fail at once, not walk two billion entries of garbage."""
    content = bytearray(pack(tiny_float_model()))
    subgraph = Model.GetRootAs(bytes(content), 0).Subgraphs(0)
    tensors_vector = subgraph._tab.Vector(subgraph._tab.Offset(4))  # SubGraph.tensors is field 0: vtable slot 4
    content[tensors_vector - 4:tensors_vector] = struct.pack("<I", 0x7FFFFFFF)
    read_error(write(tmp_path, bytes(content)), "2147483647 tensors cannot fit in")


def test_root_offset_outside_file(tmp_path):
    content = bytearray(pack(tiny_float_model()))
    content[0:4] = struct.pack("<I", 0xFFFFFF00)
    read_error(write(tmp_path, bytes(content)), "root table offset 4294967040 is outside the file")


def test_vtable_offset_flipped(tmp_path):
    content = bytearray(pack(tiny_float_model()))
    root = struct.unpack_from("<I", content, 0)[0]
    content[root:root + 4] = struct.pack("<i", -0x7FFFFF00)  # the root table's vtable now lies far past the end
    read_error(write(tmp_path, bytes(content)), "corrupt or truncated")


def test_subgraphs_vector_offset_flipped(tmp_path):
    content = bytearray(pack(tiny_float_model()))
    model = Model.GetRootAs(bytes(content), 0)
    field = model._tab.Pos + model._tab.Offset(8)  # Model.subgraphs is field 2: vtable slot 4 + 2 × 2
    content[field:field + 4] = struct.pack("<I", 0x7FFFFFF0)
    read_error(write(tmp_path, bytes(content)), "corrupt or truncated")


def test_random_corruption_never_escapes_as_another_error():
    """Seeded byte flips all over the file: each read either succeeds (a flip inside weight data) or is a
    BadInputError; anything else (struct.error, IndexError, a hang on a huge length) would fail this test."""
    content = shared_model("kws_ref_model").read_bytes()
    rng = random.Random(2)
    for _ in range(300):
        damaged = bytearray(content)
        for _ in range(rng.choice((1, 4, 16))):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            read_tflite_bytes(bytes(damaged), "damaged")
        except BadInputError as error:
            assert str(error).startswith("damaged: ") and "\n" not in str(error)


# ---- well-formed flatbuffers with inconsistent contents ----

def _mutated(mutate) -> bytes:
    model = tiny_float_model()
    mutate(model)
    return pack(model)


INCONSISTENT_MODELS = {
    "no subgraphs": (lambda m: setattr(m, "subgraphs", []), "has no subgraphs"),
    "op input out of range": (lambda m: m.subgraphs[0].operators[0].inputs.__setitem__(0, 99),
                              "operator 0 input refers to tensor 99; the subgraph has 6"),
    "op output below -1": (lambda m: m.subgraphs[0].operators[1].outputs.__setitem__(0, -2),
                           "operator 1 output refers to tensor -2"),
    "graph output omitted": (lambda m: setattr(m.subgraphs[0], "outputs", [-1]), "subgraph output refers to tensor -1"),
    "graph input out of range": (lambda m: setattr(m.subgraphs[0], "inputs", [6]), "subgraph input refers to tensor 6"),
    "buffer out of range": (lambda m: setattr(m.subgraphs[0].tensors[1], "buffer", 42),
                            "tensor 1 'conv/filter' refers to buffer 42; the model has 4"),
    "opcode out of range": (lambda m: setattr(m.subgraphs[0].operators[1], "opcodeIndex", 7),
                            "operator 1 uses opcode 7; the model has 2"),
    "constant of the wrong size": (lambda m: setattr(m.subgraphs[0].tensors[2], "shape", [4]),
                                   r"tensor 2 'conv/bias' float32\[4\] needs 16 bytes but its buffer holds 12"),
    "negative dimension": (lambda m: setattr(m.subgraphs[0].tensors[3], "shape", [1, -1, 4, 3]),
                           "negative dimension"),
    "scale/zero point count mismatch": (lambda m: setattr(m.subgraphs[0].tensors[0], "quantization",
                                                          _quantization([0.1, 0.2], [0, 0, 0])),
                                        "2 scales but 3 zero points"),
}


def _quantization(scale, zero_point):
    params = fb.QuantizationParametersT()
    params.scale, params.zeroPoint = scale, zero_point
    return params


@pytest.mark.parametrize("case", INCONSISTENT_MODELS)
def test_inconsistent_model(tmp_path, case):
    mutate, match = INCONSISTENT_MODELS[case]
    read_error(write(tmp_path, _mutated(mutate)), match)


def test_unsupported_dtype(tmp_path):
    def add_string_tensor(model):
        model.subgraphs[0].tensors.append(make_tensor("labels", [2], fb.TensorType.STRING, buffer=4))
        model.buffers.append(make_buffer(b"ab"))

    message = read_error(write(tmp_path, _mutated(add_string_tensor)), "dtype STRING", UnsupportedError)
    assert "tensor 6 'labels'" in message


def test_sparse_tensor(tmp_path):
    def make_filter_sparse(model):
        model.subgraphs[0].tensors[1].sparsity = fb.SparsityParametersT()
        model.subgraphs[0].tensors[1].sparsity.traversalOrder = [0, 1, 2, 3]

    message = read_error(write(tmp_path, _mutated(make_filter_sparse)), "is stored sparse", UnsupportedError)
    assert "tensor 1 'conv/filter'" in message


# ---- the header is checked before the file is read whole ----

def test_dev_zero_is_refused_after_reading_its_header_only():
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(BadInputError, match="not a regular file"):
        read_tflite("/dev/zero")  # read whole, this took 11 GB of RAM; now refused before it is opened
    assert time.perf_counter() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB


def test_a_file_over_2_gib_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.tflite"
    with path.open("wb") as stream:
        stream.write(pack(tiny_float_model()))
        stream.truncate(3 * 2 ** 30)  # sparse: no disk used
    read_error(path, "at most 2,147,483,648 bytes")


def test_a_pytorch_checkpoint_is_named_as_such_with_the_commands_that_take_it(tmp_path):
    import zipfile

    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model/data.pkl", b"\x80\x02}q\x00.")
    message = read_error(path, "zip archive, as PyTorch checkpoints")
    assert "`sapool compile`" in message and "`sapool eval`" in message


def test_a_fifo_is_refused_without_blocking(tmp_path):
    path = tmp_path / "model.tflite"
    os.mkfifo(path)
    read_error(path, "a FIFO, not a regular file")


def test_a_model_without_operators_is_refused_at_load(tmp_path):
    model = tiny_float_model()
    model.subgraphs[0].operators = []
    read_error(write(tmp_path, pack(model)), "no operators")
