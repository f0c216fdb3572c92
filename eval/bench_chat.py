"""Benchmark `tabot chat`: cold and warm start-up, and reply latency under concurrent clients.

    python -m eval.bench_chat                      # cold start, warm start, then 50 questions / 8 clients
    python -m eval.bench_chat --url http://127.0.0.1:7860/ --questions 50 --clients 8   # an already running chat

Start-up is the wall time from launching `python -m bot chat` until `GET /` on its port
answers 200: cold = an empty data dir (index built, demos run), warm = a second start on
the same dir. Reply time is what each `gradio_client.Client.predict(q, api_name="/ask")`
call takes, seen by the client (queueing included); clients are created before timing.
Questions cycle through the committed in-scope, out-of-scope and off-topic test sets.
p95 is `eval.metrics.latency.percentile` (linear interpolation, as in the eval report). Prints a
summary and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from itertools import zip_longest
from pathlib import Path

from eval.datasets import DATASETS_DIR
from eval.metrics.latency import percentile

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 900.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def questions(n: int) -> list[str]:
    """n questions, interleaving the test sets so every slice of the run mixes answers and abstentions."""
    sets = []
    for name in ("in_scope", "out_of_scope", "off_topic"):
        lines = (DATASETS_DIR / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        sets.append([json.loads(line)["question"] for line in lines if line.strip()])
    mixed = [q for group in zip_longest(*sets) for q in group if q]
    return [mixed[i % len(mixed)] for i in range(n)]


def port_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a local http URL we built
            return response.status == 200
    except OSError:
        return False


def start_chat(data_dir: Path, port: int, log_path: Path) -> tuple[subprocess.Popen, float]:
    """Start `python -m bot chat`; return the process and seconds until its port answered."""
    env = {**os.environ, "TABOT_DATA_DIR": str(data_dir), "TABOT_PORT": str(port), "TABOT_HOST": "127.0.0.1",
           "TABOT_SHARE": "false", "GRADIO_ANALYTICS_ENABLED": "False"}
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    # The child holds its own copy of the log descriptor; ours is closed as soon as it started.
    with log_path.open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "chat"], cwd=PROJECT_ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        while not port_answers(url):
            if proc.poll() is not None:
                raise SystemExit(f"tabot chat exited with {proc.returncode}; see {log_path}")
            if time.perf_counter() - started > START_TIMEOUT_S:
                raise SystemExit(f"tabot chat did not answer within {START_TIMEOUT_S:.0f} s; see {log_path}")
            time.sleep(0.1)
    except BaseException:  # a timeout, or Ctrl-C while waiting: never leave the chat running
        stop(proc)
        raise
    return proc, time.perf_counter() - started


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:  # already gone
        return
    # SIGTERM, not SIGINT: a shell without job control starts background jobs with SIGINT
    # ignored, and the child would inherit that.
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def load(url: str, n_questions: int, n_clients: int) -> dict[str, float]:
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(n_clients)]
    todo = list(enumerate(questions(n_questions)))
    lock = threading.Lock()
    times: list[float] = []
    abstained = 0

    def worker(client: Client) -> None:
        nonlocal abstained
        while True:
            with lock:
                if not todo:
                    return
                _, question = todo.pop(0)
            t0 = time.perf_counter()
            history, *_ = client.predict(question, api_name="/ask")
            elapsed = time.perf_counter() - t0
            reply = history[-1]["content"][0]["text"]
            with lock:
                times.append(elapsed)
                abstained += "### Sources" not in reply

    wall = time.perf_counter()
    with ThreadPoolExecutor(n_clients) as pool:
        for future in [pool.submit(worker, c) for c in clients]:
            future.result()
    wall = time.perf_counter() - wall
    return {"questions": len(times), "clients": n_clients, "median_s": statistics.median(times),
            "p95_s": percentile(times, 95), "min_s": min(times), "max_s": max(times),
            "throughput_qps": len(times) / wall, "abstained": abstained}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_chat", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="benchmark this running chat instead of starting one (no start-up times)")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    result: dict[str, object] = {}
    if args.url:
        result["load"] = load(args.url, args.questions, args.clients)
    else:
        with tempfile.TemporaryDirectory(prefix="tabot_bench_") as tmp:
            data_dir, log_path, port = Path(tmp) / "data", Path(tmp) / "chat.log", free_port()
            proc, cold = start_chat(data_dir, port, log_path)
            stop(proc)
            proc, warm = start_chat(data_dir, port, log_path)
            try:
                result.update(cold_start_s=cold, warm_start_s=warm)
                result["load"] = load(f"http://127.0.0.1:{port}/", args.questions, args.clients)
            finally:
                stop(proc)
    if "cold_start_s" in result:
        print(f"start-up until the port answers: cold {result['cold_start_s']:.1f} s, "
              f"warm {result['warm_start_s']:.1f} s")
    lo = result["load"]
    print(f"{lo['questions']} questions from {lo['clients']} concurrent gradio_client clients: "
          f"median {lo['median_s']:.2f} s, p95 {lo['p95_s']:.2f} s (min {lo['min_s']:.2f}, max {lo['max_s']:.2f}; "
          f"{lo['throughput_qps']:.2f} questions/s; {lo['abstained']} abstentions)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
