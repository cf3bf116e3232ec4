"""Byte sizes as people write them on a command line ("256K", "1.5M", "65536") and as reports show them.

K and M are binary (1024, 1024²), as in microcontroller datasheets and linker scripts, whatever the case of the
letter; an optional trailing "B" or "iB" is accepted ("64KB", "64KiB"). A size must come out as a whole,
positive number of bytes, so "0.3K" is refused instead of being silently rounded.
"""

import re
from decimal import Decimal, InvalidOperation

from sapool.errors import BadInputError

_MULTIPLIERS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
_SIZE = re.compile(r"^\s*(?P<number>[0-9]*\.?[0-9]+)\s*(?P<unit>[kmg]?)(i?b)?\s*$", re.IGNORECASE)


def parse_bytes(text: str | int) -> int:
    """Bytes in `text` ("256K" → 262144); BadInputError naming the value when it is not a positive whole size."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text <= 0:
            raise BadInputError(f"size must be positive, got {text}")
        return text
    match = _SIZE.match(str(text))
    if not match:
        raise BadInputError(f"not a byte size: {text!r} (write e.g. 65536, 64K, 1.5M)")
    try:
        value = Decimal(match["number"]) * _MULTIPLIERS[match["unit"].lower()]
    except InvalidOperation as err:  # the regex admits only digits and one dot, so this is defensive
        raise BadInputError(f"not a byte size: {text!r}") from err
    if value != value.to_integral_value():
        raise BadInputError(f"size {text!r} is not a whole number of bytes ({value} B)")
    if value <= 0:
        raise BadInputError(f"size must be positive, got {text!r}")
    return int(value)


def format_bytes(size: int) -> str:
    """Short human form for reports: 768 → "768 B", 98304 → "96 KiB", 1572864 → "1.5 MiB"."""
    for unit, factor in (("MiB", 1024 ** 2), ("KiB", 1024)):
        if abs(size) >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} B"
