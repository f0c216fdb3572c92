"""Fit the retriever's abstention rule on the calibration splits and write `bot/search/calibration.json`.

    python -m eval.calibrate [--data-dir DIR]
    python -m eval.calibrate --cross-validate      # compare feature sets; writes nothing
    python -m eval.calibrate --operating-curve     # what moving the threshold trades; writes nothing
    python -m eval.calibrate --reliability         # held-out confidence against answers right; writes nothing
    python -m eval.calibrate --by-shape            # held-out rates per shape of the real-phrasing posts

The calibration splits: `calibration.jsonl` (short, synthetic) and the `calibration` side of
`real_posts.jsonl` (long posts in the shape of real ones, split by thread). How: for every
calibration question (cleaned as `Tabot.ask` cleans it) take the top-ranked entry's eight
features - its best cosine to the post's focus, its best cosine to the whole prose, the share
of the focus's content terms it contains, the semantic coverage of the focus's and of the
prose's words by the entry's (`bot.search.token_match`), the prose's cosine to the course's
centroid (`KnowledgeIndex.corpus_centroid`), and how much nearer the prose is to a near miss
than the focus to the entry (`bot.search.retrieve.near_miss_margin`), and how much better the
focus's words agree with the closest near misses than with the entry's own questions
(`bot.search.token_match.best_agreement`) - and the label "in scope"
(the question has expected entries). Fit a logistic regression (Newton's method, small L2) so the confidence is a
probability, then set the decline threshold with `eval.metrics.abstention.best_threshold` - the
same function, on the same questions, that sets both baselines' thresholds - over the confidence the
bot thresholds: that of the most confident of the ranking's three candidates (`Candidates`,
`decide`), the entry the bot answers from. The calibration
splits are disjoint from every test split the eval reports on, so no reported number was tuned
on its own questions. Features are chosen the same way: `--cross-validate` fits and thresholds on
calibration rows only, grouped by thread, and scores the held-out ones. It also fits each feature set
without one entry's questions and scores those (`new_entry_recall`): what a refit answers about an
entry staff add after it. `--operating-curve` moves the rule's threshold up and down in the same
cross-validation: what any threshold on these features trades, and whether some point meets a pair of
targets (answered and right, out of scope declined) at all. `--by-shape` splits the same held-out
judgements of the real-phrasing rows by what each post does (its `shape` tags: long, formula, title
line, ...): where, on the calibration side, the model is weakest.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from eval.datasets import CALIBRATION_SETS, Question, load_question_sets, shape_tags
from eval.metrics.abstention import abstention_counts, best_threshold, f1

if TYPE_CHECKING:  # the bot is imported only when rows are made: the fitting above runs without it
    from bot.config import Settings
    from bot.search.embeddings import MiniLM
    from bot.search.focus import Post
    from bot.search.retrieve import Embedded, EntryHit, HybridRetriever


def fit_logistic(features: np.ndarray, labels: np.ndarray, l2: float = 1e-2, steps: int = 50) -> np.ndarray:
    """Weights (…, bias) of a logistic regression by Newton's method; L2 on the weights only."""
    design = np.hstack([features, np.ones((len(features), 1))])
    weights = np.zeros(design.shape[1])
    penalty = np.diag([l2] * features.shape[1] + [0.0])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-design @ weights))
        gradient = design.T @ (p - labels) + penalty @ weights
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(weights)), gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return weights


# What `--cross-validate` compares: the sentence-level features alone (the model before semantic
# coverage), then with it (the model before the background), with the background (the model before
# near misses), and all of them. Indices into Calibration.FEATURES.
FEATURE_SETS = {"cosines + lexical coverage": (0, 1, 2), "+ semantic coverage": (0, 1, 2, 3, 4),
                "+ background": (0, 1, 2, 3, 4, 5), "+ near misses": (0, 1, 2, 3, 4, 5, 6),
                "+ near misses by word (all)": (0, 1, 2, 3, 4, 5, 6, 7)}


@dataclass(frozen=True)
class Candidates:
    """The entries the bot chooses among for each row: the best few by rank score, as features
    (rows x candidates x Calibration.FEATURES) and whether each is an expected entry. The bot answers
    from the most confident of them (`bot.search.retrieve.HybridRetriever.search`); a row with fewer
    repeats its first."""

    features: np.ndarray
    right: np.ndarray


# A fitted model: the confidence for each row of features (any leading shape: rows, or rows x candidates).
Scorer = Callable[[np.ndarray], np.ndarray]
# How a model is fitted on (features, labels): the refit rule's logistic regression (`logistic_model`), or
# another form to compare with it (`python -m eval.variants classifiers`).
Model = Callable[[np.ndarray, np.ndarray], Scorer]


def logistic_scorer(weights: np.ndarray) -> Scorer:
    """The confidence of a logistic regression's weights (…, bias), as the bot computes it."""
    return lambda x: 1.0 / (1.0 + np.exp(-(x @ weights[:-1] + weights[-1])))


def logistic_model(features: np.ndarray, labels: np.ndarray) -> Scorer:
    """The refit rule's model: `fit_logistic`'s weights as a scorer."""
    return logistic_scorer(fit_logistic(features, labels))


def decide(scorer: Scorer, columns: tuple[int, ...], features: np.ndarray, right: np.ndarray,
           candidates: Candidates | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the confidence the bot thresholds and whether the entry it would answer from is right,
    by a fitted model (`logistic_scorer(weights)` for the refit rule's): the top entry's (`features`,
    `right`), or with `candidates` the most confident candidate's."""
    if candidates is None:
        return scorer(features[:, columns]), right
    score, picked_right, _ = most_confident(scorer, columns, candidates)
    return score, picked_right


def most_confident(scorer: Scorer, columns: tuple[int, ...],
                   candidates: Candidates) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the candidate the bot answers from, the most confident by a fitted model: its confidence,
    whether it is an expected entry, and its place among the row's candidates."""
    score = scorer(candidates.features[:, :, columns])
    best = score.argmax(axis=1)
    rows = np.arange(len(score))
    return score[rows, best], candidates.right[rows, best], best


def refit_rule(features: np.ndarray, labels: np.ndarray, right: np.ndarray, columns: tuple[int, ...],
               fitted: np.ndarray, candidates: Candidates | None = None,
               model: Model = logistic_model) -> tuple[Scorer, np.ndarray, np.ndarray, float]:
    """The refit rule on the `fitted` rows: the model fitted on them, every row's confidence and whether
    its picked entry is right (`decide`), and the threshold `best_threshold` sets on the fitted rows'
    confidences. Cross-validation (`held_out`), an entry left out (`new_entry_recall`) and a variant
    fitted on all rows (`eval.variants`) differ only in which rows are `fitted`."""
    scorer = model(features[fitted][:, columns], labels[fitted])
    score, picked_right = decide(scorer, columns, features, right, candidates)
    return scorer, score, picked_right, best_threshold(score[fitted].tolist(), [bool(v) for v in labels[fitted]])


def thread_folds(groups: list[str], folds: int, seed: int) -> np.ndarray:
    """Each row's fold: the distinct groups (threads) dealt round-robin in a seeded random order."""
    distinct = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(distinct))
    fold_of = {distinct[i]: rank % folds for rank, i in enumerate(order)}
    return np.array([fold_of[g] for g in groups])


def held_out(features: np.ndarray, labels: np.ndarray, right: np.ndarray, groups: list[str],
             columns: tuple[int, ...], folds: int = 5, seeds: int = 10, candidates: Candidates | None = None,
             evaluated: Candidates | None = None,
             model: Model = logistic_model) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
    """Per fold of each seed: (held-out rows, every row's confidence and whether its picked entry is
    right, the threshold), by the model and threshold the refit rule fits on the other folds (`model`:
    another form of model fitted in the logistic regression's place). With `evaluated`, the confidences
    are those of the rows read that way (`cross_validate`)."""
    for seed in range(seeds):
        fold = thread_folds(groups, folds, seed)
        for k in range(folds):
            scorer, score, picked_right, threshold = refit_rule(features, labels, right, columns, fold != k,
                                                                candidates, model)
            if evaluated is not None:
                score, picked_right = decide(scorer, columns, evaluated.features[:, 0], evaluated.right[:, 0],
                                             evaluated if candidates is not None else None)
            yield fold == k, score, picked_right, threshold


def cross_validate(features: np.ndarray, labels: np.ndarray, right: np.ndarray, groups: list[str],
                   columns: tuple[int, ...], scored: np.ndarray | None = None, folds: int = 5,
                   seeds: int = 10, candidates: Candidates | None = None, offset: float = 0.0,
                   evaluated: Candidates | None = None, model: Model = logistic_model) -> dict[str, float]:
    """Held-out rates of a feature set, by the same fit and threshold rule as the real refit.

    Rows are dealt into `folds` folds by group (a real post's thread, so no thread is on both
    sides), `seeds` times over. Each held-out row is judged by the model fitted on the others:
    an in-scope row counts as answered and right when it is answered and its top entry is right
    (`right`; with `candidates`, the most confident candidate, as the bot picks), an out-of-scope
    row when it is declined. The model is fitted on the top entries' `features`; the threshold on
    the confidence the bot thresholds (`decide`), then moved by `offset` (0 for the refit rule
    itself). Every row is fitted on; only the `scored` rows (all by default) are counted. With
    `evaluated` (the same rows read another way, e.g. with context added: `eval.context_check`), the
    held-out rows are judged on those candidates by the model and threshold fitted as above. `model`:
    another form of model in the logistic regression's place (`held_out`)."""
    scored = np.ones(len(labels), dtype=bool) if scored is None else scored
    answered_right = declined = 0
    for test, score, picked_right, threshold in held_out(features, labels, right, groups, columns, folds, seeds,
                                                         candidates, evaluated, model):
        test = test & scored
        answer = score >= threshold + offset
        answered_right += int(np.sum(test & (labels == 1) & answer & picked_right))
        declined += int(np.sum(test & (labels == 0) & ~answer))
    in_scope, out_of_scope = int(np.sum(scored & (labels == 1))), int(np.sum(scored & (labels == 0)))
    return {"answered_right": answered_right / (seeds * in_scope) if in_scope else float("nan"),
            "declined_out_of_scope": declined / (seeds * out_of_scope) if out_of_scope else float("nan")}


# The confidence bands `--reliability` reports: below 0.2 nearly nothing is in scope; the bands above
# the refit rule's threshold (0.3-0.5) are where an answer's confidence says how sure to be of it.
RELIABILITY_BANDS = (0.0, 0.2, 0.35, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)


def reliability(features: np.ndarray, labels: np.ndarray, right: np.ndarray, groups: list[str],
                columns: tuple[int, ...], candidates: Candidates | None = None,
                bands: tuple[float, ...] = RELIABILITY_BANDS) -> list[tuple[float, float, int, int]]:
    """Held-out confidences against what they promise: per band [low, high) (the last one closed),
    (low, high, rows, rows in scope whose picked entry is right), pooled over `held_out`'s folds and
    seeds. The confidence is a probability that a TA answer covers the post; if it is honest, the
    right share in each band lies near the band's confidence, and an answer's confidence can tell a
    student how sure to be of it (`bot.answering.compose.UNSURE_BELOW`)."""
    confidence, good = [], []
    for test, score, picked_right, _ in held_out(features, labels, right, groups, columns, candidates=candidates):
        confidence.append(score[test])
        good.append((labels == 1)[test] & picked_right[test])
    conf, ok = np.concatenate(confidence), np.concatenate(good)
    result = []
    for low, high in itertools.pairwise(bands):
        inside = (conf >= low) & ((conf < high) | (high == bands[-1]))
        result.append((low, high, int(inside.sum()), int(ok[inside].sum())))
    return result


# `--by-shape` prints a tag only with this many rows: fewer say nothing a held-out rate could.
BY_SHAPE_LEAST_ROWS = 8


def by_shape(questions: list[Question], tags: dict[str, tuple[str, ...]]) -> dict[str, np.ndarray]:
    """Per shape tag of the tagged rows (`shape_tags`), most rows first, the rows that carry it: the
    `scored` rows `cross_validate` counts for `--by-shape`."""
    masks: dict[str, np.ndarray] = {}
    for i, question in enumerate(questions):
        for tag in tags.get(question.id, ()):
            masks.setdefault(tag, np.zeros(len(questions), dtype=bool))[i] = True
    return dict(sorted(masks.items(), key=lambda item: (-int(item[1].sum()), item[0])))


# The threshold offsets `--operating-curve` sweeps, in confidence (the refit rule's threshold is 0.3-0.5).
CURVE_OFFSETS = tuple(round(0.05 * step, 2) for step in range(-6, 11))


def operating_curve(features: np.ndarray, labels: np.ndarray, right: np.ndarray, groups: list[str],
                    columns: tuple[int, ...], scored: np.ndarray | None = None,
                    candidates: Candidates | None = None,
                    offsets: tuple[float, ...] = CURVE_OFFSETS) -> list[tuple[float, dict[str, float]]]:
    """(offset, held-out rates) for the refit rule's threshold moved by each offset (`cross_validate`).

    A feature set separates in-scope from out-of-scope posts only so well; moving the threshold buys
    declines with answers along one curve. Whether targets such as "0.90 answered and right, 0.95
    declined" are within reach of a feature set is a question about that curve, not about the rule
    that picks a point on it (`meeting`)."""
    return [(offset, cross_validate(features, labels, right, groups, columns, scored, candidates=candidates,
                                    offset=offset)) for offset in offsets]


def meeting(curve: list[tuple[float, dict[str, float]]], answered_right: float,
            declined: float) -> list[float]:
    """The offsets of `curve` at which both held-out rates reach their targets (none: out of reach)."""
    return [offset for offset, rates in curve
            if rates["answered_right"] >= answered_right and rates["declined_out_of_scope"] >= declined]


def new_entry_recall(features: np.ndarray, labels: np.ndarray, right: np.ndarray, expected: list[tuple[str, ...]],
                     columns: tuple[int, ...], candidates: Candidates | None = None,
                     model: Model = logistic_model) -> dict[str, tuple[int, int]]:
    """Per entry, how its in-scope rows fare under a model fitted without them: (answered and right, rows).

    Staff add answers after the refit. The features are relative to the entries (cosines to them,
    their words), so a model fitted on other entries' questions should answer questions about a new
    one as readily; a feature that learned where the *current* entries' questions lie would not.
    For each entry, every row expecting it leaves the fit (out-of-scope rows stay: they are still out
    of scope), the model and threshold are fitted by the refit rule on the rest, and the entry's rows
    are scored (`decide`, as `cross_validate` does; `model` as there)."""
    result: dict[str, tuple[int, int]] = {}
    for entry in sorted({e for row in expected for e in row}):
        held = np.array([entry in row for row in expected])
        _, score, picked_right, threshold = refit_rule(features, labels, right, columns, ~held, candidates, model)
        result[entry] = (int(np.sum(held & (score >= threshold) & picked_right)), int(held.sum()))
    return result


@dataclass
class CalibrationRows:
    """Every calibration question (or every question of the sets `calibration_rows` was asked to read) as
    the abstention model sees it: its candidates' features."""

    questions: list[Question]
    posts: list[Post]  # each question as read after cleaning
    embedded: list[tuple[Embedded, Embedded]]  # each post's (focus, prose) as the retriever read them
    entry_ids: list[list[str]]  # the candidates' entries, as `candidates` holds them (empty: none found)
    labels: np.ndarray  # 1.0 in scope, 0.0 out of scope
    candidates: Candidates  # the entries the bot picks among, the top entry first

    @property
    def top(self) -> list[str | None]:
        """The top entry's id by rank score (None when nothing was found)."""
        return [ids[0] if ids else None for ids in self.entry_ids]

    @property
    def features(self) -> np.ndarray:
        """The top entry's rows of Calibration.FEATURES: what the model is fitted on."""
        return self.candidates.features[:, 0]

    @property
    def right(self) -> np.ndarray:
        """Whether the top entry is an expected one."""
        return self.candidates.right[:, 0]

    @property
    def groups(self) -> list[str]:
        """The thread each question follows (its own id when it follows none): the unit of a fold."""
        return [row.source or row.id for row in self.questions]

    def subsets(self) -> list[tuple[str, np.ndarray]]:
        """The row subsets `--cross-validate` scores: all, real phrasing, synthetic."""
        return [(subset, np.array([row.split.startswith(keep) for row in self.questions]))
                for subset, keep in (("all calibration rows", ""), ("real-phrasing rows", "real_posts"),
                                     ("synthetic rows", "calibration"))]


def report_rates(name: str, rows: CalibrationRows, candidates: Candidates, columns: tuple[int, ...],
                 model: Model = logistic_model) -> None:
    """Print a variant's cross-validated rates on each subset of `rows`, and with each entry left out of
    the fit: `candidates` (the rows' candidates, read today's way or another), `columns` of their
    features, fitted by `model`."""
    x, right = candidates.features[:, 0], candidates.right[:, 0]
    for subset, scored in rows.subsets():
        rates = cross_validate(x, rows.labels, right, rows.groups, columns, scored, candidates=candidates,
                               model=model)
        print(f"{name:44} {subset:22} answered and right {rates['answered_right']:.3f}   "
              f"out of scope declined {rates['declined_out_of_scope']:.3f}")
    per_entry = new_entry_recall(x, rows.labels, right, [row.expected for row in rows.questions], columns,
                                 candidates, model)
    answered, total = (sum(counts) for counts in zip(*per_entry.values(), strict=True))
    print(f"{name:44} {'entry left out of fit':22} answered and right {answered / total:.3f}")


def course_retriever(settings: Settings, model: MiniLM | None = None) -> HybridRetriever:
    """A retriever over the knowledge base, indexed in `settings.data_dir` (with `model`, else the
    process-wide encoder), uncalibrated: only the features count."""
    from bot.knowledge import load_entries
    from bot.search.index import KnowledgeIndex
    from bot.search.retrieve import HybridRetriever

    entries = load_entries(settings.knowledge_dir)
    index = KnowledgeIndex(settings, model)
    index.sync(entries)
    return HybridRetriever(index=index, entries={e.id: e for e in entries})


def read_as_the_bot(retriever: HybridRetriever, settings: Settings,
                    text: str) -> tuple[Post, tuple[Embedded, Embedded], list[EntryHit]]:
    """A question cleaned and read as the bot reads it (a post in Chinese through the glossary,
    misspelled words read as meant, a chat's one message), its (focus, prose), and its candidates in
    rank order, whatever an uncalibrated retriever's confidences say."""
    from bot.answering.guard import clean_question
    from bot.search.retrieve import rank_order

    question, _ = clean_question(text, settings.max_question_chars)
    post, embedded = retriever.read(retriever.read_text(question))
    return post, embedded, rank_order(retriever.search(post, embedded=embedded))


def calibration_rows(settings: Settings, rewrite: Callable[[str], str] | None = None,
                     retriever: HybridRetriever | None = None,
                     sets: Iterable[str] = CALIBRATION_SETS) -> tuple[CalibrationRows, HybridRetriever]:
    """The calibration splits run through today's retriever (`course_retriever`), and that retriever.
    `rewrite` changes each question's text before it is read (called once per row, in the splits'
    order); `retriever`, one an earlier call returned (or one over another encoder), reads them
    instead of a new one; `sets`, other question sets read the same way (e.g. the development sets)."""
    from bot.search.retrieve import Calibration

    retriever = retriever or course_retriever(settings)
    questions = load_question_sets(list(sets), known_entries=set(retriever.entries))
    posts, embedded, entry_ids, labels, candidates, candidate_right = [], [], [], [], [], []
    for row in questions:
        # What is kept of each row is what was scored: the post as read, and the model is fitted on
        # the entry the ranking puts first; the bot picks among these by the fitted model.
        post, read, found = read_as_the_bot(retriever, settings, rewrite(row.question) if rewrite else row.question)
        found += found[:1] * (retriever.k_entries - len(found))
        posts.append(post)
        embedded.append(read)
        entry_ids.append([hit.entry_id for hit in found])
        labels.append(1.0 if row.in_scope else 0.0)
        nothing = [[0.0] * len(Calibration.FEATURES)] * retriever.k_entries
        candidates.append([list(hit.features) for hit in found] or nothing)
        candidate_right.append([hit.entry_id in row.expected for hit in found] or [False] * retriever.k_entries)
    return CalibrationRows(questions, posts, embedded, entry_ids, np.asarray(labels),
                           Candidates(np.asarray(candidates), np.asarray(candidate_right))), retriever


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__.split("\n\n")[0])
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
    parser.add_argument("--targets", type=float, nargs=2, default=(0.90, 0.95), metavar=("ANSWERED", "DECLINED"),
                        help="for --operating-curve: answered-and-right and out-of-scope-declined rates to reach "
                             "(default: issue 11's 0.90 and 0.95)")
    args = parser.parse_args(argv)
    # Imported here so the pure fitting above can be imported (and tested) without torch/Chroma.
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
