"""The architecture's figures, from the code's own imports (grimp), as ARCHITECTURE.md gives them.

    .venv/bin/python -m benchmarks.imports

Prints the largest import cycle between modules and between top-level packages (counting
imports made for type checking only, as tests/test_architecture.py does), the `ignore_imports`
lines of the import contracts, the modules that import `chainfluence.runtime`, the modules
importing `chainfluence.jobs` loads (at run time, and counting type-only imports), and the lines
of Python in the product and in the sandbox distribution.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def _top_level(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _largest_cycle(graph: dict[str, set[str]]) -> list[str]:
    """The largest strongly connected component (of more than one node), by Kosaraju."""
    nodes = set(graph) | {t for targets in graph.values() for t in targets}
    order: list[str] = []
    seen: set[str] = set()
    for root in sorted(nodes):
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(sorted(graph.get(root, ()))))]
        while stack:
            node, edges = stack[-1]
            for target in edges:
                if target not in seen:
                    seen.add(target)
                    stack.append((target, iter(sorted(graph.get(target, ())))))
                    break
            else:
                stack.pop()
                order.append(node)
    reverse: dict[str, set[str]] = {}
    for node, targets in graph.items():
        for target in targets:
            reverse.setdefault(target, set()).add(node)
    largest: set[str] = set()
    assigned: set[str] = set()
    for root in reversed(order):
        if root in assigned:
            continue
        component, todo = set(), [root]
        assigned.add(root)
        while todo:
            node = todo.pop()
            component.add(node)
            for source in reverse.get(node, ()):
                if source not in assigned:
                    assigned.add(source)
                    todo.append(source)
        if len(component) > max(len(largest), 1):
            largest = component
    return sorted(largest)


def _lines(folder: Path) -> int:
    return sum(len(path.read_text().splitlines()) for path in folder.rglob("*.py"))


def main() -> None:
    graph = grimp.build_graph("chainfluence", cache_dir=None)
    modules: dict[str, set[str]] = {}
    packages: dict[str, set[str]] = {}
    for module in graph.modules:
        targets = graph.find_modules_directly_imported_by(module)
        modules[module] = set(targets)
        packages.setdefault(_top_level(module), set()).update(
            _top_level(t) for t in targets if _top_level(t) != _top_level(module)
        )
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    ignored = sum(
        len(contract.get("ignore_imports", []))
        for contract in config["tool"]["importlinter"]["contracts"]
    )
    takers = sorted(graph.find_modules_that_directly_import("chainfluence.runtime"))
    run_time = grimp.build_graph("chainfluence", cache_dir=None, exclude_type_checking_imports=True)
    module_cycle = _largest_cycle(modules)
    package_cycle = _largest_cycle(packages)
    print(f"modules: {len(graph.modules)}")
    print(f"largest module cycle: {len(module_cycle)} {module_cycle}")
    print(f"largest package cycle: {len(package_cycle)} {package_cycle}")
    print(f"ignore_imports: {ignored}")
    print(f"modules importing chainfluence.runtime: {len(takers)} {takers}")
    print(
        "modules loaded by importing chainfluence.jobs: "
        f"{len(run_time.find_upstream_modules('chainfluence.jobs', as_package=True))} at run time, "
        f"{len(graph.find_upstream_modules('chainfluence.jobs', as_package=True))} "
        "counting type-only imports"
    )
    print(f"lines in src/chainfluence: {_lines(ROOT / 'src' / 'chainfluence')}")
    print(
        "lines in packages/chainfluence-sandbox/src: "
        f"{_lines(ROOT / 'packages' / 'chainfluence-sandbox' / 'src')}"
    )


if __name__ == "__main__":
    main()
