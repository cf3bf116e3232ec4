"""Compare int8 outputs of two interpreters: how many elements are bit-exact, and by how many LSB the rest differ.

The reference is TFLite's reference kernels (ai-edge-litert, BUILTIN_REF). TFLite-Micro is expected to match
it bit for bit except in FULLY_CONNECTED, whose TFLM kernel rounds differently and may differ by 1 LSB (DESIGN
§3/§7); later layers can carry such a difference on. A Comparison therefore says where outputs first diverge
when per-tensor intermediates are given, and flags the known FULLY_CONNECTED case with a note, so a report can
tell "TFLM's known 1-LSB FULLY_CONNECTED rounding" apart from a real mismatch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from sapool.errors import BadInputError
from sapool.ir.graph import Graph

KNOWN_DIFFERENCE_OPS = frozenset({"FULLY_CONNECTED"})
KNOWN_DIFFERENCE_LSB = 1


@dataclass(frozen=True)
class Divergence:
    """The first op (execution order) whose output differs between the two runs."""

    op_index: int
    opcode: str
    tensor: int
    max_lsb_diff: int


@dataclass(frozen=True)
class Comparison:
    total: int  # elements compared
    bit_exact: int  # elements equal in both
    max_lsb_diff: int
    lsb_histogram: dict[int, int]  # |difference| in LSB -> number of elements, for every difference that occurs
    samples: int
    samples_bit_exact: int  # samples whose whole output is equal
    first_divergence: Divergence | None  # only when intermediates were given
    note: str | None  # set when the differences are TFLM's known FULLY_CONNECTED rounding

    @property
    def bit_exact_fraction(self) -> float:
        return self.bit_exact / self.total if self.total else 1.0

    @property
    def identical(self) -> bool:
        return self.bit_exact == self.total

    def to_json(self) -> dict:
        divergence = self.first_divergence
        return {
            "total": self.total,
            "bit_exact": self.bit_exact,
            "bit_exact_fraction": round(self.bit_exact_fraction, 6),
            "max_lsb_diff": self.max_lsb_diff,
            "lsb_histogram": {str(lsb): count for lsb, count in sorted(self.lsb_histogram.items())},
            "samples": self.samples,
            "samples_bit_exact": self.samples_bit_exact,
            "first_divergence": None if divergence is None else vars(divergence),
            "note": self.note,
        }


def compare_outputs(
    reference: np.ndarray,
    candidate: np.ndarray,
    *,
    graph: Graph | None = None,
    intermediates: tuple[dict[int, np.ndarray], dict[int, np.ndarray]] | None = None,
) -> Comparison:
    """Compare two batches of integer outputs (sample axis first), e.g. litert-ref vs tflm `RunResult.outputs`.

    With `graph`, differences of at most 1 LSB in a model with FULLY_CONNECTED get the known-difference note;
    with `intermediates` as well ((reference, candidate) from `run_model(..., intermediates=True)`), the first
    diverging op is located and the note is only given when that op is a FULLY_CONNECTED.
    """
    reference, candidate = np.asarray(reference), np.asarray(candidate)
    if reference.shape != candidate.shape:
        raise BadInputError(f"cannot compare outputs of shapes {list(reference.shape)} and {list(candidate.shape)}")
    difference = np.abs(reference.astype(np.int64) - candidate.astype(np.int64))
    histogram = Counter(difference[difference > 0].tolist())
    samples = reference.shape[0] if reference.ndim else 1
    per_sample = difference.reshape(samples, -1)
    divergence = first_divergence(graph, *intermediates) if graph is not None and intermediates else None
    max_diff = int(difference.max(initial=0))
    return Comparison(
        total=int(difference.size),
        bit_exact=int(difference.size - sum(histogram.values())),
        max_lsb_diff=max_diff,
        lsb_histogram=dict(sorted(histogram.items())),
        samples=samples,
        samples_bit_exact=int(np.count_nonzero(per_sample.max(axis=1, initial=0) == 0)),
        first_divergence=divergence,
        note=_known_difference_note(graph, divergence, max_diff, intermediates is not None),
    )


def first_divergence(graph: Graph, reference: dict[int, np.ndarray], candidate: dict[int, np.ndarray]) -> Divergence | None:
    """The first op whose output tensors differ between two `RunResult.intermediates`; None if none does."""
    for op in graph.ops:
        for tensor in op.outputs:
            if tensor in reference and tensor in candidate:
                gap = np.abs(reference[tensor].astype(np.int64) - candidate[tensor].astype(np.int64))
                if gap.any():
                    return Divergence(op.index, op.opcode, tensor, int(gap.max()))
    return None


def _known_difference_note(graph: Graph | None, divergence: Divergence | None, max_diff: int, located: bool) -> str | None:
    if graph is None or max_diff == 0:
        return None
    if located:
        if divergence is None or divergence.opcode not in KNOWN_DIFFERENCE_OPS:
            return None
        if divergence.max_lsb_diff > KNOWN_DIFFERENCE_LSB:
            return None
        return (f"outputs first differ after op {divergence.op_index} ({divergence.opcode}) by "
                f"{divergence.max_lsb_diff} LSB: TFLite-Micro's known FULLY_CONNECTED rounding, not a mismatch "
                f"(up to {max_diff} LSB at the output)")
    if max_diff <= KNOWN_DIFFERENCE_LSB and any(op.opcode in KNOWN_DIFFERENCE_OPS for op in graph.ops):
        return ("outputs differ by at most 1 LSB and the model has FULLY_CONNECTED ops, whose TFLite-Micro kernel "
                "is known to round differently from the reference kernels")
    return None
