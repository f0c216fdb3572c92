import numpy as np
import pytest

from bot.search.reading.focus import read_post
from bot.search.reading.off_course import on_course_question, weighs_its_focus

# Fakes: each text is a unit vector in a plane whose first axis is "the course"; how near the course
# a text lies is its first coordinate, and how near two texts are, their dot product.
FLOOR = 0.4


def _reader(angles: dict[str, float]):
    def encode(texts: list[str]) -> np.ndarray:
        return np.array([[np.cos(angles[t]), np.sin(angles[t])] for t in texts], dtype=np.float32)

    def nearest(vectors: list[np.ndarray]) -> list[float]:
        return [float(v[0]) for v in vectors]

    return encode, nearest


ON, OFF = 0.0, np.pi / 2  # on the course's axis, and at right angles to it


KL = "Why is KL divergence not symmetric?"
EXAM = "Is the final exam cumulative?"


def test_an_off_course_last_question_gives_way_to_the_on_course_one_before_it() -> None:
    post = read_post(f"{KL} {EXAM}")
    assert post.focus == EXAM  # the reader alone takes the last question
    read = on_course_question(post, *_reader({EXAM: OFF, KL: ON}), FLOOR)
    assert (read.focus, read.passed_over) == (KL, EXAM)
    assert read.questions == post.questions and read.prose == post.prose  # the add-on is still asked


def test_a_last_question_near_the_course_stays_the_question() -> None:
    batch_norm = "How does batch norm behave at inference time?"
    post = read_post(f"{KL} {batch_norm}")
    assert on_course_question(post, *_reader({batch_norm: 1.1, KL: ON}), FLOOR) == post  # cos 1.1 = 0.45
    # Nor does an off-course question give way to one that is off the course too.
    post = read_post(f"Can I bring a calculator to the exam? {EXAM}")
    assert on_course_question(post, *_reader({EXAM: OFF, "Can I bring a calculator to the exam?": 1.3}),
                              FLOOR) == post


def test_a_question_off_the_course_that_follows_on_from_the_post_stays_its_question() -> None:
    # An out-of-scope post asks about what it said: the question is far from the course, but not from
    # the sentence before it, so it is no add-on.
    sign = "The example writes minus one half in front of the log term."
    typo = "Is the example's sign a typo?"
    post = read_post(f"{KL} {sign} {typo}")
    assert post.focus == typo
    assert on_course_question(post, *_reader({KL: ON, sign: 1.2, typo: 1.45}), FLOOR) == post  # cos 0.25 = 0.97
    # The same question after sentences it has nothing to do with is passed over.
    read = on_course_question(post, *_reader({KL: ON, sign: 0.1, typo: OFF}), FLOOR)
    assert (read.focus, read.passed_over) == (KL, typo)


def test_only_a_question_that_stands_alone_takes_over() -> None:
    # "Any idea why?" names nothing of its own; a line of a list is a note of what was tried.
    for earlier in ("Any idea why?", "- try 3: same but 25 epochs -> 23% (worse??)"):
        post = read_post(f"{earlier}\n{EXAM}")
        assert on_course_question(post, *_reader({EXAM: OFF, earlier: ON}), FLOOR) == post
    # A post with one question keeps it, and without a knowledge base nothing is measured.
    alone = read_post(EXAM)
    assert on_course_question(alone, *_reader({EXAM: OFF}), FLOOR) == alone
    post = read_post(f"{KL} {EXAM}")
    assert on_course_question(post, *_reader({}), None) == post


def test_the_course_decides_with_the_real_index(tabot) -> None:
    """With the nine answers: a question about an exam, an extension or where to post is further from
    all the course holds than any question staff listed; one about batch norm is not."""
    index = tabot.retriever.index
    assert index.course_floor is not None and 0.0 < index.course_floor < 1.0
    off = [EXAM, "Can we get a one-day extension on the lab?",
           "Should I open a new thread for this or post it here?"]
    near = ["How does batch norm behave at inference time?", KL]
    vectors = list(np.asarray(index.model.encode(off + near), dtype=np.float32))
    nearness = index.nearest_course_text(vectors)
    assert all(n < index.course_floor for n in nearness[:len(off)]), nearness
    assert all(n >= index.course_floor for n in nearness[len(off):]), nearness
    # Read from the vectors kept at sync: the same nearness Chroma's own search finds (or a listed
    # near miss, when that is nearer).
    by_chroma = [max(hits[0][1], index.near_misses.closest(v) or -1.0)
                 for v, hits in zip(vectors, index.dense_search_many(vectors, 1), strict=True)]
    assert nearness == pytest.approx(by_chroma, abs=1e-5)
    for add_on in off:
        post, _ = tabot.retriever.read(read_post(f"is kl divergence symmetric or not? {add_on}"))
        # (as read: "on the lab" says where the question comes from, `bot.search.reading.where_asked`)
        assert post.focus == "is kl divergence symmetric or not?" and post.passed_over == post.questions[-1]


def test_a_weighed_post_is_read_as_one_read_pass_by_pass(tabot) -> None:
    """The course check's pass and the post's own run side by side (`MiniLM.two_passes`): the post,
    its focus and its vectors are those of the check run first and the post embedded after it."""
    retriever = tabot.retriever
    passed_over = []
    for text in ("is kl divergence symmetric or not? Why is reverse KL mode seeking while forward KL is mean seeking?",
                 f"is kl divergence symmetric or not? {EXAM}"):
        post = retriever._read_aside(read_post(text))
        index = retriever.index
        assert weighs_its_focus(post, index.course_floor)
        checked = on_course_question(post, index.model.encode, index.nearest_course_text, index.course_floor)
        focus, prose = retriever.embed_post(checked)
        read, (read_focus, read_prose) = retriever.read(read_post(text))
        assert read == checked
        assert np.array_equal(read_focus.vector, focus.vector) and np.array_equal(read_prose.vector, prose.vector)
        assert np.array_equal(read_focus.pieces, focus.pieces)
        passed_over.append(read.passed_over)
    assert passed_over == ["", EXAM]  # the post's own pass kept, then redone for an earlier question


def test_an_answer_says_which_add_on_it_left_out(tabot) -> None:
    plain = tabot.ask("is kl divergence symmetric or not?")
    answered = tabot.ask("is kl divergence symmetric or not? Can we get a one-day extension on the lab?")
    assert not answered.abstained and answered.entry_ids == plain.entry_ids
    assert any(n.startswith("I left out “Can we get a one-day extension") for n in answered.notices)
    assert not any(n.startswith("I left out") for n in plain.notices)
