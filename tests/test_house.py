"""The house's rules, measured from the code's own imports.

Every module under src/hoist is parsed with `ast`; every import counts, wherever it stands (at the top,
inside a function, under TYPE_CHECKING). A push flows git/ -> builder/ -> platform/ -> dynos/ -> router/,
with contracts/ at the bottom holding the hand-offs; these tests keep the folders saying so:
no import cycles between files or between folders, imports only run down the house, no module over
400 lines, and no module takes another module's `_private` names."""
from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
MAX_LINES = 400

# Where each top-level folder (or module) of src/hoist stands. An import must go to a room on a lower
# floor; rooms of the ground may import each other (the folder-cycle test keeps that a tree), but the
# stages of one floor may not: each hands its work on through contracts/, not by calling a neighbour.
FLOORS: dict[str, int] = {
    # the ground: the bottom of the house (contracts/, with the hand-offs) and what every stage stands on
    "hoist": 0, "names": 0, "paths": 0, "settings": 0, "launch": 0, "procs": 0, "keeper": 0, "contain": 0,
    "contracts": 0, "state": 0, "logs": 0, "tls": 0, "accounts": 0, "asgi": 0,
    "unixusers": 0,
    # the stages of a push, and the add-on providers beside them
    "git": 1, "builder": 1, "dynos": 1, "router": 1, "addons": 1,
    # the one place where desired state changes; it drives the stages
    "platform": 2,
    # the faces: they act through the platform
    "api": 3, "dashboard": 3,
    # the composition root builds every piece; the command line starts it (or talks to the API)
    "server": 4,
    "cli": 5, "__main__": 6,
}
GROUND = 0


@dataclass
class Module:
    name: str  # hoist.platform.control
    path: Path
    lines: int
    imports: set[str] = field(default_factory=set)  # modules of src/hoist it imports
    private: list[str] = field(default_factory=list)  # "_name from hoist.x" it takes from other modules


def room(module: str) -> str:
    """The top-level folder or module of src/hoist a module stands in: hoist.platform.control -> platform."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _name_of(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(name: str, known: Iterable[str]) -> str | None:
    """The module an import names: itself, or the nearest package above a name defined in one."""
    known = set(known)
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _base(module: Module, node: ast.ImportFrom) -> str:
    """The absolute module of `from X import ...`, relative imports included."""
    if not node.level:
        return node.module or ""
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    parts = package.split(".")
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def read_house(src: Path = SRC) -> dict[str, Module]:
    """Every module of the hoist package with what it imports."""
    paths = {_name_of(p, src): p for p in sorted((src / "hoist").rglob("*.py"))}
    house = {}
    for name, path in paths.items():
        text = path.read_text(encoding="utf-8")
        module = Module(name, path, len(text.splitlines()))
        aliases: dict[str, str] = {}  # local name -> hoist module it is bound to
        tree = ast.parse(text, str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = _resolve(alias.name, paths) if alias.name.split(".")[0] == "hoist" else None
                    if target:
                        module.imports.add(target)
                        aliases[alias.asname or alias.name] = target if alias.asname else "hoist"
            elif isinstance(node, ast.ImportFrom):
                base = _base(module, node)
                if base.split(".")[0] != "hoist":
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    target = full if full in paths else _resolve(base, paths)
                    if target is None:
                        continue
                    module.imports.add(target)
                    if full in paths:
                        aliases[alias.asname or alias.name] = full
                    if _is_private(alias.name) and target != name:
                        module.private.append(f"{alias.name} from {target}")
        for node in ast.walk(tree):  # mod._name, where mod is a hoist module this one imported
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _is_private(node.attr)
                    and aliases.get(node.value.id, name) != name):
                module.private.append(f"{node.attr} from {aliases[node.value.id]}")
        module.imports.discard(name)
        house[name] = module
    return house


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected parts of a directed graph with more than one member, or a member importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph.get(nxt, ()))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    part = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        part.append(member)
                        if member == node:
                            break
                    if len(part) > 1 or node in graph.get(node, ()):
                        found.append(sorted(part))
    return found


@cache
def house() -> dict[str, Module]:
    return read_house()


def file_graph() -> dict[str, set[str]]:
    return {name: m.imports for name, m in house().items()}


def folder_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {room(name): set() for name in house()}
    for name, m in house().items():
        graph[room(name)] |= {room(t) for t in m.imports if room(t) != room(name)}
    return graph


def _ties(part: list[str]) -> list[str]:
    """Who imports whom inside one cycle, for the failure message."""
    return [f"{a} -> {b}" for a in part for b in sorted(house()[a].imports) if b in part]


def test_the_house_is_read() -> None:
    """The reader sees the house (a wrong path would make every other test pass on nothing)."""
    names = set(house())
    assert {"hoist.server", "hoist.platform.control", "hoist.contracts.routes", "hoist.router.proxy"} <= names
    assert "hoist.platform.control" in house()["hoist.server"].imports


def test_no_import_cycles_among_files() -> None:
    found = cycles(file_graph())
    assert not found, "import cycles between files:\n" + "\n".join("  " + ", ".join(_ties(c)) for c in found)


def test_no_import_cycles_among_folders() -> None:
    graph = folder_graph()
    found = cycles(graph)
    ties = []
    for part in found:
        for name, m in house().items():
            ties += [f"  {name} -> {t}" for t in sorted(m.imports) if room(name) in part and room(t) in part
                     and room(t) != room(name)]
    assert not found, f"import cycles between folders {found}:\n" + "\n".join(ties)


def test_every_room_has_a_floor() -> None:
    """A new top-level folder or module says where it stands in the house (add it to FLOORS)."""
    assert {room(name) for name in house()} <= set(FLOORS)


def test_imports_run_down_the_house() -> None:
    """No import from a lower floor up into a higher one, and none sideways between stages or faces."""
    wrong = []
    for name, m in sorted(house().items()):
        here = FLOORS.get(room(name))
        for target in sorted(m.imports):
            there = FLOORS.get(room(target))
            if room(target) == room(name) or here is None or there is None:
                continue
            if there > here or (there == here and here != GROUND):
                wrong.append(f"  {name} (floor {here}) -> {target} (floor {there})")
    assert not wrong, "imports that run up or sideways:\n" + "\n".join(wrong)


def test_contracts_stand_on_names_only() -> None:
    """contracts/ is the bottom of the house: the standard library, hoist.names and each other."""
    wrong = [f"  {name} -> {t}" for name, m in house().items() if room(name) == "contracts"
             for t in sorted(m.imports) if room(t) not in ("contracts", "names")]
    assert not wrong, "contracts/ imports from above:\n" + "\n".join(wrong)


def test_no_module_over_400_lines() -> None:
    long = [f"  {m.path.relative_to(SRC)}: {m.lines}" for m in house().values() if m.lines > MAX_LINES]
    assert not long, f"modules over {MAX_LINES} lines (one holds two ideas; split it):\n" + "\n".join(long)


def test_no_private_names_across_modules() -> None:
    taken = [f"  {name} takes {p}" for name, m in sorted(house().items()) for p in m.private]
    assert not taken, "private names taken from other modules (make them public, or move them):\n" + "\n".join(taken)


def test_the_measures_catch_what_they_should(tmp_path: Path) -> None:
    """A small house with a cycle, a private import and an attribute reach: each is found."""
    pkg = tmp_path / "hoist"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "one.py").write_text("from hoist.a import two\n")
    (pkg / "a" / "two.py").write_text("def f():\n    from hoist.a.one import _x\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from hoist.a import one\n"
                              "import hoist.a.two as two\nprint(two._y)\n")
    small = read_house(tmp_path)
    assert cycles({n: m.imports for n, m in small.items()}) == [["hoist.a.one", "hoist.a.two"]]
    assert small["hoist.a.two"].private == ["_x from hoist.a.one"]
    assert small["hoist.b"].imports == {"hoist.a.one", "hoist.a.two"}
    assert small["hoist.b"].private == ["_y from hoist.a.two"]
    assert cycles({"x": {"y"}, "y": {"z"}, "z": {"x"}, "w": {"x"}}) == [["x", "y", "z"]]
    assert cycles({"x": {"x"}}) == [["x"]] and cycles({"x": {"y"}, "y": set()}) == []
