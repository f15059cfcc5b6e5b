"""The rooms' import rules, read from the source with ast (every import, also inside functions
and under TYPE_CHECKING), so a new import across a wall fails here rather than in review:

- doors use the gateway, never the store; the store never imports the gateway or a door;
- domain/ and smpp/ import nothing of ours but each other and the leaf helpers below;
- only node.py, workers.py and cli.py (the wiring) import doors/.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "smsgate"

# Modules of ours so small and self-contained that any room may use them.
LEAF_HELPERS = ("smsgate.immutable", "smsgate.log_limit")
WIRING = {"smsgate.node", "smsgate.workers", "smsgate.cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> Iterator[str]:
    """Every module of ours that `path` imports (absolute names; `from smsgate import x`
    counts as smsgate.x)."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        yield from (name for name in names if name == "smsgate" or name.startswith("smsgate."))


@functools.cache
def our_modules() -> dict[str, set[str]]:
    return {module_name(path): set(imports_of(path)) for path in sorted(PACKAGE.rglob("*.py"))}


def within(name: str, room: str) -> bool:
    return name == room or name.startswith(room + ".")


def modules_of(graph: dict[str, set[str]], room: str) -> dict[str, set[str]]:
    return {name: imported for name, imported in graph.items() if within(name, room)}


def crossings(importers: dict[str, set[str]], forbidden: str) -> list[str]:
    return sorted(
        f"{name} imports {target}"
        for name, imported in importers.items()
        for target in imported
        if within(target, forbidden)
    )


def test_doors_never_import_the_store() -> None:
    assert crossings(modules_of(our_modules(), "smsgate.doors"), "smsgate.store") == []


def test_the_store_imports_neither_the_gateway_nor_a_door() -> None:
    store = modules_of(our_modules(), "smsgate.store")
    assert crossings(store, "smsgate.gateway") + crossings(store, "smsgate.doors") == []


def test_domain_and_smpp_import_only_each_other_and_leaf_helpers() -> None:
    graph = our_modules()
    allowed = ("smsgate.domain", "smsgate.smpp")
    wrong = sorted(
        f"{name} imports {target}"
        for room in allowed
        for name, imported in modules_of(graph, room).items()
        for target in imported
        if target != "smsgate" and not any(within(target, ok) for ok in allowed + LEAF_HELPERS)
    )
    assert wrong == []


def test_leaf_helpers_import_nothing_of_ours() -> None:
    graph = our_modules()
    assert {name: graph[name] for name in LEAF_HELPERS if graph[name]} == {}


def test_only_the_wiring_imports_doors() -> None:
    graph = our_modules()
    outside = {
        name: imported
        for name, imported in graph.items()
        if not within(name, "smsgate.doors") and name not in WIRING
    }
    assert crossings(outside, "smsgate.doors") == []


def test_the_rules_see_real_imports() -> None:
    # A parser that found nothing would pass every rule above.
    graph = our_modules()
    assert "smsgate.gateway.facade" in graph["smsgate.doors.smpp.handler"]
    assert "smsgate.doors.app" in graph["smsgate.node"]
    assert "smsgate.immutable" in graph["smsgate.smpp.pdu"]
