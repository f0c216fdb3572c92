"""One benchmark for serving and indexing: the old backend (sentence-transformers on torch) and the new
one (ONNX Runtime) side by side, measured in one run on this machine.

    python -m eval.bench --out build/bench                 # 2,000 synthetic entries (+ the 9 real ones)
    python -m eval.bench --entries 200 --repeats 3 --out build/bench-quick   # a quick look
    python -m eval.bench --startup-only --backends onnx --out build/bench-startup   # tabot ask / chat start-up only

Writes bench.json (every number) and bench.md (the table). Figures, medians throughout:

- query embedding p50, both backends in this process on the same 40 in-scope questions, interleaved;
- `tabot ask` on a built index: wall time and peak RSS of the real CLI in a subprocess, per backend,
  and `tabot chat` warm start (`python -m bot chat` on that built data dir until its port answers,
  `eval.bench.chat.start_chat`), against `python -c "import sentence_transformers"` (and `import
  onnxruntime, tokenizers`), all alternating in one loop (`--startup-only`: just these figures);
- answers identical: `tabot ask --batch` over every question of every eval set, per backend, comparing
  abstention, source entries and sentences;
- index build at 2,009 entries: chunks/s of `KnowledgeIndex.sync` vs a bare `encode` of the same chunk
  texts with the same encoder, per backend;
- answer latency (`timings_ms.total` of `tabot ask --batch` over the test sets) at 9 vs 2,009 entries,
  embedded Chroma and a `chroma run` server, per backend, beside the plain LangChain + Chroma dense
  baseline (eval/baselines.py) at both sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.report import write_report
from eval.synthetic_kb import write_kb

DATASETS = Path(__file__).resolve().parent / "datasets"
TEST_SETS = ("in_scope", "out_of_scope", "off_topic", "injection")
BACKENDS = ("torch", "onnx")
TABOT = Path(sys.executable).parent / "tabot"


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def questions_of(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"id": f"{path.stem}:{r.get('id', i)}", "question": r["question"]}
            for i, r in enumerate(rows) if isinstance(r.get("question"), str)]


def base_env(**tabot: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TABOT_")}
    return {**env, **{f"TABOT_{k.upper()}": v for k, v in tabot.items()}}


# Runs the measured command and reports its wall time and peak RSS. A separate small process because
# Linux carries ru_maxrss across exec: a child started straight from this (large) process would report
# this process's size as its own peak.
LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{time.perf_counter() - started} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(command: list[str], env: dict[str, str], stdout: Path | None = None) -> tuple[float, float, str]:
    """Run a command to completion; (wall seconds, its peak RSS in MB, its stderr)."""
    with open(stdout or os.devnull, "w") as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        process = subprocess.run([sys.executable, "-c", LAUNCHER, report.name, *command], env=env, stdout=out,
                                 stderr=err, check=False)
        err.seek(0)
        errors = err.read().decode("utf-8", "replace")
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:4])} exited {process.returncode}: {errors[-1500:]}")
        wall, peak_kb = report.read().split()
    return float(wall), float(peak_kb) / 1024, errors


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- the measurements


def embed_queries(backend: str, data_dir: Path, repeats: int, out: Path) -> None:
    """In this process, only `backend` loaded: time each of the 40 questions `repeats` times, save the vectors.
    (Run as `python -m eval.bench --embed-only BACKEND DATA_DIR REPEATS OUT`: two backends in one process
    slow each other down - ONNX Runtime's and torch's thread pools compete for the same two cores.)"""
    from bot.search.embeddings import MiniLM

    questions = [q["question"] for q in questions_of(DATASETS / "in_scope.jsonl")][:40]
    model = MiniLM(backend=backend, data_dir=data_dir).load()
    assert model.backend == backend, model.notice
    vectors = model.encode_array(questions)  # also the warm-up
    times = []
    for _ in range(repeats):
        for question in questions:
            started = time.perf_counter()
            model.encode_array([question])
            times.append((time.perf_counter() - started) * 1000)
    np.save(out.with_suffix(".npy"), vectors)
    out.write_text(json.dumps({"times_ms": times, "questions": len(questions)}), encoding="utf-8")


def query_embedding(data_dir: Path, repeats: int, work: Path) -> dict[str, Any]:
    """Each backend in its own process, alternating torch, onnx, torch, onnx on the same questions."""
    times: dict[str, list[float]] = {b: [] for b in BACKENDS}
    vectors: dict[str, np.ndarray] = {}
    for round_ in range(2):
        for backend in BACKENDS:
            out = work / f"embed-{backend}-{round_}.json"
            run_measured([sys.executable, "-m", "eval.bench", "--embed-only", backend, str(data_dir), str(repeats),
                          str(out)], base_env())
            record = json.loads(out.read_text(encoding="utf-8"))
            times[backend] += record["times_ms"]
            vectors[backend] = np.load(out.with_suffix(".npy"))
    cosines = np.sum(vectors["onnx"] * vectors["torch"], axis=1)
    return {"questions": record["questions"], "repeats": 2 * repeats,
            "p50_ms": {name: median(values) for name, values in times.items()},
            "p10_ms": {name: float(np.percentile(values, 10)) for name, values in times.items()},
            "min_cosine": float(np.min(cosines))}


def chat_ready(data_dir: Path, backend: str, log_path: Path) -> float:
    """Seconds from launching the chat on a built data dir until its port answers (a warm start)."""
    from eval.bench.chat import start_chat, stop

    proc, seconds = start_chat(data_dir, free_port(), log_path, base_env=base_env(embed_backend=backend))
    stop(proc)
    return seconds


def cli_start(data_dir: Path, repeats: int, backends: tuple[str, ...] = BACKENDS) -> dict[str, Any]:
    """The imports, `tabot ask` and the warm chat start-up, alternating `repeats` times; medians."""
    results: dict[str, Any] = {"imports_s": {}, "ask_s": {}, "ask_rss_mb": {}, "chat_ready_s": {}}
    imports = {"sentence_transformers": "import sentence_transformers",
               "onnxruntime+tokenizers": "import onnxruntime, tokenizers"}
    walls: dict[str, list[float]] = {name: [] for name in [*imports, *backends]}
    chat: dict[str, list[float]] = {name: [] for name in backends}
    rss: dict[str, list[float]] = {name: [] for name in backends}
    for backend in backends:  # not timed: the first start on a data dir runs the demos
        run_measured([str(TABOT), "ask", "which log base"], base_env(data_dir=str(data_dir), embed_backend=backend))
    with tempfile.TemporaryDirectory(prefix="tabot-bench-chat-") as tmp:
        for _ in range(repeats):
            for name, code in imports.items():
                walls[name].append(run_measured([sys.executable, "-c", code], base_env())[0])
            for backend in backends:
                env = base_env(data_dir=str(data_dir), embed_backend=backend)
                wall, peak, _ = run_measured([str(TABOT), "ask", "which log base"], env)
                walls[backend].append(wall)
                rss[backend].append(peak)
                chat[backend].append(chat_ready(data_dir, backend, Path(tmp) / f"chat-{backend}.log"))
    results["imports_s"] = {name: median(walls[name]) for name in imports}
    results["ask_s"] = {b: median(walls[b]) for b in backends}
    results["ask_rss_mb"] = {b: max(rss[b]) for b in backends}
    results["chat_ready_s"] = {b: median(chat[b]) for b in backends}
    results["runs_s"] = {"imports": {name: walls[name] for name in imports},
                         "ask": {b: walls[b] for b in backends}, "chat_ready": chat}
    results["load_average"] = os.getloadavg()[0]
    results["repeats"] = repeats
    return results


def batch_answers(data_dir: Path, questions: Path, out: Path, **tabot: str) -> tuple[list[dict], float, str]:
    """`tabot ask --batch` in a subprocess: its answers, its wall time and its index summary line."""
    wall, _, errors = run_measured([str(TABOT), "ask", "--batch", str(questions), "--json"],
                                   base_env(data_dir=str(data_dir), **tabot), stdout=out)
    summary = next((line for line in errors.splitlines() if line.startswith("index:")), "")
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()], wall, summary


def what_it_says(record: dict[str, Any]) -> tuple:
    return (record.get("abstained"), [s["entry_id"] for s in record.get("sources", [])],
            [(s.get("entry_id"), s.get("text")) for s in record.get("sentences", [])])


def identical_answers(data_dir: Path, work: Path) -> dict[str, Any]:
    questions = [q for path in sorted(DATASETS.glob("*.jsonl")) for q in questions_of(path)]
    batch = work / "all_questions.jsonl"
    batch.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    answers = {b: batch_answers(data_dir, batch, work / f"answers-{b}.jsonl", embed_backend=b)[0] for b in BACKENDS}
    per_set: dict[str, list[int]] = {}
    differ = []
    for torch_answer, onnx_answer in zip(answers["torch"], answers["onnx"], strict=True):
        name = str(torch_answer["id"]).split(":")[0]
        same = what_it_says(torch_answer) == what_it_says(onnx_answer)
        counts = per_set.setdefault(name, [0, 0])
        counts[0] += same
        counts[1] += 1
        if not same:
            differ.append(torch_answer["id"])
    return {"questions": len(questions), "identical": len(questions) - len(differ), "differ": differ[:20],
            "per_set": {name: {"identical": c[0], "questions": c[1]} for name, c in per_set.items()}}


def build_and_encode(backend: str, kb: Path, data_dir: Path, out: Path, parts: int = 4) -> None:
    """In this process, only `backend` loaded: time `KnowledgeIndex.sync` building the whole KB into an
    empty index, and a bare encode of the same chunk texts with the same encoder. Interleaved: the KB is
    synced in `parts` successive steps (each adds the next slice of entries), each followed by the bare
    encode of that slice's chunks, so both see the same machine on a box whose load changes by the minute."""
    from bot.config import Settings
    from bot.knowledge import load_entries
    from bot.search.chunks import build_chunks
    from bot.search.embeddings import MiniLM
    from bot.search.index import KnowledgeIndex

    entries = load_entries(kb)
    texts = [c.text for c in build_chunks(entries)]
    model = MiniLM(backend=backend, data_dir=data_dir).load()  # loading/exporting is not part of the build
    assert model.backend == backend, model.notice
    index = KnowledgeIndex(Settings(data_dir=data_dir, knowledge_dir=kb, embed_backend=backend), model)
    build = bare = 0.0
    embedded = 0
    bounds = [round(i * len(entries) / parts) for i in range(parts + 1)]
    for low, high in pairwise(bounds):
        started = time.perf_counter()
        embedded += index.sync(entries[:high]).chunks_embedded
        build += time.perf_counter() - started
        started = time.perf_counter()
        model.encode_array([c.text for c in build_chunks(entries[low:high])])
        bare += time.perf_counter() - started
    out.write_text(json.dumps({"entries": len(entries), "chunks": len(texts), "distinct_texts": len(set(texts)),
                               "build_s": build, "bare_encode_s": bare, "texts_embedded": embedded, "parts": parts,
                               "build_chunks_per_s": len(texts) / build, "bare_chunks_per_s": len(texts) / bare}))


def index_build(kb: Path, work: Path, seed_models: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for backend in ("onnx", "torch"):
        data = work / f"data-{backend}"
        shutil.copytree(seed_models, data / "models")  # the export is not part of the build being timed
        say(f"index build and bare encode, {backend}")
        out = work / f"build-{backend}.json"
        run_measured([sys.executable, "-m", "eval.bench", "--build-only", backend, str(kb), str(data), str(out)],
                     base_env())
        record = json.loads(out.read_text(encoding="utf-8"))
        results.update({k: record.pop(k) for k in ("entries", "chunks", "distinct_texts")})
        results[backend] = {**record, "data_dir": str(data)}
    return results


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_chroma_server(path: Path) -> tuple[subprocess.Popen, str]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(path),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while True:
        try:
            settings = ChromaSettings(anonymized_telemetry=False)
            chromadb.HttpClient(host="127.0.0.1", port=port, settings=settings).heartbeat()
            return server, f"http://127.0.0.1:{port}"
        except Exception:
            if time.monotonic() > deadline or server.poll() is not None:
                server.terminate()
                raise RuntimeError("chroma run did not come up") from None
            time.sleep(0.5)


def copy_to_server(data_dir: Path, url: str, collection: str) -> None:
    """Serve the same vectors from the server: copy the embedded collection, rows as stored."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from bot.search.embeddings import MiniLMChromaFunction

    settings = ChromaSettings(anonymized_telemetry=False)
    source = chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=settings).get_collection(
        "tabot_answers", embedding_function=MiniLMChromaFunction())
    host, port = url.removeprefix("http://").split(":")
    target = chromadb.HttpClient(host=host, port=int(port), settings=settings).get_or_create_collection(
        collection, embedding_function=MiniLMChromaFunction(), configuration={"hnsw": {"space": "cosine"}})
    total = source.count()
    for offset in range(0, total, 1000):
        rows = source.get(limit=1000, offset=offset, include=["embeddings", "documents", "metadatas"])
        target.add(ids=rows["ids"], embeddings=rows["embeddings"], documents=rows["documents"],
                   metadatas=rows["metadatas"])


def answer_latency(sizes: dict[str, Path], kbs: dict[str, Path], work: Path) -> dict[str, Any]:
    """Median `timings_ms.total` per (backend, size, store) over the test sets, via `tabot ask --batch`."""
    questions = [q for name in TEST_SETS for q in questions_of(DATASETS / f"{name}.jsonl")]
    batch = work / "test_questions.jsonl"
    batch.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    results: dict[str, Any] = {"questions": len(questions)}
    server, url = start_chroma_server(work / "chroma-server")
    try:
        for size, data_dir in sizes.items():
            copy_to_server(data_dir, url, f"bench_{size}")
        for size, data_dir in sizes.items():
            for store in ("embedded", "server"):
                extra = {"chroma_url": url, "collection": f"bench_{size}"} if store == "server" else {}
                for backend in BACKENDS:
                    say(f"answer latency: {size} entries, {store}, {backend}")
                    answers, wall, summary = batch_answers(data_dir, batch, work / "latency.jsonl",
                                                           knowledge_dir=str(kbs[size]), embed_backend=backend,
                                                           **extra)
                    timings = [a["timings_ms"] for a in answers if "timings_ms" in a]
                    stages = {stage: median([t[stage] for t in timings if stage in t])
                              for stage in ("retrieve", "compose", "demos") if any(stage in t for t in timings)}
                    results[f"{size}/{store}/{backend}"] = {"median_ms": median([t["total"] for t in timings]),
                                                            "stages_median_ms": stages, "process_s": wall,
                                                            "answered": len(timings), "index": summary}
    finally:
        server.terminate()
        server.wait(timeout=60)
    return results


def dense_baseline_latency(kbs: dict[str, Path]) -> dict[str, Any]:
    from bot.knowledge import load_entries
    from bot.search.embeddings import model_path
    from eval.baselines import DenseBaseline

    questions = [q["question"] for name in TEST_SETS for q in questions_of(DATASETS / f"{name}.jsonl")]
    results: dict[str, Any] = {}
    for size, kb in kbs.items():
        entries = {e.id: e for e in load_entries(kb)}
        started = time.perf_counter()
        baseline = DenseBaseline(entries, str(model_path()))
        built = time.perf_counter() - started
        times = []
        for question in questions:
            started = time.perf_counter()
            baseline.ask(question)
            times.append((time.perf_counter() - started) * 1000)
        results[size] = {"median_ms": median(times), "build_s": built}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/bench"))
    parser.add_argument("--entries", type=int, default=2000, help="synthetic entries (the 9 real ones are added)")
    parser.add_argument("--repeats", type=int, default=5, help="subprocess runs per figure")
    parser.add_argument("--embed-only", nargs=4, metavar=("BACKEND", "DATA_DIR", "REPEATS", "OUT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--build-only", nargs=4, metavar=("BACKEND", "KB", "DATA_DIR", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--startup-only", action="store_true",
                        help="only `tabot ask` and the warm `tabot chat` start-up against the imports (a few minutes)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS),
                        help="with --startup-only: the backends to start (default both)")
    args = parser.parse_args(argv)
    if args.embed_only:
        backend, data_dir, repeats, out = args.embed_only
        embed_queries(backend, Path(data_dir), int(repeats), Path(out))
        return 0
    if args.build_only:
        backend, kb, data_dir, out = args.build_only
        build_and_encode(backend, Path(kb), Path(data_dir), Path(out))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tabot-bench-"))
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                           "load_average_start": os.getloadavg()[0]},
                               "entries_synthetic": args.entries}
    try:
        seed_data = work / "data-9"
        say("building the 9-entry index (and the ONNX export) with `tabot index`")
        run_measured([str(TABOT), "index"], base_env(data_dir=str(seed_data)))
        if args.startup_only:
            say("tabot ask, tabot chat start-up and imports, in subprocesses")
            results["cli"] = cli_start(seed_data, args.repeats, tuple(args.backends))
            return _finish(results, args, argv, started)
        say("query embedding, each backend in its own process")
        results["query_embedding"] = query_embedding(seed_data, max(args.repeats, 3), work)
        say("tabot ask, tabot chat start-up and imports, in subprocesses")
        results["cli"] = cli_start(seed_data, args.repeats)
        say("answers with either backend, every eval set")
        results["identical_answers"] = identical_answers(seed_data, work)
        kb = work / "kb"
        write_kb(kb, args.entries)
        results["index_build"] = index_build(kb, work, seed_data / "models")
        real_kb = work / "kb-9"
        write_kb(real_kb, 0)
        size = str(results["index_build"]["entries"])
        sizes = {"9": seed_data, size: Path(results["index_build"]["onnx"]["data_dir"])}
        kbs = {"9": real_kb, size: kb}
        results["answer_latency"] = answer_latency(sizes, kbs, work)
        say("plain LangChain + Chroma baseline")
        results["dense_baseline"] = dense_baseline_latency(kbs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _finish(results, args, argv, started)


def _finish(results: dict[str, Any], args: argparse.Namespace, argv: list[str] | None, started: float) -> int:
    results["machine"]["load_average_end"] = os.getloadavg()[0]
    results["seconds"] = time.perf_counter() - started
    results["command"] = "python -m eval.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    (args.out / "bench.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    table = write_report(results, args.out / "bench.md")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
