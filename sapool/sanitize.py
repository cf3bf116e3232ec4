"""Names from a model (file names, tensor/op/node names, metadata, class names) made safe for generated files.

A name is data: pasted raw into a generated file it can end a comment (`*/`, a newline, a trailing backslash that
continues a `//` comment onto the next line, the trigraph `??/`), run a command when `make` reads it (`$(shell …)`,
backticks in a recipe), or restyle a README. Every name that reaches a generated file goes through the function
for that file's language here; each returns plain ASCII that cannot leave the place it is put in, while staying
readable for the usual names (`conv2d/Relu;StatefulPartitionedCall:0` stays recognisable).

- `c_comment`: inside `/* … */` or after `//` in C and C++.
- `c_identifier`: a C identifier (symbol, macro, enum name).
- `c_string`: a complete C string literal, quotes included, holding the name's text as UTF-8.

Bytes that are not UTF-8 (a file name from a Linux file system, a corrupt model) arrive as the text `\\xNN`.
- `makefile_text`: a Makefile comment, target or variable value.
- `linker_text`: a GNU ld script comment or symbol name.
- `markdown_text`: running Markdown text or a table cell (not inside a code span).
"""

from __future__ import annotations

import keyword
import re

MAX_NAME_CHARS = 120  # longer names are cut (with "...") so one hostile name cannot bloat every generated file

# Reserved words of C (C99/C11/C23) and the C++ ones a generated C header may meet when included from C++.
_C_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto if inline int long
    register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while
    _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local
    alignas alignof bool constexpr false nullptr static_assert thread_local true typeof typeof_unqual
    asm catch class const_cast delete dynamic_cast explicit export friend mutable namespace new noexcept operator
    private protected public reinterpret_cast static_cast template this throw try typeid typename using virtual
""".split())


def _text(name) -> str:
    """`name` as text: bytes that are not UTF-8 become \\xNN escapes, anything else goes through str()."""
    if isinstance(name, (bytes, bytearray)):
        return bytes(name).decode("utf-8", errors="backslashreplace")
    text = str(name)
    # A str may hold lone surrogates (os.fsdecode of a non-UTF-8 file name): show them as the bytes they stand for.
    try:
        data = text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        data = text.encode("utf-8", errors="backslashreplace")
    return data.decode("utf-8", errors="backslashreplace")


def _shorten(text: str, limit: int = MAX_NAME_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _ascii_escaped(text: str) -> str:
    """Printable ASCII kept; every other character, and the backslash itself, as \\xNN, \\uNNNN or
    \\UNNNNNNNN (Python's spelling), so no backslash of the name survives as one."""
    return "".join(c if " " <= c <= "~" and c != "\\" else _escape(c) for c in text)


def _escape(char: str) -> str:
    return "\\x5c" if char == "\\" else char.encode("unicode_escape").decode("ascii")


def c_comment(name) -> str:
    """`name` as one line of printable ASCII that cannot end or extend a C/C++ comment.

    Breaks `*/` and `/*`, spells backslashes as \\x5c (so none ends a line), and breaks `??` (trigraphs, which
    `-std=c99` turns on: `??/` is a backslash).
    """
    text = _ascii_escaped(_shorten(_text(name)))
    text = text.replace("*/", "* /").replace("/*", "/ *")
    while "??" in text:
        text = text.replace("??", "?_?")
    return text


def c_identifier(name, fallback: str = "unnamed") -> str:
    """`name` as a C identifier: every other character becomes `_`, a leading digit or underscore gets `n`
    in front (names starting `_X` or `__` are reserved), a keyword gets a trailing `_`; empty gives `fallback`.

    Different names can map to the same identifier; a caller that needs unique ones adds an index.
    """
    text = re.sub(r"[^A-Za-z0-9_]", "_", _text(name))[:63]  # C99 guarantees 63 significant characters
    if not text:
        return fallback
    if text[0].isdigit() or text[0] == "_":
        text = "n" + text[:62]
    if text in _C_KEYWORDS or keyword.iskeyword(text):
        text += "_"
    return text


def c_string(name) -> str:
    """`name` as a complete C string literal (quotes included) holding the name's text as UTF-8 bytes.

    Every byte outside printable ASCII, and `"`, `\\` and `?` (trigraphs), is written as a three-digit octal
    escape: unlike \\x escapes, those never swallow a following digit or letter.
    """
    data = _shorten(_text(name)).encode("utf-8")
    body = "".join(chr(byte) if 0x20 <= byte <= 0x7E and chr(byte) not in '"\\?' else f"\\{byte:03o}"
                   for byte in data)
    return f'"{body}"'


def makefile_text(name) -> str:
    """`name` with only letters, digits and `. _ + -` kept (every other character becomes `_`).

    Safe in a Makefile comment, as a target, a prerequisite or a variable value: no `$` (expansion), `#`
    (comment), `\\` (continuation), `;` (recipe), `%`/`*`/`?`/`[` (patterns), `:`/`=` (rules), quotes,
    backticks or spaces survive. Never empty, never starts with `-` or `.` (an option, a special target).
    """
    text = re.sub(r"[^A-Za-z0-9._+-]", "_", _shorten(_text(name)))
    if not text or text[0] in "-.":
        text = "m" + text
    return text


def linker_text(name) -> str:
    """`name` for a GNU ld script (a comment or a symbol): only letters, digits, `_` and `.` are kept."""
    text = re.sub(r"[^A-Za-z0-9_.]", "_", _shorten(_text(name)))
    if not text or text[0].isdigit():
        text = "n" + text
    return text


_MARKDOWN_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def markdown_text(name) -> str:
    """`name` for running Markdown text or a table cell: one line, every ASCII punctuation character
    backslash-escaped (CommonMark shows each literally), control and non-ASCII characters as visible escapes.

    So no link, image, HTML tag, heading, emphasis or table column can come out of a name.
    """
    text = _ascii_escaped(_shorten(_text(name)))
    return "".join("\\" + c if c in _MARKDOWN_PUNCTUATION else c for c in text)


# For jinja environments that render generated files: `{{ model | c_comment }}`.
JINJA_FILTERS = {"c_comment": c_comment, "c_identifier": c_identifier, "c_string": c_string,
                 "makefile_text": makefile_text, "linker_text": linker_text, "markdown_text": markdown_text}
