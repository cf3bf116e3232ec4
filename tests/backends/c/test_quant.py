"""Compile-time quantisation math against known TFLite values and brute force, and the C twins against Python."""

from __future__ import annotations

import math
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from sapool.backends.c.quant import (
    activation_range,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_single,
    quantize_multiplier,
    round_half_away,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
)
from sapool.kernels import kernel_file


@pytest.mark.parametrize("real, expected", [
    (0.0, (0, 0)),
    (0.5, (1 << 30, 0)),
    (1.0, (1 << 30, 1)),
    (0.25, (1 << 30, -1)),
    (0.75, (3 << 29, 0)),
    (2.0 ** -40, (0, 0)),  # below 2^-31: TFLite flushes to zero
    (1 - 2.0 ** -40, (1 << 30, 1)),  # rounds up to 2^31, renormalised
])
def test_quantize_multiplier_known_values(real, expected):
    assert quantize_multiplier(real) == expected


def test_quantize_multiplier_is_the_nearest_31_bit_fraction():
    for real in np.random.default_rng(1).uniform(1e-6, 4.0, 2000):
        multiplier, shift = quantize_multiplier(float(real))
        assert 1 << 30 <= multiplier < 1 << 31
        exact = Fraction(float(real)) * 2 ** (31 - shift)
        assert abs(exact - multiplier) <= Fraction(1, 2)


def test_round_half_away_differs_from_python_round_on_halves():
    assert [round_half_away(v) for v in (0.5, 1.5, 2.5, -0.5, -2.5, 2.4999)] == [1, 2, 3, -1, -3, 2]


def test_doubling_high_mul_is_rounded_2ab_over_2_32():
    rng = np.random.default_rng(2)
    for a, b in rng.integers(-(1 << 31), 1 << 31, size=(2000, 2)).tolist():
        exact = Fraction(a * b, 1 << 31)
        got = saturating_rounding_doubling_high_mul(a, b)
        assert abs(got - exact) <= Fraction(1, 2)
    assert saturating_rounding_doubling_high_mul(-(1 << 31), -(1 << 31)) == (1 << 31) - 1


def test_rounding_divide_by_pot_rounds_ties_away_from_zero():
    assert [rounding_divide_by_pot(x, 2) for x in (5, 6, 7, -5, -6, -7)] == [1, 2, 2, -1, -2, -2]


def test_single_rounding_is_floor_of_exact_plus_half():
    rng = np.random.default_rng(3)
    for x, multiplier, shift in zip(rng.integers(-(1 << 24), 1 << 24, 2000).tolist(),
                                    rng.integers(1 << 30, 1 << 31, 2000).tolist(),
                                    rng.integers(-20, 2, 2000).tolist()):
        exact = Fraction(x * multiplier) * Fraction(2) ** (shift - 31)
        assert multiply_by_quantized_multiplier_single(x, multiplier, shift) == math.floor(exact + Fraction(1, 2))


def test_activation_range_quantises_relu6_bounds():
    assert activation_range("NONE", 0.1, 3) == (-128, 127)
    assert activation_range("RELU", 0.1, -5) == (-5, 127)
    assert activation_range("RELU6", 0.05, -128) == (-128, -8)  # 6 / 0.05 = 120 above the zero point
    assert activation_range("RELU_N1_TO_1", 0.01, 0) == (-100, 100)


C_PROBE = r"""
#include <stdio.h>
#include "sapool_quant.h"
int main(void) {
    long x, m, s;
    while (scanf("%ld %ld %ld", &x, &m, &s) == 3) {
        printf("%ld %ld\n", (long)sapool_requantize((int32_t)x, (int32_t)m, (int32_t)s),
               (long)sapool_requantize_single((int32_t)x, (int32_t)m, (int32_t)s));
    }
    return 0;
}
"""


def test_c_requantisation_matches_the_python_twins(tmp_path):
    (tmp_path / "sapool_quant.h").write_text(kernel_file("include/sapool_quant.h"))
    (tmp_path / "probe.c").write_text(C_PROBE)
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-fsanitize=undefined",
                    "-fno-sanitize-recover=all", f"-I{tmp_path}", str(tmp_path / "probe.c"),
                    "-o", str(tmp_path / "probe")], check=True)
    rng = np.random.default_rng(4)
    cases = list(zip(rng.integers(-(1 << 31), 1 << 31, 3000).tolist(),
                     rng.integers(1 << 30, 1 << 31, 3000).tolist(),
                     rng.integers(-31, 1, 3000).tolist()))
    stdin = "".join(f"{x} {m} {s}\n" for x, m, s in cases)
    lines = subprocess.run([str(tmp_path / "probe")], input=stdin, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert len(lines) == len(cases)
    for (x, m, s), line in zip(cases, lines):
        double, single = map(int, line.split())
        assert double == multiply_by_quantized_multiplier(x, m, s)
        assert single == multiply_by_quantized_multiplier_single(x, m, s)
