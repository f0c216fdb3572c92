"""`tabot eval` / `python -m eval`: run tabot and both baselines offline and write the report.

    python -m eval [--out DIR] [--questions FILE ...] [--fast] [--gate] [--export ragas]
    python -m eval --from-log FILE.csv   (real traffic: export the question log to label, then evaluate on it)

Writes report.md, report.json, report.html (+ PNG plots) into --out (default eval-report/).
With --gate, exits 1 when a metric named in eval/thresholds.json (or --thresholds FILE) is below its
floor - tabot's hit@1, abstention F1 and faithfulness, the support scorer's balanced accuracy, and
the real-phrasing test split's answered-and-right, out-of-scope declined and ranking margin over the
dense baseline - naming each one. Exit codes: 0 done, 1 gate failed or the run failed,
2 bad input or usage (a malformed question or thresholds file, an unknown option).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from bot.config import Settings
from bot.errors import TabotError, report
from bot.knowledge import load_entries
from eval.datasets import (
    CALIBRATION_SETS,
    DATASETS_DIR,
    DEVELOPMENT_SETS,
    SUPPORT_DEV,
    SUPPORT_META,
    TEST_SETS,
    label_certainty,
    load_question_sets,
    load_support_rows,
)
from eval.from_log import export_log, labelled_questions, write_dataset
from eval.gate import THRESHOLDS_FILE, gate_failures, gated_values, load_thresholds

FULL_REPEATS = 3  # timed passes per question without --fast (the first is also the scored one)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tabot eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("eval-report"), help="report folder (default eval-report/)")
    parser.add_argument("--questions", action="append", metavar="FILE",
                        help="a JSONL question file (repeatable); default: the committed test sets "
                             f"{', '.join(TEST_SETS)}")
    parser.add_argument("--development", action="store_true",
                        help="run the blind development sets instead of the test sets (with --questions: as well "
                             f"as those): {', '.join(DEVELOPMENT_SETS)}")
    parser.add_argument("--fast", action="store_true",
                        help="one timed pass instead of three (all metrics still computed on every question)")
    parser.add_argument("--gate", action="store_true", help="exit 1 if a metric named in the thresholds file "
                        "falls below its floor")
    parser.add_argument("--thresholds", type=Path, default=THRESHOLDS_FILE, help="floors for --gate")
    parser.add_argument("--export", choices=["ragas"], help="also write ragas.jsonl (RAGAS field names)")
    parser.add_argument("--no-baselines", action="store_true", help="run tabot only")
    parser.add_argument("--from-log", type=Path, metavar="FILE.csv",
                        help="if FILE.csv is missing, write the logged questions there with an empty 'expected' "
                             "column for staff to label; if it exists, evaluate on its labelled rows")
    parser.add_argument("--data-dir", type=Path, help="where the index and demo cache live (else TABOT_DATA_DIR)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def _say(quiet: bool):
    def say(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr, flush=True)
    return say


def run(args: argparse.Namespace, command: str) -> int:
    # Imported here so `--help` and argument errors stay instant (these load torch).
    from bot.search.embeddings import model_path
    from bot.service import Tabot
    from eval.baselines import BM25Baseline, DenseBaseline
    from eval.export import ragas_records, write_ragas
    from eval.report import headline_header, headline_rows, write_reports
    from eval.run import OursSystem, run_eval

    say = _say(args.quiet)
    settings = Settings.from_env()
    if args.data_dir:
        settings = settings.with_(data_dir=args.data_dir.expanduser().resolve())
    if args.from_log is not None:
        if not args.from_log.exists():
            count = export_log(settings, args.from_log)
            print(f"wrote {count} logged questions to {args.from_log}: fill its 'expected' column (entry ids "
                  "joined by ';', or 'none' where the bot must decline), then run this command again")
            return 0
        known = {entry.id for entry in load_entries(settings.knowledge_dir)}
        dataset = write_dataset(labelled_questions(args.from_log, known), args.from_log.with_suffix(".jsonl"))
        say(f"evaluating on {dataset} (the labelled rows of {args.from_log})")
        args.questions = [*(args.questions or []), str(dataset)]
    # Bad input files fail here, before the slow start-up (entry ids are checked once entries load).
    floors = load_thresholds(args.thresholds) if args.gate else None
    files = [*(args.questions or []), *DEVELOPMENT_SETS] if args.development else list(args.questions or TEST_SETS)
    load_question_sets(files)
    tabot = Tabot.start(settings, progress=say)
    entries = tabot.entries
    questions = load_question_sets(files, known_entries=entries)
    systems: list = [OursSystem(tabot)]
    thresholds = {"tabot": tabot.threshold}
    if not args.no_baselines:
        calibration = load_question_sets(list(CALIBRATION_SETS), known_entries=entries)
        texts = [q.question for q in calibration]
        in_scope = [q.in_scope for q in calibration]
        say(f"baselines: building BM25 and LangChain + Chroma; calibrating both on {', '.join(CALIBRATION_SETS)}")
        bm25 = BM25Baseline(tabot.indexed_texts(), entries)
        dense = DenseBaseline(entries, str(model_path()))
        thresholds["bm25"] = bm25.calibrate(texts, in_scope)
        thresholds["dense"] = dense.calibrate(texts, in_scope)
        systems += [bm25, dense]
    support_sets = {name: load_support_rows(name, known_entries=entries)
                    for name in (SUPPORT_DEV, SUPPORT_META) if (DATASETS_DIR / f"{name}.jsonl").is_file()}
    results, replies = run_eval(
        systems, questions, entries, repeats=1 if args.fast else FULL_REPEATS,
        embed_query=tabot.embed_query, support_sets=support_sets, calibration=thresholds,
        show_progress=not args.quiet, command=command, label_certainty=label_certainty())
    paths = write_reports(results, args.out)
    if args.export == "ragas":
        answers = {entry_id: entry.answer for entry_id, entry in entries.items()}
        paths["ragas"] = write_ragas(args.out / "ragas.jsonl", ragas_records(questions, replies["tabot"], answers))
    header, rows = headline_header(), headline_rows(results)
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(row))
    print(f"report: {', '.join(str(p) for p in paths.values())}")
    if floors is not None:
        failed = gate_failures(gated_values(results, floors), floors)
        for line in failed:
            print(f"GATE FAILED {line}", file=sys.stderr)
        if failed:
            return 1
        print(f"gate passed ({', '.join(f'{k} >= {v:.3f}' for k, v in floors.items())})")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    try:
        return run(args, "tabot eval " + shlex.join(argv))
    except (TabotError, OSError, KeyboardInterrupt) as error:  # DatasetError is an InputError: exit 2
        return report("tabot eval", error)


if __name__ == "__main__":
    raise SystemExit(main())
