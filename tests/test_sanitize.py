"""Hostile names through each sanitiser, checked by the real consumer: gcc, make, ld and a CommonMark parser."""

import shutil
import subprocess

import pytest
from markdown_it import MarkdownIt

from sapool.sanitize import c_comment, c_identifier, c_string, linker_text, makefile_text, markdown_text

# Each tries to leave its place: end a comment, continue a line, run a command, inject markup, or not be UTF-8.
HOSTILE = [
    "*/ int injected = 1; /*",
    "a\n#error injected",
    "m\n$(shell touch CANARY)\n.tflite",
    "`touch CANARY`",
    "trailing backslash \\",
    "trigraph ??/",
    "\"quoted\" and 'single'",
    "$$(touch CANARY) ; touch CANARY # comment",
    "\x00nul\x1b[31mred\r\n",
    b"not utf-8 \xff\xfe end",
    "lone \udcff surrogate",
    "unicode \u2028 line separator \u00e9",
    "[link](http://x) <script>alert(1)</script> | cell | ![img](y) # heading",
    "",
    "x" * 5000,
]
NAMES = pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))


def _compile_and_run(tmp_path, source: str) -> subprocess.CompletedProcess:
    (tmp_path / "t.c").write_text(source)
    flags = ["-std=c99", "-trigraphs", "-Wall", "-Werror", "-Wno-comment"]
    subprocess.run(["gcc", *flags, "-o", str(tmp_path / "t"), str(tmp_path / "t.c")], check=True,
                   capture_output=True)
    return subprocess.run([str(tmp_path / "t")], check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs the host C compiler")
def test_c_sanitisers_keep_every_name_in_its_place(tmp_path):
    """One C file with every hostile name as a comment, an identifier and a string: it compiles with trigraphs
    on and warnings as errors, and each string holds exactly the name's text."""
    lines = ["#include <stdio.h>", "int main(void) {"]
    for index, name in enumerate(HOSTILE):
        lines += [f"    /* {c_comment(name)} */", f"    // {c_comment(name)}",
                  f"    int {c_identifier(name)}_{index} = {index}; (void){c_identifier(name)}_{index};",
                  f"    {{ static const char s[] = {c_string(name)};",
                  "      for (unsigned i = 0; i + 1 < sizeof s; i++) printf(\"%02x\", (unsigned char)s[i]);",
                  "      putchar('\\n'); }"]
    lines += ["    return 0;", "}"]
    printed = _compile_and_run(tmp_path, "\n".join(lines) + "\n").stdout.decode().splitlines()
    for got, name in zip(printed, HOSTILE, strict=True):
        # Bytes that are not UTF-8 (raw or as os.fsdecode's surrogates) arrive as \\xNN text, as in every file.
        raw = name if isinstance(name, bytes) else name.encode("utf-8", "surrogateescape")
        data = raw.decode("utf-8", "backslashreplace").encode("utf-8")
        if len(data) <= 120:
            assert bytes.fromhex(got) == data
        else:
            assert bytes.fromhex(got) == data[:117] + b"..."


@NAMES
def test_c_identifier_is_a_plain_identifier(name):
    identifier = c_identifier(name)
    assert identifier.isidentifier() and identifier.isascii() and len(identifier) <= 63
    assert not identifier.startswith("_") and identifier not in ("int", "return")


def test_c_identifier_avoids_keywords_and_reserved_names():
    assert c_identifier("int") == "int_"
    assert c_identifier("__x") == "n__x"
    assert c_identifier("9lives") == "n9lives"
    assert c_identifier("conv2d/Relu") == "conv2d_Relu"


@NAMES
def test_c_comment_is_one_harmless_line(name):
    text = c_comment(name)
    assert text.isascii() and text.isprintable()
    assert "*/" not in text and "/*" not in text and "??" not in text and not text.endswith("\\")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@NAMES
def test_makefile_text_runs_nothing(tmp_path, name):
    """As a comment, a target, a prerequisite and a variable: make parses it and runs no payload."""
    word = makefile_text(name)
    (tmp_path / "Makefile").write_text(
        f"# Build {word}\nNAME := {word}\nall: {word}\n{word}:\n\t@echo $(NAME) > made\n")
    subprocess.run(["make", "-s"], cwd=tmp_path, check=True, capture_output=True, timeout=30)
    assert not (tmp_path / "CANARY").exists()
    assert (tmp_path / "made").read_text().strip() == word


@pytest.mark.skipif(shutil.which("ld") is None, reason="needs GNU ld")
@NAMES
def test_linker_text_is_a_symbol_and_a_comment(tmp_path, name):
    symbol = linker_text(name)
    (tmp_path / "s.ld").write_text(f"/* {symbol} */\n{symbol} = 0x1234;\nSECTIONS {{ }}\n")
    (tmp_path / "e.s").write_text("")
    subprocess.run(["as", "-o", str(tmp_path / "e.o"), str(tmp_path / "e.s")], check=True)
    subprocess.run(["ld", "-T", str(tmp_path / "s.ld"), "-o", str(tmp_path / "out"), str(tmp_path / "e.o")],
                   check=True, capture_output=True)
    symbols = subprocess.run(["nm", str(tmp_path / "out")], check=True, capture_output=True, text=True).stdout
    assert f"00001234 A {symbol}" in symbols or f"0000000000001234 A {symbol}" in symbols


@NAMES
def test_markdown_text_is_literal_text(name):
    """Rendered by a CommonMark parser inside a paragraph and a table cell: only text comes out, no markup."""
    text = markdown_text(name)
    assert "\n" not in text and text.isascii()
    parser = MarkdownIt("commonmark").enable("table")
    paragraph = parser.parse(f"Model {text} here.\n")
    inline = [token for token in paragraph if token.type == "inline"]
    assert len(inline) == 1 and [child.type for child in inline[0].children] == ["text"]
    table = parser.parse(f"| a | b |\n|---|---|\n| {text} | x |\n")
    cells = [token for token in table if token.type == "td_open"]
    assert len(cells) == 2


def test_readable_names_stay_readable():
    name = "conv2d/Relu;StatefulPartitionedCall:0"
    assert c_comment(name) == name
    assert c_string(name) == f'"{name}"'
    assert makefile_text("vww_96_int8") == "vww_96_int8"
    assert markdown_text("vww_96_int8") == "vww\\_96\\_int8"
