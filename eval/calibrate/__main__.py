"""`python -m eval.calibrate`: fit and write the abstention rule, or cross-validate it (the package's
docstring says how)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from eval import calibrate
from eval.calibrate.cross_validation import (
    BY_SHAPE_LEAST_ROWS,
    FEATURE_SETS,
    by_shape,
    cross_validate,
    learning_curve,
    meeting,
    new_entry_recall,
    operating_curve,
    reliability,
)
from eval.calibrate.fit import fit_logistic
from eval.calibrate.rows import calibration_rows
from eval.datasets import CALIBRATION_SETS, shape_tags
from eval.metrics.abstention import abstention_counts, best_threshold, f1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate", description=calibrate.__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="default: bot/search/calibration.json")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--cross-validate", action="store_true",
                        help="write nothing; compare feature sets by cross-validation over the calibration "
                             "splits (grouped by thread), the way features are chosen without a test split")
    mode.add_argument("--reliability", action="store_true",
                        help="write nothing; per confidence band, how many held-out answers were right "
                             "(cross-validation as --cross-validate, today's features)")
    mode.add_argument("--by-shape", action="store_true",
                        help="write nothing; the held-out rates (cross-validation as --cross-validate, today's "
                             "features) of the real-phrasing calibration rows, per shape tag")
    mode.add_argument("--operating-curve", action="store_true",
                        help="write nothing; cross-validate today's features with the threshold moved up and down, "
                             "and say whether any threshold reaches --targets")
    mode.add_argument("--learning-curve", action="store_true",
                        help="write nothing; cross-validate today's features fitted on a quarter, half, three "
                             "quarters and all of the training folds' threads: would more labelled posts help?")
    parser.add_argument("--targets", type=float, nargs=2, default=(0.90, 0.95), metavar=("ANSWERED", "DECLINED"),
                        help="for --operating-curve: answered-and-right and out-of-scope-declined rates to reach "
                             "(default: issue 11's 0.90 and 0.95)")
    args = parser.parse_args(argv)
    # Imported here, as in `eval.calibrate.rows`: the package imports the bot only when rows are made.
    from bot.config import Settings
    from bot.search.retrieve import CALIBRATION_FILE, Calibration

    settings = Settings.from_env()
    if args.data_dir:
        settings = settings.with_(data_dir=args.data_dir)
    rows, _ = calibration_rows(settings)
    questions, x, y = rows.questions, rows.features, rows.labels
    if args.cross_validate:
        for subset, scored in rows.subsets():
            for name, columns in FEATURE_SETS.items():
                rates = cross_validate(x, y, rows.right, rows.groups, columns, scored, candidates=rows.candidates)
                print(f"{subset:22} {name:28} answered and right {rates['answered_right']:.3f}   "
                      f"out of scope declined {rates['declined_out_of_scope']:.3f}")
        expected = [row.expected for row in questions]
        for name, columns in FEATURE_SETS.items():
            per_entry = new_entry_recall(x, y, rows.right, expected, columns, rows.candidates)
            answered, total = (sum(counts) for counts in zip(*per_entry.values(), strict=True))
            print(f"{'entry left out of fit':22} {name:28} answered and right {answered / total:.3f}   "
                  + " ".join(f"{entry} {r}/{n}" for entry, (r, n) in per_entry.items()))
        return 0
    if args.reliability:
        columns = tuple(range(len(Calibration.FEATURES)))
        for low, high, n, good in reliability(x, y, rows.right, rows.groups, columns, rows.candidates):
            share = f"{good / n:.2f}" if n else "n/a"
            print(f"confidence {low:.2f}-{high:.2f}   held-out rows {n:5d}   in scope and the picked entry right "
                  f"{good:5d} ({share})")
        return 0
    if args.by_shape:
        columns = tuple(range(len(Calibration.FEATURES)))
        for tag, scored in by_shape(questions, shape_tags()).items():
            if scored.sum() >= BY_SHAPE_LEAST_ROWS:
                rates = cross_validate(x, y, rows.right, rows.groups, columns, scored, candidates=rows.candidates)
                print(f"{tag:22} in scope {int(np.sum(scored & (y == 1))):4d} answered and right "
                      f"{rates['answered_right']:.3f}   out of scope {int(np.sum(scored & (y == 0))):4d} declined "
                      f"{rates['declined_out_of_scope']:.3f}")
        return 0
    if args.operating_curve:
        columns = tuple(range(len(Calibration.FEATURES)))
        for subset, scored in rows.subsets():
            curve = operating_curve(x, y, rows.right, rows.groups, columns, scored, rows.candidates)
            for offset, rates in curve:
                print(f"{subset:22} threshold {offset:+.2f}   answered and right {rates['answered_right']:.3f}   "
                      f"out of scope declined {rates['declined_out_of_scope']:.3f}")
            met = meeting(curve, *args.targets)
            print(f"{subset:22} targets {args.targets[0]:.2f} / {args.targets[1]:.2f}: "
                  + (f"met at threshold {', '.join(f'{o:+.2f}' for o in met)}" if met else "met by no threshold"))
        return 0
    if args.learning_curve:
        columns = tuple(range(len(Calibration.FEATURES)))
        for subset, scored in rows.subsets():
            for share, rates in learning_curve(x, y, rows.right, rows.groups, columns, scored, rows.candidates):
                print(f"{subset:22} fitted on {share:4.0%} of the threads   answered and right "
                      f"{rates['answered_right']:.3f}   out of scope declined {rates['declined_out_of_scope']:.3f}")
        return 0
    # Rounded before the threshold is set, so the threshold fits the weights the bot will load.
    *weights, bias = (round(float(w), 4) for w in fit_logistic(x, y))
    named = {f"w_{name}": w for name, w in zip(Calibration.FEATURES, weights, strict=True)}
    calibration = Calibration(**named, bias=bias, threshold=0.5)
    # The confidence the bot thresholds: its most confident candidate's (`HybridRetriever.search`).
    confidence = [max(calibration.confidence(*features) for features in row) for row in rows.candidates.features]
    in_scope = [bool(label) for label in y]
    threshold = best_threshold(confidence, in_scope)
    calibration_f1 = f1(abstention_counts([c < threshold for c in confidence], in_scope))
    # The threshold is stored unrounded: it is a midpoint between two calibration confidences,
    # and rounding could move it past one of them.
    result = {**named, "bias": bias, "threshold": threshold,
              "fitted_on": [f"eval/datasets/{name.replace(':', '.jsonl:')}" if ":" in name else
                            f"eval/datasets/{name}.jsonl" for name in CALIBRATION_SETS],
              "questions": len(questions),
              "in_scope": int(y.sum()), "abstention_f1_on_calibration": round(calibration_f1 or 0.0, 4)}
    out = args.out or CALIBRATION_FILE
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
