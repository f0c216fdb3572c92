"""`python -m eval.variants VARIANT`: the commands `eval.variants` lists, each printed after today's choice."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from unittest import mock

from eval.calibrate.rows import course_retriever
from eval.variants import __doc__ as overview
from eval.variants.features import (
    CRUX_OWN_TEXTS,
    CRUX_PIECES,
    DENSITY_TEMPERATURES,
    IDF_SAME_WORD,
    RarityWeights,
    course_texts,
    crux_near_miss,
    idf_focus_coverage,
    idf_near_miss,
    prose_near_miss,
    with_density,
)
from eval.variants.layers import LAYERS, read_with_layer
from eval.variants.models import (
    conformal_rule,
    other_classifiers,
    overall_rule,
    per_entry_rule,
    report_threshold_rule,
)
from eval.variants.readings import (
    SYNONYMS_FILE,
    answers_terms,
    chunkings,
    code_read_as_words,
    glossary,
    ranking_firsts,
    synonym_pairs,
    towards_the_answers,
)
from eval.variants.scoring import (
    read_both,
    report_beside_and_in_place,
    report_curves,
    report_variant,
    without_column,
)
from eval.variants.staff import feedback_loop, knowledge_grown, written_additions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.variants", description=overview.split("\n\n")[0])
    parser.add_argument("variant", choices=("classifiers", "chunks", "lexical-weight", "synonyms", "code",
                                            "thresholds", "feedback", "density", "written", "prose-near-miss", "idf",
                                            "crux", "without-each", "layers"))
    parser.add_argument("file", nargs="?", type=Path, default=SYNONYMS_FILE,
                        help="for synonyms: the pairs; for written: the lines (JSON)")
    parser.add_argument("--without-second-meanings", action="store_true",
                        help="for synonyms: leave out pairs whose term has a second meaning")
    parser.add_argument("--answers-only", action="store_true",
                        help="for synonyms: only pairs read towards a form the TA answers write")
    parser.add_argument("--written", nargs=2, type=Path, metavar=("TERM1", "TERM2"),
                        help="for feedback: what staff wrote after each term's misses (JSON), in place of "
                             "the misses copied as found")
    parser.add_argument("--misses-to", type=Path, metavar="DIR",
                        help="for feedback: write each term's misses there, as the writers of --written read them")
    args = parser.parse_args(argv)
    from bot.config import Settings
    from bot.knowledge import load_entries

    settings = Settings.from_env()
    if args.variant == "lexical-weight":
        from bot.search.retrieve import LEXICAL_WEIGHT

        ranking_firsts(settings, (LEXICAL_WEIGHT, 0.0, 0.4, 0.8))
        return 0
    # One index for today's reading, kept for the command's length (removed when it ends): a variant
    # that reads more of the rows (the prose's near miss) reads them from the same pieces.
    scratch = tempfile.TemporaryDirectory(prefix="tabot-variant-")
    retriever = course_retriever(settings.with_(data_dir=Path(scratch.name)))
    rows, development = read_both(settings, retriever)
    if args.variant == "feedback":
        entry_ids = {entry.id for entry in load_entries(settings.knowledge_dir)}
        written = tuple(written_additions(path, entry_ids) for path in args.written) if args.written else None
        feedback_loop(settings, rows, development, written, args.misses_to)
        return 0
    today = report_variant("today", rows, development)
    if args.variant == "thresholds":
        report_threshold_rule("one threshold (today's rule, this loop)", overall_rule, rows, development)
        for shrink in (300, 100, 30, 10):
            report_threshold_rule(f"a threshold per entry, shrink {shrink}", per_entry_rule(shrink), rows,
                                  development)
        for alpha in (0.10, 0.07, 0.05):
            report_threshold_rule(f"conformal bound, alpha {alpha}", conformal_rule(alpha), rows, development)
    elif args.variant == "without-each":
        from bot.search.retrieve import Calibration

        for feature, name in enumerate(Calibration.FEATURES):
            report_variant(f"without {name}", without_column(rows, feature), without_column(development, feature),
                           against=today)
    elif args.variant == "layers":
        for layer in LAYERS:
            report_variant(f"word pieces from layer {layer}", *read_with_layer(settings, layer), against=today)
    elif args.variant == "density":
        asked, near_misses = course_texts(settings)
        for temperature in DENSITY_TEMPERATURES:
            for difference in (True, False):
                name = f"density {'difference' if difference else 'both'}, temperature {temperature}"
                report_variant(name, with_density(rows, asked, near_misses, temperature, difference),
                               with_density(development, asked, near_misses, temperature, difference), against=today)
    elif args.variant == "idf":
        from bot.search.retrieve import Calibration

        report_curves("today", rows, development)
        for same_word in IDF_SAME_WORD:
            weigh = RarityWeights.of_course(retriever, same_word)
            for feature, column_of in (("near_miss_words", idf_near_miss), ("meaning_focus", idf_focus_coverage)):
                report_beside_and_in_place(f"idf {feature}, same word {same_word},", rows, development,
                                           column_of(rows, retriever, weigh), column_of(development, retriever, weigh),
                                           Calibration.FEATURES.index(feature), today)
    elif args.variant == "crux":
        from bot.search.retrieve import Calibration

        report_curves("today", rows, development)
        for own_texts in CRUX_OWN_TEXTS:
            for pieces in CRUX_PIECES:
                report_beside_and_in_place(f"crux near miss, own {own_texts}, {pieces} piece(s),", rows, development,
                                           crux_near_miss(rows, retriever, own_texts, pieces),
                                           crux_near_miss(development, retriever, own_texts, pieces),
                                           Calibration.FEATURES.index("near_miss_words"), today)
    elif args.variant == "prose-near-miss":
        from bot.search.retrieve import Calibration

        columns = {reading: (prose_near_miss(rows, retriever, held), prose_near_miss(development, retriever, held))
                   for reading, held in (("agreement", False), ("held", True))}
        replaces = Calibration.FEATURES.index("near_miss_words")
        report_curves("today", rows, development)
        for reading, (column, development_column) in columns.items():
            report_beside_and_in_place(f"prose near miss ({reading})", rows, development, column, development_column,
                                       replaces, today)
    elif args.variant == "written":
        entry_ids = {entry.id for entry in load_entries(settings.knowledge_dir)}
        with knowledge_grown(written_additions(args.file, entry_ids)):
            report_variant(f"grown by {args.file.name}", *read_both(settings), against=today)
    elif args.variant == "code":
        with code_read_as_words():
            report_variant("code words, all", *read_both(settings), against=today)
        with code_read_as_words(answers_terms(load_entries(settings.knowledge_dir))):
            report_variant("code words, the answers' terms", *read_both(settings), against=today)
    elif args.variant == "classifiers":
        for name, model in other_classifiers().items():
            report_variant(name, rows, development, model, against=today)
    elif args.variant == "chunks":
        for name, chunks in chunkings().items():
            with mock.patch("bot.search.chunks.entry_chunks", chunks):
                report_variant(name, *read_both(settings), against=today)
    else:
        pairs = synonym_pairs(args.file, args.without_second_meanings)
        if args.answers_only:
            pairs = towards_the_answers(pairs, load_entries(settings.knowledge_dir))
        with glossary(pairs):
            report_variant(f"synonyms ({len(pairs)} pairs)", *read_both(settings), against=today)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
