"""Render the results of `eval.run.run_eval` as report.json, report.md and report.html (+ PNG plots)."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from eval.datasets import DEVELOPMENT_SETS
from eval.metrics import abstention, demos, faithfulness, retrieval
from eval.metrics.intervals import wilson

HEADLINE = (retrieval.HIT_AT_1, retrieval.HIT_AT_3, retrieval.MRR, abstention.PRECISION, abstention.RECALL,
            abstention.F1, faithfulness.FAITHFULNESS, demos.DEMO_PASS)
# The question sets shown side by side per system in "Real phrasing" (their names start with this).
REAL_PREFIX = "real_posts"
REAL_COLUMNS = (retrieval.ANSWERED_RIGHT, retrieval.SPLIT_RANKING, abstention.DECLINED_OUT)
REAL_NOTE = ("Questions written here in the shape of real forum posts (long, quoting, code and formulas, the "
             "question last), each following a real post whose address it keeps; split by thread, and the "
             "`test` side tuned nothing (eval/datasets/README.md). Answered and right = in-scope posts answered "
             "with an expected entry first; ranking hit@1 ignores abstention; out-of-scope declined covers "
             "off-topic posts and prompt injections too; the last three columns count the in-scope posts declined "
             "whose entry was among the three closest topics the decline offers, the posts answered wrongly "
             "(out of scope, or the wrong entry first) whose answer said it may not cover the question, and of "
             "the answers that said so, those that were wrong. In brackets: 95 % Wilson "
             "intervals; to tell whether a "
             "change helped, compare two reports on the same questions with `python -m eval.compare`.")
DEVELOPMENT_NOTE = ("The blind development sets (`python -m eval --development`; eval/datasets/README.md): "
                    "questions in the shapes students write, each set written by a helper who saw neither the bot "
                    "nor any eval row and judged again blind. They measure a change before the test sets veto it; "
                    "nothing is fitted on them, and they are no test: a reader fix drafted from one of their "
                    "misses is measured on the others. Columns as above.")
CERTAINTY_NOTE = ("The questions of this run that the label audit judged again (of the test sets, "
                  "`real_posts:test`), split by it (eval/datasets/README.md): each was judged by a helper who saw "
                  "only the labelling rule and the nine answers, never the label or the bot, and marked `unsure` "
                  "where a reasonable TA could decide either way. Errors on those posts say less than errors "
                  "where the decision is clear.")
CERTAINTY_HEADER = ["system", "label audit", "in scope", "answered and right", "out of scope",
                    "out-of-scope declined"]
PLOTS = ("quality.png", "latency.png", "confidence.png")
FAITHFULNESS_NOTE = ("On the default grounded path every sentence is a verbatim TA sentence cited to its own entry, "
                     "so faithfulness is 1.0 by construction (for tabot and both baselines); it only measures "
                     "something on the LLM path. The gate therefore also checks the support scorer's balanced "
                     "accuracy on support_meta.jsonl (below).")


LATENCY_BY_SPLIT_NOTE = (
    "The same ratio on each set alone: the line above mixes short synthetic questions and long posts in the "
    "proportions the sets happen to have, and a set of long posts, many with several questions, is answered "
    "differently from a set of one-line questions.")


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def headline_rows(results: dict) -> list[list[str]]:
    """One row per system: label, the HEADLINE metrics, then total latency median and p95."""
    rows = []
    for system in results["systems"].values():
        m = system["metrics"]
        total = m["latency"].get("total", {})
        rows.append([system["label"], *(fmt(m.get(metric.name)) for metric in HEADLINE),
                     _ms(total.get("median")), _ms(total.get("p95"))])
    return rows


def headline_header() -> list[str]:
    return ["system", *(metric.label for metric in HEADLINE), "latency median", "latency p95"]


def real_header() -> list[str]:
    return ["system", "question set", "in scope", "out of scope", *(m.label for m in REAL_COLUMNS),
            retrieval.DECLINED_OFFERED.label, retrieval.WRONG_FLAGGED.label, "flagged unsure: answered wrongly"]


def offered_cell(row: dict) -> str:
    """In-scope declines whose entry was among the 3 offered, as a count: "11 of 14" (too few for a rate)."""
    n = row.get("n_declined_in_scope", 0)
    rate = row.get(retrieval.DECLINED_OFFERED.name)
    return f"{round(rate * n)} of {n}" if n and rate is not None else "n/a"


def flagged_cells(row: dict) -> list[str]:
    """The answers both wrong and flagged unsure, as counts: of the wrong answers, and of the flagged
    ones (the notice's false alarms are the rest)."""
    wrong, flagged = row.get("n_answered_wrong", 0), row.get("n_flagged_unsure", 0)
    rate = row.get(retrieval.WRONG_FLAGGED.name)
    both = round(rate * wrong) if wrong and rate is not None else 0
    return [f"{both} of {wrong}" if wrong else "n/a", f"{both} of {flagged}" if flagged else "n/a"]


def with_interval(rate: float | None, n: int) -> str:
    """A rate over n questions with its 95 % Wilson interval: "0.860 [0.79, 0.91]"."""
    if rate is None or not n:
        return fmt(rate)
    low, high = wilson(round(rate * n), n)
    return f"{rate:.3f} [{low:.2f}, {high:.2f}]"


def real_rows(results: dict, development: bool = False) -> list[list[str]]:
    """Per system, the real-phrasing question sets (with `development`, the blind development sets
    instead): answered-and-right, ranking alone, declined, each with its 95 % interval (a few hundred
    posts: a difference of a few posts is within it)."""
    rows = []
    for system in results["systems"].values():
        for split, row in system["metrics"]["by_split"].items():
            if (split in DEVELOPMENT_SETS) if development else split.startswith(REAL_PREFIX):
                n_in, n_out = row.get("n_in_scope", 0), row.get("n_out_of_scope", 0)
                rows.append([system["label"], split, str(n_in), str(n_out),
                             *(with_interval(row.get(m.name), n_out if m is abstention.DECLINED_OUT else n_in)
                               for m in REAL_COLUMNS), offered_cell(row), *flagged_cells(row)])
    return rows


def certainty_rows(results: dict) -> list[list[str]]:
    """Per system, the audited posts' rates on the posts the audit was sure of, then on the rest."""
    rows = []
    for name, kinds in results.get("by_label_certainty", {}).items():
        label = results["systems"].get(name, {}).get("label", name)
        for kind, row in kinds.items():
            n_in, n_out = row["n_in_scope"], row["n_out_of_scope"]
            rows.append([label, kind, str(n_in), with_interval(row["answered_right"], n_in), str(n_out),
                         with_interval(row["declined_out_of_scope"], n_out)])
    return rows


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def support_rows(results: dict) -> list[list[str]]:
    rows = []
    for name, block in results.get("support", {}).items():
        rows.append([name, str(block["n"]), fmt(block["scorer"]["balanced_accuracy"]),
                     fmt(block["naive_overlap"]["balanced_accuracy"])])
    return rows


def kind_rows(block: dict) -> list[list[str]]:
    naive = block["naive_overlap"]["by_kind"]
    return [[kind, str(row["n"]), fmt(row["accuracy"]), fmt(naive[kind]["accuracy"])]
            for kind, row in block["scorer"]["by_kind"].items()]


def stage_rows(results: dict) -> list[list[str]]:
    rows = []
    for system in results["systems"].values():
        for stage, summary in system["metrics"]["latency"].items():
            rows.append([system["label"], stage, _ms(summary["median"]), _ms(summary["p95"]), str(summary["n"])])
    return rows


def split_rows(results: dict) -> list[list[str]]:
    rows = []
    for system in results["systems"].values():
        for split, row in system["metrics"]["by_split"].items():
            rows.append([system["label"], split, str(row["n"]), fmt(row["declined_rate"]), fmt(row["hit@1"])])
    return rows


def extra_rows(results: dict) -> list[list[str]]:
    rows = []
    for name, system in results["systems"].items():
        m = system["metrics"]
        rows.append([system["label"], fmt(m["retrieval_hit@1"]), fmt(m["all_expected_answered"]),
                     fmt(m["answered_rate_in_scope"]), str(m["n_sentences"]), str(m["n_demos"]),
                     fmt(results["meta"]["thresholds"].get(name), 4)])
    return rows


# ------------------------------------------------------------------------------ markdown


def render_markdown(results: dict, plots: list[str] | None = None) -> str:
    meta = results["meta"]
    out = [
        "# tabot eval report", "",
        f"{meta['n_questions']} questions ({', '.join(f'{k}: {v}' for k, v in meta['splits'].items())}); "
        f"created {meta['created']}; `{meta['command']}`.", "",
        "## Headline", "", _md_table(headline_header(), headline_rows(results)), "",
        "hit@k and MRR are end to end over in-scope questions (declining one counts as a miss; a "
        "question expecting several entries is a hit if any is at rank <= k). Abstention treats "
        "\"decline\" as the positive class. Faithfulness = share of answer sentences supported by "
        "the TA answer they cite (bot.answering.support; tabot's own per-sentence verdicts). " + FAITHFULNESS_NOTE
        + " Latency = the `total` stage, warm.", "",
        _md_table(["system", "ranking-only hit@1", "all expected answered (multi-entry)", "answered rate in scope",
                   "sentences", "demos attached", "decline threshold"], extra_rows(results)), "",
    ]
    if real := real_rows(results):
        out += ["## Real phrasing", "", REAL_NOTE, "", _md_table(real_header(), real), ""]
    if development := real_rows(results, development=True):
        out += ["## Development sets", "", DEVELOPMENT_NOTE, "", _md_table(real_header(), development), ""]
    if certain := certainty_rows(results):
        out += ["### By how sure the label audit was", "", CERTAINTY_NOTE, "", _md_table(CERTAINTY_HEADER, certain), ""]
    if meta.get("embed_query_median_ms"):
        ours = results["systems"].get("tabot", {}).get("metrics", {})
        out += [f"One bare query embedding: {_ms(meta['embed_query_median_ms'])} median; tabot's median answer "
                f"latency is {fmt(ours.get('latency_vs_embedding'), 2)}x that.", ""]
        if by_split := ours.get("latency_vs_embedding_by_split"):
            out += [LATENCY_BY_SPLIT_NOTE, "",
                    _md_table(["set", "questions", "bare embedding median", "tabot answer median", "ratio"],
                              [[split, str(row["n"]), _ms(row["bare_median"]), _ms(row["answer_median"]),
                                f"{fmt(row['ratio'], 2)}x"] for split, row in by_split.items()]), ""]
    if results.get("support"):
        out += ["## Support scorer meta-evaluation", "",
                "Does bot.answering.support tell supported sentences from perturbed ones? support_dev.jsonl is the set "
                "the scorer was developed on; support_meta.jsonl is held out, and its balanced accuracy is gated.",
                "",
                _md_table(["set", "rows", "balanced accuracy (bot.answering.support)", "naive overlap >= 0.5"],
                          support_rows(results)), ""]
        for name, block in results["support"].items():
            out += [f"### {name}: accuracy per kind", "",
                    _md_table(["kind", "n", "bot.answering.support", "naive overlap"], kind_rows(block)), ""]
    out += ["## Per split", "", _md_table(["system", "split", "n", "declined", "hit@1"], split_rows(results)), "",
            "## Latency per stage", "", _md_table(["system", "stage", "median", "p95", "n"], stage_rows(results)), ""]
    if plots:
        out += ["## Plots", "", *(f"![{name}]({name})" for name in plots), ""]
    out += ["## Failures", ""]
    for name, items in results["failures"].items():
        out += [f"### {results['systems'][name]['label']} ({len(items)})", ""]
        out += [f"- `{f['id']}` {f['question'][:100]!r} (expected {f['expected'] or 'decline'}, "
                f"confidence {f['confidence']}): {'; '.join(f['problems'])}" for f in items]
        out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------------------ plots


def render_plots(results: dict, out_dir: Path) -> list[str]:
    """Write the PNGs; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = list(results["systems"].values())
    labels = [s["label"] for s in systems]

    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.38
    for offset, (key, title) in zip((-width / 2, width / 2), (("hit@1", "hit@1"), ("abstention_f1", "abstain F1")),
                                    strict=True):
        values = [s["metrics"].get(key) or 0.0 for s in systems]
        bars = ax.bar([i + offset for i in range(len(systems))], values, width, label=title)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks(range(len(systems)), labels, fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_title("Retrieval and abstention, per system")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / PLOTS[0], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.6))
    samples = [s.get("latency_total_ms") or [0.0] for s in systems]
    ax.boxplot(samples, tick_labels=labels, showfliers=True)
    ax.set_yscale("log")
    ax.set_ylabel("ms per question (log)")
    ax.set_title("Answer latency distribution (warm)")
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / PLOTS[1], dpi=110)
    plt.close(fig)

    in_scope = [bool(q["expected"]) for q in results["questions"]]
    fig, axes = plt.subplots(1, len(systems), figsize=(3.4 * len(systems), 3.2), squeeze=False)
    for ax, (name, system) in zip(axes[0], results["systems"].items(), strict=True):
        conf = system["confidences"]
        ax.hist([c for c, s in zip(conf, in_scope, strict=True) if s], bins=20, alpha=0.6, label="in scope")
        ax.hist([c for c, s in zip(conf, in_scope, strict=True) if not s], bins=20, alpha=0.6, label="out of scope")
        threshold = results["meta"]["thresholds"].get(name)
        if threshold is not None:
            ax.axvline(threshold, color="black", linestyle="--", linewidth=1, label="threshold")
        ax.set_title(system["label"], fontsize=9)
        ax.set_xlabel("top score", fontsize=8)
        ax.legend(fontsize=7)
    fig.suptitle("Top-score histogram: in scope vs out of scope", fontsize=10)
    fig.tight_layout()
    fig.savefig(out_dir / PLOTS[2], dpi=110)
    plt.close(fig)
    return list(PLOTS)


# ------------------------------------------------------------------------------ html


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(results: dict, out_dir: Path, plots: list[str]) -> str:
    meta = results["meta"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>tabot eval report</title><style>",
        "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}",
        "table{border-collapse:collapse;margin:.6em 0 1.4em}td,th{border:1px solid #ccc;padding:.3em .6em;"
        "font-size:.9em}th{background:#f3f3f3}tr td:first-child{font-weight:600}img{max-width:100%}"
        "li{margin:.2em 0;font-size:.9em}code{background:#f5f5f5}",
        "</style></head><body>",
        "<h1>tabot eval report</h1>",
        f"<p>{meta['n_questions']} questions ({html.escape(', '.join(f'{k}: {v}' for k, v in meta['splits'].items()))})"
        f"; created {html.escape(meta['created'])}; <code>{html.escape(meta['command'])}</code></p>",
        "<h2>Headline</h2>", _html_table(headline_header(), headline_rows(results)),
        f"<p>{html.escape(FAITHFULNESS_NOTE)}</p>",
        _html_table(["system", "ranking-only hit@1", "all expected answered (multi-entry)", "answered rate in scope",
                     "sentences", "demos attached", "decline threshold"], extra_rows(results)),
    ]
    if real := real_rows(results):
        parts += ["<h2>Real phrasing</h2>", f"<p>{html.escape(REAL_NOTE)}</p>", _html_table(real_header(), real)]
    if development := real_rows(results, development=True):
        parts += ["<h2>Development sets</h2>", f"<p>{html.escape(DEVELOPMENT_NOTE)}</p>",
                  _html_table(real_header(), development)]
    if certain := certainty_rows(results):
        parts += ["<h3>By how sure the label audit was</h3>", f"<p>{html.escape(CERTAINTY_NOTE)}</p>",
                  _html_table(CERTAINTY_HEADER, certain)]
    if results.get("support"):
        parts += ["<h2>Support scorer meta-evaluation</h2>",
                  _html_table(["set", "rows", "balanced accuracy (bot.answering.support)", "naive overlap >= 0.5"],
                              support_rows(results))]
        for name, block in results["support"].items():
            parts += [f"<h3>{html.escape(name)}: accuracy per kind</h3>",
                      _html_table(["kind", "n", "bot.answering.support", "naive overlap"], kind_rows(block))]
    parts.append("<h2>Plots</h2>")
    for name in plots:
        data = base64.b64encode((out_dir / name).read_bytes()).decode()
        parts.append(f"<p><img alt='{name}' src='data:image/png;base64,{data}'></p>")
    parts += ["<h2>Per split</h2>", _html_table(["system", "split", "n", "declined", "hit@1"], split_rows(results)),
              "<h2>Latency per stage</h2>",
              _html_table(["system", "stage", "median", "p95", "n"], stage_rows(results)), "<h2>Failures</h2>"]
    for name, items in results["failures"].items():
        parts.append(f"<details{' open' if name == 'tabot' else ''}><summary>"
                     f"{html.escape(results['systems'][name]['label'])} ({len(items)})</summary><ul>")
        parts += [f"<li><code>{html.escape(f['id'])}</code> {html.escape(f['question'][:140])} "
                  f"<em>(expected {html.escape(str(f['expected'] or 'decline'))})</em>: "
                  f"{html.escape('; '.join(f['problems']))}</li>" for f in items]
        parts.append("</ul></details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_reports(results: dict, out_dir: Path) -> dict[str, Path]:
    """Write report.json, the plots, report.md and report.html into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "html": out_dir / "report.html"}
    paths["json"].write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    plots = render_plots(results, out_dir)
    paths["md"].write_text(render_markdown(results, plots), encoding="utf-8")
    paths["html"].write_text(render_html(results, out_dir, plots), encoding="utf-8")
    return paths
