from bot.search.reading.abbreviations import GLOSSARY, Abbreviations
from bot.search.reading.focus import read_post

# A knowledge base that writes "cross-entropy" and "KL", never "CE" or "Kullback-Leibler", and both
# "NLL" and "negative log-likelihood".
WRITTEN = ["Cross-entropy is the NLL of a softmax.", "The cross-entropy loss compares two distributions.",
           "KL divergence is not symmetric; KL(p||q) and KL(q||p) differ.",
           "Minimising the negative log-likelihood is the same as minimising cross-entropy."]


def test_a_form_is_read_as_the_one_the_knowledge_base_writes() -> None:
    read: dict[str, tuple[str, str]] = {}
    abbreviations = Abbreviations.of(WRITTEN)
    assert abbreviations.read("is CE loss just NLL?", read) == "is cross-entropy loss just NLL?"
    assert read == {"ce": ("CE", "cross-entropy")}
    # Both ways: the long form the answers never write is read as the short one they do.
    assert abbreviations.read("Why is Kullback-Leibler divergence asymmetric?") == "Why is KL divergence asymmetric?"


def test_a_pair_the_knowledge_base_writes_both_ways_or_never_is_left_as_typed() -> None:
    abbreviations = Abbreviations.of(WRITTEN)
    for question in ("is negative log-likelihood the same as NLL?", "what is BPC", "my LR is 1e-3"):
        assert abbreviations.read(question) == question
    # Which direction is worked out from the knowledge base: one that writes "CE" reads "cross entropy" as it.
    assert Abbreviations.of(["CE is the loss.", "Use CE with a softmax."]).read("cross entropy?") == "CE?"


def test_names_in_code_and_other_words_are_left_alone() -> None:
    abbreviations = Abbreviations.of(WRITTEN)
    for text in ("nn.CrossEntropyLoss", "ce_loss(x)", "`CE`", "x.ce", "ce2", "celebrate the acceptance", "CEO"):
        assert abbreviations.read(text) == text


def test_plurals_stay_plural() -> None:
    abbreviations = Abbreviations.of(["A convolutional neural network sees pixels.", "Each gradient is a sum.",
                                      "Tune the parameters, not the hyperparameters."])
    assert abbreviations.read("do CNNs see grads or params?") == (
        "do convolutional neural networks see gradients or parameters?")


def test_a_post_is_read_alike_in_prose_focus_title_and_questions() -> None:
    abbreviations = Abbreviations.of(WRITTEN)
    typed = read_post("CE vs NLL\n\nI train a classifier. Is CE the same as NLL here?")
    post = abbreviations.read_post(typed)
    assert post.focus == typed.focus.replace("CE", "cross-entropy") != typed.focus and post.focus in post.prose
    assert post.title == "cross-entropy vs NLL"
    assert post.questions == tuple(q.replace("CE", "cross-entropy") for q in typed.questions)
    assert post.spelled_out == (("CE", "cross-entropy"),)
    assert post.text.startswith("CE vs NLL")  # what the student wrote stays as written
    unchanged = read_post("Why is softmax used?")
    assert abbreviations.read_post(unchanged) is unchanged


def test_the_glossary_pairs_are_distinct_forms() -> None:
    shorts = [short.lower() for short, _ in GLOSSARY]
    assert len(shorts) == len(set(shorts))
    assert all(short.lower() != long.lower() for short, long in GLOSSARY)


def test_the_real_knowledge_base_reads_abbreviated_posts_in_its_words(tabot) -> None:
    post, _ = tabot.retriever.read(read_post("my val acc is stuck at 60%, is there a param i can tune?"))
    assert "validation accuracy" in post.focus
    plain = tabot.explain("is CE loss the same thing as negative log likelihood?")
    assert ("CE", "cross-entropy") in plain.spelled_out
    assert "Read in the words the TA answers use: “CE” as “cross-entropy”" in plain.text()
    assert plain.answered and plain.candidates[0].entry_id == "nll-vs-cross-entropy"


def test_the_staff_lines_are_searched_in_the_same_forms_as_posts() -> None:
    from bot.knowledge import Entry

    entry = Entry(id="ce", question="Why is CE the NLL of a softmax?", answer=" ".join(WRITTEN * 2),
                  aliases=("is ce just nll",), near_misses=("why does my kld go negative",), sentences=tuple(WRITTEN))
    abbreviations = Abbreviations.of_entries([entry])
    searched = abbreviations.searched(entry)
    assert searched.question == "Why is cross-entropy the NLL of a softmax?"
    assert searched.aliases == ("is cross-entropy just nll",)
    assert searched.near_misses == ("why does my kld go negative",)  # neither form of "KLD" is preferred here
    assert searched.answer == entry.answer and searched.sentences == entry.sentences  # nothing to read in these


def test_the_index_holds_the_staff_lines_as_posts_are_read(tabot) -> None:
    index = tabot.retriever.index
    held = {chunk.text for chunk in index.chunks if chunk.kind == "alias"}
    written = {alias for entry in tabot.retriever.entries.values() for alias in entry.aliases}
    read = {tabot.retriever.abbreviations.read(alias) for alias in written}
    assert held == read != written  # some aliases write a form the answers do not
    # An alias written "binary ce" is searched as "binary cross-entropy", and what the student is shown
    # is still the TA's answer as written.
    shown = tabot.ask("is binary cross-entropy a special case of categorical cross-entropy?")
    assert shown.sentences and all(s.text in tabot.retriever.entries[s.entry_id].answer for s in shown.sentences)


def test_a_text_is_read_as_if_every_pattern_ran_over_it() -> None:
    """A reading whose form's words a text does not hold is skipped (`Reading.held_words`); what is
    read is what running every pattern reads, in ASCII text and in text whose case-blind matches a
    lower-case test would miss (the Kelvin sign read as a "K")."""
    abbreviations = Abbreviations.of([*WRITTEN, "Each gradient is a sum.", "Tune the parameters."])

    def every_pattern(text: str) -> str:
        for reading in abbreviations.readings:
            text = reading.pattern.sub(reading.spell, text)
        return text

    for text in ("is CE loss just NLL?", "grads w.r.t. params, and the Kullback-Leibler CE", "no forms here",
                 "Kullback Leibler vs ce", "is \u212aullback-Leibler symmetric, café?", "naïve CE grads"):
        assert abbreviations.read(text) == every_pattern(text)
    assert abbreviations.read("is \u212aullback-Leibler symmetric?") == "is KL symmetric?"


def test_the_directions_are_those_a_search_of_every_text_gives(tabot) -> None:
    """Each form is counted only in the texts that hold its words (`Abbreviations.of`): the directions
    are the ones a search over all the texts gives, for the real knowledge base and for texts whose
    case-blind matches a lower-case test would miss."""
    import re

    from bot.search.reading.abbreviations import _AFTER, _BEFORE, PREFERRED_RATIO, _pattern

    def searched_everywhere(texts: list[str]) -> list[tuple[str, str]]:
        written = "\n".join(texts)
        count = {form: len(re.findall(_BEFORE + _pattern(form) + _AFTER, written, re.IGNORECASE))
                 for pair in GLOSSARY for form in pair}
        return [(typed, used) for short, long in GLOSSARY for typed, used in ((short, long), (long, short))
                if count[used] >= max(1, PREFERRED_RATIO * count[typed])]

    entries = tabot.retriever.entries.values()
    real = [text for e in entries for text in (e.question, e.answer, *e.aliases, *e.tags, *e.near_misses)]
    odd = ["\u212aullback-Leibler is written here", "and \u212aullback Leibler here", "KL once", "naïve CE", "CE"]
    for texts in (real, odd, WRITTEN):
        found = [(reading.typed, reading.used) for reading in Abbreviations.of(texts).readings]
        assert found == searched_everywhere(texts)
    assert ("Kullback-Leibler", "KL") in [(r.typed, r.used) for r in Abbreviations.of(real).readings]
