"""The code's shape, checked: one top-level package, imports at module top, no import circles.

Issue 12: installing statlift used to add `flows`, `extractors` and `schemas` as top-level
packages, and three import circles were hidden behind imports inside functions."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from setuptools import find_packages

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "statlift"

# Imports that stay inside a function, each for a reason a reader can check.
#   statlift/cli/*: a subcommand imports the stages it drives when it runs, so that `statlift run`
#   with nothing to do, `--help` and bad input answer before pandas, pandera and Prefect load
#   (issue 15: under a second).
LAZY_OK_PACKAGES = ("statlift/cli/",)
LAZY_OK: dict[tuple[str, str], str] = {
    ("statlift/flows/run.py", "prefect_dask"): "an optional extra (`pip install statlift[dask]`)",
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(REPO).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def test_pip_install_adds_one_top_level_package():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    find = config["tool"]["setuptools"]["packages"]["find"]
    packages = find_packages(where=str(REPO), include=find["include"])
    assert packages and {p.split(".")[0] for p in packages} == {"statlift"}
    assert {"statlift.flows", "statlift.extractors", "statlift.schemas"} <= set(packages)


def _function_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    found += [(inner.lineno, a.name) for a in inner.names]
                elif isinstance(inner, ast.ImportFrom):
                    found.append((inner.lineno, inner.module or "."))
    return found


def test_imports_are_at_module_top():
    hidden = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith(LAZY_OK_PACKAGES):
            continue
        for line, name in _function_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if (rel, name.split(".")[0]) not in LAZY_OK:
                hidden.append(f"{rel}:{line} imports {name} inside a function")
    assert hidden == []


def _top_level_imports(path: Path, module: str, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    deps: set[str] = set()
    for node in tree.body:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: len(module.split(".")) - node.level + is_pkg]
                base = ".".join(parent + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module and not module.startswith(name + "."):
                deps.add(name)
    return deps


def test_no_import_circles():
    modules = _modules()
    known = set(modules)
    graph = {m: _top_level_imports(p, m, known) for m, p in modules.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    # a package's __init__ re-exporting its own submodules is not a circle between stages
    cycles = [c for c in cycles if not all(x == c[0] or x.startswith(c[0] + ".") for x in c)]
    assert cycles == []
