import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.errors import IndexBuildError
from bot.knowledge import load_entries
from bot.search.chunks import entry_chunks, entry_version
from bot.search.index import KnowledgeIndex
from bot.search.reading.abbreviations import as_searched
from bot.search.retrieve import HybridRetriever


@pytest.fixture()
def knowledge(tmp_path: Path) -> Path:
    folder = tmp_path / "answers"
    shutil.copytree(Settings().knowledge_dir, folder)
    return folder


def test_incremental_sync_embeds_only_what_changed(tmp_path: Path, knowledge: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge)
    index = KnowledgeIndex(settings)
    first = index.sync(load_entries(knowledge))
    assert len(first.added) == 9 and first.chunks_embedded == len({c.text for c in index.chunks})

    # A second process opening the same data dir finds everything up to date: nothing embedded.
    again = KnowledgeIndex(settings).sync(load_entries(knowledge))
    assert again.unchanged == 9 and again.chunks_embedded == 0

    # Editing one entry rewrites that entry's chunks but embeds only the text that is new: the
    # other chunks keep their stored vectors, which are still what the encoder gives for their text.
    path = knowledge / "log-base.md"
    path.write_text(path.read_text().replace("aliases:\n", "aliases:\n  - which log base for bits\n", 1))
    entries = load_entries(knowledge)
    changed = index.sync(entries)
    log_base = next(e for e in as_searched(entries) if e.id == "log-base")  # as the index holds it
    assert changed.updated == ["log-base"] and changed.unchanged == 8
    assert changed.chunks_embedded == 1
    stored = index.collection.get(where={"entry_id": "log-base"}, include=["documents", "embeddings", "metadatas"])
    assert sorted(stored["ids"]) == sorted(c.id for c in entry_chunks(log_base))
    assert {m["version"] for m in stored["metadatas"]} == {entry_version(log_base)}
    fresh = index.model.encode_array(list(stored["documents"]))
    assert np.min(np.sum(fresh * np.asarray(stored["embeddings"]), axis=1)) > 0.99999

    # Deleting an entry removes its chunks from both dense and lexical search.
    (knowledge / "kl-asymmetry.md").unlink()
    entries = load_entries(knowledge)
    removed = index.sync(entries)
    assert removed.removed == ["kl-asymmetry"] and removed.chunks_embedded == 0
    assert index.collection.get(where={"entry_id": "kl-asymmetry"})["ids"] == []
    retriever = HybridRetriever(index=index, entries={e.id: e for e in entries})
    assert "kl-asymmetry" not in [h.entry_id for h in retriever.search("kl divergence asymmetry", k=9)]


def test_the_centroid_weighs_each_entry_once_and_follows_the_indexed_entries(tmp_path: Path, knowledge: Path) -> None:
    index = KnowledgeIndex(Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge))
    index.sync(load_entries(knowledge))

    def by_hand() -> np.ndarray:  # every stored vector at once, grouped here, not as the index streams them
        stored = index.collection.get(include=["embeddings", "metadatas"])
        vectors = np.asarray(stored["embeddings"], dtype=np.float64)
        owners = np.array([m["entry_id"] for m in stored["metadatas"]])
        mean = np.mean([vectors[owners == e].mean(axis=0) for e in sorted(set(owners))], axis=0)
        return mean / np.linalg.norm(mean), vectors

    expected, vectors = by_hand()
    assert index.centroid is not None and np.allclose(index.centroid, expected, atol=1e-5)
    # Entries have different numbers of chunks: a plain mean over chunks would lean to the bigger ones.
    plain = vectors.mean(axis=0) / np.linalg.norm(vectors.mean(axis=0))
    assert not np.allclose(index.centroid, plain, atol=1e-3)

    kept = index.centroid
    index.sync(load_entries(knowledge))  # nothing changed: the stored vectors are not read again
    assert index.centroid is kept

    (knowledge / "kl-asymmetry.md").unlink()
    index.sync(load_entries(knowledge))
    assert np.allclose(index.centroid, by_hand()[0], atol=1e-5) and not np.allclose(index.centroid, expected, atol=1e-3)
    # An index that has not synced yet holds no entries it knows of: no centroid, not a zero vector.
    assert KnowledgeIndex(Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge)).corpus_centroid() is None


def test_batched_dense_search_matches_langchain_one_query_at_a_time(tmp_path: Path, knowledge: Path) -> None:
    # The answer path asks Chroma once for a post's focus, prose and parts, ids and distances only;
    # each list must be exactly what LangChain's own search returns for that vector alone.
    index = KnowledgeIndex(Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge))
    index.sync(load_entries(knowledge))
    questions = ["which log base for cross entropy?", "is adam a second order method", "bfs order for backprop"]
    vectors = index.embeddings.embed_documents(questions)
    batched = index.dense_search_many(vectors, 12)
    assert len(batched) == 3
    for vector, found in zip(vectors, batched, strict=True):
        reference = index.vectorstore.similarity_search_by_vector_with_relevance_scores(vector, k=12)
        assert [chunk.id for chunk, _ in found] == [str(doc.id) for doc, _ in reference]
        assert [s for _, s in found] == pytest.approx([1.0 - d for _, d in reference], abs=1e-6)
    assert batched[0] != batched[1]


def test_a_swapped_chunking_is_what_the_index_embeds_versions_and_holds(tmp_path: Path, knowledge: Path) -> None:
    # `python -m eval.variants chunks` measures other cuts by swapping `bot.search.chunks.entry_chunks`;
    # a cut the index did not follow everywhere would measure today's chunks under another name.
    from unittest import mock

    from bot.search import chunks

    def without_qa(entry):
        return [chunk for chunk in entry_chunks(entry) if chunk.kind != "qa"]

    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge)
    with mock.patch("bot.search.chunks.entry_chunks", without_qa):
        index = KnowledgeIndex(settings)
        index.sync(load_entries(knowledge))
        stored = index.collection.get(include=["metadatas"])
        log_base = next(e for e in as_searched(load_entries(knowledge)) if e.id == "log-base")
        swapped_version = chunks.entry_version(log_base)
    assert stored["ids"] and not [i for i in stored["ids"] if i.endswith("::qa")]
    assert sorted(stored["ids"]) == sorted(c.id for c in index.chunks)
    assert not [c for c in index.chunks if c.kind == "qa"]
    versions = {m["version"] for m in stored["metadatas"] if m["entry_id"] == "log-base"}
    assert versions == {swapped_version} != {entry_version(log_base)}


def test_lexical_tokens_are_bm25s_tokens() -> None:
    # `tokenize` re-implements bm25s's tokenizer for speed; the saved BM25 index was built with it,
    # so it must give exactly bm25s's tokens (odd inputs included).
    import bm25s

    from bot.search.lexical import _STEMMER, tokenize
    texts = [e.question + " " + e.answer for e in load_entries(Settings().knowledge_dir)]
    texts += ["", "The THE the a", "naïve café Straße ÄÖÜ", "日本語のテキスト", "a_b c-d e.f 3.14 1e-3 x y",
              "Isn't it KL(p||q)? Minimising, minimised, minimise."]
    expected = bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER.stemWords, return_ids=False,
                              show_progress=False)
    assert tokenize(texts) == expected


def test_each_distinct_text_is_encoded_once_shortest_first(tmp_path: Path, knowledge: Path) -> None:
    # Two entries sharing an alias and a sentence: the shared texts are encoded once, yet stored for both.
    kl = (knowledge / "kl-asymmetry.md").read_text()
    (knowledge / "kl-copy.md").write_text(kl.replace("id: kl-asymmetry", "id: kl-copy", 1))
    entries = load_entries(knowledge)
    index = KnowledgeIndex(Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge))
    calls: list[list[str]] = []
    encode = index.model.encode_with_pieces
    index.model.encode_with_pieces = lambda texts: calls.append(list(texts)) or encode(texts)  # type: ignore[method-assign]
    try:
        report = index.sync(entries)
    finally:
        del index.model.encode_with_pieces
    *chunk_calls, near_miss_call = calls  # the near misses' vectors and pieces come last, in one call
    assert near_miss_call == list(index.near_misses.texts) and len(near_miss_call) > 0
    encoded = [text for call in chunk_calls for text in call]
    texts = {c.text for c in index.chunks}
    assert len(texts) < len(index.chunks)  # the copy really duplicates texts
    # The entries' word pieces (semantic coverage) come from the same pass: nothing encoded twice.
    assert sorted(encoded) == sorted(texts) and report.chunks_embedded == len(texts)
    assert encoded == sorted(encoded, key=len)  # one window here: a single length-sorted pass
    for entry in as_searched(entries):
        assert index.pieces.has(entry.id, entry_version(entry))
    assert len(index.collection.get(where={"entry_id": "kl-copy"})["ids"]) == len(entry_chunks(
        next(e for e in entries if e.id == "kl-copy")))


def test_across_windows_pieces_are_saved_for_every_entry_without_encoding_twice(
        tmp_path: Path, knowledge: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small windows: entries straddle window edges and a copied entry repeats texts of an earlier window.
    from bot.search import index as index_module

    kl = (knowledge / "kl-asymmetry.md").read_text()
    (knowledge / "zz-kl-copy.md").write_text(kl.replace("id: kl-asymmetry", "id: zz-kl-copy", 1))
    monkeypatch.setattr(index_module, "_WINDOW", 23)
    entries = load_entries(knowledge)
    index = KnowledgeIndex(Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge))
    index.model.load()
    before = index.model.texts_embedded
    index.sync(entries)
    # Every distinct chunk text once, and the near misses (bot.search.near_misses) once.
    assert index.model.texts_embedded - before == len({c.text for c in index.chunks}) + len(index.near_misses.texts)
    reference = KnowledgeIndex(Settings(data_dir=tmp_path / "one-window", knowledge_dir=knowledge))
    reference.sync(entries)
    for entry in entries:
        got, want = index.entry_pieces(entry.id), reference.entry_pieces(entry.id)
        assert got.rows.shape == want.rows.shape and np.allclose(got.rows, want.rows, atol=2e-3), entry.id


def test_entry_pieces_are_read_from_the_build_and_follow_edits(tmp_path: Path, knowledge: Path) -> None:
    from bot.search.token_match import semantic_coverage

    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge)
    index = KnowledgeIndex(settings)
    entries = load_entries(knowledge)
    index.sync(entries)
    kl = next(e for e in entries if e.id == "kl-asymmetry")
    stored = index.entry_pieces("kl-asymmetry")
    # What the build kept is what the encoder gives for the entry's texts (to float16 precision),
    # and its own questions (question and aliases) text by text.
    encoded = index.model.encode_with_pieces([kl.question, *kl.aliases, *kl.sentences])[1]
    fresh = np.vstack(encoded)
    assert stored.rows.shape == fresh.shape and np.max(np.abs(stored.rows - fresh)) < 2e-3
    asked = [rows for rows in encoded[:1 + len(kl.aliases)] if len(rows)]
    assert len(stored.asked) == len(asked) and np.max(np.abs(stored.asked.rows - np.vstack(asked))) < 2e-3
    assert stored.asked.starts.tolist() == np.cumsum([0] + [len(rows) for rows in asked[:-1]]).tolist()
    # Answering reads them: a search encodes the question's texts only.
    retriever = HybridRetriever(index=index, entries={e.id: e for e in entries})
    before = index.model.texts_embedded
    hits = retriever.search("why is KL divergence not symmetric")
    assert index.model.texts_embedded - before == 1 and hits[0].meaning_focus > 0
    question = retriever.embed_texts(["why is KL divergence not symmetric"])["why is KL divergence not symmetric"]
    assert hits[0].meaning_focus == semantic_coverage(question.pieces, stored.rows, 2)
    # An edit writes the entry's new version and removes the old file; a removed entry loses its file.
    path = knowledge / "kl-asymmetry.md"
    path.write_text(path.read_text().replace("aliases:\n", "aliases:\n  - is kl divergence a metric\n", 1))
    edited = load_entries(knowledge)
    index.sync(edited)
    new_kl = next(e for e in as_searched(edited) if e.id == "kl-asymmetry")
    assert [p.name for p in index.pieces.directory.glob("kl-asymmetry-*")] == [
        f"kl-asymmetry-{entry_version(new_kl)}.npz"]
    assert len(index.entry_pieces("kl-asymmetry").rows) > len(stored.rows)
    (knowledge / "kl-asymmetry.md").unlink()
    index.sync(load_entries(knowledge))
    assert list(index.pieces.directory.glob("kl-asymmetry-*")) == []
    # A data dir whose pieces were lost gets them back at the next sync, without re-embedding chunks;
    # one from before the files held each text's count (a bare .npy of the pieces) gets the new files
    # and loses the old ones.
    for file in index.pieces.directory.glob("*.npz"):
        np.save(file.with_suffix(".npy"), np.load(file)["rows"])
        file.unlink()
    report = KnowledgeIndex(settings).sync(load_entries(knowledge))
    assert report.chunks_embedded == 0 and len(list(index.pieces.directory.glob("*.npz"))) == 8
    assert list(index.pieces.directory.glob("*.npy")) == []


def test_an_interrupted_build_is_finished_on_the_next_sync(tmp_path: Path, knowledge: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge)
    index = KnowledgeIndex(settings)
    entries = load_entries(knowledge)
    index.sync(entries)
    # Simulate a crash between two embedding batches: some of one entry's chunks are missing.
    stored = index.collection.get(where={"entry_id": "kl-asymmetry"})["ids"]
    index.collection.delete(ids=stored[: len(stored) // 2])
    report = KnowledgeIndex(settings).sync(entries)
    assert report.updated == ["kl-asymmetry"] and report.unchanged == 8
    assert len(index.collection.get(where={"entry_id": "kl-asymmetry"})["ids"]) == len(stored)


def test_corrupt_data_dir_is_rebuilt_with_a_message(tmp_path: Path, knowledge: Path) -> None:
    data = tmp_path / "data"
    (data / "chroma").mkdir(parents=True)
    (data / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    (data / "lexical" / "tabot_answers").mkdir(parents=True)
    (data / "lexical" / "tabot_answers" / "manifest.json").write_text("{broken")
    messages: list[str] = []
    index = KnowledgeIndex(Settings(data_dir=data, knowledge_dir=knowledge), progress=messages.append)
    report = index.sync(load_entries(knowledge))
    assert any("rebuilding" in m for m in messages)
    assert len(report.added) == 9
    retriever = HybridRetriever(index=index, entries={e.id: e for e in load_entries(knowledge)})
    assert retriever.search("why is KL divergence not symmetric")[0].entry_id == "kl-asymmetry"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_server_mode_retrieves_through_a_real_chroma_server(tmp_path: Path, knowledge: Path) -> None:
    port = _free_port()
    chroma = Path(sys.executable).parent / "chroma"
    server = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        settings = Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge, chroma_url=f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while True:
            try:
                index = KnowledgeIndex(settings)
                break
            except IndexBuildError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.5)
        entries = load_entries(knowledge)
        assert len(index.sync(entries).added) == 9
        assert KnowledgeIndex(settings).sync(entries).chunks_embedded == 0  # state lives in the server
        retriever = HybridRetriever(index=index, entries={e.id: e for e in entries})
        assert retriever.search("why is KL divergence not symmetric")[0].entry_id == "kl-asymmetry"
        assert not (tmp_path / "data" / "chroma").exists()  # nothing went to the embedded store
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, chroma_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(IndexBuildError, match="chroma run"):
        KnowledgeIndex(settings)
