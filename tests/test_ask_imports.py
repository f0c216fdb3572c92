"""`tabot ask` on a built index runs on ONNX Runtime: torch, transformers and sentence-transformers
are never imported (they are most of a CLI call's time and memory), and neither is LangChain (its
retriever, embeddings and chat-model interfaces pull in runnables, tracers and langsmith, and
langchain_chroma a third of a second more: the answer path calls the encoder, Chroma and BM25
directly; `bot.search.langchain_views` and `KnowledgeIndex.vectorstore` give LangChain's views to
whoever asks) nor the faces' frameworks (Gradio, discord.py). Checked in a real subprocess running
the same `bot.faces.cli.main` the `tabot` script runs, which reports `sys.modules` at exit."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "transformers", "sentence_transformers")
NOT_ON_THE_ASK_PATH = ("langchain", "langchain_core", "langchain_chroma", "langsmith", "gradio", "discord")
# The `tabot` console script is `sys.exit(main())`; this is the same, plus a report of what got imported.
WRAPPER = f"""
import json, sys
from bot.faces.cli import main
report, sys.argv = sys.argv[1], ["tabot", *sys.argv[2:]]
try:
    code = main()
finally:
    heavy = sorted(n for n in sys.modules if n.split(".")[0] in {set(HEAVY)!r})
    with open(report, "w") as handle:
        others = sorted(n for n in sys.modules if n.split(".")[0] in {set(NOT_ON_THE_ASK_PATH)!r})
        json.dump({{"heavy": heavy, "others": others, "onnxruntime": "onnxruntime" in sys.modules}}, handle)
sys.exit(code)
"""


@pytest.mark.slow
def test_tabot_ask_on_a_built_index_imports_no_torch(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TABOT_EMBED_BACKEND"}
    env["TABOT_DATA_DIR"] = str(tmp_path / "data")
    tabot = Path(sys.executable).parent / "tabot"
    built = subprocess.run([str(tabot), "index"], env=env, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stderr[-2000:]
    assert "exporting MiniLM to ONNX" in built.stderr  # the one step that needs torch, done here

    report = tmp_path / "modules.json"
    asked = subprocess.run([sys.executable, "-c", WRAPPER, str(report), "ask", "--json", "which log base"],
                           env=env, capture_output=True, text=True, timeout=600)
    assert asked.returncode == 0, asked.stderr[-2000:]
    answer = json.loads(asked.stdout)
    assert answer["sources"][0]["entry_id"] == "log-base" and not answer["abstained"]
    modules = json.loads(report.read_text())
    assert modules == {"heavy": [], "others": [], "onnxruntime": True}
    assert "export" not in asked.stderr and "sentence-transformers" not in asked.stderr
