"""Showing text that came from a file (op, tensor and file names) literally, on any terminal.

Names in a model are data, not markup: they are always wrapped in rich `Text` (never passed as markup strings),
and control characters (ANSI escapes, newlines, NUL) are shown as Python-style escapes so a hostile name can
neither restyle the terminal nor break a table's rows. `fits_encoding` tells a renderer whether its own symbols
(× ◀ …) survive the output stream, so a non-UTF-8 stdout gets ASCII stand-ins instead of a crash.
"""

from __future__ import annotations

import codecs


def printable(text: str) -> str:
    """`text` with every non-printable character shown as an escape (\\x1b, \\n, \\u200b …)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def fits_encoding(text: str, encoding: str | None) -> bool:
    """True when `text` can be written to a stream with `encoding` (None: assume UTF-8)."""
    try:
        codecs.encode(text, encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
