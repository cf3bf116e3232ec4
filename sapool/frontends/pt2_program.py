"""Check a .pt2's program JSON (models/*.json) as data, before torch.export.load turns parts of it into code.

torch.export.load does three things with strings from that JSON that amount to running them:
- symbolic sizes (`{"as_expr": {"expr_str": ...}}`) go through `sympy.sympify`, which is Python's `eval`;
- each node's `target` is resolved by walking attributes from `torch`, `math` or `_operator`
  (`torch.serialization.os.system` is reachable that way), and the graph then calls it;
- `guards_code` entries are Python source compiled into a guard function by `program.module()`.
So every `expr_str` must match a small grammar (integers, symbol names, + - * / % comparisons and a fixed list of
sympy/torch functions: no attributes, no strings but symbol names, no powers or shifts that could take a hang),
every target must be an ATen operator or one of a few arithmetic helpers, and `guards_code` must be empty. A real
export of a model with a dynamic batch passes (its sizes read `Symbol('s77', positive=True, integer=True)`).
"""

from __future__ import annotations

import re
from pathlib import Path

from sapool.errors import BadInputError, UnsupportedError

MAX_EXPRESSION_CHARS = 2_000
# Names an expression may use: sympy's constructors and relations, and the torch functions torch's deserialiser
# provides, minus those that compute large powers or shifts (PowByNatural, FloatPow, LShift, RShift).
EXPRESSION_NAMES = frozenset("""
    Symbol Integer Rational Float Max Min Abs Eq Ne Lt Le Gt Ge And Or Not True False true false
    positive negative nonnegative nonpositive integer real finite
    FloorDiv ModularIndexing Where PythonMod Mod CleanDiv CeilToInt FloorToInt CeilDiv TruncToInt RoundToInt
    ToFloat Identity IntTrueDiv FloatTrueDiv TruncToFloat
""".split())
_TOKEN = re.compile(r"\s+|(?P<number>\d{1,30}(?:\.\d{1,30})?)|(?P<quoted>'[A-Za-z]{1,8}\d{1,9}')"
                    r"|(?P<name>[A-Za-z]{1,40}\d{0,9})|(?P<operator>==|!=|<=|>=|//|[-+*/%(),=<>&|~])")
_SYMBOL = re.compile(r"[a-z]{1,8}\d{1,9}")
_TARGET = re.compile(
    r"torch\.ops\.aten\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+"
    r"|_operator\.(getitem|add|sub|mul|floordiv|truediv|mod|neg|pos|eq|ne|lt|le|gt|ge|and_|or_|not_)"
    r"|torch\.sym_(int|float|max|min|not|sqrt|ite|sum)|torch\._check(_is_size)?"
    r"|math\.(ceil|floor|trunc|sqrt)")


def check_program_json(path: Path, member: str, document) -> None:
    """Raise BadInputError/UnsupportedError unless `document` (one models/*.json) is safe to deserialise."""
    if not isinstance(document, dict):
        raise BadInputError(f"{path}: {member} is not a JSON object")
    guards = document.get("guards_code", [])
    if not isinstance(guards, list):
        raise BadInputError(f"{path}: {member}: guards_code is {type(guards).__name__}, not a list")
    if guards:
        raise UnsupportedError(f"{path}: the program carries guard code ({len(guards)} Python expressions that "
                               "torch compiles when the model is built); sapool loads only archives without it")
    constraints = document.get("range_constraints", {})
    if not isinstance(constraints, dict) or not all(_SYMBOL.fullmatch(str(key)) for key in constraints):
        raise BadInputError(f"{path}: {member}: range_constraints must map symbol names to ranges")
    _walk(path, member, document, depth=0)


def _walk(path: Path, member: str, value, depth: int) -> None:
    if depth > 200:
        raise BadInputError(f"{path}: {member} is nested more than 200 levels deep; not a torch.export program")
    if isinstance(value, dict):
        if "expr_str" in value:
            check_expression(path, value["expr_str"])
        if "target" in value and "inputs" in value:
            _check_target(path, value["target"])
        for item in value.values():
            _walk(path, member, item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(path, member, item, depth + 1)


def check_expression(path: Path, text) -> None:
    """A symbolic size must be plain arithmetic over symbol names and integers (see the module docstring)."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_EXPRESSION_CHARS:
        raise BadInputError(f"{path}: a symbolic size is not a short expression ({_shown(text)})")
    if "**" in re.sub(r"\s+", "", text):
        raise UnsupportedError(f"{path}: a symbolic size raises to a power ({_shown(text)}); sapool never "
                               "evaluates such text")
    position, depth = 0, 0
    while position < len(text):
        token = _TOKEN.match(text, position)
        if token is None:
            raise UnsupportedError(f"{path}: a symbolic size holds {_shown(text[position:position + 20])}, which "
                                   "is not part of a size expression; sapool never evaluates such text")
        if token.group("name") and token.group("name") not in EXPRESSION_NAMES and not _SYMBOL.fullmatch(token.group("name")):
            raise UnsupportedError(f"{path}: a symbolic size calls {token.group('name')!r}, which is not a size "
                                   "function; sapool never evaluates such text")
        depth += {"(": 1, ")": -1}.get(token.group("operator") or "", 0)
        if depth > 50:
            raise BadInputError(f"{path}: a symbolic size is nested more than 50 levels deep")
        position = token.end()


def _check_target(path: Path, target) -> None:
    if not isinstance(target, str) or not _TARGET.fullmatch(target):
        raise UnsupportedError(f"{path}: the program calls {_shown(target)}, which is not an ATen operator; "
                               "sapool loads only programs of torch's own operators")


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
