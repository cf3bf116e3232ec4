"""Byte sizes from the command line: the suffixes people use, and one clear error for everything else."""

import pytest

from sapool.errors import BadInputError
from sapool.units import format_bytes, parse_bytes


@pytest.mark.parametrize(
    "text, expected",
    [
        ("65536", 65536),
        ("256K", 256 * 1024),
        ("64k", 64 * 1024),
        ("1.5M", 1536 * 1024),
        ("2m", 2 * 1024 * 1024),
        ("8KB", 8192),
        ("8KiB", 8192),
        (" 16K ", 16384),
        ("1.5K", 1536),
        (4096, 4096),
    ],
)
def test_parse_bytes_accepts_common_spellings(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "K", "abc", "12Q", "-5", "1e3", "0", "0K", "0.3K", "1.2.3K", "1 2", 0, -1])
def test_parse_bytes_rejects_with_bad_input_error(text):
    with pytest.raises(BadInputError) as err:
        parse_bytes(text)
    assert "\n" not in str(err.value)


def test_fraction_error_names_the_value():
    with pytest.raises(BadInputError, match="0.3K"):
        parse_bytes("0.3K")


@pytest.mark.parametrize(
    "size, text", [(768, "768 B"), (98304, "96 KiB"), (1536, "1.5 KiB"), (1572864, "1.5 MiB"), (0, "0 B")]
)
def test_format_bytes(size, text):
    assert format_bytes(size) == text
