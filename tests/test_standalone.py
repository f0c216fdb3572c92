"""`bot.faces.standalone`: every demo as one file that runs with numpy alone, checked by running it
in a clean Python (numpy and nothing else, `-I`, a minimal environment, cwd in a temporary folder)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.faces.standalone import StandaloneError, standalone_notebook, standalone_script
from tests.clean_python import numpy_only_python, run_clean

DEMOS = PROJECT_ROOT / "demos"
COMMON = (DEMOS / "_common.py").read_text(encoding="utf-8")
NAMES = sorted(p.stem for p in DEMOS.glob("[a-z]*.py"))


@pytest.fixture(scope="module")
def python(tmp_path_factory) -> Path:
    return numpy_only_python(tmp_path_factory.mktemp("student") / "venv")


def script_for(name: str) -> str:
    return standalone_script(name, (DEMOS / f"{name}.py").read_text(encoding="utf-8"), COMMON)


def module_result(name: str) -> dict:
    """What the bot's own run of the demo reports (`python -m demos.<name> --json` in this repo)."""
    done = subprocess.run([sys.executable, "-m", f"demos.{name}", "--json"], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=300)
    return json.loads(done.stdout)


def test_there_are_demos_to_export():
    assert len(NAMES) >= 8 and "kl_asymmetry" in NAMES


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_each_demo_runs_standalone_with_numpy_alone_and_agrees_with_the_module(name, python, tmp_path):
    (tmp_path / f"{name}.py").write_text(script_for(name), encoding="utf-8")
    done = run_clean(python, [f"{name}.py", "--json"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    standalone, module = json.loads(done.stdout), module_result(name)
    assert [(c["name"], c["passed"]) for c in standalone["checks"]] == [(c["name"], c["passed"])
                                                                        for c in module["checks"]]
    assert standalone["metrics"].keys() == module["metrics"].keys()
    table = run_clean(python, [f"{name}.py"], tmp_path)
    assert table.returncode == 0 and "all checks passed" in table.stdout


def test_the_script_starts_with_the_claim_and_keeps_the_demo_code_verbatim():
    script = script_for("kl_asymmetry")
    tree = ast.parse(script)
    doc = ast.get_docstring(tree)
    assert doc.startswith("KL divergence is asymmetric") and "python kl_asymmetry.py --out plots" in doc
    assert "demos._common" not in script.replace("demos/_common.py", "")  # no import of the repo remains
    demo = (DEMOS / "kl_asymmetry.py").read_text(encoding="utf-8")
    body = demo[demo.index("CLAIM = ("):demo.index('if __name__ == "__main__":')].strip()
    assert body in script  # the demo's code itself, untouched
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert len(defined) == len(set(defined))  # nothing defined twice
    imports = [ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert imports.count("import numpy as np") == 1 and imports[0] == "from __future__ import annotations"


@pytest.mark.slow
def test_the_plot_needs_matplotlib_only_when_asked_for(python, tmp_path):
    (tmp_path / "kl_asymmetry.py").write_text(script_for("kl_asymmetry"), encoding="utf-8")
    without = run_clean(python, ["kl_asymmetry.py", "--out", "plots"], tmp_path)
    assert without.returncode == 0, without.stderr[-2000:]
    assert "matplotlib is not installed" in without.stderr and "all checks passed" in without.stdout
    assert not (tmp_path / "plots" / "kl_fits.png").exists()
    # this repository's Python has matplotlib: the same file draws the plot there
    drawn = run_clean(Path(sys.executable), ["kl_asymmetry.py", "--out", "plots"], tmp_path)
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    assert (tmp_path / "plots" / "kl_fits.png").read_bytes().startswith(b"\x89PNG")


STAFF_DEMO = '''"""Doubling doubles."""
from __future__ import annotations
import numpy as np
from demos._common import DemoResult, close as near, main

def run(out_dir=None, *, factor=2.0):
    x = np.arange(3.0)
    return DemoResult("doubling", "doubling doubles", [near("doubles", float((x * factor).sum()), 6.0, atol=1e-12)])

if __name__ == "__main__":
    raise SystemExit(main(run))
'''


@pytest.mark.slow
def test_a_staff_demo_with_an_aliased_helper_runs_and_a_failing_check_still_exits_1(python, tmp_path):
    (tmp_path / "doubling.py").write_text(standalone_script("doubling", STAFF_DEMO, COMMON), encoding="utf-8")
    done = run_clean(python, ["doubling.py"], tmp_path)
    assert done.returncode == 0 and "doubles" in done.stdout, done.stderr
    # the claim made false: the standalone copy must fail exactly as the demo would
    broken = STAFF_DEMO.replace("factor=2.0", "factor=2.5")
    (tmp_path / "broken.py").write_text(standalone_script("doubling", broken, COMMON), encoding="utf-8")
    failed = run_clean(python, ["broken.py"], tmp_path)
    assert failed.returncode == 1 and "FAILED doubles" in failed.stdout


@pytest.mark.parametrize("source, says", [
    (STAFF_DEMO.replace("import numpy as np", "import numpy as np\nfrom demos.kl_asymmetry import kl"),
     "imports demos.kl_asymmetry"),
    (STAFF_DEMO + "\ndef short(x):\n    return x\n", "defines short"),  # the helpers' format_table calls short
    (STAFF_DEMO.replace("import numpy as np", "import math as np"), "imports np as something other"),
    (STAFF_DEMO.replace("def run(", "def go("), "no run() function"),
    (STAFF_DEMO.replace("DemoResult, close as near, main", "*"), "import *"),
    (STAFF_DEMO.replace("close as near", "nearly"), "imports nearly"),
    ("def run(:\n", "cannot be parsed"),
])
def test_what_cannot_stand_alone_is_refused_with_a_reason(source, says):
    with pytest.raises(StandaloneError, match=re.escape(says)):
        standalone_script("doubling", source, COMMON)


@pytest.mark.slow
def test_the_notebook_runs_cell_by_cell_with_numpy_alone(python, tmp_path):
    name = "softmax_derivative"
    notebook = json.loads(standalone_notebook(name, (DEMOS / f"{name}.py").read_text(encoding="utf-8"), COMMON))
    assert notebook["nbformat"] == 4 and [c["cell_type"] for c in notebook["cells"]] == [
        "markdown", "code", "code", "code"]
    (tmp_path / "nb.json").write_text(json.dumps(notebook), encoding="utf-8")
    runner = ("import json\nnb = json.load(open('nb.json'))\nscope = {'__name__': '__main__'}\n"
              "for cell in nb['cells']:\n    if cell['cell_type'] == 'code':\n"
              "        exec(compile(''.join(cell['source']), 'cell', 'exec'), scope)\n"
              "print('passed' if scope['result'].passed else 'failed')\n")
    done = run_clean(python, ["-c", runner], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "all checks passed" in done.stdout and done.stdout.strip().endswith("passed")
