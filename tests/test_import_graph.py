"""Imports between the files of ``powerpact/`` run one way.

The graph is read from the source with ``ast``: an edge for every import of a project
module, at module level or inside a function, except under ``if TYPE_CHECKING:`` (never
run). A cycle means two files that need each other; a function-level import hides one
from the interpreter, not from this graph. A function-level import of a project module
is allowed only with a comment saying why, on its line or the line above (above the
first of a run of imports, for the run).
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "powerpact"
DIRECTIVES = ("noqa", "type:", "pragma", "fmt:")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool
    first_line: int  # of the run of import statements this one belongs to


def module_files() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


Found = tuple[ast.Import | ast.ImportFrom, bool, int]


def imports_in(tree: ast.AST) -> list[Found]:
    """Each import statement, whether it runs inside a function, and the first line of the
    run of import statements it is part of (``if TYPE_CHECKING:`` skipped)."""
    found: list[Found] = []

    def visit(nodes: list[ast.AST], in_function: bool) -> None:
        first_line = None
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                first_line = first_line or node.lineno
                found.append((node, in_function, first_line))
                continue
            first_line = None
            if isinstance(node, ast.If) and is_type_checking(node.test):
                visit(list(node.orelse), in_function)
                continue
            functions = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            visit(list(ast.iter_child_nodes(node)), in_function or isinstance(node, functions))

    visit([tree], False)
    return found


def targets(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool) -> list[str]:
    """The dotted names an import statement may load (``from a import b``: ``a.b`` or ``a``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = importer.split(".") if is_package else importer.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    return [f"{base}.{alias.name}" for alias in node.names]


def project_imports() -> list[Import]:
    files = module_files()

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    found = []
    for importer, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        for node, in_function, first_line in imports_in(tree):
            for name in targets(node, importer, path.name == "__init__.py"):
                imported = resolve(name) if name.startswith("powerpact") else None
                if imported is not None and imported != importer:
                    found.append(Import(importer, imported, node.lineno, in_function, first_line))
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return groups


def comments_by_line(path: Path) -> dict[int, str]:
    source = path.read_text()
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.start[0]: t.string for t in tokens if t.type == tokenize.COMMENT}


def says_why(comment: str | None) -> bool:
    """A comment that explains, not a tool's directive (``# noqa``, ``# type: ignore``)."""
    text = (comment or "").lstrip("#").strip()
    return bool(text) and not text.startswith(DIRECTIVES)


def test_the_files_of_the_package_import_each_other_without_a_cycle():
    edges: dict[str, set[str]] = {}
    for edge in project_imports():
        edges.setdefault(edge.importer, set()).add(edge.imported)
    assert cycles(edges) == []


def test_a_function_level_import_of_the_project_says_why():
    files = module_files()
    unexplained = []
    for edge in project_imports():
        if not edge.in_function:
            continue
        comments = comments_by_line(files[edge.importer])
        lines = (edge.line, edge.line - 1, edge.first_line - 1)
        if not any(says_why(comments.get(line)) for line in lines):
            unexplained.append(f"{edge.importer}:{edge.line} imports {edge.imported}")
    assert unexplained == []


def test_the_graph_sees_what_it_must():
    """The reader itself: a function-level import, an alias, ``TYPE_CHECKING`` left out."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "import powerpact.models as m\n"
        "if TYPE_CHECKING:\n"
        "    from powerpact.queue import huey\n"
        "else:\n"
        "    import powerpact.money\n"
        "def f():\n"
        "    x = 1\n"
        "    from powerpact.shopify import oauth\n"
        "    from . import y\n"
    )
    found = [
        (targets(node, "powerpact.a.b", False), in_function, first_line)
        for node, in_function, first_line in imports_in(ast.parse(source))
    ]
    assert found == [
        (["typing.TYPE_CHECKING"], False, 1),
        (["powerpact.models"], False, 1),
        (["powerpact.money"], False, 6),
        (["powerpact.shopify.oauth"], True, 9),
        (["powerpact.a.y"], True, 9),
    ]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert says_why("# the package imports this module") and not says_why("# noqa: F401")
