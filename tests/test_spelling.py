import itertools

import pytest

from bot.search.reading.english_words import english_words
from bot.search.reading.focus import read_post
from bot.search.reading.spelling import Speller, osa_distance

KNOWLEDGE = [
    "Why is KL divergence not symmetric?",
    "The derivative of the softmax function with respect to its logits.",
    "Backpropagation visits nodes in reverse topological order.",
    "Cross-entropy and the negative log likelihood of the softmax output.",
    "Adam keeps moving averages of the gradient; AdamW decouples weight decay.",
    "Its moments, and the moment of inertia.",
    "Rotate the images, then rotation pads the corners.",
]


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller.of(KNOWLEDGE)


@pytest.mark.parametrize(("typed", "meant"), [
    ("divergance", "divergence"),  # a letter changed
    ("sofmax", "softmax"),  # left out
    ("backpropogation", "backpropagation"),
    ("toplogical", "topological"),
    ("derivitive", "derivative"),
    ("gradeint", "gradient"),  # two swapped
    ("symmetrric", "symmetric"),  # doubled
    ("backprogapation", "backpropagation"),  # two edits in a long word
    ("crossentropy", "cross entropy"),  # typed as one: the knowledge base writes "cross-entropy"
    ("loglikelihood", "log likelihood"),
])
def test_a_misspelled_knowledge_base_word_is_read_as_meant(speller: Speller, typed: str, meant: str) -> None:
    assert speller.correction(typed) == meant


@pytest.mark.parametrize("typed", [
    "divergent",  # an English word: spelled as meant
    "moments",  # a knowledge base word
    "adamw",  # only adds a letter at the end of "adam": a name of its own
    "gradients",  # ... or "logits" -> "logit": a plural, not a typo
    "tensorflow",  # two knowledge base words nowhere written one after the other
    "sgdm",  # too short to tell
    "kivergence",  # a first letter is rarely mistyped: read as typed
    "derivitiveness",  # too far from any word
    "divergance" * 4,  # no word is that long (a pasted run of letters is not looked up)
    "probabilty",  # a misspelling of a word no TA answer uses changes nothing: left as typed
])
def test_a_word_is_left_as_typed_unless_one_knowledge_base_word_is_plainly_meant(speller: Speller,
                                                                                 typed: str) -> None:
    assert speller.correction(typed) is None


def test_a_word_two_knowledge_base_words_are_equally_near_is_left_as_typed() -> None:
    speller = Speller.of(["a mentor", "a mental model"])
    assert speller.correction("mentol") is None  # one letter from each, used as often
    assert Speller.of(["a mentor", "a mental model", "mental arithmetic"]).correction("mentol") == "mental"


def test_names_and_code_are_not_corrected(speller: Speller) -> None:
    text = "x.gradiant and gradiant_fn, Gradiant2, SOFMAX, SofMax, nn.Sofmax()"
    assert speller.correct(text) == text
    read: dict[str, tuple[str, str]] = {}
    assert speller.correct("Sofmax or sofmax? The Divergance.", read) == "Softmax or softmax? The Divergence."
    # What the answer's notice lists: each word once, as first typed.
    assert read == {"sofmax": ("Sofmax", "softmax"), "divergance": ("Divergance", "divergence")}


def test_a_corrected_post_keeps_its_focus_inside_its_prose_and_its_text_as_typed(speller: Speller) -> None:
    text = ("Hi all, I am revising for the quiz.\n\nI get the forward pass. "
            "But why does backpropogation go in reverse toplogical order?")
    post = read_post(text)
    read = speller.correct_post(post)
    assert read.text == text
    assert read.focus == post.focus.replace("backpropogation", "backpropagation").replace("toplogical", "topological")
    assert "toplogical" in post.focus
    assert read.focus in read.prose and read.is_long == post.is_long
    assert read.read_words == (("backpropogation", "backpropagation"), ("toplogical", "topological"))
    assert speller.correct_post(read_post("Is the Divergance symmetric?")).read_words == (("Divergance", "divergence"),)
    assert speller.correct_post(read_post("Why is KL divergence not symmetric?")).read_words == ()


def test_the_distance_counts_typing_errors() -> None:
    def edits(word: str, letters: str, swaps: bool) -> set[str]:
        found = set()
        for i in range(len(word) + 1):
            found.update(word[:i] + c + word[i:] for c in letters)
            if i < len(word):
                found.add(word[:i] + word[i + 1:])
                found.update(word[:i] + c + word[i + 1:] for c in letters)
            if swaps and i + 1 < len(word):
                found.add(word[:i] + word[i + 1] + word[i] + word[i + 2:])
        return found

    def reference(a: str, b: str, swaps: bool) -> int:
        # The fewest single edits from a to b, found breadth first: Levenshtein without swaps,
        # unrestricted Damerau-Levenshtein with them.
        frontier, seen, steps = {a}, {a}, 0
        while b not in frontier:
            steps += 1
            frontier = {w for word in frontier for w in edits(word, a + b, swaps)} - seen
            seen |= frontier
        return steps

    words = ["", "ab", "ba", "abc", "acb", "cab", "abcd", "bad"]
    for a, b in itertools.product(words, repeat=2):
        distance = osa_distance(a, b, limit=4)
        # Optimal string alignment lies between the two; one edit apart means one, either way.
        assert reference(a, b, swaps=True) <= distance <= reference(a, b, swaps=False), (a, b)
        assert (distance == 1) == (reference(a, b, swaps=True) == 1), (a, b)
        assert osa_distance(a, b, limit=1) == min(distance, 2), (a, b)
    assert osa_distance("gradeint", "gradient", limit=1) == 1  # a swap is one error, not two


def test_the_english_word_list_ships_in_a_package() -> None:
    words = english_words()
    assert len(words) > 100_000 and all(w in words for w in ("divergent", "derivative", "because"))
    assert not any(w in words for w in ("derivitive", "divergance", "becuase", "", "Because", None))


def test_the_word_list_held_as_digests_answers_as_the_list_does(tmp_path) -> None:
    """Every listed word is found and no other: the list itself, and words one edit from its words
    (the speller's own question), against a set of the strings."""
    import gzip
    import json

    from bot.search.reading import english_words as module

    listed = frozenset(json.loads(gzip.decompress(module._word_list())))
    kept_nowhere = module.EnglishWords.read(None)
    assert len(kept_nowhere) == len(listed) and all(word in kept_nowhere for word in listed)
    near = {word[:i] + word[i + 1:] for word in itertools.islice(sorted(listed), 0, None, 40) for i in range(len(word))}
    assert len(near - listed) > 10_000
    assert not any(word in kept_nowhere for word in near - listed)
    # Kept in a data folder: written once, then read back, the same answers.
    first = module.EnglishWords.read(tmp_path)
    (kept,) = (tmp_path / module.FOLDER).iterdir()
    assert kept.stat().st_size == 8 * len(listed)
    again = module.EnglishWords.read(tmp_path)
    assert again._digests == first._digests == kept_nowhere._digests
    # A file cut short (not whole digests) is worked out again and kept whole.
    kept.write_bytes(kept.read_bytes()[:-3])
    assert module.EnglishWords.read(tmp_path)._digests == first._digests
    assert kept.stat().st_size == 8 * len(listed)


def test_a_misspelled_question_is_answered_from_its_entry_and_says_how_it_was_read(tabot) -> None:
    answer = tabot.ask("what is the derivitive of the sofmax function")
    assert not answer.abstained
    assert answer.sources[0].entry_id == "softmax-derivative"
    assert "I read “derivitive” as “derivative” and “sofmax” as “softmax”." in answer.notices
    assert not any("I read" in n for n in tabot.ask("what is the derivative of the softmax function").notices)


def test_a_data_folder_that_cannot_be_written_still_gives_the_list(tmp_path, capsys) -> None:
    from bot.search.reading import english_words as module

    blocked = tmp_path / "data"
    blocked.mkdir()
    (blocked / module.FOLDER).write_text("a file where the folder would be")
    words = module.EnglishWords.read(blocked)
    assert "derivative" in words and "derivitive" not in words
    assert "could not keep their digests" in capsys.readouterr().err
    assert sorted(p.name for p in blocked.iterdir()) == [module.FOLDER]  # nothing half-written left behind
    # A folder that can be written but not at the digests' name: the half-way file is removed too.
    import hashlib

    taken = tmp_path / "other" / module.FOLDER / f"{hashlib.sha256(module._word_list()).hexdigest()[:16]}.u64"
    (taken / "something").mkdir(parents=True)
    assert "derivative" in module.EnglishWords.read(tmp_path / "other")
    assert "could not keep their digests" in capsys.readouterr().err
    assert [p.name for p in taken.parent.iterdir()] == [taken.name]
