"""The calibration questions read as the bot reads them: each row's candidates and their features
(`calibration_rows`), what the abstention model is fitted and scored on, and a variant's rates printed
from them (`report_rates`). With the command, the only part of `eval.calibrate` that imports the bot,
and only when rows are made."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from eval.calibrate.cross_validation import cross_validate, new_entry_recall
from eval.calibrate.fit import Candidates, Model, logistic_model
from eval.datasets import CALIBRATION_SETS, Question, load_question_sets

if TYPE_CHECKING:  # the bot is imported only when rows are made: the fitting runs without it
    from bot.config import Settings
    from bot.search.embeddings import MiniLM
    from bot.search.reading.focus import Post
    from bot.search.retrieve import Embedded, EntryHit, HybridRetriever


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
