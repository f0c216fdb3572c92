"""`tabot gaps`: what students asked that no TA answer covers, grouped into topics for course staff.

The questions are the question log's declined ones, the answers rated 👎, and the answers given below
`bot.answering.compose.UNSURE_BELOW` (they told the student they may not cover the question: where
near-topic posts the bot should have declined land), each read as the question found in it when it
was a long post (`shown_question`). Each distinct text is
embedded once with the service's MiniLM (vectors are cached in the log, so a re-run embeds only new
questions) and the texts are grouped by scikit-learn's AgglomerativeClustering, average linkage on
cosine distance, cut at `DISTANCE`: a topic is a set of questions whose mean similarity to each other
is above 1 - DISTANCE, however many topics that makes (no k to guess).

Average linkage needs the full distance matrix, n² floats: fine for a few thousand distinct texts,
10 GB at 50,000. Above `DIRECT_MAX` the texts are first summarised by MiniBatchKMeans into
`MAX_GROUPS` small groups (each far tighter than a topic) and the groups' centroids are clustered the
same way; a text takes its group's topic. Topics are ranked by how many distinct students (salted
hashes) asked, and each shows the three questions nearest its centre, the closest existing entry and
its similarity (to the entry's question and aliases), and when it was first and last asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.config import Settings
from bot.knowledge import Entry, load_entries
from bot.question_log import QuestionLog

# Cosine distance at which two groups stop merging (average linkage). Paraphrases of one question are
# 0.1-0.5 apart with MiniLM, questions on different topics 0.8-1.0 (measured on the test's questions).
DISTANCE = 0.65
DIRECT_MAX = 3000  # distinct texts clustered directly; above, MiniBatchKMeans summarises them first
MAX_GROUPS = 1000
# MiniBatchKMeans' defaults (k-means++ seeding, 100 passes) took 44-190 s at 20,000 texts on 2 busy
# cores; random seeding and 3 passes take ~3 s at 50,000, and the groups only need to be tight, not optimal.
KMEANS_PASSES = 3
REPRESENTATIVES = 3
# What the report is made of, as every face names it.
GAP_QUESTIONS = "declined, 👎-rated or unsure questions"


@dataclass
class Topic:
    questions: list[str]  # distinct texts, nearest the topic's centre first
    asked: int  # rows (one student may ask twice)
    students: int  # distinct askers
    declined: int
    disliked: int
    first_seen: str
    last_seen: str
    nearest_entry: str | None
    similarity: float | None  # cosine between the topic's centre and that entry's closest text
    days: dict[str, int] = field(default_factory=dict)  # "YYYY-MM-DD" -> questions asked that day
    # entry id -> how many of the topic's 👎-rated answers came from it: where a near miss may belong
    disliked_from: dict[str, int] = field(default_factory=dict)
    unsure: int = 0  # answers that said they may not cover the question (and were not rated 👎)
    unsure_from: dict[str, int] = field(default_factory=dict)  # entry id -> how many of those came from it

    @property
    def representatives(self) -> list[str]:
        return self.questions[:REPRESENTATIVES]

    @property
    def typical(self) -> str:
        """The most typical student question: the one nearest the centre."""
        return self.questions[0]

    def to_json(self) -> dict[str, Any]:
        return {"students": self.students, "asked": self.asked, "declined": self.declined,
                "disliked": self.disliked, "representatives": self.representatives,
                "questions": self.questions, "nearest_entry": self.nearest_entry,
                "similarity": None if self.similarity is None else round(self.similarity, 4),
                "first_seen": self.first_seen, "last_seen": self.last_seen, "days": self.days,
                "disliked_from": self.disliked_from, "unsure": self.unsure, "unsure_from": self.unsure_from}


@dataclass
class GapReport:
    topics: list[Topic]
    questions: int  # logged rows considered
    distinct: int
    embedded: int  # texts embedded in this run (the rest came from the cache)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"questions": self.questions, "distinct": self.distinct, "embedded": self.embedded,
                "topics": [t.to_json() for t in self.topics],
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


def cluster(vectors: np.ndarray, distance: float = DISTANCE, seed: int = 0) -> np.ndarray:
    """A topic label per row of `vectors` (unit length): 0 rows -> [], 1 row -> [0]."""
    from sklearn.cluster import AgglomerativeClustering, MiniBatchKMeans  # ~1 s import: only when clustering

    n = len(vectors)
    if n < 2:
        return np.zeros(n, dtype=int)

    def agglomerate(points: np.ndarray) -> np.ndarray:
        return AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                       distance_threshold=distance).fit_predict(points)

    if n <= DIRECT_MAX:
        return agglomerate(vectors)
    kmeans = MiniBatchKMeans(n_clusters=MAX_GROUPS, random_state=seed, n_init=1, batch_size=4096, init="random",
                             max_iter=KMEANS_PASSES)
    groups = kmeans.fit_predict(vectors)
    centres = kmeans.cluster_centers_
    centres = centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    return agglomerate(centres)[groups]


def entry_texts(entries: list[Entry]) -> tuple[list[str], list[str]]:
    """(entry id, text) pairs as two lists: each entry's question and aliases, what students' words meet."""
    ids, texts = [], []
    for entry in entries:
        for text in (entry.question, *entry.aliases):
            ids.append(entry.id)
            texts.append(text)
    return ids, texts


def shown_question(row: dict[str, Any]) -> str:
    """What a logged row asked, as staff read it and as it is grouped: the question found in a long
    post (`Answer.asked`) rather than the whole post. Two students who paste different pages around
    one question then meet in one topic, and a draft's aliases are questions, not copied pages."""
    return row.get("asked") or row["question"]


def find_gaps(rows: list[dict[str, Any]], embed: Callable[[list[str]], dict[str, np.ndarray]],
              entries: list[Entry], distance: float = DISTANCE) -> GapReport:
    """Group the logged `rows` (`QuestionLog.rows(gaps_only=True, unsure_below=...)`) into ranked topics.

    `embed` maps texts to unit vectors (`cached_embedder` wraps the log's cache around MiniLM).
    """
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    rows = [{**row, "question": shown_question(row)} for row in rows]
    texts = list(dict.fromkeys(r["question"] for r in rows))
    entry_ids, entry_strings = entry_texts(entries)
    vectors_by_text = embed(texts + entry_strings) if texts else {}
    seconds["embed"] = time.perf_counter() - started
    if not texts:
        return GapReport([], 0, 0, 0, seconds)
    matrix = np.stack([vectors_by_text[t] for t in texts]).astype(np.float32)
    clustering = time.perf_counter()
    labels = cluster(matrix, distance)
    seconds["cluster"] = time.perf_counter() - clustering
    summarising = time.perf_counter()
    entry_matrix = np.stack([vectors_by_text[t] for t in entry_strings]) if entry_strings else None
    label_of = dict(zip(texts, labels.tolist(), strict=True))
    members: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        members.setdefault(label_of[row["question"]], []).append(row)
    index_of = {t: i for i, t in enumerate(texts)}
    topics = [_topic(group, matrix, index_of, entry_matrix, entry_ids) for group in members.values()]
    topics.sort(key=lambda t: (-t.students, -t.asked, t.first_seen))
    seconds["summarise"] = time.perf_counter() - summarising
    seconds["total"] = time.perf_counter() - started
    embedded = getattr(embed, "embedded", 0)
    return GapReport(topics, len(rows), len(texts), embedded, seconds)


def _topic(rows: list[dict[str, Any]], matrix: np.ndarray, index_of: dict[str, int],
           entry_matrix: np.ndarray | None, entry_ids: list[str]) -> Topic:
    distinct = list(dict.fromkeys(r["question"] for r in rows))
    vectors = matrix[[index_of[t] for t in distinct]]
    centre = vectors.mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-12)
    order = np.argsort(-(vectors @ centre), kind="stable")
    nearest, similarity = None, None
    if entry_matrix is not None:
        sims = entry_matrix @ centre
        best = int(np.argmax(sims))
        nearest, similarity = entry_ids[best], float(sims[best])
    # A row without a user (none was known) counts as its own student rather than merging strangers.
    askers = {r["user_hash"] or f"row-{r['id']}" for r in rows}
    times = sorted(r["created_at"] for r in rows)
    days: dict[str, int] = {}
    for stamp in times:
        days[stamp[:10]] = days.get(stamp[:10], 0) + 1
    disliked_from: dict[str, int] = {}
    unsure_from: dict[str, int] = {}
    for row in rows:
        shown = row.get("entries") or []  # the entry ids shown, best first (`QuestionLog.rows` decodes them)
        if not (row["answered"] and shown):
            continue
        # A 👎 is the student's word; an unsure answer nobody rated is the bot's own doubt.
        counts = disliked_from if row.get("rating") == -1 else unsure_from if row.get("unsure") else None
        if counts is not None:
            counts[shown[0]] = counts.get(shown[0], 0) + 1
    return Topic(questions=[distinct[i] for i in order], asked=len(rows), students=len(askers),
                 declined=sum(not r["answered"] for r in rows), disliked=sum(r.get("rating") == -1 for r in rows),
                 first_seen=times[0], last_seen=times[-1], nearest_entry=nearest, similarity=similarity, days=days,
                 disliked_from=disliked_from, unsure=sum(unsure_from.values()), unsure_from=unsure_from)


class CachedEmbedder:
    """texts -> unit vectors: the log's cache first, MiniLM (`encode`) for the rest, which are then cached.

    Only the gap questions' vectors stay cached (`keep`): a pruned or now-answered question's vector goes.
    """

    def __init__(self, questions: Any, encode: Callable[[list[str]], np.ndarray]) -> None:
        self.questions = questions
        self.encode = encode
        self.embedded = 0

    def __call__(self, texts: list[str]) -> dict[str, np.ndarray]:
        texts = list(dict.fromkeys(texts))
        found = self.questions.cached_vectors(texts)
        missing = [t for t in texts if t not in found]
        if missing:
            fresh = self.encode(missing)
            found.update(zip(missing, fresh, strict=True))
            self.embedded = len(missing)
        self.questions.store_vectors({t: found[t] for t in missing}, keep=texts)
        return found


def gaps_from_log(settings: Settings, distance: float = DISTANCE) -> GapReport:
    """The gaps in `settings`' question log, against its knowledge folder, with the service's MiniLM."""
    from bot.answering.compose import UNSURE_BELOW
    from bot.search.embeddings import shared_model  # ONNX Runtime by default: no torch on this path

    questions = QuestionLog.reader(settings)
    rows = questions.rows(gaps_only=True, unsure_below=UNSURE_BELOW)
    model = shared_model()
    model.adopt(settings)
    entries = load_entries(settings.knowledge_dir)
    return find_gaps(rows, CachedEmbedder(questions, model.encode_array), entries, distance)
