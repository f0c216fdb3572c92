"""Measurements for issue 12's closing note, each against the normal figure taken in the same run.

    python -m eval.bench.hostile                         # temp data dir, 60 victim questions per phase
    python -m eval.bench.hostile --victims 100 --demo-timeout 60 --out build/bench-hostile

1. **Victim latency while the #1 question runs.** The chat app is served in-process (the same
   `build_app` + `launch_kwargs` as `tabot chat`) over the real `Tabot`. A victim
   `gradio_client.Client` asks "why is KL divergence not symmetric" `--victims` times in a row,
   timing each `predict` (queueing included): once alone, once while a second client keeps sending
   issue 12's heavy question (`"a b c? " * 285`) back to back, then alone again. Median and p95 are
   `eval.metrics.latency.percentile` (linear interpolation), as in the eval report.
2. **Start-up with a hanging staff demo.** `Tabot.start` (as `tabot chat` and `tabot ask` call it:
   demos verified before serving) in a fresh Python process, on a copy of one built index with no
   demo results cached (first start) and again on the same folder (second start), with and without
   a staff demo `while True: pass` in TABOT_DEMOS_DIR; also the first start with
   `verify_in_background=True` (what `tabot discord` uses). Each start is followed by one answer.

Prints a Markdown table and writes it with the JSON to --out. Timings are measurements, never
asserted in tests (the machine's load is recorded alongside).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eval.metrics.latency import percentile

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VICTIM = "why is KL divergence not symmetric"
HEAVY = "a b c? " * 285  # issue 12 #1
HANGING_DEMO = '"""A staff demo that never ends (issue 12 #4)."""\n\nwhile True:\n    pass\n'
WARM_UP = 5

# One start in a fresh process: import, Tabot.start, then the first answer; one JSON line on stdout.
START_SNIPPET = """
import json, sys, time
began = time.perf_counter()
from bot.config import Settings
from bot.service import Tabot
imported = time.perf_counter()
tabot = Tabot.start(Settings.from_env(), verify_in_background=sys.argv[1] == "background")
started = time.perf_counter()
answer = tabot.ask("why is KL divergence not symmetric")
answered = time.perf_counter()
print(json.dumps({"import_s": imported - began, "start_s": started - imported,
                  "first_answer_ms": (answered - started) * 1000, "abstained": answer.abstained,
                  "demos": {d.name: d.verdict.value for d in answer.demos}}), flush=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def summary(times_s: list[float]) -> dict[str, float | int | None]:
    ms = [t * 1000 for t in times_s]
    return {"n": len(ms), "median_ms": statistics.median(ms) if ms else None, "p95_ms": percentile(ms, 95),
            "max_ms": max(ms) if ms else None}


# --- data ------------------------------------------------------------------------------------------

def build_index(data_dir: Path) -> float:
    """`tabot index` on `data_dir` (MiniLM exported to ONNX there once); returns its seconds."""
    env = {**os.environ, "TABOT_DATA_DIR": str(data_dir)}
    env.pop("TABOT_DEMOS_DIR", None)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bot", "index"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"tabot index failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - began


def copy_without_demo_results(template: Path, target: Path) -> Path:
    """The built index of `template` with no demo result cached (the exported model linked, not copied)."""
    shutil.copytree(template, target, ignore=shutil.ignore_patterns("models", "demos", "public", "feedback.sqlite3*"))
    if (template / "models").is_dir():
        (target / "models").symlink_to((template / "models").resolve(), target_is_directory=True)
    return target


# --- 1. victim latency -----------------------------------------------------------------------------

@contextmanager
def served_chat(data_dir: Path) -> Iterator[str]:
    """The chat app over the real engine, in this process, as `tabot chat` builds it; yields its URL."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from bot.config import Settings
    from bot.faces.web import build_app, launch_kwargs
    from bot.faces.web_files import public_dir
    from bot.feedback import FeedbackStore
    from bot.service import Tabot

    settings = Settings(data_dir=data_dir, host="127.0.0.1", port=free_port(), share=False)
    tabot = Tabot.start(settings)
    app = build_app(tabot, FeedbackStore(settings.feedback_db), public_dir(settings))
    app.queue().launch(prevent_thread_lock=True, quiet=True, **launch_kwargs(settings))
    try:
        yield f"http://127.0.0.1:{settings.port}/"
    finally:
        app.close()


def ask_times(client: Any, question: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        began = time.perf_counter()
        client.predict(question, api_name="/ask")
        times.append(time.perf_counter() - began)
    return times


def victim_latency(data_dir: Path, victims: int) -> dict[str, Any]:
    from gradio_client import Client

    with served_chat(data_dir) as url:
        victim, attacker = Client(url, verbose=False), Client(url, verbose=False)
        ask_times(victim, VICTIM, WARM_UP)
        heavy_alone = ask_times(attacker, HEAVY, WARM_UP)
        before = ask_times(victim, VICTIM, victims)

        stop, heavy_times = threading.Event(), []

        def keep_sending() -> None:
            while not stop.is_set():
                began = time.perf_counter()
                attacker.predict(HEAVY, api_name="/ask")
                heavy_times.append(time.perf_counter() - began)

        flood = threading.Thread(target=keep_sending, name="heavy-client", daemon=True)
        flood.start()
        while not heavy_times:  # the heavy client is in its loop before the victim starts
            time.sleep(0.01)
        during = ask_times(victim, VICTIM, victims)
        stop.set()
        flood.join(timeout=120)
        after = ask_times(victim, VICTIM, victims)
    return {"alone": summary(before + after), "alone_before": summary(before), "alone_after": summary(after),
            "with_heavy": summary(during), "heavy_question": summary(heavy_times),
            "heavy_question_alone": summary(heavy_alone)}


# --- 2. start-up with a hanging staff demo ---------------------------------------------------------

def one_start(data_dir: Path, demos_dir: Path | None, mode: str, demo_timeout: float) -> dict[str, Any]:
    env = {**os.environ, "TABOT_DATA_DIR": str(data_dir), "TABOT_DEMO_TIMEOUT": f"{demo_timeout:g}"}
    env.pop("TABOT_DEMOS_DIR", None)
    if demos_dir is not None:
        env["TABOT_DEMOS_DIR"] = str(demos_dir)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", START_SNIPPET, mode], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"a start failed ({mode}, demos {demos_dir}):\n{done.stderr[-2000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process_s": wall}


def start_ups(template: Path, work: Path, demo_timeout: float) -> dict[str, Any]:
    staff = work / "staff_demos"
    staff.mkdir()
    (staff / "hang_forever.py").write_text(HANGING_DEMO, encoding="utf-8")
    results: dict[str, Any] = {}
    for label, demos_dir in (("normal", None), ("hanging demo", staff)):
        data = copy_without_demo_results(template, work / f"data-{label.replace(' ', '-')}")
        results[f"{label}, first start"] = one_start(data, demos_dir, "foreground", demo_timeout)
        results[f"{label}, second start"] = one_start(data, demos_dir, "foreground", demo_timeout)
    for label, demos_dir in (("normal", None), ("hanging demo", staff)):
        data = copy_without_demo_results(template, work / f"data-bg-{label.replace(' ', '-')}")
        results[f"{label}, first start, verify in background"] = one_start(data, demos_dir, "background",
                                                                           demo_timeout)
    return results


# --- report ----------------------------------------------------------------------------------------

def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def markdown(result: dict[str, Any]) -> str:
    lat = result["victim_latency"]
    alone, loaded = lat["alone"], lat["with_heavy"]
    lines = [f"Victim question {VICTIM!r} over gradio_client, one question at a time "
             f"({alone['n']} alone, {loaded['n']} during the flood):", "",
             "| victim | median ms | p95 ms | max ms | median vs alone |", "|---|---:|---:|---:|---:|"]
    for label, row in (("alone (before + after)", alone), ("alone, before", lat["alone_before"]),
                       ("alone, after", lat["alone_after"]), ('while `"a b c? "*285` is sent back to back', loaded)):
        ratio = row["median_ms"] / alone["median_ms"] if row["median_ms"] and alone["median_ms"] else None
        lines.append(f"| {label} | {_ms(row['median_ms'])} | {_ms(row['p95_ms'])} | {_ms(row['max_ms'])} | "
                     f"{'—' if ratio is None else f'{ratio:.2f}x'} |")
    heavy, heavy_alone = lat["heavy_question"], lat["heavy_question_alone"]
    lines += ["", f"The heavy question itself: median {_ms(heavy_alone['median_ms'])} ms alone, "
                  f"{_ms(heavy['median_ms'])} ms during the flood ({heavy['n']} sent).", "",
              f"Start-up (`Tabot.start`, fresh process, TABOT_DEMO_TIMEOUT={result['demo_timeout_s']:g} s; "
              "first start = no demo result cached):", "",
              "| start | Tabot.start s | process s | first answer ms | vs normal |", "|---|---:|---:|---:|---:|"]
    starts = result["start_up"]
    for label, row in starts.items():
        base_label = label.replace("hanging demo", "normal")
        base = starts.get(base_label, row)["start_s"]
        lines.append(f"| {label} | {row['start_s']:.1f} | {row['process_s']:.1f} | {_ms(row['first_answer_ms'])} | "
                     f"{row['start_s'] / base:.2f}x |")
    lines += ["", f"Machine: {result['machine']['cpus']} CPUs, load average {result['machine']['load_before']} "
                  f"before, {result['machine']['load_after']} after."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.hostile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--victims", type=int, default=60, help="victim questions per phase (default 60)")
    parser.add_argument("--demo-timeout", type=float, default=60.0,
                        help="TABOT_DEMO_TIMEOUT for the start-ups (default 60, the setting's default)")
    parser.add_argument("--data-dir", type=Path, help="a built data dir to copy (default: build one in a temp dir)")
    parser.add_argument("--out", type=Path, default=Path("build/bench-hostile"))
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "load_before": load_average()},
                              "demo_timeout_s": args.demo_timeout, "victims_per_phase": args.victims}
    with tempfile.TemporaryDirectory(prefix="tabot_bench_hostile_") as tmp:
        work = Path(tmp)
        template = args.data_dir  # only ever copied from
        if template is None:
            template = work / "template"
            result["index_build_s"] = build_index(template)
        print("measuring victim latency ...", file=sys.stderr, flush=True)
        result["victim_latency"] = victim_latency(copy_without_demo_results(template, work / "chat"), args.victims)
        print("measuring start-ups ...", file=sys.stderr, flush=True)
        result["start_up"] = start_ups(template, work, args.demo_timeout)
    result["machine"]["load_after"] = load_average()
    table = markdown(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_hostile.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (args.out / "bench_hostile.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    print(f"\nwrote {args.out / 'bench_hostile.json'} and {args.out / 'bench_hostile.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
