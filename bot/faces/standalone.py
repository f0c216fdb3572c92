"""A demo as one file a student can run with numpy alone: the "Run it yourself" download.

A demo module (`demos/<name>.py`, or a staff demo) imports its check helpers from `demos/_common.py`,
so `python -m demos.<name>` needs a clone of this repository, which a student does not have.
`standalone_script` joins the two files into one script: the demo's docstring (its claim) on top, the
helpers, then the demo, with the `from demos._common import ...` statement taken out. Nothing inside
either file is rewritten, so the student runs the code the bot ran. matplotlib stays optional: a
demo only plots when given `--out DIR`, and without matplotlib the script says so and runs its checks
without the plot. `standalone_notebook` is the same code as a Jupyter notebook.

Anything that cannot be inlined honestly (another import from `demos`, a demo that redefines one of
the helpers, so the helpers would call the demo's version) raises `StandaloneError` rather than
producing a script that behaves differently from the demo.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass

from bot.errors import DemoError

COMMON_MODULE = "demos._common"
REQUIREMENTS = "Python 3.11+ and numpy (matplotlib only for the plot)"


class StandaloneError(DemoError):
    """A demo that cannot be turned into a standalone file (the message says why)."""


@dataclass(frozen=True)
class _Module:
    docstring: str
    body: str  # the source without its docstring, imports and `if __name__ == "__main__":` block
    imports: tuple[ast.Import | ast.ImportFrom, ...]  # top-level imports, hoisted to the top of the file
    defined: frozenset[str]  # top-level names it binds with def, class or assignment
    helpers: tuple[tuple[str, str], ...] = ()  # (name, asname) imported from demos._common


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)}


def _bindings(node: ast.Import | ast.ImportFrom) -> list[tuple[str, tuple[str, ...], ast.alias]]:
    """(the name an import binds, what it binds it to, its alias) for each name of the statement."""
    if isinstance(node, ast.Import):
        return [(a.asname or a.name.split(".")[0], ("import", a.name, a.asname or ""), a) for a in node.names]
    return [(a.asname or a.name, ("from", node.module or "", a.name), a) for a in node.names]


def _is_main_guard(node: ast.stmt) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _check_imports(tree: ast.Module, label: str) -> None:
    for node in ast.walk(tree):  # imports anywhere, lazy ones too
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            raise StandaloneError(f"{label}:{node.lineno}: a relative import cannot be inlined")
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module != COMMON_MODULE:
            names = [node.module or ""]
        if bad := [n for n in names if n == "demos" or n.startswith("demos.")]:
            raise StandaloneError(f"{label}:{node.lineno}: imports {bad[0]}; only {COMMON_MODULE} can be inlined")


def _split(source: str, label: str) -> _Module:
    """Take a module apart into what the standalone file keeps and what it replaces."""
    try:
        tree = ast.parse(source, filename=label)
    except SyntaxError as error:
        raise StandaloneError(f"{label} cannot be parsed: {error}") from None
    _check_imports(tree, label)
    drop: set[int] = set()
    imports: list[ast.Import | ast.ImportFrom] = []
    helpers: list[tuple[str, str]] = []
    defined: set[str] = set()
    for i, node in enumerate(tree.body):
        is_doc = i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
            and isinstance(node.value.value, str)
        if isinstance(node, ast.ImportFrom) and node.module == COMMON_MODULE:
            helpers += [(a.name, a.asname or a.name) for a in node.names]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            if getattr(node, "module", None) != "__future__":  # the file starts with its own
                imports.append(node)
        elif not (is_doc or _is_main_guard(node)):
            defined |= _bound_names(node)
            continue
        drop.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    if any(name == "*" for name, _ in helpers):
        raise StandaloneError(f"{label}: `from {COMMON_MODULE} import *` cannot be inlined; name the helpers")
    lines = [line for n, line in enumerate(source.splitlines(), start=1) if n not in drop]
    body = re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines)).strip("\n")  # no gaps where imports were
    return _Module(ast.get_docstring(tree) or "", body, tuple(imports), frozenset(defined), tuple(helpers))


def _import_block(name: str, modules: tuple[_Module, ...]) -> str:
    """Every module's imports once, the helpers' first: a name imported twice the same way is kept
    once; one name bound to two different things cannot share one file."""
    bound: dict[str, set[tuple[str, ...]]] = {}
    lines: list[tuple[bool, str]] = []
    for module in modules:
        for node in module.imports:
            fresh = []
            for key, target, alias in _bindings(node):
                targets = bound.setdefault(key, set())
                if target in targets:
                    continue
                # `import os` and `import os.path` both bind `os` to the same package; anything else
                # bound to one name twice would silently change what one of the modules uses.
                if any(not (t[0] == target[0] == "import" and not t[2] and not target[2]) for t in targets):
                    raise StandaloneError(f"demo {name} imports {key} as something other than {COMMON_MODULE} does")
                targets.add(target)
                fresh.append(alias)
            if fresh:
                copy = ast.Import(names=fresh) if isinstance(node, ast.Import) else \
                    ast.ImportFrom(module=node.module, names=fresh, level=0)
                top = (node.names[0].name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
                lines.append((top not in sys.stdlib_module_names, ast.unparse(copy)))
    # The standard library first, then numpy and the rest, as a reader expects them.
    def order(line: str) -> tuple[bool, str]:
        return line.startswith("from "), line.split()[1].lower()
    stdlib = sorted((line for third_party, line in lines if not third_party), key=order)
    others = sorted((line for third_party, line in lines if third_party), key=order)
    return "\n\n".join("\n".join(group) for group in (stdlib, others) if group)


def _parts(name: str, demo_source: str, common_source: str) -> tuple[_Module, _Module]:
    demo = _split(demo_source, f"demo {name}")
    common = _split(common_source, COMMON_MODULE)
    common_names = common.defined | {key for node in common.imports for key, _, _ in _bindings(node)}
    demo_names = demo.defined | {key for node in demo.imports for key, _, _ in _bindings(node)}
    if clash := sorted((demo.defined & common_names) | (demo_names & common.defined)):
        raise StandaloneError(f"demo {name} defines {', '.join(clash)}, which {COMMON_MODULE} also defines; "
                              "inlined, the helpers would call the demo's version - rename it in the demo")
    if "run" not in demo.defined:
        raise StandaloneError(f"demo {name} has no run() function")
    if missing := sorted(n for n, _ in demo.helpers if n not in common.defined):
        raise StandaloneError(f"demo {name} imports {', '.join(missing)} from {COMMON_MODULE}, which has no such name")
    return demo, common


def _aliases(demo: _Module) -> str:
    # `from demos._common import close as near` becomes `near = close` once the helpers are inlined.
    return "\n".join(f"{alias} = {name}" for name, alias in demo.helpers if alias != name)


def _header(name: str, demo: _Module) -> str:
    claim = demo.docstring.strip() or f"The tabot demo {name}."
    return (f"{claim}\n\n"
            f"Run it yourself: this file is the course bot's demo `{name}` together with the check helpers\n"
            f"every demo shares (demos/_common.py), so it runs on its own. Needs {REQUIREMENTS}.\n\n"
            f"    python {name}.py              # every check as a table; exit status 0 when all pass\n"
            f"    python {name}.py --json       # the same result as JSON\n"
            f"    python {name}.py --out plots  # also save the plot into ./plots (needs matplotlib)\n")


_MAIN = '''
# ---- command line ------------------------------------------------------------------------------

def _without_out(argv: list[str]) -> list[str]:
    """argv minus `--out DIR` / `--out=DIR`: the plot is the only thing that needs matplotlib."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--out":
            skip = True
        elif not arg.startswith("--out="):
            kept.append(arg)
    return kept


if __name__ == "__main__":
    import sys

    argv = sys.argv[1:]
    if argv != _without_out(argv):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("matplotlib is not installed, so no plot is drawn; the checks run as usual.", file=sys.stderr)
            argv = _without_out(argv)
    raise SystemExit(main(run, argv))
'''


def standalone_script(name: str, demo_source: str, common_source: str) -> str:
    """One self-contained `<name>.py`: the demo and `demos/_common.py`, runnable with numpy alone."""
    demo, common = _parts(name, demo_source, common_source)
    docstring = _header(name, demo).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    sections = [
        f'"""{docstring}"""',
        "from __future__ import annotations\n\n" + _import_block(name, (common, demo)),
        "# ---- check helpers shared by every demo (demos/_common.py) " + "-" * 38 + "\n\n" + common.body,
        f"# ---- the demo ({name}) ".ljust(99, "-") + "\n\n" + "\n".join(p for p in (_aliases(demo), demo.body) if p),
        _MAIN.strip("\n"),
    ]
    return "\n\n\n".join(sections) + "\n"


def standalone_notebook(name: str, demo_source: str, common_source: str) -> str:
    """The same code as a Jupyter notebook (nbformat 4): the claim, the helpers, the demo, a run cell."""
    demo, common = _parts(name, demo_source, common_source)
    future = "from __future__ import annotations\n\n"  # each cell is compiled on its own
    run_cell = ("from pathlib import Path\n\n"
                "try:\n    import matplotlib  # noqa: F401\n    out = Path('plots')  # the plot is saved here\n"
                "except ImportError:\n    out = None  # no matplotlib: no plot, the checks still run\n\n"
                "result = run(out_dir=out)\nprint(format_table(result))\nresult.artifacts")
    cells = [("markdown", f"# Demo `{name}`\n\n{_header(name, demo)}\nRun the cells in order."),
             ("code", future + _import_block(name, (common, demo)) + "\n\n\n" + common.body),
             ("code", future + "\n".join(p for p in (_aliases(demo), demo.body) if p)),
             ("code", run_cell)]
    notebook = {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "cells": [{"cell_type": kind, "id": f"{name}-{i}", "metadata": {},
                   "source": text.splitlines(keepends=True),
                   **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                  for i, (kind, text) in enumerate(cells)],
    }
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
