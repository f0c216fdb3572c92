"""Real-phrasing rates split by how sure a blind re-judgement was of each post's label.

The label audit (eval/datasets/README.md, "Label audit") judged every row of `real_posts.jsonl` and
`calibration.jsonl` again without seeing its label (of the test sets, that is `real_posts:test`),
and marked a decision unsure where a reasonable TA could decide either way. An error on such a post
says less about the bot than an error where the decision is clear, so the report gives the rates on
both kinds of post apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eval.metrics.retrieval import mean

KINDS = ("sure", "unsure")


def by_certainty(records: Sequence[Mapping[str, Any]], sure: Mapping[str, bool]) -> dict[str, dict[str, dict]]:
    """Per system and per kind ("sure", "unsure"): how many audited in-scope posts, the share answered
    and right (an expected entry answered first), how many out-of-scope posts, the share declined.
    `records` are the report's per-question records; only those whose id `sure` holds are counted."""
    counted: dict[str, dict[str, dict[str, list[float]]]] = {}
    for record in records:
        if record["id"] not in sure:
            continue
        kind = KINDS[0] if sure[record["id"]] else KINDS[1]
        for system, reply in record["systems"].items():
            rates = counted.setdefault(system, {k: {"right": [], "declined": []} for k in KINDS})[kind]
            if record["expected"]:
                rates["right"].append(1.0 if reply["hit@1"] else 0.0)
            else:
                rates["declined"].append(1.0 if reply["abstained"] else 0.0)
    return {system: {kind: {"n_in_scope": len(r["right"]), "answered_right": mean(r["right"]),
                            "n_out_of_scope": len(r["declined"]), "declined_out_of_scope": mean(r["declined"])}
                     for kind, r in kinds.items()}
            for system, kinds in counted.items()}
