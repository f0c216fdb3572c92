"""Hybrid retrieval: dense (MiniLM via Chroma) + lexical (BM25), scored per entry, read like a TA.

A student's post is read first (`bot.search.reading.focus.read_post`): its `focus` is the question it
asks, its `prose` what it is about (without code, traces, quotes, links, greetings), each misspelled
word read as the knowledge base word it was meant to be (`bot.search.reading.spelling`), where it comes from
read aside (`bot.search.reading.where_asked`), and a last question about nothing the course holds left for
the question asked before it (`bot.search.reading.off_course`). Each entry is
scored by both: its best chunk's cosine to the focus (read inside the prose's one encoder pass,
`bot.search.in_context`), its best chunk's cosine to the prose, and a
lexical nudge (BM25 of the prose, scaled to the best entry's) that breaks near-ties on rare words.
For a one-line question focus and prose are the same text, so nothing changes for it.

Whether to answer at all needs an absolute number, so each returned entry also gets a calibrated
confidence: a logistic model over (focus cosine, prose cosine, share of the focus's content words
the entry contains, semantic coverage of the focus's and of the prose's words by the entry's
words - `bot.search.token_match` -, and the background: the prose's cosine to the centroid of all
the TA answers, `KnowledgeIndex.corpus_centroid`, and the near miss: how much closer the prose is
to a question staff listed as one no answer covers than its focus is to the entry,
`bot.search.near_misses`, and the near miss word by word: how much better the focus agrees with
the closest near misses than with the entry's own questions, each side the mean of its few
best-agreeing texts, `bot.search.token_match.best_agreement`).
Sentence cosines say a post is about the entry's topic; the word-level coverage says whether the
entry has something for each thing the post asks, which is what separates "is Adam second order?"
from "what does Adam's epsilon do?". The background says how much of a cosine any post about this
course would get: a question about training in general sits near every answer, so its cosine to the
nearest one says less (its weight comes out negative). The near miss is zero unless a post is nearer
a known uncovered question ("why does Adam need bias correction?") than its question is to the entry
(the adaptive-optimizer answer), and then counts against answering; a post far from every near miss
reads exactly as without them. Word by word, the near miss reads what a sentence cosine blurs: two
questions on one topic that ask different things; a focus that agrees with an entry's own question
better than with any near miss counts for answering. (A knowledge base that lists no near misses
agrees with none, so only that second half is left: refit the model for it.) Every feature means the
same for a 10-word question and a 300-word post: the focus is short whatever the post's length, the
focus's coverages are means over its own words, the prose's semantic coverage counts only its
best-covered words (`PROSE_COVERAGE_PIECES`), so a paragraph about the student's project does not
dilute it, and the prose cosines sit beside them so context that names the topic still counts. Fitted on
the calibration splits (synthetic and real phrasing) by `python -m eval.calibrate`, stored in
`bot/search/calibration.json`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.knowledge import Entry
from bot.search.chunks import Chunk
from bot.search.in_context import ReadsInContext, focus_and_prose
from bot.search.index import KnowledgeIndex
from bot.search.lexical import tokenize
from bot.search.pieces import EntryPieces
from bot.search.reading.abbreviations import Abbreviations, abbreviations_of, as_searched
from bot.search.reading.english_words import english_words
from bot.search.reading.focus import Post, read_post
from bot.search.reading.glossary import Glossary
from bot.search.reading.off_course import on_course_question, weighs_its_focus
from bot.search.reading.spelling import Speller
from bot.search.reading.where_asked import set_aside_where
from bot.search.token_match import agreements_of, best_of_rows, cosines, coverage_of, mean_of_best

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
# A copied chat's messages read one by one, at most (the last ones): each costs an encoder pass.
MAX_CHAT_MESSAGES = 12
# How much the lexical score can move an entry, against cosines that add up to at most 2. Small:
# on real posts dense ranking alone was as good; BM25 only settles near-ties on rare exact words.
LEXICAL_WEIGHT = 0.1


@dataclass(frozen=True)
class Calibration:
    """confidence = sigmoid(w_focus * focus + w_post * post + w_coverage * coverage
                            + w_meaning_focus * meaning_focus + w_meaning_post * meaning_post
                            + w_background * background + w_near_miss * near_miss
                            + w_near_miss_words * near_miss_words + bias)."""

    w_focus: float = 6.0
    w_post: float = 6.0
    w_coverage: float = 2.0
    w_meaning_focus: float = 0.0
    w_meaning_post: float = 0.0
    w_background: float = 0.0
    w_near_miss: float = 0.0
    w_near_miss_words: float = 0.0
    bias: float = -8.0
    threshold: float = 0.5

    FEATURES = ("focus", "post", "coverage", "meaning_focus", "meaning_post", "background", "near_miss",
                "near_miss_words")

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text())
        # A file fitted before a feature existed (semantic coverage, background, near miss) has no weight for it: zero.
        return cls(**{f"w_{name}": float(data.get(f"w_{name}", 0.0)) for name in cls.FEATURES},
                   bias=float(data["bias"]), threshold=float(data["threshold"]))

    def confidence(self, focus: float, post: float, coverage: float, meaning_focus: float = 0.0,
                   meaning_post: float = 0.0, background: float = 0.0, near_miss: float = 0.0,
                   near_miss_words: float = 0.0) -> float:
        return sigmoid(self.w_focus * focus + self.w_post * post + self.w_coverage * coverage
                       + self.w_meaning_focus * meaning_focus + self.w_meaning_post * meaning_post
                       + self.w_background * background + self.w_near_miss * near_miss
                       + self.w_near_miss_words * near_miss_words + self.bias)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


# Coverage counts this many unseen pseudo-terms: evidence that an entry covers a question grows with
# the number of the question's words it contains, so a two-word question cannot be "fully covered".
COVERAGE_PSEUDO_TERMS = 2


# The semantic coverage of a post's prose counts its this many best-covered content word pieces, a
# short question's worth: a question asked after a paragraph about the student and their project
# ("I'm a civil engineer taking my first DL course; my capstone uses 5000 images I collected...") is
# covered by the entry as well as when asked alone. Over all the prose's pieces, such context read as
# uncovered words cost an in-scope post more than anything else in the model (`python -m
# eval.context_check`). The focus keeps the mean over all its pieces: a word it asks about that the
# entry lacks must still count. Cross-validation could not tell 6 to 16 apart and 24 answered fewer;
# counting all the focus's pieces plus the rest's best few was vetoed by the test splits
# (docs/real-phrasing.md, tenth session).
PROSE_COVERAGE_PIECES = 8


def coverage(question_terms: set[str], entry_terms: set[str]) -> float:
    """Share of the question's content terms (stemmed, stop words dropped) found in the entry, out
    of their number plus COVERAGE_PSEUDO_TERMS: "and the reverse one?" names two words an entry
    happens to contain, which is weak evidence that the entry covers it (2/4, not 2/2)."""
    return len(question_terms & entry_terms) / (len(question_terms) + COVERAGE_PSEUDO_TERMS)


def near_miss_margin(closest_near_miss: float | None, focus: float) -> float:
    """How much nearer the post's prose is to the closest near miss than its focus is to the entry;
    zero when it is not nearer, or when the knowledge base lists no near misses (None). A hinge, not
    the raw cosine: the raw cosine, fitted, shifted every post's confidence (near misses share the
    answers' words, so every post about the course is near one), and noisy in-scope posts, whose
    cosines are all lower, fell below the threshold with the near misses (docs/real-phrasing.md)."""
    return max(0.0, closest_near_miss - focus) if closest_near_miss is not None else 0.0


def rank_score(focus: float, post: float, lexical_share: float) -> float:
    """The ordering score of an entry: both cosines, plus the lexical nudge (share of the best BM25)."""
    return focus + post + LEXICAL_WEIGHT * lexical_share


def rank_key(score: float, focus: float, entry_id: str) -> tuple[float, float, str]:
    """The ranking's sort key: the rank score, on ties the better focus cosine, then the id."""
    return -score, -focus, entry_id


def rank_order(hits: list[EntryHit]) -> list[EntryHit]:
    """Hits as the rank score puts them: how the candidates are chosen, before the confidence orders them."""
    return sorted(hits, key=lambda hit: rank_key(hit.score, hit.dense, hit.entry_id))


@dataclass(frozen=True)
class EntryHit:
    entry_id: str
    confidence: float  # calibrated, in [0, 1]
    dense: float  # best cosine of any of the entry's chunks to the post's focus (its question)
    dense_post: float  # ... to the whole post's prose (equal to `dense` for a one-line question)
    lexical: float  # best BM25 score of any of the entry's chunks for the prose
    coverage: float  # share of the focus's content terms in the entry
    score: float  # the ordering score (`rank_score`)
    best_chunk: str  # id of the entry's best chunk for the focus
    meaning_focus: float = 0.0  # semantic coverage of the focus's words by the entry's (`token_match`)
    meaning_post: float = 0.0  # ... of the prose's best-covered words (`PROSE_COVERAGE_PIECES`)
    background: float = 0.0  # the prose's cosine to the course's centroid (`KnowledgeIndex.centroid`): one per post
    near_miss: float = 0.0  # how much nearer the prose is to a near miss than the focus to the entry
    near_miss_words: float = 0.0  # how much better the focus agrees with near misses than with the entry's questions

    @property
    def features(self) -> tuple[float, ...]:
        """What the abstention model reads, in `Calibration.FEATURES` order (what `eval.calibrate` fits on)."""
        return (self.dense, self.dense_post, self.coverage, self.meaning_focus, self.meaning_post, self.background,
                self.near_miss, self.near_miss_words)


def word_features(focus: Embedded, prose: Embedded, pieces: EntryPieces,
                  near_miss_agreement: float) -> tuple[float, float, float]:
    """A candidate's word-piece features: the focus's and the prose's semantic coverage in the entry's
    pieces, and how much better the focus agrees with the near misses nearest it (`near_miss_agreement`,
    `NearMisses.agreement`) than with the entry's own questions."""
    focus_matches, post_matches, asked_agreement = matched_words(focus, prose, pieces)
    return (coverage_of(focus_matches, COVERAGE_PSEUDO_TERMS),
            coverage_of(post_matches, COVERAGE_PSEUDO_TERMS, best=PROSE_COVERAGE_PIECES),
            near_miss_agreement - asked_agreement)


def matched_words(focus: Embedded, prose: Embedded, pieces: EntryPieces) -> tuple[np.ndarray, np.ndarray, float]:
    """The focus's and the prose's content pieces' best matches in an entry's pieces
    (`bot.search.token_match.best_matches`), and how well the focus agrees with the entry's own
    questions (`best_agreement` with `pieces.asked`).

    One product per text read: an entry's own questions are the first rows of its pieces, so their
    cosines to the focus are the first columns of the focus's product with all of them; a focus
    read inside its post is some of the prose's pieces (`Embedded.within`), so its rows of the
    prose's product; and a one-line question is its own prose. Two products per candidate (three
    for a focus encoded alone) had cost a short question about 0.2 ms more than one
    (docs/performance.md, thirty-sixth session)."""
    prose_cosines = cosines(prose.pieces, pieces.rows)
    if prose is focus:
        focus_cosines = prose_cosines
    elif focus.within is not None and len(prose_cosines):
        focus_cosines = prose_cosines[focus.within]
    else:
        focus_cosines = cosines(focus.pieces, pieces.rows)
    asked = pieces.asked
    agreement = (mean_of_best(agreements_of(focus_cosines[:, :len(asked.rows)], asked))
                 if len(focus_cosines) and len(asked) else 0.0)
    return best_of_rows(focus_cosines), best_of_rows(prose_cosines), agreement


@dataclass(frozen=True)
class Embedded:
    """A text as the retriever reads it: its sentence vector and its content word pieces in context."""

    vector: np.ndarray  # float32, unit length
    pieces: np.ndarray
    # For a focus read inside its post: which rows of the prose's pieces its pieces are (None: read alone).
    within: np.ndarray | None = None


class HybridRetriever:
    """Scores every entry for a post: the best few by rank score, each with its calibrated
    confidence, most confident first.

    A plain class: LangChain's `BaseRetriever` view of it (one Document per TA answer) is
    `bot.search.langchain_views.EntryRetriever`, kept off the answer path (importing LangChain's
    retriever machinery costs a CLI call a quarter of a second)."""

    def __init__(self, index: KnowledgeIndex, entries: dict[str, Entry], calibration: Calibration | None = None,
                 k_chunks: int = 40, k_entries: int = 3) -> None:
        self.index = index
        self.entries = entries
        self.calibration = calibration if calibration is not None else Calibration()
        self.k_chunks = k_chunks
        self.k_entries = k_entries
        self._terms: dict[str, set[str]] = {}
        self.speller: Speller  # the knowledge base's words, for misspelled ones (`refresh`)
        self.abbreviations: Abbreviations  # which of a term's forms the knowledge base writes (`refresh`)
        self.refresh()

    def refresh(self) -> None:
        """Recompute per-entry term sets, the speller's words and the abbreviations' directions after the
        entries change (e.g. a re-index)."""
        self.speller = Speller.of((text for entry in self.entries.values()
                                   for text in (entry.question, entry.answer, *entry.aliases, *entry.tags,
                                                *entry.near_misses)),
                                  english_words(self.index.settings.data_dir))
        self.abbreviations = abbreviations_of(self.entries.values())
        self.glossary = Glossary.load()
        self._terms = {}
        for entry in as_searched(self.entries.values()):  # as the index holds them
            text = " ".join([entry.question, entry.answer, *entry.aliases, *entry.tags])
            self._terms[entry.id] = set(tokenize([text])[0])

    def terms(self, entry_id: str) -> set[str]:
        """The entry's stemmed content terms (question, answer, aliases, tags)."""
        return self._terms.get(entry_id, set())

    def read_text(self, question: str) -> Post:
        """The post `question` holds, as the reader finds it: a post written mostly in Chinese is read
        through the glossary first (`Glossary.english_reading`)."""
        return read_post(self.glossary.english_reading(question) or question)

    def lexical_by_entry(self, text: str) -> dict[str, float]:
        """Per entry, BM25's best score of any of its chunks among the top `k_chunks` for `text`."""
        best: dict[str, float] = {}
        for chunk, score in self.index.lexical_search(text, self.k_chunks):
            best[chunk.entry_id] = max(score, best.get(chunk.entry_id, 0.0))
        return best

    def lexical_best(self, text: str) -> str | None:
        """The entry whose chunks BM25 scores highest for `text` (None when no word of it is indexed)."""
        best = self.lexical_by_entry(text)
        return max(best, key=best.__getitem__) if best else None

    def search(self, question: str | Post, k: int | None = None,
               embedded: tuple[Embedded, Embedded] | None = None) -> list[EntryHit]:
        """Entries best first (at most k), each with its calibrated confidence.

        `embedded` is the post's (focus, prose) as `embed_post` gives them, when the caller has them."""
        post = question if isinstance(question, Post) else self.read_text(question)
        if embedded is None:
            post, embedded = self.read(post)
        return self.search_many([post], [embedded], k)[0]

    def read(self, post: Post) -> tuple[Post, tuple[Embedded, Embedded]]:
        """The post to answer, where it comes from read aside (`bot.search.reading.where_asked`), its
        misspelled words read as meant (`Speller.correct_post`) and a last question off the course
        passed over (`bot.search.reading.off_course`), and its (focus, prose) as `embed_post` gives them. A
        copied chat holds several people's messages (`Post.messages`) and
        does not say whose question the student wants answered; a TA answers the one about the
        course. So each message (the last MAX_CHAT_MESSAGES) is read as a post of its own, and the
        one whose best entry has the highest rank score is answered: the ranking, not the calibrated
        confidence, so that choosing needs no fitted model and the model then decides about the
        message as about any post."""
        if not post.messages:
            return self._read_one(post)
        read = [self._read_one(read_post(text)) for text in post.messages[-MAX_CHAT_MESSAGES:]]
        messages, embedded = [message for message, _ in read], [pair for _, pair in read]
        found = self.search_many(messages, embedded)
        best = max(range(len(messages)), key=lambda i: max((hit.score for hit in found[i]), default=0.0))
        return messages[best], embedded[best]

    def _read_one(self, post: Post) -> tuple[Post, tuple[Embedded, Embedded]]:
        """One post, read and embedded. When the course check weighs its focus alone, that pass and the
        post's own (its prose, the focus inside it) need nothing of each other: they run side by side
        (`MiniLM.two_passes`), and the post's is redone only when the check hands the focus to an
        earlier question."""
        post = self._read_aside(post)
        index = self.index
        if not weighs_its_focus(post, index.course_floor):
            return post, self.embed_post(post)
        alone, embedded = index.model.two_passes(lambda model: model.encode_array([post.focus])[0],
                                                 lambda model: self.embed_post(post, model))
        checked = on_course_question(post, index.model.encode, index.nearest_course_text, index.course_floor,
                                     focus_alone=alone)
        return checked, embedded if checked is post else self.embed_post(checked)

    def _read_aside(self, post: Post) -> Post:
        """Where the post comes from read aside, misspelled words read as meant, abbreviations in the
        knowledge base's form."""
        return self.abbreviations.read_post(self.speller.correct_post(set_aside_where(post)))

    def embed_post(self, post: Post, model: ReadsInContext | None = None) -> tuple[Embedded, Embedded]:
        """The post's (focus, prose) as they are searched (`bot.search.in_context.focus_and_prose`)."""
        focus, prose = focus_and_prose(model or self.index.model, post.read_as, post.prose)
        # A one-line question is its own prose: one object, so it is queried and matched once.
        embedded_focus = Embedded(*focus)
        return embedded_focus, embedded_focus if prose is focus else Embedded(*prose)

    def embed_texts(self, texts: list[str]) -> dict[str, Embedded]:
        """Each distinct text embedded once, in one encoder call (encoder time grows with every token)."""
        distinct = list(dict.fromkeys(texts))
        vectors, pieces = self.index.model.encode_with_pieces(distinct)
        return {text: Embedded(vector, rows)
                for text, vector, rows in zip(distinct, vectors, pieces, strict=True)}

    def search_many(self, posts: list[Post], embedded: list[tuple[Embedded, Embedded]],
                    k: int | None = None) -> list[list[EntryHit]]:
        """`search` for several posts (a post and its parts) with one dense query for all their vectors."""
        queries: list[np.ndarray] = []
        position: dict[int, int] = {}  # id(vector) -> its row in `queries`; a shared text is asked once
        for pair in embedded:
            for text in pair:
                if id(text.vector) not in position:
                    position[id(text.vector)] = len(queries)
                    queries.append(text.vector)
        best = [self._best_chunks(vector, found)
                for vector, found in zip(queries, self.index.dense_search_many(queries, self.k_chunks), strict=True)]
        return [self._hits(post, focus, prose, best[position[id(focus.vector)]], best[position[id(prose.vector)]],
                           k or self.k_entries)
                for post, (focus, prose) in zip(posts, embedded, strict=True)]

    def _hits(self, post: Post, focus: Embedded, prose: Embedded, focus_dense: dict[str, tuple[float, str]],
              post_dense: dict[str, tuple[float, str]], k: int) -> list[EntryHit]:
        lexical = self.lexical_by_entry(post.prose)
        top_lexical = max(lexical.values(), default=0.0)
        ranked = []
        for entry_id in set(focus_dense) | set(post_dense) | set(lexical):
            if entry_id in self.entries:
                focus_cosine = focus_dense.get(entry_id, (0.0, ""))[0]
                post_cosine = post_dense.get(entry_id, (0.0, ""))[0]
                lex = lexical.get(entry_id, 0.0) / top_lexical if top_lexical else 0.0
                ranked.append((rank_score(focus_cosine, post_cosine, lex), focus_cosine, entry_id, post_cosine))
        ranked.sort(key=lambda r: rank_key(*r[:3]))
        # Confidence only for the entries returned: semantic coverage compares word pieces, which
        # costs more than the ranking and is needed only to decide whether to answer from them.
        focus_terms = set(tokenize([post.read_as])[0])
        centroid = self.index.centroid
        background = float(prose.vector @ centroid) if centroid is not None else 0.0
        closest_near_miss = self.index.near_misses.closest(prose.vector)
        near_miss_agreement = self.index.near_misses.agreement(focus.vector, focus.pieces)
        hits = []
        for score, focus_cosine, entry_id, post_cosine in ranked[:k]:
            share = coverage(focus_terms, self._terms.get(entry_id, set()))
            near_miss = near_miss_margin(closest_near_miss, focus_cosine)
            meaning_focus, meaning_post, near_miss_words = word_features(
                focus, prose, self.index.entry_pieces(entry_id), near_miss_agreement)
            hits.append(EntryHit(
                entry_id=entry_id, confidence=self.calibration.confidence(
                    focus_cosine, post_cosine, share, meaning_focus, meaning_post, background, near_miss,
                    near_miss_words),
                dense=focus_cosine, dense_post=post_cosine, lexical=lexical.get(entry_id, 0.0), coverage=share,
                score=score, best_chunk=focus_dense.get(entry_id, (0.0, ""))[1],
                meaning_focus=meaning_focus, meaning_post=meaning_post, background=background,
                near_miss=near_miss, near_miss_words=near_miss_words))
        # The candidates come best first by confidence (rank order on ties): the model that decides
        # whether to answer also decides which of them answers. "What is the log base of the NLL loss?"
        # ranks nll-vs-cross-entropy first on its cosines (the words "NLL loss"), but log-base has
        # a word for each thing it asks and is the more confident answer.
        return sorted(hits, key=lambda hit: -hit.confidence)

    def _best_chunks(self, vector: np.ndarray, found: list[tuple[Chunk, float]]) -> dict[str, tuple[float, str]]:
        """Per entry among the chunks Chroma found for a query, its best cosine to it, with that chunk's id.
        Exact, over all of the entry's chunks (`bot.search.chunk_vectors`): Chroma's top k is approximate,
        and an entry whose best chunk it left out would read as further than it is. Chroma's own best for
        an entry the index holds no stored vectors of."""
        best: dict[str, tuple[float, str]] = {}
        for chunk, similarity in found:
            if chunk.entry_id not in best or similarity > best[chunk.entry_id][0]:
                best[chunk.entry_id] = (similarity, chunk.id)
        best.update(self.index.chunk_vectors.best_of(vector, best))
        return best
