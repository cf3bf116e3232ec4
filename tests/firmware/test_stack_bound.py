"""The worst-case stack read from gcc's call graphs (-fcallgraph-info=su), on hand-written graphs.

The end-to-end check (prediction vs the painted stack on the four MLPerf models) is in test_mlperf.py."""

import pytest

from sapool.errors import BuildError
from sapool.firmware.stack_bound import stack_bound

MODEL_CI = r'''graph: { title: "model/model.c"
node: { title: "sapool_model_invoke" label: "sapool_model_invoke\nmodel/model.c:10:5\n64 bytes (static)" }
node: { title: "memcpy" label: "__builtin_memcpy\n<built-in>" shape : ellipse }
edge: { sourcename: "sapool_model_invoke" targetname: "memcpy" }
node: { title: "sapool_conv2d_s8" label: "sapool_conv2d_s8\nkernels/include/sapool_kernels.h:30:6" shape : ellipse }
edge: { sourcename: "sapool_model_invoke" targetname: "sapool_conv2d_s8" label: "model/model.c:12:5" }
edge: { sourcename: "sapool_model_invoke" targetname: "sapool_softmax_s8" label: "model/model.c:13:5" }
}
'''
KERNELS_CI = r'''graph: { title: "kernels/arm/conv.c"
node: { title: "sapool_conv2d_s8" label: "sapool_conv2d_s8\nkernels/arm/conv.c:40:6\n96 bytes (static)" }
node: { title: "pixel_pair" label: "pixel_pair\nkernels/arm/conv.c:12:13\n128 bytes (static)" }
edge: { sourcename: "sapool_conv2d_s8" targetname: "pixel_pair" }
node: { title: "sapool_softmax_s8" label: "sapool_softmax_s8\nkernels/reference/softmax.c:9:6\n200 bytes (static)" }
}
'''


def _build(build_dir, *graphs):
    """A build folder with one object's call graph per subfolder, as make writes them."""
    for index, text in enumerate(graphs):
        folder = build_dir / f"part{index}"
        folder.mkdir(parents=True)
        (folder / "unit.ci").write_text(text)
    return build_dir


def test_the_deepest_chain_across_objects_is_the_bound(tmp_path):
    bound = stack_bound(_build(tmp_path, MODEL_CI, KERNELS_CI))
    assert bound.bytes == 64 + 96 + 128  # invoke → conv → pixel_pair beats invoke → softmax (64 + 200)
    assert bound.chain == ("sapool_model_invoke", "sapool_conv2d_s8", "pixel_pair")
    assert bound.without_size == ("memcpy",)


def test_recursion_and_dynamic_frames_have_no_static_bound(tmp_path):
    recursive = KERNELS_CI.replace('targetname: "pixel_pair" }', 'targetname: "pixel_pair" }\n'
                                   'edge: { sourcename: "pixel_pair" targetname: "sapool_conv2d_s8" }')
    with pytest.raises(BuildError, match="recursive"):
        stack_bound(_build(tmp_path / "a", MODEL_CI, recursive))
    dynamic = KERNELS_CI.replace("128 bytes (static)", "128 bytes (dynamic)")
    with pytest.raises(BuildError, match="dynamic"):
        stack_bound(_build(tmp_path / "b", MODEL_CI, dynamic))


def test_a_build_without_call_graphs_is_an_error(tmp_path):
    with pytest.raises(BuildError, match="no call graph"):
        stack_bound(tmp_path)
