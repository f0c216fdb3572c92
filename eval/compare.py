"""Did a change help, on the same questions? Two eval reports compared question by question.

    python -m eval.compare BEFORE/report.json AFTER/report.json [--system tabot]

A question is right when an in-scope one is answered with an expected entry first and an
out-of-scope one is declined (the report's "answered and right" and "out-of-scope declined"). Per
question set: how many were right before and after, which questions the change fixed and which it
broke, and the exact McNemar p-value of that split (`eval.metrics.intervals.sign_test`). A rate that
moves by a few posts with p well above 0.05 is not evidence either way; say so rather than adopt or
revert on it.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from eval.metrics.intervals import sign_test


def right(record: dict[str, Any], system: str) -> bool:
    reply = record["systems"][system]
    return bool(reply["hit@1"]) if record["expected"] else bool(reply["abstained"])


def compare(before: dict[str, Any], after: dict[str, Any], system: str = "tabot") -> dict[str, dict[str, Any]]:
    """{question set: {n, right_before, right_after, fixed: [ids], broken: [ids], p}} over the questions
    both reports hold (by id), plus an "all" row."""
    old = {q["id"]: q for q in before["questions"]}
    rows: dict[str, dict[str, Any]] = defaultdict(lambda: {"n": 0, "right_before": 0, "right_after": 0,
                                                          "fixed": [], "broken": []})
    for record in after["questions"]:
        if record["id"] not in old:
            continue
        was, now = right(old[record["id"]], system), right(record, system)
        for name in (record["split"], "all"):
            row = rows[name]
            row["n"] += 1
            row["right_before"] += was
            row["right_after"] += now
            if now and not was:
                row["fixed"].append(record["id"])
            elif was and not now:
                row["broken"].append(record["id"])
    for row in rows.values():
        row["p"] = sign_test(len(row["fixed"]), len(row["broken"]))
    return dict(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--system", default="tabot", help="tabot (default), bm25 or dense")
    args = parser.parse_args(argv)
    reports = [json.loads(path.read_text(encoding="utf-8")) for path in (args.before, args.after)]
    rows = compare(*reports, system=args.system)
    print("| question set | n | right before | right after | fixed | broken | McNemar p |")
    print("|---|---|---|---|---|---|---|")
    for name, row in sorted(rows.items(), key=lambda item: (item[0] == "all", item[0])):
        print(f"| {name} | {row['n']} | {row['right_before']} | {row['right_after']} | {len(row['fixed'])} | "
              f"{len(row['broken'])} | {row['p']:.2f} |")
    for name, row in sorted(rows.items()):
        if name != "all" and (row["fixed"] or row["broken"]):
            print(f"\n{name}: fixed {', '.join(row['fixed']) or '-'}; broken {', '.join(row['broken']) or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
