"""Run tabot and the baselines over the question sets and compute every metric.

`run_eval()` returns one plain dict (JSON-able) that `eval.report` renders and `--gate` checks:
`meta`, `systems` (per system: metrics and latency), `questions` (per question, per system:
what it answered), `failures` and `support` (the support scorer's meta-evaluation).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from tqdm import tqdm

from bot.answering.support import score_support
from bot.knowledge import Entry
from eval.baselines import Reply
from eval.datasets import Question, SupportRow
from eval.metrics import abstention, certainty, demos, faithfulness, latency, meta, retrieval

if TYPE_CHECKING:
    from bot.service import Tabot


class System(Protocol):
    name: str
    label: str

    def ask(self, question: str) -> Reply: ...


class OursSystem:
    """tabot itself, through `Tabot.ask` - exactly what the front ends call."""

    name = "tabot"
    label = "tabot (ours)"

    def __init__(self, tabot: Tabot) -> None:
        from bot.answering.compose import UNSURE_NOTICE  # with the bot: importing it loads Chroma

        self.tabot = tabot
        self.unsure_notice = UNSURE_NOTICE

    def ask(self, question: str) -> Reply:
        answer = self.tabot.ask(question)
        sources = [s.entry_id for s in answer.sources]
        # Retrieval alone (the ranking-only column): the answer's own ranking where it carries one
        # (`nearest`: its top hits of the whole question, filled when it declines), so nothing is
        # retrieved twice; otherwise one retrieval of the same cleaned text the answer searched with.
        if answer.abstained or answer.nearest:
            candidates = [s.entry_id for s in answer.nearest]
        else:
            candidates = self.ranking(question)
        ranking = [] if answer.abstained else sources + [c for c in candidates if c not in sources]
        top = answer.sources or answer.nearest
        return Reply(ranking=ranking, candidates=candidates, answered=[] if answer.abstained else sources,
                     abstained=answer.abstained, confidence=top[0].score if top else 0.0, response=answer.answer,
                     sentences=[(s.text, s.entry_id) for s in answer.sentences],
                     verdicts=[s.supported for s in answer.sentences],
                     demos=[d.passed for d in answer.demos], timings_ms=dict(answer.timings_ms),
                     unsure=self.unsure_notice in answer.notices)

    def ranking(self, question: str) -> list[str]:
        return self.tabot.rank(question)


# ------------------------------------------------------------------------------ metrics


def system_metrics(questions: Sequence[Question], replies: Sequence[Reply], sources: dict[str, str]) -> dict:
    """Every metric for one system's replies to `questions` (same order)."""
    scoped = [(q, r) for q, r in zip(questions, replies, strict=True) if q.in_scope]
    multi = [(q, r) for q, r in scoped if len(q.expected) > 1]
    counts = abstention.abstention_counts([r.abstained for r in replies], [q.in_scope for q in questions])
    verdicts = [v for r in replies if not r.abstained
                for v in faithfulness.reply_verdicts(r.sentences, r.verdicts, sources)]
    by_split: dict[str, dict] = {}
    for q, r in zip(questions, replies, strict=True):
        row = by_split.setdefault(q.split or "questions", {"n": 0, "declined": 0, "right": [], "ranked": [],
                                                         "out_declined": [], "offered": [], "wrong_flagged": [],
                                                         "flagged": 0})
        row["n"] += 1
        row["declined"] += r.abstained
        if not r.abstained and not (q.in_scope and retrieval.hit_at_k(r.ranking, q.expected, 1)):
            row["wrong_flagged"].append(1.0 if r.unsure else 0.0)  # answered wrongly: did it say it was unsure?
        row["flagged"] += not r.abstained and r.unsure
        if q.in_scope:
            row["right"].append(retrieval.hit_at_k(r.ranking, q.expected, 1))
            row["ranked"].append(retrieval.hit_at_k(r.candidates, q.expected, 1))
            if r.abstained:  # what the decline offers: tabot shows its top 3 as the closest topics
                row["offered"].append(retrieval.hit_at_k(r.candidates, q.expected, 3))
        else:
            row["out_declined"].append(1.0 if r.abstained else 0.0)
    return {
        "n_questions": len(questions),
        "n_in_scope": len(scoped),
        "n_multi_entry": len(multi),
        "hit@1": retrieval.mean([retrieval.hit_at_k(r.ranking, q.expected, 1) for q, r in scoped]),
        "hit@3": retrieval.mean([retrieval.hit_at_k(r.ranking, q.expected, 3) for q, r in scoped]),
        "mrr": retrieval.mean([retrieval.reciprocal_rank(r.ranking, q.expected) for q, r in scoped]),
        "retrieval_hit@1": retrieval.mean([retrieval.hit_at_k(r.candidates, q.expected, 1) for q, r in scoped]),
        "all_expected_answered": retrieval.mean([retrieval.all_expected_answered(r.answered, q.expected)
                                                 for q, r in multi]),
        "abstention": {"tp": counts.tp, "fp": counts.fp, "fn": counts.fn, "tn": counts.tn},
        "abstention_precision": abstention.precision(counts),
        "abstention_recall": abstention.recall(counts),
        "abstention_f1": abstention.f1(counts),
        "answered_rate_in_scope": abstention.answered_rate_in_scope(counts),
        "faithfulness": faithfulness.supported_share(verdicts),
        "n_sentences": len(verdicts),
        "demo_pass_fraction": demos.demo_pass_fraction([p for r in replies if not r.abstained for p in r.demos]),
        "n_demos": sum(len(r.demos) for r in replies if not r.abstained),
        "by_split": {name: {"n": row["n"], "n_in_scope": len(row["right"]), "n_out_of_scope": len(row["out_declined"]),
                            "declined_rate": row["declined"] / row["n"],
                            "hit@1": retrieval.mean(row["right"]),
                            retrieval.ANSWERED_RIGHT.name: retrieval.mean(row["right"]),
                            retrieval.SPLIT_RANKING.name: retrieval.mean(row["ranked"]),
                            abstention.DECLINED_OUT.name: retrieval.mean(row["out_declined"]),
                            "n_declined_in_scope": len(row["offered"]),
                            retrieval.DECLINED_OFFERED.name: retrieval.mean(row["offered"]),
                            "n_answered_wrong": len(row["wrong_flagged"]), "n_flagged_unsure": row["flagged"],
                            retrieval.WRONG_FLAGGED.name: retrieval.mean(row["wrong_flagged"])}
                     for name, row in by_split.items()},
    }


def failures(questions: Sequence[Question], replies: Sequence[Reply], sources: dict[str, str]) -> list[dict]:
    """Per-question failures: wrong or missing entry, wrongly declined/answered, unsupported sentences."""
    out = []
    for q, r in zip(questions, replies, strict=True):
        problems = []
        if q.in_scope and r.abstained:
            problems.append("declined an in-scope question")
        elif q.in_scope and retrieval.hit_at_k(r.ranking, q.expected, 1) == 0:
            problems.append(f"answered from {r.answered[:2]} instead of {list(q.expected)}")
        elif q.in_scope and len(q.expected) > 1 and not retrieval.all_expected_answered(r.answered, q.expected):
            problems.append(f"multi-entry: answered {r.answered} of {list(q.expected)}")
        if not q.in_scope and not r.abstained:
            problems.append(f"answered an out-of-scope question from {r.answered[:2]}")
        if not r.abstained:
            verdicts = faithfulness.reply_verdicts(r.sentences, r.verdicts, sources)
            for (text, entry_id), supported in zip(r.sentences, verdicts, strict=True):
                if not supported:
                    # The verdict is the reply's; the scorer is asked again only to say why.
                    reasons = score_support(text, sources.get(entry_id, "")).reasons
                    problems.append(f"unsupported sentence ({'; '.join(reasons) or 'no reason given'}): {text[:80]}")
        if problems:
            out.append({"id": q.id, "split": q.split, "question": q.question, "expected": list(q.expected),
                        "confidence": round(r.confidence, 4), "problems": problems})
    return out


def support_meta_eval(rows: Sequence[SupportRow], sources: dict[str, str]) -> dict:
    """Balanced accuracy of bot.answering.support (and of the naive overlap baseline) on labelled sentences."""
    actual = [row.supported for row in rows]
    kinds = [row.kind for row in rows]
    ours = [score_support(row.sentence, sources[row.entry_id]).supported for row in rows]
    naive = [meta.naive_supported(row.sentence, sources[row.entry_id]) for row in rows]
    return {
        "n": len(rows),
        "scorer": {"balanced_accuracy": meta.balanced_accuracy(ours, actual),
                   "by_kind": meta.accuracy_by_kind(ours, actual, kinds)},
        "naive_overlap": {"threshold": meta.NAIVE_THRESHOLD, "balanced_accuracy": meta.balanced_accuracy(naive, actual),
                          "by_kind": meta.accuracy_by_kind(naive, actual, kinds)},
        "missed_by_scorer": [{"id": row.id, "kind": row.kind, "label": row.label, "sentence": row.sentence}
                             for row, p in zip(rows, ours, strict=True) if p != row.supported],
    }


# ------------------------------------------------------------------------------ the run


def _question_record(q: Question, replies: dict[str, Reply]) -> dict:
    record: dict[str, Any] = {"id": q.id, "split": q.split, "question": q.question, "expected": list(q.expected),
                              "systems": {}}
    for name, r in replies.items():
        record["systems"][name] = {
            "abstained": r.abstained, "answered": r.answered, "ranking": r.ranking[:5],
            "confidence": round(r.confidence, 4), "hit@1": retrieval.hit_at_k(r.ranking, q.expected, 1)
            if q.in_scope else None}
    return record


def run_eval(
    systems: Sequence[System],
    questions: Sequence[Question],
    entries: dict[str, Entry],
    *,
    repeats: int = 1,
    embed_query: Callable[[str], object] | None = None,
    support_sets: dict[str, Sequence[SupportRow]] | None = None,
    calibration: dict[str, float] | None = None,
    show_progress: bool = True,
    command: str = "",
    label_certainty: dict[str, bool] | None = None,
) -> tuple[dict, dict[str, list[Reply]]]:
    """Ask every system every question (`repeats` times; the first pass is scored, all are timed).

    Returns (results, replies): the JSON-able results and each system's scored replies in
    question order (the ragas export reads those). With `label_certainty` (row id -> whether the label
    audit's judge was sure), the results also split the audited rows' rates by it.
    """
    sources = {entry_id: entry.answer for entry_id, entry in entries.items()}
    total = len(systems) * len(questions) * repeats
    replies: dict[str, list[Reply]] = {s.name: [] for s in systems}
    timings: dict[str, list[dict[str, float]]] = {s.name: [] for s in systems}
    embed_ms: list[float] = []
    # mininterval keeps a CI log (no terminal, no \r) to a few lines a minute.
    with tqdm(total=total, desc="eval", unit="q", file=sys.stderr, disable=not show_progress,
              mininterval=2.0 if sys.stderr.isatty() else 15.0) as bar:
        if questions:  # warm-up, not timed: first-call costs (lazy imports, caches) are not latency
            for system in systems:
                system.ask(questions[0].question)
        # Systems take turns on each question, and the bare embedding is timed beside them, so a
        # change in machine load during the run hits every system alike (the ratios stay fair).
        for round_ in range(repeats):
            for q in questions:
                for system in systems:
                    reply = system.ask(q.question)
                    if round_ == 0:
                        replies[system.name].append(reply)
                    timings[system.name].append(reply.timings_ms)
                    bar.update(1)
                if embed_query is not None:
                    started = time.perf_counter()
                    embed_query(q.question)
                    embed_ms.append((time.perf_counter() - started) * 1000)
    result: dict[str, Any] = {
        "meta": {
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
            "n_questions": len(questions),
            "splits": {split: sum(q.split == split for q in questions) for split in dict.fromkeys(
                q.split for q in questions)},
            "repeats": repeats,
            "thresholds": calibration or {},
            "embed_query_median_ms": statistics.median(embed_ms) if embed_ms else None,
        },
        "systems": {},
        "questions": [_question_record(q, {s.name: replies[s.name][i] for s in systems})
                      for i, q in enumerate(questions)],
        "failures": {},
        "support": {},
    }
    for system in systems:
        metrics = system_metrics(questions, replies[system.name], sources)
        stages = latency.stage_summary(timings[system.name])
        metrics["latency"] = stages
        median_total = stages.get("total", {}).get("median")
        if median_total is not None and embed_ms:
            metrics["latency_vs_embedding"] = median_total / statistics.median(embed_ms)
            totals = [t.get("total") for t in timings[system.name]]
            if None not in totals and len(totals) == len(embed_ms):  # each question of each round, in order
                metrics["latency_vs_embedding_by_split"] = latency.ratio_by_split(
                    totals, embed_ms, [q.split for q in questions] * repeats)
        result["systems"][system.name] = {
            "label": system.label, "metrics": metrics,
            "confidences": [round(r.confidence, 4) for r in replies[system.name]],
            "latency_total_ms": [round(t["total"], 3) for t in timings[system.name] if "total" in t]}
        result["failures"][system.name] = failures(questions, replies[system.name], sources)
    for name, rows in (support_sets or {}).items():
        result["support"][name] = support_meta_eval(rows, sources)
    if label_certainty:
        result["by_label_certainty"] = certainty.by_certainty(result["questions"], label_certainty)
    return result, replies
