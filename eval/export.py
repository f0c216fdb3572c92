"""`--export ragas`: tabot's answers as RAGAS single-turn samples, one JSON object per line.

Field names are those of `ragas.SingleTurnSample` / `EvaluationDataset.from_list`:
`user_input` (the question), `response` (the answer shown), `retrieved_contexts` (the TA
answers the reply drew on), `reference_contexts` (the TA answers it should draw on) and
`reference` (those joined, or a statement that the bot should decline). A team with an LLM
judge can load the file with `EvaluationDataset.from_jsonl` and score the same answers there.
Lines follow the order of `questions` in report.json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from eval.baselines import Reply
from eval.datasets import Question

DECLINE_REFERENCE = ("No TA answer covers this question; the bot should say so and suggest the course forum "
                     "instead of answering.")


def ragas_records(questions: Sequence[Question], replies: Sequence[Reply], answers: dict[str, str]) -> list[dict]:
    """`answers`: entry id -> TA answer text."""
    records = []
    for question, reply in zip(questions, replies, strict=True):
        expected = [answers[e] for e in question.expected if e in answers]
        records.append({
            "user_input": question.question,
            "response": reply.response,
            "retrieved_contexts": [answers[e] for e in reply.answered if e in answers],
            "reference_contexts": expected,
            "reference": "\n\n".join(expected) if expected else DECLINE_REFERENCE,
        })
    return records


def write_ragas(path: Path, records: Sequence[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path
