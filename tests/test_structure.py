"""The house: sapool's modules import each other in one direction only, with no circles.

Every `import sapool…` / `from sapool… import …` in every module (function-level and TYPE_CHECKING imports
included: they are dependencies all the same) is read with `ast`, resolved to the module it names, and checked:
- no circle of modules importing each other (however long);
- no upward import: each module sits on a layer (LAYERS, lowest first; the longest matching prefix decides) and
  imports only from its own package or from layers below. The order is the data flow of docs/architecture.md.
"""

import ast
from pathlib import Path

import sapool

ROOT = Path(sapool.__file__).parent

# Lowest first. A module prefix may appear on its own layer (e.g. `sapool.validate.run`, which drives the compile
# steps, above `sapool.validate`, whose sample and metric code the compile steps use).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("sapool.errors",),
    ("sapool.units", "sapool.text", "sapool.outputs", "sapool.input_files", "sapool.zip_limits", "sapool.sanitize",
     "sapool.kernels", "sapool.boards", "sapool.pretrained"),
    ("sapool.output_folders", "sapool.ir", "sapool.targets"),
    ("sapool.memory", "sapool.passes"),
    ("sapool.backends",),
    ("sapool.planning",),
    ("sapool.data", "sapool.models"),
    ("sapool.train",),
    ("sapool.frontends", "sapool.prune"),
    ("sapool.verify",),
    ("sapool.quantize",),
    ("sapool.verify.samples", "sapool.firmware", "sapool.validate"),
    ("sapool.compile_steps",),
    ("sapool.pipeline",),
    ("sapool.validate.run",),
    ("sapool.cli", "sapool.__main__", "sapool"),
)


def _modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = ["sapool", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _resolve(name: str) -> str:
    """The module an import names (`from a.b import c` is module a.b.c when that exists, else a.b)."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(module: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("sapool"):
            names |= {_resolve(f"{node.module}.{alias.name}") for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {_resolve(alias.name) for alias in node.names if alias.name.startswith("sapool")}
    return names - {module}


GRAPH = {module: _imports(module) for module in MODULES}


def _layer(module: str) -> tuple[int, str]:
    """(layer index, the prefix that placed it) by the longest matching prefix."""
    matches = [(len(prefix), index, prefix) for index, layer in enumerate(LAYERS) for prefix in layer
               if module == prefix or module.startswith(prefix + ".")]
    assert matches, f"{module} is on no layer: add its package to LAYERS (and to docs/architecture.md)"
    _, index, prefix = max(matches)
    return index, prefix


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_every_module_is_on_a_layer():
    for module in MODULES:
        _layer(module)


def test_no_module_imports_from_a_layer_above_its_own():
    upward = []
    for module, imported in GRAPH.items():
        level, _ = _layer(module)
        for target in imported:
            if _package(target) != _package(module) and _layer(target)[0] > level:
                upward.append(f"{module} -> {target}")
    assert not upward, "upward imports:\n" + "\n".join(sorted(upward))


def test_no_import_circles():
    """Tarjan's strongly connected components over the module graph: any component of two or more is a circle."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while not component or component[-1] != module:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert not circles, f"import circles: {circles}"


def test_the_checker_sees_a_circle_and_an_upward_import():
    """The walk itself: the known edges are found (a function-level import included)."""
    assert "sapool.planning" in GRAPH["sapool.compile_steps.planning"]  # imported inside plan()
    assert "sapool.memory.layout" in GRAPH["sapool.planning"]
    assert _layer("sapool.memory.layout")[0] < _layer("sapool.planning")[0] < _layer("sapool.cli.plan")[0]
    assert _layer("sapool.validate.run")[1] == "sapool.validate.run"
