"""Benchmark `tabot chat`: cold and warm start-up, and reply latency under concurrent clients.

    python -m eval.bench.chat                      # cold start, warm start, then 50 questions / 8 clients
    python -m eval.bench.chat --url http://127.0.0.1:7860/ --questions 50 --clients 8   # an already running chat
    python -m eval.bench.chat --vs-engine --clients 32 --questions 96 --concurrency 1 2 4 --repeat 2

`--vs-engine` measures saturated throughput twice over the same in-scope questions and prints their
ratio: engine-only = the same client threads calling `Tabot.ask` in one process (`--engine DIR`,
a child process, so its memory and threads are gone before the chat starts), and chat = the same
threads each holding a `gradio_client.Client` against `python -m bot chat` launched with the
`/ask` queue's concurrency limit set to each `--concurrency` value in turn (`--serve`, a child
process). Runs alternate engine, chat c1, chat c2, ... `--repeat` times, so a busy machine hits
every setting alike; medians over the repeats are reported with the load average, and the CPU
seconds of the client side (and of the chat process). On http URLs the clients are made with
`ssl_verify=False`: no TLS is involved, but by default gradio_client loads the CA bundle for the new
httpx streams it opens on every predict (~55 ms of client CPU a question, more than the chat's own
work); `--ssl-verify` measures with the library default.

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


def questions(n: int, names: tuple[str, ...] = ("in_scope", "out_of_scope", "off_topic")) -> list[str]:
    """n questions, interleaving the test sets so every slice of the run mixes answers and abstentions."""
    sets = []
    for name in names:
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


def start_chat(data_dir: Path, port: int, log_path: Path, concurrency: int | None = None,
               base_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, float]:
    """Start `python -m bot chat` (with `concurrency`: this module's `--serve`, which is `tabot chat` with
    that queue limit) in `base_env` (default: this process's environment); return the process and
    seconds until its port answered."""
    command = ["-m", "bot", "chat"] if concurrency is None else ["-m", "eval.bench.chat", "--serve", str(concurrency)]
    env = {**(os.environ if base_env is None else base_env), "TABOT_DATA_DIR": str(data_dir), "TABOT_PORT": str(port),
           "TABOT_HOST": "127.0.0.1", "TABOT_SHARE": "false", "GRADIO_ANALYTICS_ENABLED": "False"}
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    # The child holds its own copy of the log descriptor; ours is closed as soon as it started.
    with log_path.open("ab") as log:
        proc = subprocess.Popen([sys.executable, *command], cwd=PROJECT_ROOT, env=env,
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


def load(url: str, n_questions: int, n_clients: int, asked: list[str] | None = None, ssl_verify: bool = False
         ) -> dict[str, float]:
    from gradio_client import Client

    # gradio_client opens new httpx streams for its heartbeat and its messages on every predict, each
    # with a new SSL context that loads the CA bundle, even for http URLs (~55 ms CPU a question here).
    # No TLS is used on http, so there the bundle is not loaded (`--ssl-verify` keeps the default).
    verify = ssl_verify or not url.startswith("http://")
    clients = [Client(url, verbose=False, ssl_verify=verify) for _ in range(n_clients)]
    clients[0].predict("warm-up: what is softmax?", api_name="/ask")  # not timed: first-call costs
    todo = list(enumerate(asked if asked is not None else questions(n_questions)))
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
                abstained += 'class="tabot-label">Source' not in reply  # an answer card lists its sources

    wall, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(n_clients) as pool:
        for future in [pool.submit(worker, c) for c in clients]:
            future.result()
    return {**summary(times, time.perf_counter() - wall, n_clients, abstained),
            "client_cpu_s": time.process_time() - cpu}


def summary(times: list[float], wall: float, n_clients: int, abstained: int) -> dict[str, float]:
    return {"questions": len(times), "clients": n_clients, "median_s": statistics.median(times),
            "p95_s": percentile(times, 95), "min_s": min(times), "max_s": max(times),
            "throughput_qps": len(times) / wall, "abstained": abstained}


def engine_load(data_dir: Path, n_questions: int, n_clients: int) -> dict[str, float]:
    """Engine-only: `n_clients` threads calling `Tabot.ask` in this process, like `load` calls the chat."""
    from bot.config import Settings
    from bot.service import Tabot

    settings = Settings.from_env({**os.environ, "TABOT_DATA_DIR": str(data_dir)})
    service = Tabot.start(settings)
    service.ask("warm-up: what is softmax?")  # not timed, as in `load`
    todo = questions(n_questions, ("in_scope",))
    lock = threading.Lock()
    times: list[float] = []
    abstained = 0

    def worker() -> None:
        nonlocal abstained
        while True:
            with lock:
                if not todo:
                    return
                question = todo.pop(0)
            t0 = time.perf_counter()
            answer = service.ask(question)
            elapsed = time.perf_counter() - t0
            with lock:
                times.append(elapsed)
                abstained += answer.abstained

    wall, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(n_clients) as pool:
        for future in [pool.submit(worker) for _ in range(n_clients)]:
            future.result()
    return {**summary(times, time.perf_counter() - wall, n_clients, abstained),
            "client_cpu_s": time.process_time() - cpu}  # engine and its client threads: one process


def serve_with(concurrency: int) -> None:
    """`tabot chat` with the `/ask` queue limited to `concurrency` (the bench's chat child process)."""
    import gc

    from bot.config import Settings
    from bot.faces.cli import end_of_startup

    gc.disable()  # as `tabot chat` starts (bot.faces.cli.run)
    from bot.faces import web

    web.ASK_CONCURRENCY = concurrency  # read by build_app when it wires the events
    web.serve(Settings.from_env(), built=end_of_startup)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_engine(data_dir: Path, n_questions: int, n_clients: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-m", "eval.bench.chat", "--engine", str(data_dir),
                           "--questions", str(n_questions), "--clients", str(n_clients)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the engine-only run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def vs_engine(data_dir: Path, log_path: Path, n_questions: int, n_clients: int, limits: list[int],
              repeat: int, ssl_verify: bool = False) -> dict[str, object]:
    asked = questions(n_questions, ("in_scope",))
    runs: dict[str, list[dict[str, float]]] = {"engine": [], **{f"chat_c{c}": [] for c in limits}}
    loads: list[float] = []
    for r in range(repeat):
        loads.append(os.getloadavg()[0])
        runs["engine"].append(run_engine(data_dir, n_questions, n_clients))
        print(f"run {r + 1}: engine {runs['engine'][-1]['throughput_qps']:.2f} q/s", file=sys.stderr, flush=True)
        for c in limits:
            port = free_port()
            proc, _ = start_chat(data_dir, port, log_path, concurrency=c)
            try:
                loads.append(os.getloadavg()[0])
                before = cpu_seconds(proc.pid)
                measured = load(f"http://127.0.0.1:{port}/", n_questions, n_clients, asked, ssl_verify)
                runs[f"chat_c{c}"].append({**measured, "server_cpu_s": cpu_seconds(proc.pid) - before})
            finally:
                stop(proc)
            print(f"run {r + 1}: chat c={c} {runs[f'chat_c{c}'][-1]['throughput_qps']:.2f} q/s",
                  file=sys.stderr, flush=True)
    medians = {name: {key: statistics.median(run[key] for run in rs) for key in ("throughput_qps", "median_s", "p95_s")}
               for name, rs in runs.items()}
    engine_qps = medians["engine"]["throughput_qps"]
    for m in medians.values():
        m["ratio"] = m["throughput_qps"] / engine_qps
    return {"clients": n_clients, "questions": n_questions, "repeat": repeat, "ssl_verify": ssl_verify,
            "load_avg_1m": loads,
            "median": medians, "runs": runs}


def print_vs_engine(result: dict[str, object]) -> None:
    loads = result["load_avg_1m"]
    print(f"{result['questions']} in-scope questions, {result['clients']} client threads, medians of "
          f"{result['repeat']} runs (1-min load average {min(loads):.1f}-{max(loads):.1f}):")
    print(f"| {'what':<24} | questions/s | ratio | median s | p95 s |")
    print(f"|{'-' * 26}|-------------|-------|----------|-------|")
    for name, m in result["median"].items():
        what = "engine-only (Tabot.ask)" if name == "engine" else f"chat, concurrency {name.removeprefix('chat_c')}"
        print(f"| {what:<24} | {m['throughput_qps']:11.2f} | {m['ratio']:5.2f} | {m['median_s']:8.2f} | "
              f"{m['p95_s']:5.2f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.chat", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="benchmark this running chat instead of starting one (no start-up times)")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--vs-engine", action="store_true",
                        help="engine-only vs chat saturated throughput on in-scope questions, and their ratio")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4],
                        help="with --vs-engine: the /ask queue limits to try")
    parser.add_argument("--ssl-verify", action="store_true",
                        help="let gradio_client load the CA bundle on http URLs too "
                             "(its default; ~55 ms of client CPU a question here)")
    parser.add_argument("--repeat", type=int, default=2, help="with --vs-engine: runs of each setting")
    parser.add_argument("--data-dir", type=Path, help="with --vs-engine: an existing data dir (default: a new one)")
    parser.add_argument("--engine", type=Path, metavar="DATA_DIR", help=argparse.SUPPRESS)  # vs-engine's child
    parser.add_argument("--serve", type=int, metavar="CONCURRENCY", help=argparse.SUPPRESS)  # vs-engine's child
    args = parser.parse_args(argv)
    result: dict[str, object] = {}
    if args.serve is not None:
        serve_with(args.serve)
        return 0
    if args.engine is not None:
        print(json.dumps(engine_load(args.engine, args.questions, args.clients)))
        return 0
    if args.vs_engine:
        with tempfile.TemporaryDirectory(prefix="tabot_bench_") as tmp:
            data_dir = args.data_dir or Path(tmp) / "data"
            outcome = vs_engine(data_dir, Path(tmp) / "chat.log", args.questions, args.clients,
                                args.concurrency, args.repeat, args.ssl_verify)
        print_vs_engine(outcome)
        print(json.dumps(outcome))
        return 0
    if args.url:
        result["load"] = load(args.url, args.questions, args.clients, ssl_verify=args.ssl_verify)
    else:
        with tempfile.TemporaryDirectory(prefix="tabot_bench_") as tmp:
            data_dir, log_path, port = Path(tmp) / "data", Path(tmp) / "chat.log", free_port()
            proc, cold = start_chat(data_dir, port, log_path)
            stop(proc)
            proc, warm = start_chat(data_dir, port, log_path)
            try:
                result.update(cold_start_s=cold, warm_start_s=warm)
                result["load"] = load(f"http://127.0.0.1:{port}/", args.questions, args.clients,
                                      ssl_verify=args.ssl_verify)
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
