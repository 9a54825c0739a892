"""Imports run one way: programs -> flags -> orchestration (tasks) -> libraries -> models/geometry/losses -> base.

The sources are parsed with `ast` (nothing is imported or run), every import counts (inside functions too, and
`from package import submodule` names the submodule), and the test fails on a cycle between modules, a cycle
between packages, an import towards a higher layer of LAYERS, or a package missing from LAYERS.
Run as a script (`python tests/test_import_layers.py`) it prints the package graph.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("sfmlearner_tf", "mask_rcnn_prep", "flags", "benchmarks", "run_train.py", "run_eval.py")

PROGRAM, APPS, FLAGS, TASKS, LIBRARY, MODEL, BASE = 6, 5, 4, 3, 2, 1, 0
# Layer rank of every package (a module of a package may import packages of its own rank or lower). A package is
# sfmlearner_tf.<subpackage or top module>, flags, mask_rcnn_prep (a library) or benchmarks; each program
# module is a node of its own.
LAYERS = {
    "run_train": PROGRAM,
    "run_eval": PROGRAM,
    "sfmlearner_tf.apps.demo": PROGRAM,
    "sfmlearner_tf.apps.export": PROGRAM,
    "sfmlearner_tf.apps.predict": PROGRAM,
    "sfmlearner_tf.apps.prepare_data": PROGRAM,
    "sfmlearner_tf.apps.render_synthetic": PROGRAM,
    "sfmlearner_tf.apps.sweep": PROGRAM,
    "sfmlearner_tf.apps.mask_rcnn_prep": PROGRAM,
    "benchmarks": PROGRAM,
    "sfmlearner_tf.apps": APPS,  # run_program, the wrapper the programs share
    "flags": FLAGS,
    "sfmlearner_tf.tasks": TASKS,
    "sfmlearner_tf.training": LIBRARY,
    "sfmlearner_tf.evaluation": LIBRARY,
    "sfmlearner_tf.prep": LIBRARY,
    "sfmlearner_tf.synthetic": LIBRARY,
    "sfmlearner_tf.data": LIBRARY,
    "sfmlearner_tf.export": LIBRARY,
    "sfmlearner_tf.predict": LIBRARY,
    "sfmlearner_tf.run_record": LIBRARY,
    "mask_rcnn_prep": LIBRARY,
    "sfmlearner_tf.models": MODEL,
    "sfmlearner_tf.geometry": MODEL,
    "sfmlearner_tf.losses": MODEL,
    "sfmlearner_tf.ops": BASE,
    "sfmlearner_tf.errors": BASE,
    "sfmlearner_tf.io_utils": BASE,
    "sfmlearner_tf.progress": BASE,
    "sfmlearner_tf.settings": BASE,  # config fields' help texts and rules, checked by type
    "sfmlearner_tf.quiet": BASE,  # the stderr filter the programs start first
    "sfmlearner_tf": BASE,  # the package's __init__ (__version__)
}
PROGRAM_MODULES = {name for name, rank in LAYERS.items() if rank == PROGRAM and name != "benchmarks"}
# Mask R-CNN is a side library: besides the base it may use only prep's interfaces (the sample format and the
# mask-source protocol), and only layers above the libraries (tasks, flags, programs) import it.
MASK_RCNN_MAY_USE = {"sfmlearner_tf.ops", "sfmlearner_tf.io_utils", "sfmlearner_tf.errors", "sfmlearner_tf.progress",
                     "sfmlearner_tf.settings",
                     "sfmlearner_tf.prep.samples", "sfmlearner_tf.prep.mask_sources"}


def find_modules(root: Path = REPO) -> dict[str, Path]:
    """Dotted module name -> file, for every .py of SOURCES (a package's __init__.py is the package's name)."""
    files = []
    for source in SOURCES:
        path = root / source
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    modules = {}
    for path in files:
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _longest_module(name: str, modules: dict[str, Path]) -> str:
    """The longest prefix of a dotted name that is a repository module ("" for an outside package)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def _imports(tree: ast.Module, module: str, is_package: bool, modules: dict[str, Path]) -> set[str]:
    """The repository modules named by the import statements of a module's tree, relative imports resolved:
    `import a.b.c` counts as its longest prefix that is a module; `from a import b` as a.b when that is a module,
    else as a. Parent packages' __init__, which Python runs first, are not counted (otherwise every package
    would be a cycle with its members)."""
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets |= {_longest_module(alias.name, modules) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else _longest_module(base, modules))
    return targets - {"", module}


def module_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the repository modules it imports (see _imports)."""
    return {module: _imports(ast.parse(path.read_text(), str(path)), module, path.name == "__init__.py", modules)
            for module, path in modules.items()}


def package_of(module: str) -> str:
    """The node of the package graph a module belongs to (see LAYERS)."""
    if module in PROGRAM_MODULES:
        return module
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "sfmlearner_tf" else parts[0]


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages = defaultdict(set)
    for module, targets in graph.items():
        packages[package_of(module)] |= {package_of(t) for t in targets} - {package_of(module)}
    return dict(packages)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _edges_within(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    members = set(component)
    return [f"{a} -> {b}" for a in component for b in sorted(graph[a] & members)]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Module edges whose target's package has a higher rank than the importer's."""
    return [f"{a} -> {b}" for a in sorted(graph) for b in sorted(graph[a])
            if LAYERS.get(package_of(b), -1) > LAYERS.get(package_of(a), PROGRAM)]


def mask_rcnn_violations(graph: dict[str, set[str]]) -> list[str]:
    """Edges out of mask_rcnn_prep's library part to what it may not use, and edges into it from libraries."""
    bad = []
    for a in sorted(graph):
        for b in sorted(graph[a]):
            source, target = package_of(a), package_of(b)
            if source == "mask_rcnn_prep" and target != source and target not in MASK_RCNN_MAY_USE and \
                    b not in MASK_RCNN_MAY_USE:
                bad.append(f"{a} -> {b}")
            if target == "mask_rcnn_prep" and source != target and LAYERS.get(source, PROGRAM) <= LIBRARY:
                bad.append(f"{a} -> {b}")
    return bad


_MODULES = find_modules()
_GRAPH = module_graph(_MODULES)


def test_the_scanner_sees_imports_inside_functions_and_submodules_of_from_imports(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    files = {"pkg/__init__.py": "from pkg.sub import leaf\n",
             "pkg/sub/__init__.py": "",
             "pkg/sub/leaf.py": "def f():\n    from ..other import thing\n    import pkg.sub.deep.x\n",
             "pkg/sub/deep.py": "from . import leaf\n",
             "pkg/other.py": "thing = 1\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    modules = {}
    for name in files:
        parts = Path(name).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = tmp_path / name
    graph = module_graph(modules)
    assert graph == {"pkg": {"pkg.sub.leaf"}, "pkg.sub": set(), "pkg.sub.leaf": {"pkg.other", "pkg.sub.deep"},
                     "pkg.sub.deep": {"pkg.sub.leaf"}, "pkg.other": set()}
    assert cycles(graph) == [["pkg.sub.deep", "pkg.sub.leaf"]]


def test_no_module_cycle() -> None:
    found = cycles(_GRAPH)
    assert not found, "module cycles:\n" + "\n".join(e for c in found for e in _edges_within(_GRAPH, c))


def test_no_package_cycle() -> None:
    packages = package_graph(_GRAPH)
    found = cycles(packages)
    offending = [f"  {a} -> {b}" for c in found for a in c for b in sorted(packages[a] & set(c))]
    module_edges = [f"    {a} -> {b}" for a in sorted(_GRAPH) for b in sorted(_GRAPH[a])
                    if any(f"  {package_of(a)} -> {package_of(b)}" == line for line in offending)]
    assert not found, "package cycles:\n" + "\n".join(offending + module_edges)


def test_every_package_has_a_layer() -> None:
    assert len(_MODULES) > 100  # the scan found the sources
    missing = sorted({package_of(m) for m in _MODULES} - set(LAYERS))
    assert not missing, f"place these packages in LAYERS: {missing}"
    stale = sorted(set(LAYERS) - {package_of(m) for m in _MODULES})
    assert not stale, f"LAYERS names packages that no longer exist: {stale}"


def test_no_upward_import() -> None:
    bad = upward_imports(_GRAPH)
    assert not bad, "imports towards a higher layer:\n" + "\n".join(bad)


def test_mask_rcnn_prep_plugs_in_from_above() -> None:
    bad = mask_rcnn_violations(_GRAPH)
    assert not bad, "mask_rcnn_prep's library part is used or uses beyond its place:\n" + "\n".join(bad)


def test_the_checks_catch_a_cycle_and_an_upward_import() -> None:
    graph = {**_GRAPH, "sfmlearner_tf.errors": _GRAPH["sfmlearner_tf.errors"] | {"sfmlearner_tf.tasks.demo"}}
    assert "sfmlearner_tf.errors -> sfmlearner_tf.tasks.demo" in upward_imports(graph)
    assert any("sfmlearner_tf.errors" in c and "sfmlearner_tf.tasks" in c for c in cycles(package_graph(graph)))


if __name__ == "__main__":
    level = sys.argv[1] if len(sys.argv) > 1 else "packages"
    shown = package_graph(_GRAPH) if level == "packages" else _GRAPH
    for name in sorted(shown, key=lambda n: (-LAYERS.get(package_of(n), PROGRAM), n)):
        print(f"{name} -> {', '.join(sorted(shown[name]))}")
    print("module cycles:", cycles(_GRAPH))
    print("package cycles:", cycles(package_graph(_GRAPH)))
