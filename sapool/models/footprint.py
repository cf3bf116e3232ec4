"""The int8 activation footprint of a torch network, planned exactly as `sapool compile` plans its export.

`torch_to_graph` traces the module with torch.fx, propagates shapes with one example input and hands the traced
graph to `models.fx_to_graph`, which writes the sapool.ir Graph the int8 TFLite export will contain (its module
docstring lists the converter's rewrites it mimics and where the estimate can differ from a real export).
`int8_peak_activation` plans that graph with sapool.planning's recipe, the one every command uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph
from sapool.models.fx_to_graph import write_graph

if TYPE_CHECKING:
    from sapool.memory.layout import Layout


@dataclass(frozen=True)
class Footprint:
    """A planned int8 activation arena for a torch network; `fits` is None when no target or budget was given.

    `layout` is the one plan (sapool.memory.layout), made exactly as `sapool plan` makes it for a .tflite."""

    layout: Layout
    fits: bool | None

    @property
    def graph(self) -> Graph:
        return self.layout.graph

    @property
    def peak_arena_bytes(self) -> int:
        return self.layout.peak_arena_bytes

    @property
    def lower_bound_bytes(self) -> int:
        return self.layout.lower_bound_bytes

    @property
    def macs(self) -> int:
        """The network's multiply-accumulates (a patch stage's recomputed overlaps not counted)."""
        from sapool.ir.analysis import model_macs
        from sapool.passes.patches import expand

        return model_macs(expand(self.graph)[0])


def input_shape_of(config_or_input_shape) -> tuple[int, ...]:
    """(N, C, H, W) from a ModelConfig (batch 1) or an explicit shape."""
    if hasattr(config_or_input_shape, "input_size"):
        config = config_or_input_shape
        return (1, config.in_channels, config.input_size, config.input_size)
    return tuple(int(size) for size in config_or_input_shape)


def trace(model, input_shape: tuple[int, ...], leaf_types: tuple[type, ...] = ()):
    """torch.fx GraphModule of `model` with every node's output shape in node.meta["tensor_meta"].

    `leaf_types` are module classes kept as single call_module nodes instead of being traced through.
    """
    import torch
    from torch import fx
    from torch.fx.passes.shape_prop import ShapeProp

    class _Tracer(fx.Tracer):
        def is_leaf_module(self, module, qualified_name):
            return isinstance(module, leaf_types) or super().is_leaf_module(module, qualified_name)

    try:
        graph = _Tracer().trace(model)
    except Exception as err:  # fx raises TraceError, TypeError, NotImplementedError… for untraceable code
        raise UnsupportedError(f"cannot trace {type(model).__name__} with torch.fx ({err})") from err
    module = fx.GraphModule(model, graph)
    with torch.no_grad():
        ShapeProp(module).propagate(torch.zeros(input_shape))
    return module


def torch_to_graph(model, config_or_input_shape) -> Graph:
    """The estimated int8 TFLite graph of `model` (traced in eval mode on a zero input of the given shape)."""
    from sapool.models.sap import sap_form

    was_training = model.training
    model.eval()
    try:
        with sap_form(model, "export"):  # SAP layers as they are exported (DESIGN.md §3), not the paper's form
            module = trace(model, input_shape_of(config_or_input_shape))
    finally:
        model.train(was_training)
    return write_graph(module, type(model).__name__)


def firmware_graph(model, config_or_input_shape, patches: str = "auto") -> tuple[Graph, dict[int, int]]:
    """(graph, kernel scratch per op) of `model` as `sapool compile` plans its export: the estimated graph as the
    native C backend runs it (sapool.planning.firmware_graph: fusions and patch stages are structural, so they
    apply to this unquantised graph as to the export) and the kernels' scratch."""
    from sapool.planning import firmware_graph as prepared

    return prepared(torch_to_graph(model, config_or_input_shape), patches)


def int8_peak_activation(model, config_or_input_shape, target=None, ram_budget: int | None = None,
                         time_limit_s: float = 5.0, patches: str = "auto") -> Footprint:
    """Plan the int8 activations of `model` once with sapool.planning's recipe, as `sapool plan` and `sapool
    compile` plan its export (fused ops, patch stages, kernel scratch, in-place layers).

    `target` is a target name or Target; `ram_budget` (bytes) replaces the target's regions by one region of
    that size, as `sapool plan --ram-budget` does. With neither, the plan is made without a size limit.
    """
    from sapool.planning import PlanOptions, plan_model
    from sapool.targets import get_target

    target_info = get_target(target) if isinstance(target, str) else target
    options = PlanOptions(ram_budget=ram_budget, patches=patches, time_limit_s=time_limit_s)
    layout = plan_model(torch_to_graph(model, config_or_input_shape), target_info, options)
    return Footprint(layout, fits=None if target is None and ram_budget is None else layout.fits)
