"""bench.md from the numbers `python -m eval.bench` measured: one table, old backend beside new, with
each ratio against its baseline from the same run and the target issue 13 set for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def ratio(new: float, old: float) -> float | None:
    return new / old if old else None


def _ratio(new: float | None, old: float | None) -> float | None:
    return None if new is None or old is None else ratio(new, old)


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "—" if value is None else f"{value:.{digits}f}{suffix}"


def _verdict(value: float | None, target: str) -> str:
    """'ok' / 'MISSED' for targets written as '<= x' or '>= x'."""
    if value is None or not target:
        return ""
    op, bound = target.split()
    return "ok" if (value <= float(bound) if op == "<=" else value >= float(bound)) else "MISSED"


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(what, torch (old), onnx (new), ratio, target + verdict) rows."""
    out: list[tuple[str, str, str, str, str]] = []

    def add(what: str, old: str, new: str, value: float | None = None, target: str = "") -> None:
        out.append((what, old, new, _fmt(value, 3) if value is not None else "", f"{target} {_verdict(value, target)}"
                    .strip()))

    q = results.get("query_embedding")
    if q:
        p50 = q["p50_ms"]
        add(f"query embedding p50 ({q['questions']} questions x {q['repeats']}), ms", _fmt(p50["torch"]),
            _fmt(p50["onnx"]), ratio(p50["onnx"], p50["torch"]), "<= 0.4")
        if "p10_ms" in q:  # the quick end: what each costs when no other process takes a core
            add("query embedding p10, ms", _fmt(q["p10_ms"]["torch"]), _fmt(q["p10_ms"]["onnx"]),
                ratio(q["p10_ms"]["onnx"], q["p10_ms"]["torch"]))
        add("min cosine onnx vs torch on those questions", "", _fmt(q["min_cosine"], 8))
    cli = results.get("cli")
    if cli:
        ask, imports, rss = cli["ask_s"], cli["imports_s"], cli["ask_rss_mb"]
        chat = cli.get("chat_ready_s", {})
        torch_ask, onnx_ask = ask.get("torch"), ask.get("onnx")  # `--startup-only --backends` may start one
        add(f"`tabot ask` on a built index, wall s (median of {cli['repeats']})", _fmt(torch_ask), _fmt(onnx_ask),
            _ratio(onnx_ask, torch_ask))
        st = imports["sentence_transformers"]
        add("`python -c \"import sentence_transformers\"`, s", _fmt(st), "")
        add("`python -c \"import onnxruntime, tokenizers\"`, s", "", _fmt(imports["onnxruntime+tokenizers"]))
        add("`tabot ask` / `import sentence_transformers`", _fmt(_ratio(torch_ask, st), 3),
            _fmt(_ratio(onnx_ask, st), 3), _ratio(onnx_ask, st), "<= 0.25")
        if chat:
            add("`tabot chat` warm start until its port answers, s", _fmt(chat.get("torch")), _fmt(chat.get("onnx")),
                _ratio(chat.get("onnx"), chat.get("torch")))
            add("`tabot chat` warm start / `import sentence_transformers`", _fmt(_ratio(chat.get("torch"), st), 3),
                _fmt(_ratio(chat.get("onnx"), st), 3), _ratio(chat.get("onnx"), st), "<= 0.7")
        add("`tabot ask` peak RSS, MB (max)", _fmt(rss.get("torch"), 0), _fmt(rss.get("onnx"), 0), None)
        if "onnx" in rss:
            add("`tabot ask` peak RSS vs the 350 MB serving budget", "", _fmt(rss["onnx"], 0), rss["onnx"] / 350,
                "<= 1")
    same = results.get("identical_answers")
    if same:
        sets = ", ".join(f"{name} {c['identical']}/{c['questions']}" for name, c in sorted(same["per_set"].items()))
        add(f"answers identical torch vs onnx (entries, sentences): {sets}", "", f"{same['identical']}/"
            f"{same['questions']}", same["identical"] / same["questions"], ">= 1")
    build = results.get("index_build")
    if build:
        torch, onnx = build["torch"], build["onnx"]
        what = (f"{build['entries']} entries / {build['chunks']} chunks ({build['distinct_texts']} distinct texts),"
                f" in {torch.get('parts', 1)} steps each followed by the bare encode of its chunks")
        add(f"index build, chunks/s, {what}", _fmt(torch["build_chunks_per_s"], 1), _fmt(onnx["build_chunks_per_s"], 1),
            ratio(onnx["build_chunks_per_s"], torch["build_chunks_per_s"]))
        add("bare `encode` of the same chunk texts, chunks/s", _fmt(torch["bare_chunks_per_s"], 1),
            _fmt(onnx["bare_chunks_per_s"], 1), ratio(onnx["bare_chunks_per_s"], torch["bare_chunks_per_s"]))
        for name, figures in (("torch", torch), ("onnx", onnx)):
            add(f"index build / bare encode, {name}", "", "", ratio(figures["build_chunks_per_s"],
                                                                   figures["bare_chunks_per_s"]), ">= 0.9")
    latency = results.get("answer_latency")
    if latency:
        sizes = sorted({key.split("/")[0] for key in latency if "/" in key}, key=int)
        for size in sizes:
            for store in ("embedded", "server"):
                old, new = latency[f"{size}/{store}/torch"], latency[f"{size}/{store}/onnx"]
                add(f"answer latency median, {size} entries, {store} Chroma, ms ({latency['questions']} questions)",
                    _fmt(old["median_ms"], 1), _fmt(new["median_ms"], 1), ratio(new["median_ms"], old["median_ms"]))
        if len(sizes) == 2:
            for store in ("embedded", "server"):
                small, large = latency[f"{sizes[0]}/{store}/onnx"], latency[f"{sizes[1]}/{store}/onnx"]
                add(f"answer latency {sizes[1]} / {sizes[0]} entries, {store}, onnx", "", "",
                    ratio(large["median_ms"], small["median_ms"]))
    dense = results.get("dense_baseline")
    if dense:
        for size, figures in dense.items():
            add(f"plain LangChain + Chroma dense top-1 (HuggingFaceEmbeddings), {size} entries, median ms",
                _fmt(figures["median_ms"], 1), "")
    return out


def write_report(results: dict[str, Any], path: Path) -> str:
    lines = ["# tabot benchmark", "",
             f"`{results.get('command', 'python -m eval.bench')}` — {results['machine']['cpus']} CPUs, "
             f"load average {results['machine']['load_average_start']:.1f} at start, "
             f"{results['machine'].get('load_average_end', 0):.1f} at end; {results.get('seconds', 0) / 60:.1f} min.",
             "Medians; each ratio is new / old (or the figure / its baseline) measured in this same run.", "",
             "| what | torch (old) | onnx (new) | ratio | target |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows(results)]
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return text
