"""The search index: a Chroma collection (dense) and a BM25 index (lexical) over the same chunks.

Each entry is indexed several ways (`bot.search.chunks`) — its question, each alias, each answer
sentence, and the question with the whole answer — and every chunk's metadata points back to its
entry. Syncing is incremental: an entry whose content hash is already in the collection costs no
embedding; a changed entry re-embeds only its own chunks; a deleted entry's chunks are removed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import chromadb
import numpy as np
from tqdm import tqdm

from bot.config import Settings
from bot.errors import IndexBuildError, SearchUnavailableError
from bot.knowledge import Entry
from bot.search import chunks as chunking
from bot.search.beside_caller import CHROMA_THREADS, BesideCaller
from bot.search.chroma_client import Progress, open_client
from bot.search.chunk_vectors import ChunkVectors
from bot.search.chunks import Chunk
from bot.search.embeddings import MiniLM, MiniLMChromaFunction, shared_model
from bot.search.lexical import LexicalIndex
from bot.search.near_misses import NearMisses, NearMissStore
from bot.search.pieces import EntryPieces, PiecesStore, asked_texts, piece_texts
from bot.search.reading.abbreviations import as_searched

if TYPE_CHECKING:
    from langchain_chroma import Chroma

    from bot.search.langchain_views import MiniLMEmbeddings

# Entries are embedded and written a window of chunks at a time; texts go to the encoder sorted by
# length, _ENCODE_BATCH per call (the encoder's lock is free between calls for queries meanwhile).
# Each window is written (its pieces files, then Chroma's `add`) before the next is encoded. Writing
# it in a background thread meanwhile was measured (issue 13, 2,009 entries, the interleaved
# build-vs-bare bench, quiet runs): 0.83x the bare encode with it, 0.81-0.83x without - within the
# noise, so not kept. ONNX Runtime's two threads already keep both cores busy, and Chroma's `add`
# (~8 % of the build) holds the GIL, so the encoding thread's pooling waited on it (0.6 -> 4.6 s).
_WINDOW = 4096
_ENCODE_BATCH = 256
_WRITE_BATCH = 512
# How many entries' word pieces `KnowledgeIndex.entry_pieces` keeps in memory (0.15-0.3 MB an entry;
# reading one back from disk costs well under a millisecond).
ENTRY_PIECES_KEPT = 256
# What a student sees when the Chroma server is down (the server's address goes to the staff's console).
SEARCH_UNAVAILABLE = "The search service is unreachable right now - please try again in a minute."


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"index: {len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
                f"{self.unchanged} unchanged; {self.chunks_embedded} chunks embedded in {self.seconds:.1f} s")


class KnowledgeIndex:
    """Dense + lexical views of the chunks; `sync(entries)` brings both up to date."""

    def __init__(self, settings: Settings, model: MiniLM | None = None, progress: Progress | None = None) -> None:
        self.settings = settings
        self.model = model or shared_model()
        self.model.adopt(settings, progress)  # the process-wide encoder takes this data dir and backend
        self.model.prepare()  # loads (or exports, the first time) while Chroma and BM25 open
        self._say = progress or (lambda message: None)
        self.client = open_client(settings, self._say)
        self.collection = self._open_collection()
        # An embedded Chroma's threads run beside the thread that queries it (`bot.search.beside_caller`);
        # a Chroma server's threads are another process's.
        self.beside_caller = BesideCaller(() if settings.chroma_url else CHROMA_THREADS)
        self.chunks: list[Chunk] = []
        self._by_id: dict[str, Chunk] = {}
        self.pieces = PiecesStore(settings.data_dir / "pieces" / settings.collection)
        self._entries: dict[str, tuple[Entry, str]] = {}  # id -> (entry, version) of what is indexed
        self._pieces_kept: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._pieces_lock = threading.Lock()
        self.lexical = LexicalIndex.build([])
        self.centroid: np.ndarray | None = None  # the indexed answers' mean direction (`corpus_centroid`)
        self.course_floor: float | None = None  # how far from its answer a listed question lies at most (`least_near`)
        self.chunk_vectors = ChunkVectors()  # stored chunk vectors by entry (`nearest_course_text`, the retriever)
        self.near_miss_store = NearMissStore(settings.data_dir / "near_misses" / f"{settings.collection}.npz")
        self.near_misses = NearMisses()  # what no answer covers (`bot.search.near_misses`), set by `sync`

    def _open_collection(self) -> chromadb.Collection:
        function = MiniLMChromaFunction(self.model)
        try:
            return self.client.get_or_create_collection(self.settings.collection, embedding_function=function,
                                                        configuration={"hnsw": {"space": "cosine"}})
        except Exception as error:
            if self.settings.chroma_url:
                raise IndexBuildError(f"Chroma server refused the collection: {error}") from None
            self._say(f"index collection is unreadable ({error.__class__.__name__}); rebuilding it")
            try:
                self.client.delete_collection(self.settings.collection)
            except Exception:  # noqa: S110 - it may not exist at all; creating it below is what matters
                pass
            return self.client.get_or_create_collection(self.settings.collection, embedding_function=function,
                                                        configuration={"hnsw": {"space": "cosine"}})

    # LangChain's views of the same encoder and collection, built on first use: the answer path
    # embeds with `self.model` and queries `self.collection` directly, and importing langchain_chroma
    # would cost every `tabot ask` a third of a second.
    @cached_property
    def embeddings(self) -> MiniLMEmbeddings:
        """The shared encoder as a LangChain `Embeddings`."""
        from bot.search.langchain_views import MiniLMEmbeddings

        return MiniLMEmbeddings(self.model)

    @cached_property
    def vectorstore(self) -> Chroma:
        """The collection as a langchain_chroma `Chroma` vector store (same client, same vectors)."""
        from langchain_chroma import Chroma

        return Chroma(client=self.client, collection_name=self.settings.collection, embedding_function=self.embeddings)

    @property
    def lexical_dir(self) -> Path:
        return self.settings.data_dir / "lexical" / self.settings.collection

    def _stored_versions(self) -> dict[str, Counter[str]]:
        """For each stored entry, how many of its chunks carry each version."""
        stored = self.collection.get(include=["metadatas"])
        versions: dict[str, Counter[str]] = {}
        for metadata in stored["metadatas"] or []:
            if metadata:
                versions.setdefault(str(metadata["entry_id"]), Counter())[str(metadata.get("version", ""))] += 1
        return versions

    def sync(self, entries: list[Entry]) -> IndexReport:
        """Make the index hold exactly `entries`, embedding only what changed. It holds them as they are
        searched: each in the forms of a term its knowledge base writes (`Abbreviations.searched`)."""
        started = time.perf_counter()
        entries = as_searched(entries)
        report = IndexReport()
        stored = self._stored_versions()
        wanted = {entry.id: entry for entry in entries}
        report.removed = sorted(set(stored) - set(wanted))
        todo: list[Chunk] = []
        versions: dict[str, str] = {}
        # `chunking.` names the module: a variant that swaps `chunks.entry_chunks` (`python -m eval.variants
        # chunks`) then cuts what is embedded, versioned and held alike.
        for entry in entries:
            version = chunking.entry_version(entry)
            # Unchanged only if *every* chunk is there at this version: a build interrupted
            # between two batches leaves an entry half-written, and that must be redone.
            if stored.get(entry.id) == Counter({version: len(chunking.entry_chunks(entry))}):
                report.unchanged += 1
                continue
            (report.updated if entry.id in stored else report.added).append(entry.id)
            todo += chunking.entry_chunks(entry)
            versions[entry.id] = version
        # An edited entry keeps the vectors of its chunks whose text did not change.
        reuse = self._stored_vectors(report.updated)
        self._delete_entries(report.removed + report.updated)
        self._entries = {entry.id: (entry, chunking.entry_version(entry)) for entry in entries}
        report.chunks_embedded = self._embed(todo, versions, reuse)
        # Entries indexed before their pieces were kept (or whose file was lost) get them now, once.
        backfill = [e for e in entries if not self.pieces.has(e.id, self._entries[e.id][1])]
        self._save_pieces(backfill, {})
        for entry_id in report.removed:
            self.pieces.remove(entry_id)
        for entry_id in [*report.updated, *(e.id for e in backfill)]:
            self.pieces.remove(entry_id, keep=self._entries[entry_id][1])
        self.chunks = chunking.build_chunks(entries)
        self._by_id = {c.id: c for c in self.chunks}
        self._sync_lexical(changed=bool(todo or report.removed))
        if self.centroid is None or todo or report.removed:  # a sync that changed nothing keeps it
            stored = self._stored_vectors(sorted({chunk.entry_id for chunk in self.chunks}))  # read once for all three
            self.centroid = self.corpus_centroid(stored)
            self.course_floor = self.least_near(stored)
            self.chunk_vectors = ChunkVectors.of(self.chunks, stored)
        self.near_misses = self.near_miss_store.sync(entries, self.model.encode_with_pieces)
        self.model.load()  # ready (a broken model fails here, at `tabot index` and start-up, not mid-answer)
        report.seconds = time.perf_counter() - started
        return report

    def chunks_by_entry(self) -> dict[str, list[Chunk]]:
        """The chunks the index holds, by entry: its text as searched (`as_searched`)."""
        by_entry: dict[str, list[Chunk]] = {}
        for chunk in self.chunks:
            by_entry.setdefault(chunk.entry_id, []).append(chunk)
        return by_entry

    def corpus_centroid(self, stored: dict[str, np.ndarray] | None = None) -> np.ndarray | None:
        """The unit mean of the indexed entries' mean chunk vectors: where "a question about this
        course" points. Each entry counts once, however many aliases and sentences it has. Read from
        the stored vectors (`stored`, or fetched; None for an index that holds no chunks yet)."""
        by_entry = self.chunks_by_entry()
        stored = self._stored_vectors(sorted(by_entry)) if stored is None else stored
        means = [np.mean([stored[c.text] for c in chunks if c.text in stored], axis=0, dtype=np.float64)
                 for _, chunks in sorted(by_entry.items()) if any(c.text in stored for c in chunks)]
        if not means:
            return None
        mean = np.mean(means, axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)

    def least_near(self, stored: dict[str, np.ndarray] | None = None) -> float | None:
        """How far from the rest of its own answer a question staff listed can lie: over every entry's
        question and aliases, the lowest of each one's best cosine to the entry's other chunks (its
        question, aliases, sentences, the whole). A post's question further than that from all of the
        course's texts is not about the course (`nearest_course_text`, `bot.search.reading.off_course`). Per
        entry, so it costs what the entry's own chunks cost; None for an index with no such entry.
        `stored`: the chunks' stored vectors, when the caller has read them."""
        by_entry = self.chunks_by_entry()
        stored = self._stored_vectors(sorted(by_entry)) if stored is None else stored
        lowest: float | None = None
        for chunks in by_entry.values():
            texts = list(dict.fromkeys(c.text for c in chunks if c.text in stored))
            asked = {c.text for c in chunks if c.kind in ("question", "alias")}
            if len(texts) < 2 or not asked:
                continue
            vectors = np.stack([stored[text] for text in texts])
            cosines = vectors @ vectors.T
            np.fill_diagonal(cosines, -1.0)
            for row, text in enumerate(texts):
                if text in asked:
                    best = float(cosines[row].max())
                    lowest = best if lowest is None else min(lowest, best)
        return lowest

    def nearest_course_text(self, vectors: list[np.ndarray]) -> list[float]:
        """For each unit vector, its best cosine to anything the course holds: a chunk of any entry or a
        listed near miss. Like the centroid, from the stored vectors read at `sync`, exactly: it asks
        only how near the course a text is, never which chunk, and a second Chroma query per post
        cost 1.6 ms of fixed overhead (more than a short question's whole search)."""
        nearest = []
        for vector in vectors:
            best = self.chunk_vectors.nearest(vector)
            near_miss = self.near_misses.closest(vector)
            nearest.append(max(best, near_miss) if near_miss is not None else best)
        return nearest

    def _stored_vectors(self, entry_ids: list[str]) -> dict[str, np.ndarray]:
        """{chunk text: stored vector} over the given entries' chunks."""
        vectors: dict[str, np.ndarray] = {}
        for start in range(0, len(entry_ids), _WRITE_BATCH):
            part = entry_ids[start:start + _WRITE_BATCH]
            got = self.collection.get(where={"entry_id": {"$in": part}}, include=["documents", "embeddings"])
            documents = got.get("documents") or []
            embeddings = got.get("embeddings")
            if embeddings is None:
                continue
            for text, vector in zip(documents, embeddings, strict=True):
                if text is not None:
                    vectors[text] = np.asarray(vector, dtype=np.float32)
        return vectors

    def _delete_entries(self, entry_ids: list[str]) -> None:
        for start in range(0, len(entry_ids), _WRITE_BATCH):
            self.collection.delete(where={"entry_id": {"$in": entry_ids[start:start + _WRITE_BATCH]}})

    def _embed(self, chunks: list[Chunk], versions: dict[str, str], reuse: dict[str, np.ndarray]) -> int:
        """Store `chunks` with their vectors; returns how many texts it had to encode.

        Each distinct text is encoded once (a sentence repeated across entries, an unchanged chunk of
        an edited entry: never twice), in batches of similar length so that little compute goes to
        padding. Windows of entries are written as they are done, so an interrupted build keeps them.
        """
        vectors = dict(reuse)
        pending = {c.text for c in chunks} - vectors.keys()
        bar = tqdm(total=len(pending), desc="embedding chunks", unit="chunk", file=sys.stderr,
                   disable=len(pending) < 2 * _ENCODE_BATCH)
        encoded = 0
        # The same encoder pass gives each entry's word pieces (semantic coverage), saved when the
        # window holding the entry's last chunk is done. A text's pieces are kept until the last window
        # that completes an entry using it (a sentence shared with a later entry, an entry straddling
        # two windows), then dropped: memory holds about one window's pieces, and nothing is encoded twice.
        last_chunk = {c.entry_id: i for i, c in enumerate(chunks)}
        keep_until: dict[str, int] = {}
        for c in chunks:
            keep_until[c.text] = max(keep_until.get(c.text, 0), last_chunk[c.entry_id] // _WINDOW)
        pieces: dict[str, np.ndarray] = {}
        for start in range(0, len(chunks), _WINDOW):
            window = chunks[start:start + _WINDOW]
            todo = sorted({c.text for c in window} - vectors.keys(), key=len)
            for first in range(0, len(todo), _ENCODE_BATCH):
                texts = todo[first:first + _ENCODE_BATCH]
                batch_vectors, batch_pieces = self.model.encode_with_pieces(texts)
                vectors.update(zip(texts, batch_vectors, strict=True))
                pieces.update(zip(texts, (rows.astype(np.float16) for rows in batch_pieces), strict=True))
                encoded += len(texts)
                bar.update(len(texts))
            self._save_pieces([self._entries[c.entry_id][0] for i, c in enumerate(window, start)
                               if last_chunk[c.entry_id] == i and c.entry_id in self._entries], pieces)
            for text in [t for t in pieces if keep_until[t] <= start // _WINDOW]:
                del pieces[text]
            for first in range(0, len(window), _WRITE_BATCH):
                batch = window[first:first + _WRITE_BATCH]
                self.collection.add(
                    ids=[c.id for c in batch],
                    embeddings=np.stack([vectors[c.text] for c in batch]),
                    documents=[c.text for c in batch],
                    metadatas=[{"entry_id": c.entry_id, "kind": c.kind, "version": versions[c.entry_id]}
                               for c in batch],
                )
        bar.close()
        return encoded

    def _save_pieces(self, entries: list[Entry], known: dict[str, np.ndarray]) -> None:
        """Write each entry's word pieces, encoding only the texts not in `known` (an unchanged
        sentence of an edited entry, a text shared with an entry of an earlier window)."""
        for first in range(0, len(entries), _ENCODE_BATCH // 8):
            batch = entries[first:first + _ENCODE_BATCH // 8]
            missing = sorted({t for e in batch for t in piece_texts(e)} - known.keys(), key=len)
            found: dict[str, np.ndarray] = {}
            for start in range(0, len(missing), _ENCODE_BATCH):
                texts = missing[start:start + _ENCODE_BATCH]
                found.update(zip(texts, self.model.encode_with_pieces(texts)[1], strict=True))
            for entry in batch:
                self.pieces.save(entry.id, self._entries[entry.id][1],
                                 [known[t] if t in known else found[t] for t in piece_texts(entry)],
                                 asked_texts(entry))

    def entry_pieces(self, entry_id: str) -> EntryPieces:
        """The indexed entry's content word pieces in context (`bot.search.token_match`): read from
        disk the first time the entry is a candidate, kept for the ENTRY_PIECES_KEPT most recent
        entries (keyed by version, so an edit is never served stale); written again if the file is
        missing (a data dir from before they were kept, a deleted file)."""
        entry, version = self._entries[entry_id]
        key = (entry_id, version)
        with self._pieces_lock:
            rows = self._pieces_kept.get(key)
            if rows is not None:
                self._pieces_kept.move_to_end(key)
                return rows
        rows = self.pieces.load(entry_id, version)
        if rows is None:
            self._save_pieces([entry], {})
            rows = self.pieces.load(entry_id, version)
        assert rows is not None
        with self._pieces_lock:
            self._pieces_kept[key] = rows
            while len(self._pieces_kept) > ENTRY_PIECES_KEPT:
                self._pieces_kept.popitem(last=False)
        return rows

    def _sync_lexical(self, changed: bool) -> None:
        signature = json.dumps([c.id for c in self.chunks] + [c.text for c in self.chunks])
        manifest = self.lexical_dir / "manifest.json"
        digest = hashlib.sha256(signature.encode()).hexdigest()[:16]
        if not changed and manifest.is_file():
            try:
                if json.loads(manifest.read_text()).get("digest") == digest:
                    self.lexical = LexicalIndex.load(self.lexical_dir)
                    return
            except Exception as error:  # corrupt files: fall through and rebuild
                self._say(f"lexical index unreadable ({error.__class__.__name__}); rebuilding it")
        self.lexical = LexicalIndex.build([c.text for c in self.chunks])
        shutil.rmtree(self.lexical_dir, ignore_errors=True)
        self.lexical.save(self.lexical_dir)
        manifest.write_text(json.dumps({"digest": digest, "chunks": len(self.chunks)}))

    def dense_search_many(self, vectors: list[np.ndarray], k: int) -> list[list[tuple[Chunk, float]]]:
        """Top-k chunks for each of several embedded queries, in one Chroma query.

        Asks Chroma for ids and distances only: the chunks' text and metadata are already in memory,
        and fetching them back (what LangChain's `similarity_search_by_vector*` always does) doubled
        the query's time. One call for a post's focus, prose and parts costs about what one costs."""
        if not vectors:
            return []
        try:
            with self.beside_caller():
                found = self.collection.query(query_embeddings=list(vectors),
                                              n_results=min(k, len(self._by_id) or 1), include=["distances"])
        except Exception as error:
            if not self.settings.chroma_url:
                raise  # the embedded store has no server to be down: anything here is a bug, keep its traceback
            # The server stopped (or restarted) under a running chat: say so, and the next question,
            # once it is back, works again (the client reconnects on each request).
            self._say(f"search: the Chroma server at {self.settings.chroma_url} is unreachable "
                      f"({error.__class__.__name__}: {error})")
            raise SearchUnavailableError(SEARCH_UNAVAILABLE) from None
        results = []
        for ids, distances in zip(found["ids"], found["distances"] or [[]] * len(vectors), strict=True):
            # A chunk of an entry no longer loaded is ignored, never shown. The collection's space is
            # cosine, so similarity = 1 - distance (what LangChain's relevance score also returns).
            results.append([(self._by_id[chunk_id], 1.0 - float(distance))
                            for chunk_id, distance in zip(ids, distances, strict=True) if chunk_id in self._by_id])
        return results

    def lexical_search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        return [(self.chunks[i], score) for i, score in self.lexical.search(query, k)]


