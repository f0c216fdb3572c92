"""Other choices the abstention model could rest on, each measured beside today's in the same run.

    python -m eval.variants classifiers      # other forms of model on today's eight features
    python -m eval.variants chunks           # the TA answers cut into other chunks
    python -m eval.variants lexical-weight   # BM25's weight in the ranking score
    python -m eval.variants synonyms [FILE] [--without-second-meanings] [--answers-only]
    python -m eval.variants code             # the code a post pastes read as words
    python -m eval.variants thresholds       # a threshold per entry, or a conformal bound
    python -m eval.variants density          # how typical a post is of the answers' questions, against the near misses
    python -m eval.variants feedback [--written TERM1 TERM2] [--misses-to DIR]
                                             # staff's additions from one term's misses, on the next
    python -m eval.variants written FILE     # the knowledge base grown by the lines staff wrote (JSON)
    python -m eval.variants prose-near-miss  # the near miss read word by word from the whole post, not its question

Kinds of idea that no session had measured (docs/tried-ideas.md, last section), measured the way
features are chosen: the calibration splits cross-validated by thread with the refit rule
(`eval.calibrate.cross_validate`), then each entry left out of the fit (`new_entry_recall`); and the
blind development sets, read the same way and decided by the model and threshold the refit rule fits
on all calibration rows (`development_rates`; the bot's other layers, such as the course check and
small talk, are not run, so these are the model's own decisions). Every variant is printed after
today's choice, from the same run. Nothing here changes what the bot reads: a variant swaps one seam
(`bot.search.index.entry_chunks`, `bot.search.retrieve.LEXICAL_WEIGHT`,
`bot.search.abbreviations.GLOSSARY`) for the length of its own reading, in its own temporary index.

- `classifiers`: support-vector machines and small neural nets (scikit-learn), and two ensembles
  (the mean of three models' confidences), in the logistic regression's place, on the same features
  (standardised for scikit-learn), folds and threshold rule.
- `chunks`: windows of two or three consecutive answer sentences as more chunks, the whole answer as
  one more chunk, or no question-and-answer chunk.
- `lexical-weight`: how often the ranking's first entry, and the entry the bot answers from (the most
  confident of three candidates under today's calibration), is an expected one.
- `synonyms`: a list of term pairs (`eval/datasets/synonyms.tsv`, written by a helper who saw no part
  of the project) added to the abbreviations' glossary, so a post's "relative entropy" is read as the
  "KL divergence" the answers write; optionally without the pairs whose term has a second meaning, or
  only towards a form the TA answers themselves (question and answer) write.
- `code`: the words of the code a post pastes (fenced blocks and the code lines the prose leaves out,
  `bot.search.prose`), its identifiers split into words, read before the prose: all of them, or only
  those the TA answers use (question, answer, aliases). A TA reads the `np.log2` above "will we end up
  with the same weights?".
- `feedback`: staff's loop through `tabot gaps`, one term to the next. The development posts are
  dealt into two terms by thread; after a term, staff add the question found in each in-scope post
  the bot missed as an alias of its entry, and in each out-of-scope post it answered as a near miss
  of the entry that answered (`staff_additions`: every miss, as if staff read them all). The next
  term's posts are then read with the grown knowledge base and decided by the rule refit on it, beside
  today's decisions on the same posts; each term in turn. With `--written TERM1 TERM2`, staff add what
  they wrote after reading each term's misses instead (`eval/datasets/staff_written_term*.json`, written
  from the misses `--misses-to DIR` prints).
- `written`: the knowledge base with the aliases and near misses a file holds (`{"entry": {"aliases":
  [...], "near_misses": [...]}}`, as `feedback --written` reads) added to its entries, beside today's: a
  batch of lines staff wrote, before it is put in the answers' files.
- `prose-near-miss`: the eighth feature (the near miss read word by word) read from the post's prose as
  well as from its question (`prose_near_miss`): beside today's eight, or in place of the question's.
  Besides the usual rates, each model's operating curve (`report_curves`: the threshold moved, on the
  real-phrasing calibration rows held out and on the development sets) and the area under the ROC curve
  of its confidences (in scope with the right entry picked against the rest): a feature can separate
  better where the issue's targets lie while the rule's F1-best threshold sits elsewhere.
- `density`: a post's density among the course's own texts as more features, the same for every
  candidate: the soft maximum (`soft_maximum`) of its prose's and its focus's cosines to all entries'
  questions and aliases, against the same over all near misses (their difference, or both), at three
  temperatures. The near-miss features compare a post with one entry's lines at a time; these ask
  whether the post sits among what students ask the answers, or among what they ask next to them.
- `thresholds`: today's features and model, other rules for the threshold. Per entry: each entry's
  own F1-best threshold on the rows answered from it, shrunk towards the overall one by SHRINK pseudo-rows
  (`per_entry_rule`). A split-conformal bound: the threshold under which at least 1 - alpha of the
  fitted out-of-scope rows fall (`conformal_rule`), so that on posts like them it declines that share.
  Cross-validated by thread like the refit rule (`threshold_rule_rates`; not with an entry left out:
  a new entry has no rows of its own, so it gets the overall threshold, today's rule).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
import keyword
import math
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import numpy as np

from eval.calibrate import (
    CalibrationRows,
    Candidates,
    Model,
    Scorer,
    calibration_rows,
    course_retriever,
    decide,
    held_out,
    logistic_model,
    most_confident,
    operating_curve,
    refit_rule,
    report_rates,
    thread_folds,
)
from eval.datasets import DATASETS_DIR, DEVELOPMENT_SETS
from eval.metrics.abstention import best_threshold

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.knowledge import Entry
    from bot.search.focus import Post
    from bot.search.index import Chunk
    from bot.search.retrieve import HybridRetriever
    from bot.search.token_match import Texts
    from eval.datasets import Question

SYNONYMS_FILE = DATASETS_DIR / "synonyms.tsv"


def sklearn_model(make: Callable[[], Any]) -> Model:
    """A scikit-learn classifier (made fresh per fit) as a `Model`: its probability of the positive class."""
    def fit(features: np.ndarray, labels: np.ndarray) -> Scorer:
        fitted = make().fit(features, labels)
        return lambda x: fitted.predict_proba(x.reshape(-1, x.shape[-1]))[:, 1].reshape(x.shape[:-1])
    return fit


def other_classifiers() -> dict[str, Model]:
    """The forms of model `classifiers` compares with the logistic regression (imported here: scikit-learn
    comes with sentence-transformers, and only this measurement needs it)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    def scaled(classifier: Callable[[], Any]) -> Model:
        return sklearn_model(lambda: make_pipeline(StandardScaler(), classifier()))

    def svm(**options: Any) -> Model:
        # An SVM's margin made a probability by Platt scaling on internal folds, as SVC(probability=True) did.
        return scaled(lambda: CalibratedClassifierCV(SVC(**options), ensemble=False))
    models = {
        "SVM, RBF kernel, C 1": svm(C=1.0),
        "SVM, RBF kernel, C 0.3": svm(C=0.3),
        "SVM, linear": svm(kernel="linear"),
        "neural net, 16 hidden, L2 0.01": scaled(lambda: MLPClassifier((16,), alpha=1e-2, max_iter=2000,
                                                                        random_state=0)),
        "neural net, 8 hidden, L2 1": scaled(lambda: MLPClassifier((8,), alpha=1.0, max_iter=2000,
                                                                    random_state=0)),
    }
    net = models["neural net, 16 hidden, L2 0.01"]
    models["mean of logistic, linear SVM, net 16"] = averaged(logistic_model, models["SVM, linear"], net)
    models["mean of logistic, RBF SVM C 1, net 16"] = averaged(logistic_model, models["SVM, RBF kernel, C 1"], net)
    return models


def averaged(*models: Model) -> Model:
    """An ensemble: each model fitted on the same rows, the mean of their confidences."""
    def fit(features: np.ndarray, labels: np.ndarray) -> Scorer:
        scorers = [model(features, labels) for model in models]
        return lambda x: np.mean([scorer(x) for scorer in scorers], axis=0)
    return fit


def refit(rows: CalibrationRows, columns: tuple[int, ...], model: Model = logistic_model) -> tuple[Scorer, float]:
    """The model fitted on all of `rows` and the threshold the refit rule sets (`refit_rule`), as `python -m
    eval.calibrate` fits the bot's (which also rounds the weights to four places first)."""
    scorer, _, _, threshold = refit_rule(rows.features, rows.labels, rows.right, columns,
                                         np.ones(len(rows.labels), dtype=bool), rows.candidates, model)
    return scorer, threshold


def development_rates(scorer: Scorer, threshold: float, development: CalibrationRows,
                      columns: tuple[int, ...]) -> dict[str, tuple[int, int, int, int]]:
    """Per development set: (in-scope rows answered from an expected entry, in-scope rows, out-of-scope rows
    declined, out-of-scope rows), by a fitted model and its threshold (`refit`), the bot answering from
    its most confident candidate."""
    score, picked_right = decide(scorer, columns, development.features, development.right, development.candidates)
    return rates_by_set(development, score >= threshold, picked_right)


def rates_by_set(development: CalibrationRows, answered: np.ndarray,
                 picked_right: np.ndarray) -> dict[str, tuple[int, int, int, int]]:
    """`development_rates`' counts per set, from each row's decision and whether its picked entry is right."""
    in_scope = development.labels == 1
    rates = {}
    for name in dict.fromkeys(row.split for row in development.questions):
        mine = np.array([row.split == name for row in development.questions])
        rates[name] = (int(np.sum(mine & in_scope & answered & picked_right)), int(np.sum(mine & in_scope)),
                       int(np.sum(mine & ~in_scope & ~answered)), int(np.sum(mine & ~in_scope)))
    return rates


def report_development(name: str, rates: dict[str, tuple[int, int, int, int]]) -> None:
    """Print `development_rates`, each set and all of them."""
    for set_name, (right, in_scope, declined, out_of_scope) in [*rates.items(),
                                                                 ("all development sets", tuple(map(sum, zip(
                                                                     *rates.values(), strict=True))))]:
        print(f"{name:44} {set_name:22} answered and right {right}/{in_scope} ({right / in_scope:.3f})   "
              f"out of scope declined {declined}/{out_of_scope} ({declined / out_of_scope:.3f})")


def read_both(settings: Settings, retriever: HybridRetriever | None = None) -> tuple[CalibrationRows, CalibrationRows]:
    """The calibration rows and the development rows, read by `retriever`, else by one indexed afresh in a
    temporary folder (so a variant's index never mixes with today's; the rows keep only what was read)."""
    if retriever is None:
        with tempfile.TemporaryDirectory(prefix="tabot-variant-") as scratch:
            in_scratch = settings.with_(data_dir=Path(scratch))
            return read_both(in_scratch, course_retriever(in_scratch))
    rows, _ = calibration_rows(settings, retriever=retriever)
    development, _ = calibration_rows(settings, retriever=retriever, sets=DEVELOPMENT_SETS)
    return rows, development


def report_variant(name: str, rows: CalibrationRows, development: CalibrationRows,
                   model: Model = logistic_model) -> None:
    columns = tuple(range(rows.features.shape[1]))
    report_rates(name, rows, rows.candidates, columns, model)
    scorer, threshold = refit(rows, columns, model)
    print(f"{name:44} {'threshold, all rows':22} {threshold:.4f}")
    report_development(name, development_rates(scorer, threshold, development, columns))


def chunkings() -> dict[str, Callable[[Entry], list[Chunk]]]:
    """The other ways `chunks` cuts an entry, each built on today's `entry_chunks` (taken here, before any
    of them stands in for it)."""
    from bot.search.index import Chunk, entry_chunks

    def windows(width: int) -> Callable[[Entry], list[Chunk]]:
        def chunks(entry: Entry) -> list[Chunk]:
            said = entry.sentences
            runs = [" ".join(said[i:i + width]) for i in range(len(said) - width + 1)] if len(said) > width else []
            return entry_chunks(entry) + [Chunk(f"{entry.id}::window{width}::{i}", entry.id, "sentence", text)
                                          for i, text in enumerate(runs)]
        return chunks

    return {
        "two-sentence windows": windows(2),
        "three-sentence windows": windows(3),
        "the whole answer as a chunk": lambda entry: [*entry_chunks(entry), Chunk(f"{entry.id}::answer", entry.id,
                                                                                  "sentence", entry.answer)],
        "no question-and-answer chunk": lambda entry: [c for c in entry_chunks(entry) if c.kind != "qa"],
    }


@contextmanager
def glossary(pairs: tuple[tuple[str, str], ...]) -> Iterator[None]:
    """The abbreviations' glossary with `pairs` added, for the length of the block. The directions are
    worked out once per knowledge base and cached (`bot.search.abbreviations._read_entries`), so the
    cache is emptied on the way in and out."""
    from bot.search import abbreviations

    abbreviations._read_entries.cache_clear()
    try:
        with mock.patch.object(abbreviations, "GLOSSARY", abbreviations.GLOSSARY + pairs):
            yield
    finally:
        abbreviations._read_entries.cache_clear()


def synonym_pairs(path: Path, without_second_meanings: bool = False) -> tuple[tuple[str, str], ...]:
    """The (term, canonical) pairs of a synonyms file (tab-separated: term, canonical, source,
    second_meaning); without the pairs whose term has a second meaning, if asked."""
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple((row["term"].strip(), row["canonical"].strip()) for row in csv.DictReader(handle, delimiter="\t")
                     if not (without_second_meanings and (row["second_meaning"] or "").strip()))


def towards_the_answers(pairs: tuple[tuple[str, str], ...], entries: list[Entry]) -> tuple[tuple[str, str], ...]:
    """The pairs the glossary's rule would read towards a form the TA answers (question and answer) write,
    not only their aliases, tags or near misses."""
    from bot.search import abbreviations

    with mock.patch.object(abbreviations, "GLOSSARY", pairs):
        readings = abbreviations.Abbreviations.of(text for entry in entries for text in (entry.question, entry.answer))
    kept = {(reading.typed, reading.used) for reading in readings.readings}
    return tuple(pair for pair in pairs if pair in kept or pair[::-1] in kept)


def ranking_firsts(settings: Settings, weights: tuple[float, ...]) -> None:
    """For each lexical weight: of the in-scope calibration and development rows, how many the ranking's
    first entry is right for, and how many the entry the bot answers from (its most confident candidate,
    under today's calibration) is."""
    from bot.search import retrieve

    calibration = retrieve.Calibration.load()
    with tempfile.TemporaryDirectory(prefix="tabot-variant-") as scratch:
        in_scratch = settings.with_(data_dir=Path(scratch))
        retriever = course_retriever(in_scratch)  # the weight orders the candidates; the index does not change
        by_weight = {}
        for weight in weights:
            with mock.patch.object(retrieve, "LEXICAL_WEIGHT", weight):
                by_weight[weight] = read_both(in_scratch, retriever)
    for weight, (rows, development) in by_weight.items():
        for name, read in (("calibration", rows), ("development", development)):
            in_scope = read.labels == 1
            first = read.candidates.right[:, 0]
            confidence = np.apply_along_axis(lambda f: calibration.confidence(*f), 2, read.candidates.features)
            answers_from = read.candidates.right[np.arange(len(read.labels)), confidence.argmax(axis=1)]
            print(f"lexical weight {weight:<5g} {name:12} in scope {int(in_scope.sum())}: ranking's first right "
                  f"{int(np.sum(in_scope & first))}, "
                  f"the entry answered from right {int(np.sum(in_scope & answers_from))}")


# Words of code that name no idea: Python's keywords and builtins, array plumbing, a traceback's paths.
CODE_PLUMBING = frozenset(keyword.kwlist) | {
    "self", "np", "torch", "nn", "print", "range", "len", "shape", "numpy", "true", "false", "none", "int",
    "float", "str", "list", "dict", "tensor", "item", "append", "zeros", "ones", "size", "dim", "axis", "array",
    "data", "model", "args", "kwargs", "init", "super", "forward", "file", "line", "site", "packages", "lib",
    "python", "usr", "local", "home", "py", "cuda", "device", "cpu", "dtype", "float32", "traceback", "recent",
    "call", "last", "module", "main", "most", "the", "and", "for", "out", "var", "val", "tmp"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# An identifier's words: snake_case and camelCase apart ("nll_loss", "CrossEntropyLoss").
_IDENTIFIER_PARTS = re.compile(r"_+|(?<=[a-z0-9])(?=[A-Z])")
# At most this many code words are read, the first ones: a pasted file is not a question.
CODE_WORDS = 16


def code_words(text: str) -> list[str]:
    """The words of the code `text` pastes, in order and once each: fenced blocks and the lines the prose
    leaves out as code (`bot.search.prose`), identifiers split into words, lower-cased, without
    CODE_PLUMBING and words of fewer than three letters unless they hold a digit ("log2")."""
    from bot.search.prose import _FENCE, _is_code  # the prose's own reading of what is code

    code = [match.group(0).strip("`~") for match in _FENCE.finditer(text)]
    code += [line for line in _FENCE.sub("\n", text).splitlines() if _is_code(line)]
    words = [part.lower() for identifier in _IDENTIFIER.findall("\n".join(code))
             for part in _IDENTIFIER_PARTS.split(identifier)]
    return list(dict.fromkeys(word for word in words if (len(word) >= 3 or any(c.isdigit() for c in word))
                              and not word.isdigit() and word not in CODE_PLUMBING))


def with_code_words(post: Post, terms: frozenset[str] | None = None) -> Post:
    """The post with its code's words (`code_words`, at most CODE_WORDS) read as a sentence before its
    prose; with `terms`, only the words whose stem is one of them (the TA answers' terms). The focus is
    unchanged, and still a span of the prose."""
    from bot.search.lexical import tokenize

    words = code_words(post.text)
    if terms is not None:
        words = [word for word, stems in zip(words, tokenize(words), strict=True) if set(stems) & terms]
    return dataclasses.replace(post, prose=f"{' '.join(words[:CODE_WORDS])}. {post.prose}") if words else post


@contextmanager
def code_read_as_words(terms: frozenset[str] | None = None) -> Iterator[None]:
    """Every post the retriever reads, read `with_code_words`, for the length of the block."""
    from bot.search.retrieve import HybridRetriever

    read_aside = HybridRetriever._read_aside
    with mock.patch.object(HybridRetriever, "_read_aside",
                           lambda retriever, post: with_code_words(read_aside(retriever, post), terms)):
        yield


def answers_terms(entries: list[Entry]) -> frozenset[str]:
    """The stemmed terms of the TA answers' questions, answers and aliases."""
    from bot.search.lexical import tokenize

    return frozenset(term for terms in tokenize([text for entry in entries
                                                  for text in (entry.question, entry.answer, *entry.aliases)])
                     for term in terms)


def term_of(question: Question) -> int:
    """The term (0 or 1) a development post is asked in: by its thread, so a thread's posts share one."""
    return int(hashlib.sha256((question.source or question.id).encode()).hexdigest(), 16) % 2


def rows_where(rows: CalibrationRows, keep: np.ndarray) -> CalibrationRows:
    """The rows `keep` marks, as rows of their own."""
    at = np.flatnonzero(keep)
    return CalibrationRows([rows.questions[i] for i in at], [rows.posts[i] for i in at],
                           [rows.embedded[i] for i in at], [rows.entry_ids[i] for i in at], rows.labels[at],
                           Candidates(rows.candidates.features[at], rows.candidates.right[at]))


Additions = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]  # per entry: (aliases, near misses)


def misses(rows: CalibrationRows, answered: np.ndarray, picked_right: np.ndarray) -> Iterator[tuple[int, str]]:
    """Each row the bot got wrong, with how: an in-scope post declined or answered from another entry, an
    out-of-scope post answered."""
    for i in range(len(rows.questions)):
        if rows.labels[i] == 1 and not (answered[i] and picked_right[i]):
            yield i, "in scope, declined" if not answered[i] else "in scope, answered from another entry"
        elif rows.labels[i] == 0 and answered[i]:
            yield i, "out of scope, answered"


def staff_additions(rows: CalibrationRows, answered: np.ndarray, entries: np.ndarray,
                    picked_right: np.ndarray) -> Additions:
    """Per entry, the (aliases, near misses) staff add after reading `rows`' misses (`misses`) by copying
    them: the question found in each in-scope post missed, as an alias of its first expected entry; in
    each out-of-scope post answered, as a near miss of the entry that answered it."""
    aliases: dict[str, list[str]] = {}
    near_misses: dict[str, list[str]] = {}
    for i, _ in misses(rows, answered, picked_right):
        if rows.labels[i] == 1:
            aliases.setdefault(rows.questions[i].expected[0], []).append(rows.posts[i].focus)
        else:
            near_misses.setdefault(str(entries[i]), []).append(rows.posts[i].focus)
    return {entry: (tuple(aliases.get(entry, ())), tuple(near_misses.get(entry, ())))
            for entry in sorted(aliases.keys() | near_misses.keys())}


def misses_for_staff(rows: CalibrationRows, answered: np.ndarray, entries: np.ndarray,
                     picked_right: np.ndarray) -> list[dict[str, Any]]:
    """`rows`' misses as staff read them before writing (what `--misses-to` gives the writers): each whole
    post, what the bot did, the TA's entry and the entry it answered from."""
    return [{"post": rows.questions[i].question, "what the bot did": how,
             "TA's entry": list(rows.questions[i].expected) or None,
             "answered from": str(entries[i]) if answered[i] else None}
            for i, how in misses(rows, answered, picked_right)]


@contextmanager
def knowledge_grown(additions: Additions) -> Iterator[None]:
    """The knowledge base as `bot.knowledge.load_entries` reads it, with `additions` (`staff_additions`)
    in its entries' aliases and near misses, for the length of the block."""
    from bot import knowledge

    load = knowledge.load_entries

    def grown(*args: Any, **kwargs: Any) -> list[Entry]:
        return [dataclasses.replace(entry, aliases=entry.aliases + additions.get(entry.id, ((), ()))[0],
                                    near_misses=entry.near_misses + additions.get(entry.id, ((), ()))[1])
                for entry in load(*args, **kwargs)]
    with mock.patch.object(knowledge, "load_entries", grown):
        yield


def written_additions(path: Path, entry_ids: set[str]) -> Additions:
    """What staff wrote after reading a term's misses (`{"entry": {"aliases": [...], "near_misses": [...]}}`),
    as `staff_additions` gives it; an id that is not one of `entry_ids` is refused, not dropped unseen."""
    written = json.loads(path.read_text())
    if unknown := sorted(set(written) - entry_ids):
        raise ValueError(f"{path}: no such entries: {', '.join(unknown)}")
    return {entry: (tuple(lines.get("aliases", ())), tuple(lines.get("near_misses", ())))
            for entry, lines in written.items()}


def feedback_loop(settings: Settings, rows: CalibrationRows, development: CalibrationRows,
                  written: tuple[Additions, Additions] | None = None, misses_to: Path | None = None) -> None:
    """Print, for each term in turn, what staff add from its misses, then the other term's posts decided
    today and with the grown knowledge base (the rule refit on it), and the grown rows' cross-validation.
    Staff add each miss as found (`staff_additions`), or, given `written`, what they wrote for each term;
    given `misses_to`, each term's misses are written there for the writers (`misses_for_staff`) first."""
    columns = tuple(range(rows.features.shape[1]))
    scorer, threshold = refit(rows, columns)
    confidence, picked_right, entries = picked(scorer, development, columns)
    answered = confidence >= threshold
    terms = np.array([term_of(question) for question in development.questions])
    for term in (0, 1):
        asked, next_term = terms == term, terms != term
        if misses_to is not None:
            misses_to.mkdir(parents=True, exist_ok=True)
            term_misses = misses_for_staff(rows_where(development, asked), answered[asked], entries[asked],
                                           picked_right[asked])
            (misses_to / f"misses_term{term + 1}.json").write_text(json.dumps(term_misses, indent=1,
                                                                              ensure_ascii=False))
        additions = written[term] if written else staff_additions(rows_where(development, asked), answered[asked],
                                                                  entries[asked], picked_right[asked])
        print(f"term {term + 1} ({int(asked.sum())} posts): staff add "
              f"{sum(len(a) for a, _ in additions.values())} aliases and "
              f"{sum(len(n) for _, n in additions.values())} near misses")
        label = f"term {2 - term}, today"
        report_development(label, rates_by_set(rows_where(development, next_term), answered[next_term],
                                               picked_right[next_term]))
        with knowledge_grown(additions):
            grown_rows, grown_development = read_both(settings)
        label = f"term {2 - term}, after term {term + 1}'s additions"
        report_rates(label, grown_rows, grown_rows.candidates, columns)
        grown_scorer, grown_threshold = refit(grown_rows, columns)
        print(f"{label:44} {'threshold, all rows':22} {grown_threshold:.4f}")
        report_development(label, development_rates(grown_scorer, grown_threshold,
                                                    rows_where(grown_development, next_term), columns))


DENSITY_TEMPERATURES = (0.02, 0.05, 0.1)


def soft_maximum(cosines: np.ndarray, temperature: float) -> np.ndarray:
    """Per row, temperature × log of the mean of exp(cosine / temperature): the largest cosine as the
    temperature falls to zero, their mean as it grows, and between the two a density of the texts around
    the post."""
    top = cosines.max(axis=1)
    return top + temperature * np.log(np.mean(np.exp((cosines - top[:, None]) / temperature), axis=1))


def with_density(rows: CalibrationRows, asked: np.ndarray, near_misses: np.ndarray, temperature: float,
                 difference: bool) -> CalibrationRows:
    """`rows` with their posts' density features after today's, for each of prose and focus: the soft
    maximum of their cosines to `asked` (unit vectors of the entries' questions and aliases) minus that
    to `near_misses` (`difference`), or both soft maxima."""
    columns = []
    for read in (1, 0):  # the prose, then the focus (`CalibrationRows.embedded`)
        vectors = np.stack([embedded[read].vector for embedded in rows.embedded])
        towards, away = soft_maximum(vectors @ asked.T, temperature), soft_maximum(vectors @ near_misses.T, temperature)
        columns += [towards - away] if difference else [towards, away]
    candidates = rows.candidates.features.shape[1]
    for column in columns:  # one value per post, the same for every candidate
        rows = with_column(rows, np.repeat(column[:, None], candidates, axis=1))
    return rows


def course_texts(settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of all entries' questions and aliases, and of all their near misses (MiniLM, as the
    bot reads them)."""
    from bot.knowledge import load_entries
    from bot.search.embeddings import shared_model

    entries = load_entries(settings.knowledge_dir)
    model = shared_model()
    return (model.encode_array([text for entry in entries for text in (entry.question, *entry.aliases)]),
            model.encode_array([text for entry in entries for text in entry.near_misses]))


def prose_near_miss(rows: CalibrationRows, retriever: HybridRetriever, held: bool = False) -> np.ndarray:
    """Per row and candidate, the near miss read word by word from the whole post's prose, as the eighth
    feature reads it from the question: how much more the prose agrees with the near misses nearest it
    than with the candidate entry's own questions (`NearMisses.agreement` minus `best_agreement`). In a
    long post what makes its question a near miss often sits beside the question ("for my multi-label
    tagging task, ..."), where the question's own reading does not look. With `held`, BERTScore's
    precision side only: how much of each text the prose holds (`held_in`), whatever else it says. A
    one-line question is its own prose: its value is the eighth feature's."""
    from bot.search.retrieve import Calibration
    from bot.search.token_match import best_agreement, mean_of_best

    def agreeing(pieces: np.ndarray, texts: Texts) -> float:
        if not len(texts):
            return 0.0
        return mean_of_best(held_in(pieces, texts)) if held else best_agreement(pieces, texts)

    features = rows.candidates.features
    column = features[:, :, Calibration.FEATURES.index("near_miss_words")].copy()
    index = retriever.index
    for i, ((focus, prose), entry_ids) in enumerate(zip(rows.embedded, rows.entry_ids, strict=True)):
        if prose is focus or not len(prose.pieces):
            continue
        near = agreeing(prose.pieces, index.near_misses.nearest_texts(prose.vector))
        for j, entry_id in enumerate(entry_ids[:features.shape[1]]):
            column[i, j] = near - agreeing(prose.pieces, index.entry_pieces(entry_id).asked)
    return column


def held_in(pieces: np.ndarray, texts: Texts) -> np.ndarray:
    """Per text, the mean over its pieces of each one's best cosine to `pieces`: how much of it a post holds."""
    return np.add.reduceat((pieces @ texts.rows.T).max(axis=0), texts.starts) / texts.lengths


def with_column(rows: CalibrationRows, column: np.ndarray, replaces: int | None = None) -> CalibrationRows:
    """`rows` with `column` (one value per row and candidate) after today's features, or in place of
    feature `replaces`."""
    features = rows.candidates.features
    if replaces is None:
        grown = np.concatenate([features, column[:, :, None]], axis=2)
    else:
        grown = features.copy()
        grown[:, :, replaces] = column
    return dataclasses.replace(rows, candidates=Candidates(grown, rows.candidates.right))


CURVE_SHOWN = (-0.1, -0.05, 0.0, 0.05, 0.1, 0.15, 0.2, 0.3)  # `report_curves`' threshold offsets


def report_curves(name: str, rows: CalibrationRows, development: CalibrationRows) -> None:
    """Print a feature set's operating curve (answered and right / out of scope declined with the refit
    rule's threshold moved by each of CURVE_SHOWN) on the real-phrasing calibration rows held out and on the
    development sets decided by the model fitted on all calibration rows, and the area under each one's
    ROC curve (in scope with the right entry picked, against the rest)."""
    from sklearn.metrics import roc_auc_score

    columns = tuple(range(rows.features.shape[1]))
    real = np.array([row.split.startswith("real_posts") for row in rows.questions])
    curve = operating_curve(rows.features, rows.labels, rows.right, rows.groups, columns, real,
                            candidates=rows.candidates, offsets=CURVE_SHOWN)
    print(f"{name:44} {'real-phrasing rows':22} " + "  ".join(
        f"{offset:+.2f}: {rates['answered_right']:.3f} / {rates['declined_out_of_scope']:.3f}"
        for offset, rates in curve))
    scorer, threshold = refit(rows, columns)
    confidence, picked_right = decide(scorer, columns, development.features, development.right,
                                      development.candidates)
    in_scope = development.labels == 1
    answered = [confidence >= threshold + offset for offset in CURVE_SHOWN]
    print(f"{name:44} {'all development sets':22} " + "  ".join(
        f"{offset:+.2f}: {np.sum(in_scope & picked_right & yes) / in_scope.sum():.3f}"
        f" / {np.sum(~in_scope & ~yes) / (~in_scope).sum():.3f}"
        for offset, yes in zip(CURVE_SHOWN, answered, strict=True)))
    held, good = [], []
    for test, score, right, _ in held_out(rows.features, rows.labels, rows.right, rows.groups, columns,
                                          candidates=rows.candidates):
        held.append(score[test])
        good.append(((rows.labels == 1) & right)[test])
    print(f"{name:44} {'area under ROC curve':22} calibration rows held out "
          f"{roc_auc_score(np.concatenate(good), np.concatenate(held)):.4f}, development sets "
          f"{roc_auc_score(in_scope & picked_right, confidence):.4f}")


# A threshold rule: from the fitted rows' (confidences, labels, entries answered from), the threshold each
# row gets by the entry it is answered from.
ThresholdRule = Callable[[np.ndarray, np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]]


def overall_rule(confidence: np.ndarray, labels: np.ndarray, entries: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Today's rule: one threshold, the F1-best on the fitted rows (`best_threshold`)."""
    threshold = best_threshold(confidence.tolist(), [bool(v) for v in labels])
    return lambda picked: np.full(len(picked), threshold)


def per_entry_rule(shrink: float) -> ThresholdRule:
    """Each entry's own F1-best threshold on the fitted rows answered from it, weighted by their number
    against `shrink` pseudo-rows at the overall threshold; an entry with no rows, or rows of one label
    only, gets the overall one."""
    def rule(confidence: np.ndarray, labels: np.ndarray, entries: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        overall = best_threshold(confidence.tolist(), [bool(v) for v in labels])
        own = {}
        for entry in set(entries.tolist()):
            mine = entries == entry
            if len(set(labels[mine].tolist())) < 2:
                continue
            local = best_threshold(confidence[mine].tolist(), [bool(v) for v in labels[mine]])
            own[entry] = (mine.sum() * local + shrink * overall) / (mine.sum() + shrink)
        return lambda picked: np.array([own.get(entry, overall) for entry in picked.tolist()], dtype=float)
    return rule


def conformal_rule(alpha: float) -> ThresholdRule:
    """Split conformal: just above the ceil((n + 1)(1 - alpha))-th lowest confidence of the n fitted
    out-of-scope rows, so a new out-of-scope post exchangeable with them is declined with probability at
    least 1 - alpha (above all of them when n is too small for that)."""
    def rule(confidence: np.ndarray, labels: np.ndarray, entries: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        out_of_scope = np.sort(confidence[labels == 0])
        rank = min(math.ceil((len(out_of_scope) + 1) * (1 - alpha)), len(out_of_scope))
        threshold = float(np.nextafter(out_of_scope[rank - 1], np.inf))
        return lambda picked: np.full(len(picked), threshold)
    return rule


def picked(scorer: Scorer, rows: CalibrationRows, columns: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray,
                                                                                       np.ndarray]:
    """`most_confident`, with the entry the bot answers from in place of its place among the candidates."""
    confidence, right, best = most_confident(scorer, columns, rows.candidates)
    return confidence, right, np.array([ids[i] if ids else "" for ids, i in zip(rows.entry_ids, best, strict=True)])


def threshold_rule_rates(rows: CalibrationRows, rule: ThresholdRule, columns: tuple[int, ...],
                         folds: int = 5, seeds: int = 10) -> dict[str, tuple[float, float]]:
    """Per subset of `rows` (`CalibrationRows.subsets`): held-out (answered and right, out of scope declined)
    with the refit rule's model fitted on the other folds (by thread, as `cross_validate` deals them) and
    the thresholds `rule` sets on them in place of the rule's own."""
    counts = {subset: [0, 0] for subset, _ in rows.subsets()}
    for seed in range(seeds):
        fold = thread_folds(rows.groups, folds, seed)
        for k in range(folds):
            fitted = fold != k
            scorer, _, _, _ = refit_rule(rows.features, rows.labels, rows.right, columns, fitted, rows.candidates)
            confidence, right, entries = picked(scorer, rows, columns)
            answer = confidence >= rule(confidence[fitted], rows.labels[fitted], entries[fitted])(entries)
            for subset, scored in rows.subsets():
                test = ~fitted & scored
                counts[subset][0] += int(np.sum(test & (rows.labels == 1) & answer & right))
                counts[subset][1] += int(np.sum(test & (rows.labels == 0) & ~answer))
    return {subset: (answered / (seeds * np.sum(scored & (rows.labels == 1))),
                     declined / (seeds * np.sum(scored & (rows.labels == 0))))
            for (subset, scored), (answered, declined) in zip(rows.subsets(), counts.values(), strict=True)}


def report_threshold_rule(name: str, rule: ThresholdRule, rows: CalibrationRows, development: CalibrationRows) -> None:
    """Print a threshold rule's held-out rates, and the development sets decided by the model and thresholds
    fitted on all calibration rows."""
    columns = tuple(range(rows.features.shape[1]))
    for subset, (answered, declined) in threshold_rule_rates(rows, rule, columns).items():
        print(f"{name:44} {subset:22} answered and right {answered:.3f}   out of scope declined {declined:.3f}")
    scorer, _ = refit(rows, columns)
    confidence, _, entries = picked(scorer, rows, columns)
    thresholds = rule(confidence, rows.labels, entries)
    set_on_all = thresholds(np.array(sorted(set(entries.tolist()))))
    print(f"{name:44} {'threshold, all rows':22} " + (f"{set_on_all.min():.4f}" if np.ptp(set_on_all) == 0
                                                     else f"{set_on_all.min():.4f}-{set_on_all.max():.4f}"))
    mine, right, their_entries = picked(scorer, development, columns)
    report_development(name, rates_by_set(development, mine >= thresholds(their_entries), right))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.variants", description=__doc__.split("\n\n")[0])
    parser.add_argument("variant", choices=("classifiers", "chunks", "lexical-weight", "synonyms", "code",
                                            "thresholds", "feedback", "density", "written", "prose-near-miss"))
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
    report_variant("today", rows, development)
    if args.variant == "thresholds":
        report_threshold_rule("one threshold (today's rule, this loop)", overall_rule, rows, development)
        for shrink in (300, 100, 30, 10):
            report_threshold_rule(f"a threshold per entry, shrink {shrink}", per_entry_rule(shrink), rows,
                                  development)
        for alpha in (0.10, 0.07, 0.05):
            report_threshold_rule(f"conformal bound, alpha {alpha}", conformal_rule(alpha), rows, development)
    elif args.variant == "density":
        asked, near_misses = course_texts(settings)
        for temperature in DENSITY_TEMPERATURES:
            for difference in (True, False):
                name = f"density {'difference' if difference else 'both'}, temperature {temperature}"
                report_variant(name, with_density(rows, asked, near_misses, temperature, difference),
                               with_density(development, asked, near_misses, temperature, difference))
    elif args.variant == "prose-near-miss":
        from bot.search.retrieve import Calibration

        columns = {reading: (prose_near_miss(rows, retriever, held), prose_near_miss(development, retriever, held))
                   for reading, held in (("agreement", False), ("held", True))}
        replaces = Calibration.FEATURES.index("near_miss_words")
        report_curves("today", rows, development)
        for reading, (column, development_column) in columns.items():
            for where, placed in (("beside", None), ("in place", replaces)):
                name = f"prose near miss ({reading}) {where}"
                grown = with_column(rows, column, placed)
                grown_development = with_column(development, development_column, placed)
                report_variant(name, grown, grown_development)
                report_curves(name, grown, grown_development)
    elif args.variant == "written":
        entry_ids = {entry.id for entry in load_entries(settings.knowledge_dir)}
        with knowledge_grown(written_additions(args.file, entry_ids)):
            report_variant(f"grown by {args.file.name}", *read_both(settings))
    elif args.variant == "code":
        with code_read_as_words():
            report_variant("code words, all", *read_both(settings))
        with code_read_as_words(answers_terms(load_entries(settings.knowledge_dir))):
            report_variant("code words, the answers' terms", *read_both(settings))
    elif args.variant == "classifiers":
        for name, model in other_classifiers().items():
            report_variant(name, rows, development, model)
    elif args.variant == "chunks":
        for name, chunks in chunkings().items():
            with mock.patch("bot.search.index.entry_chunks", chunks):
                report_variant(name, *read_both(settings))
    else:
        pairs = synonym_pairs(args.file, args.without_second_meanings)
        if args.answers_only:
            pairs = towards_the_answers(pairs, load_entries(settings.knowledge_dir))
        with glossary(pairs):
            report_variant(f"synonyms ({len(pairs)} pairs)", *read_both(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
