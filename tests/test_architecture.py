"""The layout is the architecture: these tests keep it that way.

- nothing in bot/ imports eval/ (the eval suite plugs into the CLI through an entry point);
- the arrows run one way: faces -> conversation/service -> answering/search/demo_runs -> core,
  with no import cycle between bot's modules;
- directly in bot/ live only the core modules; everything else sits in its package;
- the post reader (bot/search/reading/) imports no encoder and no index: only the tokenizer;
- docs/architecture.md names real functions: every `module.name` it mentions imports.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT

BOT = PROJECT_ROOT / "bot"
CORE = {"__init__", "__main__", "config", "errors", "schema", "knowledge", "pseudonyms", "feedback", "question_log",
        "service", "conversation"}
# Lower layers must not import higher ones (index = layer; a module may import its own layer or lower).
LAYERS = [
    {"bot.config", "bot.errors", "bot.schema", "bot.knowledge", "bot.pseudonyms", "bot.feedback", "bot.question_log"},
    {"bot.search", "bot.answering", "bot.demo_runs"},
    {"bot.service", "bot.conversation"},
    {"bot.faces", "bot.__main__"},
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module an import statement in `path` names, at any depth (lazy imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


MODULES = {module_name(p): p for p in sorted(BOT.rglob("*.py"))}
GRAPH = {name: {m for m in imports_of(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def layer_of(module: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if any(module == p or module.startswith(p + ".") for p in layer))


def test_nothing_in_bot_imports_eval() -> None:
    offenders = {name: sorted(m for m in imports_of(path) if m == "eval" or m.startswith("eval."))
                 for name, path in MODULES.items()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_import_cycle_between_bot_modules() -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, node])):
                return cycle
        state[node] = 2
        return None

    for start in sorted(GRAPH):
        if start not in state:
            assert visit(start, []) is None


def test_imports_run_down_the_layers_only() -> None:
    upward = [(name, dep) for name, deps in GRAPH.items() for dep in deps
              if name not in {"bot", "bot.search", "bot.answering", "bot.demo_runs", "bot.faces"}
              and layer_of(dep) > layer_of(name)]
    assert upward == []


# The post reader reads text alone: of the search package it may use only the tokenizer, so a reading
# rule can be tried on a post without a model or an index (and the reader can never make a query).
READER = "bot.search.reading"
READER_MAY_IMPORT = {"bot.search", "bot.search.lexical"}


def reader_reaches_outside(graph: dict[str, set[str]]) -> dict[str, list[str]]:
    """Per reader module, what it imports from the search package outside the reader and the tokenizer."""
    outside = {name: sorted(dep for dep in deps if dep.startswith("bot.search") and dep not in READER_MAY_IMPORT
                            and not (dep == READER or dep.startswith(READER + ".")))
               for name, deps in graph.items() if name == READER or name.startswith(READER + ".")}
    return {name: deps for name, deps in outside.items() if deps}


def test_the_post_reader_imports_no_encoder_and_no_index() -> None:
    readers = [name for name in GRAPH if name.startswith(READER + ".")]
    assert len(readers) >= 10 and f"{READER}.focus" in readers
    assert reader_reaches_outside(GRAPH) == {}
    # ... and the check sees it when a reader module reaches for the retriever.
    assert reader_reaches_outside({f"{READER}.focus": {"bot.search.retrieve"}}) == {
        f"{READER}.focus": ["bot.search.retrieve"]}


def test_only_core_modules_sit_directly_in_bot() -> None:
    loose = {p.stem for p in BOT.glob("*.py")} - CORE
    assert loose == set()


def test_the_cycle_check_can_fail() -> None:
    # The checker above must see a cycle when there is one (guards against a test that cannot fail).
    GRAPH_BACKUP = dict(GRAPH)
    try:
        GRAPH["bot.config"] = {"bot.errors"}
        GRAPH["bot.errors"] = {"bot.config"}
        with pytest.raises(AssertionError):
            test_no_import_cycle_between_bot_modules()
    finally:
        GRAPH.clear()
        GRAPH.update(GRAPH_BACKUP)


def test_architecture_doc_names_real_functions() -> None:
    text = (PROJECT_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:bot|eval)(?:\.\w+)+)`", text))
    assert len(named) >= 15, "the path of a question should be spelled out function by function"
    missing = []
    for dotted in sorted(named):
        module, _, attr = dotted.rpartition(".")
        try:
            target = importlib.import_module(dotted)
        except ImportError:
            try:
                owner = importlib.import_module(module)
            except ImportError:
                owner = importlib.import_module(module.rpartition(".")[0])
                owner = getattr(owner, module.rpartition(".")[2])
            target = getattr(owner, attr, None)
        if target is None:
            missing.append(dotted)
    assert missing == []
