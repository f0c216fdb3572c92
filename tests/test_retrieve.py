from collections import defaultdict

import numpy as np
import pytest
from langchain_core.documents import Document

from bot.search.langchain_views import EntryRetriever
from bot.search.reading.focus import read_post
from bot.search.retrieve import (
    COVERAGE_PSEUDO_TERMS,
    LEXICAL_WEIGHT,
    PROSE_COVERAGE_PIECES,
    Calibration,
    Embedded,
    coverage,
    matched_words,
    rank_order,
    rank_score,
)
from bot.search.token_match import Texts, agreements, best_agreement, best_matches, semantic_coverage
from tests.conftest import load_jsonl


def test_rank_score_coverage_and_confidence_arithmetic() -> None:
    assert rank_score(0.5, 0.25, 1.0) == 0.75 + LEXICAL_WEIGHT
    assert rank_score(0.5, 0.25, 0.0) == 0.75
    assert coverage({"kl", "diverg", "symmetr"}, {"kl", "diverg"}) == 2 / 5
    assert coverage({"revers", "one"}, {"revers", "one", "kl"}) == 2 / 4
    assert coverage(set(), {"kl"}) == 0.0
    calibration = Calibration(w_focus=2.0, w_post=1.0, w_coverage=4.0, w_meaning_focus=1.0, bias=-3.0)
    assert calibration.confidence(1.0, 1.0, 0.0) == 0.5  # 2 + 1 + 0 - 3 = 0
    assert calibration.confidence(1.0, 1.0, 0.0, 1.0) > 0.5
    assert calibration.confidence(1.0, 1.0, 0.5) > calibration.confidence(1.0, 0.5, 0.5)
    leaning = Calibration(w_focus=2.0, w_post=1.0, w_coverage=4.0, w_background=-2.0, bias=-3.0)
    assert leaning.confidence(1.0, 1.0, 0.0, 0.0, 0.0, 0.5) < 0.5 == leaning.confidence(1.0, 1.0, 0.0)


def test_the_background_is_the_prose_to_the_centroid_for_every_entry_of_a_post(tabot) -> None:
    retriever = tabot.retriever
    post = "I trained my network for 20 epochs and the loss stopped going down. Why is KL divergence not symmetric?"
    hits = retriever.search(post, k=3)
    prose = retriever.embed_post(read_post(post))[1].vector
    assert len(hits) == 3 and {h.background for h in hits} == {float(prose @ retriever.index.centroid)}
    # The confidence is the calibrated model of exactly the features a refit reads from the hit.
    assert all(h.confidence == retriever.calibration.confidence(*h.features) for h in hits)
    # A generic deep-learning question sits nearer the course's centroid than an off-topic one.
    generic, off_topic = (retriever.search(q, k=1)[0].background for q in (
        "how do I make my neural network's training loss go down", "what is a good recipe for banana bread"))
    assert generic > off_topic


def test_semantic_coverage_is_the_smoothed_mean_best_match_of_each_question_piece() -> None:
    unit = np.eye(4, dtype=np.float32)
    question = unit[[0, 1]]  # two pieces: one has an exact counterpart in the entry, one an orthogonal one
    assert semantic_coverage(question, unit[[0, 2]]) == 0.5
    assert semantic_coverage(question, unit[[0, 1, 2]]) == 1.0
    assert semantic_coverage(question, unit[[0, 1]], pseudo_pieces=2) == 2 / 4
    assert semantic_coverage(question[:0], unit) == 0.0


def test_semantic_coverage_can_count_only_the_best_matched_pieces() -> None:
    unit = np.eye(4, dtype=np.float32)
    question = unit[[0, 1, 3]]  # two pieces the entry has, one it lacks
    entry = unit[[0, 1]]
    assert semantic_coverage(question, entry) == pytest.approx(2 / 3)
    assert semantic_coverage(question, entry, best=2) == 1.0  # the unmatched piece is not among the best two
    assert semantic_coverage(question, entry, pseudo_pieces=2, best=2) == 2 / 4
    assert semantic_coverage(question, entry, best=1) == 1.0
    assert semantic_coverage(question, entry, best=9) == semantic_coverage(question, entry)  # fewer pieces than best
    assert semantic_coverage(question[:0], entry, best=2) == 0.0


def test_agreement_is_the_mean_f1_of_both_ways_of_matching_pieces_over_the_best_texts() -> None:
    unit = np.eye(5, dtype=np.float32)
    question = unit[[0, 1]]
    # Text A holds both of the question's pieces and two more: recall 1, precision 2/4, F1 2/3.
    # Text B is exactly the question's two pieces: F1 1. Text C shares one of them and has nothing
    # else: recall 1/2, precision 1, F1 2/3. An empty text is dropped, not a division by zero.
    a, b, c = unit[[0, 1, 2, 3]], unit[[1, 0]], unit[[0]]
    assert best_agreement(question, Texts.of([a])) == pytest.approx(2 / 3)
    assert best_agreement(question, Texts.of([c])) == pytest.approx(2 / 3)
    assert best_agreement(question, Texts.of([a, unit[:0], b, c]), best=1) == pytest.approx(1.0)
    # Each text's own F1, in the order of the texts kept (which of those given: `kept`).
    texts = Texts.of([a, unit[:0], b, c])
    assert texts.kept == (0, 2, 3)
    assert agreements(question, texts) == pytest.approx([2 / 3, 1.0, 2 / 3])
    # The mean over the best texts: the two best of A, B, C are B and one of the others.
    assert best_agreement(question, Texts.of([a, unit[:0], b, c]), best=2) == pytest.approx((1 + 2 / 3) / 2)
    # Fewer texts than `best`: the mean over all of them (so an entry with one question keeps its F1).
    assert best_agreement(question, Texts.of([a, unit[:0], b, c]), best=9) == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    assert best_agreement(question, Texts.of([a, c])) == pytest.approx(2 / 3)
    # A text that agrees in nothing lowers the mean only when it is among the best.
    far = unit[[4]]
    assert best_agreement(question, Texts.of([b, far, far]), best=1) == pytest.approx(1.0)
    assert best_agreement(question, Texts.of([b, far, far]), best=2) == pytest.approx(0.5)
    # Nothing in common (or opposite pieces): 0, never a negative ratio.
    assert best_agreement(question, Texts.of([far])) == 0.0
    assert best_agreement(question, Texts.of([-question])) == 0.0
    assert best_agreement(question[:0], Texts.of([a])) == 0.0 == best_agreement(question, Texts.of([]))


def test_matched_words_reads_each_text_once_and_gives_what_separate_products_give(tabot) -> None:
    retriever = tabot.retriever
    pieces = retriever.index.entry_pieces("kl-asymmetry")
    one_line = retriever.embed_post(read_post("why is KL divergence not symmetric"))
    long_post = retriever.embed_post(read_post(
        "Hi all, I trained a VAE for the homework and read the notes on divergences twice. "
        "Why is KL divergence not symmetric?"))
    inside, long_prose = long_post
    assert one_line[0] is one_line[1] and inside.within is not None and len(inside.within)  # the two shapes read
    alone = Embedded(inside.vector, inside.pieces)  # the same focus, as if encoded on its own
    for focus, prose in (one_line, long_post, (alone, long_prose)):
        focus_matches, post_matches, agreement = matched_words(focus, prose, pieces)
        assert focus_matches == pytest.approx(best_matches(focus.pieces, pieces.rows), abs=1e-6)
        assert post_matches == pytest.approx(best_matches(prose.pieces, pieces.rows), abs=1e-6)
        assert agreement == pytest.approx(best_agreement(focus.pieces, pieces.asked), abs=1e-6)
        assert 0.3 < agreement < 1.0  # the entry's own questions are what it is matched against, not its answer
    # No pieces on one side: no matches and no agreement, as `best_matches` and `best_agreement` say.
    empty = Embedded(inside.vector, inside.pieces[:0])
    assert [len(m) for m in matched_words(empty, empty, pieces)[:2]] == [0, 0]
    assert matched_words(empty, empty, pieces)[2] == 0.0
    no_pieces = type(pieces)(pieces.rows[:0], Texts.of([]))
    assert matched_words(*one_line, no_pieces) == (pytest.approx([]), pytest.approx([]), 0.0)


def test_near_miss_words_weigh_the_closest_near_miss_against_the_entrys_own_questions(tabot) -> None:
    """Asked as written, a near miss agrees with itself (1.0) better than with any of its entry's own
    questions, and an alias the other way round; the feature is that difference for every hit."""
    retriever = tabot.retriever
    entry = tabot.entries["softmax-vs-sigmoid"]
    for text, sign in ((entry.near_misses[0], 1), (entry.aliases[0], -1)):
        post = read_post(text)
        focus, prose = retriever.embed_post(post)
        hits = retriever.search(post, embedded=(focus, prose))
        assert any(h.entry_id == entry.id for h in hits)
        for hit in hits:
            asked = retriever.index.entry_pieces(hit.entry_id).asked
            expected = (retriever.index.near_misses.agreement(focus.vector, focus.pieces)
                        - best_agreement(focus.pieces, asked))
            assert hit.near_miss_words == pytest.approx(expected)
        own = next(h for h in hits if h.entry_id == entry.id)
        assert sign * own.near_miss_words > 0.05, (text, own.near_miss_words)


def test_a_paragraph_about_the_student_does_not_dilute_the_prose_coverage(tabot) -> None:
    """The prose's semantic coverage counts its best-covered words (PROSE_COVERAGE_PIECES): the same
    question after two sentences about who asks it is covered about as well, where a mean over all
    the prose's words falls by a third."""
    retriever = tabot.retriever
    question = "Is RMSprop a kind of momentum, or do adaptive learning rate methods do something different?"
    context = ("Hello! I'm an exchange student in the evening program and I work full time, so I'm a bit behind. "
               "Our group is doing the final project on satellite photos of farmland we got from a local agency.")
    pieces = retriever.index.entry_pieces("adaptive-optimizers").rows
    capped, mean = [], []
    for text in (question, f"{context}\n\n{question}"):
        post = read_post(text)
        focus, prose = retriever.embed_post(post)
        hit = next(h for h in retriever.search(post, embedded=(focus, prose)) if h.entry_id == "adaptive-optimizers")
        capped.append(hit.meaning_post)
        mean.append(semantic_coverage(prose.pieces, pieces, COVERAGE_PSEUDO_TERMS))
    assert len(prose.pieces) > 3 * PROSE_COVERAGE_PIECES  # the context is most of the post
    assert capped[1] > capped[0] - 0.1
    assert mean[1] < mean[0] - 0.15


def test_a_question_about_what_the_answer_never_says_has_lower_semantic_coverage(tabot) -> None:
    # Same topic (Adam), same sentence shape; only the second asks something the TA answer covers.
    retriever = tabot.retriever
    pieces = retriever.index.entry_pieces("adaptive-optimizers").rows
    texts = retriever.embed_texts(["what does the epsilon in adam protect against when tuning warmup",
                                   "is adam a second order method because of the second moment"])
    uncovered, covered = (semantic_coverage(e.pieces, pieces, COVERAGE_PSEUDO_TERMS) for e in texts.values())
    assert covered > uncovered


def test_every_entry_is_found_first_from_student_paraphrases(tabot) -> None:
    """Held-out paraphrases (eval/datasets/in_scope.jsonl, none of them an alias)."""
    aliases = {a.lower() for e in tabot.entries.values() for a in e.aliases}
    firsts: dict[str, int] = defaultdict(int)
    for row in load_jsonl("in_scope.jsonl"):
        assert row["question"].lower() not in aliases
        if len(row["expected"]) == 1 and tabot.retriever.search(row["question"])[0].entry_id == row["expected"][0]:
            firsts[row["expected"][0]] += 1
    assert {entry_id: n for entry_id, n in firsts.items() if n >= 3}.keys() == tabot.entries.keys(), firsts


def test_kl_question_puts_kl_asymmetry_first_with_high_confidence(tabot) -> None:
    hits = tabot.retriever.search("why is KL divergence not symmetric")
    assert hits[0].entry_id == "kl-asymmetry"
    assert hits[0].confidence >= tabot.retriever.calibration.threshold > hits[1].confidence


def test_the_candidates_are_the_best_ranked_and_come_most_confident_first(tabot) -> None:
    retriever = tabot.retriever
    questions = [row["question"] for row in load_jsonl("calibration.jsonl")[:40]]
    reordered = 0
    for question in [*questions, "what is the log base of the NLL loss?"]:
        post = read_post(question)
        hits = retriever.search(post)
        everything = retriever.search(post, k=len(tabot.entries))
        assert {h.entry_id for h in hits} == {h.entry_id for h in rank_order(everything)[: retriever.k_entries]}
        assert [h.confidence for h in hits] == sorted((h.confidence for h in hits), reverse=True)
        reordered += hits[0].entry_id != rank_order(hits)[0].entry_id
    # The example the retriever's comment gives: cosines rank nll-vs-cross-entropy first, the words
    # of the question are log-base's, and the confidence puts it first.
    assert rank_order(hits)[0].entry_id == "nll-vs-cross-entropy" and hits[0].entry_id == "log-base"
    assert reordered >= 1


def test_out_of_scope_questions_fall_below_the_threshold(tabot) -> None:
    threshold = tabot.retriever.calibration.threshold
    for question in ["how does batch normalization work", "what does dropout do during training",
                     "how long should I knead pizza dough"]:
        assert tabot.retriever.search(question)[0].confidence < threshold, question


def test_langchain_retriever_interface_returns_entry_documents(tabot) -> None:
    question = "is cross entropy the same as negative log likelihood"
    documents = EntryRetriever(engine=tabot.retriever).invoke(question)
    assert [d.metadata["entry_id"] for d in documents] == [hit.entry_id for hit in tabot.retriever.search(question)]
    assert all(isinstance(d, Document) for d in documents)
    assert documents[0].metadata["entry_id"] == "nll-vs-cross-entropy"
    assert documents[0].page_content == tabot.entries["nll-vs-cross-entropy"].answer


def test_a_long_post_goes_through_the_encoder_once_and_its_focus_is_read_inside_it(tabot) -> None:
    from bot.search.reading.focus import read_post

    retriever, model = tabot.retriever, tabot.retriever.index.model
    post = read_post("Hi everyone, I am reading the lecture notes on variational inference and the ELBO. "
                     "The notes minimise KL(q||p) and the paper we read minimises KL(p||q). "
                     "Why does the order of the two distributions in KL divergence matter?")
    assert post.focus != post.prose and post.focus in post.prose
    before = model.texts_embedded
    focus, prose = retriever.embed_post(post)
    assert model.texts_embedded == before + 1
    # The prose is the ordinary sentence vector; the focus is its own words as this post uses them:
    # close to the focus encoded alone, not the same vector, and not the prose's.
    alone = model.encode_array([post.focus])[0]
    assert np.allclose(prose.vector, model.encode_array([post.prose])[0], atol=1e-5)
    assert 0.8 < float(focus.vector @ alone) < 0.9999
    assert float(focus.vector @ prose.vector) < 0.9999
    assert 0 < len(focus.pieces) < len(prose.pieces)


def test_a_one_line_question_is_queried_and_matched_once(tabot, monkeypatch) -> None:
    from bot.search import retrieve

    retriever = tabot.retriever
    focus, prose = retriever.embed_post(read_post("Why is KL divergence not symmetric?"))
    assert prose is focus
    queries, products = [], []
    dense_search_many, cosines = retriever.index.dense_search_many, retrieve.cosines
    monkeypatch.setattr(retriever.index, "dense_search_many",
                        lambda vectors, k: queries.append(len(vectors)) or dense_search_many(vectors, k))
    monkeypatch.setattr(retrieve, "cosines", lambda question, entry: products.append(len(question)) or cosines(
        question, entry))
    hits = retriever.search("Why is KL divergence not symmetric?", k=3)
    # One dense query and one product of word pieces per candidate (its matches, and the agreement
    # with its own questions from the same product); a long post needs two queries, and its focus,
    # read inside it, takes its rows of the prose's product: still one product per candidate.
    assert queries == [1] and products == [len(focus.pieces)] * len(hits) and len(hits) == 3
    queries.clear()
    products.clear()
    post = read_post("I read the notes on variational inference. Why is KL divergence not symmetric?")
    post, (focus, prose) = retriever.read(post)
    assert focus.within is not None and np.array_equal(prose.pieces[focus.within], focus.pieces)
    hits = retriever.search(post, k=3, embedded=(focus, prose))
    assert queries == [2] and products == [len(prose.pieces)] * 3
    for hit in hits:  # ... and they are the focus's own matches and agreement
        pieces = retriever.index.entry_pieces(hit.entry_id)
        assert hit.meaning_focus == pytest.approx(
            retrieve.coverage_of(best_matches(focus.pieces, pieces.rows), retrieve.COVERAGE_PSEUDO_TERMS), abs=1e-6)
        assert hit.near_miss_words == pytest.approx(
            retriever.index.near_misses.agreement(focus.vector, focus.pieces)
            - best_agreement(focus.pieces, pieces.asked), abs=1e-6)


def test_a_focus_past_the_encoders_reach_is_encoded_on_its_own(tabot) -> None:
    from bot.search.reading.focus import Post

    retriever, model = tabot.retriever, tabot.retriever.index.model
    focus = "Why is KL divergence not symmetric?"
    prose = "I read the notes on optimisers and regularisation. " * 40 + focus  # far past 256 word pieces
    before = model.texts_embedded
    embedded_focus, _ = retriever.embed_post(Post(prose, prose, focus))
    assert model.texts_embedded == before + 2
    assert np.allclose(embedded_focus.vector, model.encode_array([focus])[0], atol=1e-5)


def test_a_copied_chat_is_answered_from_the_message_about_the_course(tabot) -> None:
    """Whose question the student wants answered is not in a chat's copy: each message is read alone,
    and the one whose best entry ranks highest is answered, as a TA answers the course question in it."""
    asked = "is KL divergence symmetric, or does KL(p||q) differ from KL(q||p)?"
    chat = ("kestrel_07 — Today at 3:38 PM\nis the 2nd floor lab open tonight or is it locked after 6 again\n"
            "moss.bytes — Today at 3:40 PM\nopen till 10, i'm here rn\n"
            f"lindqvist_h — Today at 3:44 PM\n{asked}\n"
            "wren.tan — Today at 3:47 PM\nalso did anyone else not get the room change email?")
    retriever = tabot.retriever
    message, _ = retriever.read(read_post(chat))
    assert message.focus == asked
    assert retriever.search(chat, k=1)[0].entry_id == "kl-asymmetry"
    answer = tabot.ask(chat)
    assert not answer.abstained and answer.sources[0].entry_id == "kl-asymmetry"
    # A chat of small talk only has nothing to answer from.
    idle = ("kestrel_07 — Today at 3:38 PM\nis the lab open tonight\nmoss.bytes — Today at 3:40 PM\n"
            "open till 10\nwren.tan — Today at 3:47 PM\nanyone want pizza?")
    assert tabot.ask(idle).abstained
    # A post that is no chat is read as it is.
    post = read_post(asked)
    assert retriever.read(post)[0] is post


def test_an_entry_chroma_finds_is_as_near_as_its_best_chunk_even_when_chroma_leaves_that_chunk_out(
        tabot, monkeypatch) -> None:
    # Chroma's search is approximate (HNSW): its top k can leave out a chunk that belongs there, and an
    # entry's cosine, which the abstention model reads, must not depend on that.
    retriever, index = tabot.retriever, tabot.retriever.index
    question = "Why is KL divergence not symmetric?"
    vector = index.model.encode([question])[0]
    got = index.collection.get(include=["embeddings"])  # the vectors as Chroma stores them
    stored = {chunk_id: np.asarray(v, dtype=np.float32)
              for chunk_id, v in zip(got["ids"], got["embeddings"], strict=True)}
    own = [c.id for c in index.chunks if c.entry_id == "kl-asymmetry"]
    exact = max((float(stored[chunk_id] @ vector), chunk_id) for chunk_id in own)
    before = {hit.entry_id: hit for hit in retriever.search(question, k=3)}
    assert before["kl-asymmetry"].dense == pytest.approx(exact[0], abs=1e-5)
    dense_search_many = index.dense_search_many
    monkeypatch.setattr(index, "dense_search_many", lambda vectors, k: [
        [(chunk, similarity) for chunk, similarity in found if chunk.id != exact[1]]
        for found in dense_search_many(vectors, k)])
    after = {hit.entry_id: hit for hit in retriever.search(question, k=3)}
    assert after["kl-asymmetry"].dense == pytest.approx(exact[0], abs=1e-5)
    assert after["kl-asymmetry"].best_chunk == exact[1]
    assert after["kl-asymmetry"].confidence == pytest.approx(before["kl-asymmetry"].confidence, abs=1e-6)
    # And the chunk left out mattered: none of the entry's other chunks is as near.
    second = max(float(stored[chunk_id] @ vector) for chunk_id in own if chunk_id != exact[1])
    assert second < exact[0] - 1e-3
