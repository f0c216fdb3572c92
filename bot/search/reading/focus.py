"""Read a student's post the way a TA does: find the question inside it.

Real posts are not one line. They greet the team, quote a paper or a comment thread, paste code,
a stack trace or a formula, link a blog post, and ask the actual question last. An encoder that
reads only the first 256 word pieces never sees that question, and every off-topic word of the
context dilutes the match. `read_post` first reads a formula copied from Wikipedia or a KaTeX page as
typed LaTeX (`bot.search.reading.prose.as_typed_formulas`), joins back the lines a mail client's or a page's wrap cut
(`bot.search.reading.prose.unwrapped`: the tail of a cut sentence alone is no signature or code), then splits
the post into:

- `prose`: the student's own words, without code, traces, output, quotes, links, templates, a
  greeting and a sign-off, nor a copied page's furniture and other people's replies
  (`bot.search.reading.prose.prose_of`); what the post quotes above its question counts as its words only
  when the question asks nothing but help with it ("> Why is KL not symmetric?" then "Can someone
  explain?");
- `focus`: the question the post asks — its last question sentence that is not an aside ("BTW, ...",
  "P.S. ..."), widened backwards to the sentences before it while it is too short to stand alone
  ("any ideas?", "does anyone know what is going wrong?": words that only ask for help do not
  count) or leans on them ("And does this division change training?", "Is the above right?"), or,
  when no sentence asks anything, the last sentence that is not a lead-in to cut output ("here is
  the error:") or an edit added below the post ("EDIT: mine prints 72.0"). A Markdown heading that
  asks ("#### What have you tried?") is an issue template asking the student: it is the question
  only when the body asks none;
- `title`: the post's title line (a short first line over a blank line, as a thread or an issue
  opens), read with the focus (`Post.read_as`) unless the focus already holds it: "Should I just leave
  those pixels at zero?" says what the student asks; "Black borders after my augmentation" says
  about what.

Both are searched, so a post is matched by what it asks *and* by what it is about. Nothing here
knows any entry or topic: the rules are about the shape of posts only. The shapes come from real
posts on forums, Q&A sites, mailing lists and GitHub issues, read verbatim (tests/test_focus.py
names each shape).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.search.lexical import FUNCTION_WORDS, tokenize
from bot.search.reading.bylines import chat_messages
from bot.search.reading.line_shapes import ABBREVIATION_END, ABBREVIATION_REACH, HEADING, OPENS_AS_QUESTION
from bot.search.reading.page_furniture import REPOSITORY_LINE, asked_in_form, is_furniture, is_site_name
from bot.search.reading.prose import (
    GREETING,
    PAGE_METADATA,
    as_typed_formulas,
    not_the_students_words,
    prose_of,
    unquoted_above,
    unwrapped,
)

# A focus needs this many content terms (stemmed; function words such as "why", "does", "my", "just"
# dropped) to stand on its own; "is that right?" or "what am I missing?" has none and takes the
# sentence before it, "Why doesn't NLLLoss apply the log itself?" has three and stands.
MIN_FOCUS_TERMS = 3
# Words that ask for help without naming a topic: "can anyone help me understand what is going
# wrong with this problem?" names nothing, so it does not count them.
_ASKING_WORDS = frozenset(tokenize([
    "help helping understand understanding problem problems issue issues idea ideas something anything anyone "
    "someone somebody missing miss wrong going happening happen know explain explanation question questions "
    "please thanks thank appreciate clarify clarification confused confusing sure correct right "
    "thoughts advice suggestion suggestions guidance tips insight insights answer answers answering"])[0])
# ... but never more than this many sentences or words: a focus is a question, not the post.
MAX_FOCUS_SENTENCES = 3
MAX_FOCUS_WORDS = 80

# A sentence that leans on the one before it: it opens with a connective or asks the same again of
# something else ("Same logic for NN losses?", "Likewise for KL?"; "Same as X, ..." compares inside
# itself), or names what it asks about only by pointing back ("this division", "those two options",
# "is it", "end with one", "the other direction").
# A TA reads the sentence it points to as part of the question; so does the focus.
_CONNECTIVE = re.compile(
    r"^\W*(?:and|or|so|but|also|then|otherwise|plus|if so|in other words|i\.e\.|what about|how about"
    r"|(?:the )?same\b(?! as\b)|similarly|likewise|conversely|vice versa)\b",
    re.IGNORECASE)
_POINTS_BACK = re.compile(r"\b(?:this|that|these|those|such|it|its|they|them|their|above|aforementioned"
                          r"|the other)\b", re.IGNORECASE)
# Only the opening words count: a pointer late in a long question usually points inside it.
POINTER_WORDS = 6
# "that" after a verb of knowing or saying opens what is known or said ("I get that log2 x = ln x / ln
# 2, but ...", "I read that Adam ..."): it points forward, not back. ("I guess that's the mismatch" and
# "I can't find that anywhere" point back.)
_SAYS_THAT = re.compile(r"\b(?:get|got|know|knew|understand|understood|see|saw|read|think|thought|believe|hear|heard"
                        r"|say|says|said|notice|noticed|reali[sz]e[ds]?|guess|assume|suppose|mean|means|feel|felt"
                        r"|learn|learned|learnt|agree|claim|claims|state|states|suggest|suggests|shows?"
                        r"|sure|aware|true|clear|obvious)\s+that\b(?!['’]s\b|\s+(?:is|was|would|will|does|did)\b)",
                        re.IGNORECASE)
# An aside ("BTW, will the later courses cover this?", "P.S. is the deadline Friday?", a sentence in
# parentheses: "(image not loading? direct link: ...)") is not the post's question while another
# sentence asks one. Nor is a question added with "Also," or "One more thing:" after the post has
# asked its own: "... so is RMSprop a momentum method? Also, is the midterm
# open book?" asks about RMSprop (a TA answers that and the add-on apart). The add-on stays one of the
# post's questions (`Post.questions`), and is the question when it is the only one.
_ASIDE = re.compile(r"^\s*\((?!\s*(?:\d{1,2}|[a-zA-Z]|[ivx]{1,4})\s*\))"
                    r"|^\W*(?:p\.?\s?s\b|btw\b|by the way\b|side note\b|unrelated\b|off[- ]topic\b|also\b|"
                    r"additionally\b|separately\b|one more (?:thing|question)\b|"
                    r"another (?:quick |small |side |unrelated )?question\b)", re.IGNORECASE)
# With no question mark anywhere, the question is a statement ("I wonder why ..."): the last sentence
# is the fallback, but not a lead-in to what was cut ("here is the error I get:"), an aside, nor an
# edit: "EDIT: with a=2, b=3 torch gives 48, mine 72" is what the student found after asking, not what
# they ask.
_LEAD_IN = re.compile(r":\s*$")
_EDIT = re.compile(r"^\W*(?:edit(?:ed)?|update[d]?|upd|eta)\b\s*(?:\d+|\([^)\n]{0,30}\))?\s*[:\-–—]", re.IGNORECASE)
# A forum thread or an issue opens with its title: a short first line that stands apart (a blank
# line under it), not a sentence that leads into what follows ("The notes define the loss as").
# Marked up as a top-level heading ("# Why sigmoid and not softmax?", as Markdown, Discord and a page
# reader show a title) it is still the title; a deeper heading ("## Describe the bug") is a section.
_TITLE_HEADING = re.compile(r"^\s{0,3}#\s+\S")
TITLE_WORDS = (2, 15)
# A line that leads into what follows ends on punctuation or on a word that needs its complement: the
# formula under "The notes write Adam's running averages as" completes it, so it is no title.
_LEADS_ON = re.compile(r"(?:[.,:;=]|\b(?:as|like|is|are|was|were|be|the|a|an|of|to|and|or|by|with|from|that"
                       r"|follows|below))\s*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Za-z0-9\\$])|\n+")
# Some abbreviations end a sentence only before a number ("No. 3", "p. 12") or a lower-case word
# ("softmax, sigmoid, etc. are"); the others never do (`ABBREVIATION_END`).
_NUMBERING_ABBREVIATION = re.compile(r"(?:^|[\s(])(?:no|nr|pp?|ex|tab|alg)\.$", re.IGNORECASE)
_ET_CETERA = re.compile(r"(?:^|\s)etc\.$", re.IGNORECASE)


@dataclass(frozen=True)
class Post:
    text: str  # the whole post as the student wrote it (cleaned by the guard)
    prose: str  # without code, traces, quotes, links, greetings and sign-offs
    focus: str  # the question the post asks
    questions: tuple[str, ...] = ()  # every question sentence of the prose, in order (for multi-question posts)
    title: str = ""  # the post's title line, when it has one its focus does not already contain
    messages: tuple[str, ...] = ()  # a copied chat's messages, by several people (`chat_messages`), else ()
    read_words: tuple[tuple[str, str], ...] = ()  # misspelled words as typed and as read (`reading.spelling`)
    spelled_out: tuple[tuple[str, str], ...] = ()  # abbreviations as typed and as read (`reading.abbreviations`)
    set_aside: tuple[str, ...] = ()  # what says where it comes from, read aside (`reading.where_asked`)
    # The last question, when it was off the course and an earlier one is the post's (`reading.off_course`).
    passed_over: str = ""

    @property
    def read_as(self) -> str:
        """What the focus is searched by: the title and the question, one line each (two spans of
        the prose, `bot.search.in_context`). A TA reads the title first: "Black borders after my
        augmentation" names what "Should I just leave those pixels at zero?" is about."""
        return f"{self.title}\n{self.focus}" if self.title else self.focus

    @property
    def is_long(self) -> bool:
        """True when the focus is a real cut of the post (the post says more than it asks)."""
        return self.focus != self.prose


def sentences_of(prose: str) -> list[str]:
    """The prose's sentences: split after ., ! or ? and at line breaks, never after an abbreviation."""
    sentences, start = [], 0
    for end in _SENTENCE_END.finditer(prose):
        before = prose[max(start, end.start() - ABBREVIATION_REACH):end.start()]
        if "\n" not in end.group() and _abbreviation_before(before, prose[end.end():end.end() + 2]):
            continue
        sentences.append(prose[start:end.start()])
        start = end.end()
    sentences.append(prose[start:])
    return [s.strip() for s in sentences if s.strip()]


def _abbreviation_before(tail: str, after: str) -> bool:
    """True when `tail` (a sentence's last characters) ends with an abbreviation's period, given the
    characters after the space that follows it."""
    return bool(ABBREVIATION_END.search(tail)
                or (_NUMBERING_ABBREVIATION.search(tail) and after.lstrip("(")[:1].isdigit())
                or (_ET_CETERA.search(tail) and after[:1].islower()))


# Modal verbs ask ("Which one would you pick?", "Could someone explain?") and name nothing; the English
# stop-word list has only their negations.
_NOT_NAMING = FUNCTION_WORDS | {"could", "would", "might", "may", "must", "shall"}


def _terms(text: str, function_words: frozenset[str] = _NOT_NAMING) -> int:
    """Content terms that name something: `function_words` and words that only ask for help left out."""
    return sum(term not in _ASKING_WORDS for term in tokenize([text], function_words)[0])


def stands_alone(question: str) -> bool:
    """True when `question` names enough to be asked on its own (no widening needed, `focus_of`)."""
    return _terms(question) >= MIN_FOCUS_TERMS


def leans_back(sentence: str) -> bool:
    """True when the sentence opens with a connective or points back within its first words."""
    opening = " ".join(sentence.split()[:POINTER_WORDS])
    return bool(_CONNECTIVE.match(sentence) or _POINTS_BACK.search(_SAYS_THAT.sub(" ", opening)))


def focus_of(sentences: list[str], follow_pointers: bool = True) -> str:
    """The last question sentence, widened backwards while it is too short to stand alone or
    (with `follow_pointers`) leans on the sentence before it; a question that leans back starts at
    the question it follows when that one is among the sentences the focus may hold."""
    if not sentences:
        return ""
    end, asking = _question_end(sentences)
    start = end
    # A follow-up leans on the question it follows, not on whatever sentence stands between them:
    # in "Why divide the loss by math.log(2)? My first guess was an fp16 trick. And does this
    # division affect training?" the division is the one the first question names, and the student's
    # guess in between names nothing a TA answer would. A closing line that names nothing at all
    # ("Any ideas?", "What am I missing?", "Thoughts?") adds nothing to the question before it: that
    # question is the focus, read as a last question is.
    closing = _closing_line(sentences[end])
    if follow_pointers and (leans_back(sentences[end]) or closing):
        followed = _followed(asking, end)
        if followed and closing:
            return focus_of(sentences[:followed[-1] + 1], follow_pointers)
        if followed:
            start = followed[-1]
    return _widened(sentences, start, end, follow_pointers)


def _question_end(sentences: list[str]) -> tuple[int, list[int]]:
    """Where the post's question ends (the sentence `focus_of` widens from), and the sentences that
    ask."""
    asking = [i for i, s in enumerate(sentences) if "?" in s]
    own = [i for i in asking if not _ASIDE.match(sentences[i])]
    if asking and not own:
        # Only an add-on is marked: the post's own question may be typed without its mark before it
        # ("is adagrad second order" then "Also, is the midterm open book?"). Only a sentence that
        # opens as a question takes over; a statement about the student's setup never does.
        own = _unmarked_questions(sentences[:asking[-1]])
    asking = own or asking
    if asking:
        return asking[-1], asking
    plain = [i for i, s in enumerate(sentences) if _may_ask(s)]
    asking = _unmarked_questions(sentences)  # what a closing line after them hands the focus to
    return ((asking or plain)[-1] if plain else len(sentences) - 1), asking


def _followed(asking: list[int], end: int) -> list[int]:
    """The questions among `asking` a question at `end` may lean on: at most MAX_FOCUS_SENTENCES back."""
    return [i for i in asking if end - MAX_FOCUS_SENTENCES < i < end]


def _closing_line(sentence: str) -> bool:
    """A line that asks only for help, naming nothing ("Any ideas?", "Could someone explain?") and
    pointing back to nothing; a question mark alone on its line is not one: it ends the sentence above
    it."""
    return _names_nothing(sentence) and not leans_back(sentence)


def _names_nothing(sentence: str, function_words: frozenset[str] = _NOT_NAMING) -> bool:
    """A sentence of words that only ask for help or point back ("Can someone explain this?")."""
    return any(c.isalpha() for c in sentence) and _terms(sentence, function_words) == 0


# ... and, of a text the post quotes, with words that ask what it means, why it holds or how to go at
# it ("What does this mean?", "Why is this the case?", "Is this true?", "How do I approach this?").
_ASKS_OF_A_TEXT = _NOT_NAMING | {"mean", "means", "meant", "meaning", "approach", "solve", "tackle", "start",
                                 "begin", "true", "get", "even", "work", "works", "supposed", "case", "happen",
                                 "happens"}


def asks_only_for_help(sentences: list[str]) -> bool:
    """True when the question the sentences end on names nothing, or only points back ("Can someone
    explain this?", "What does this mean?"), and follows no question of theirs: "This was on last
    year's midterm. Can someone explain?" asks about something it does not say."""
    if not sentences:
        return False
    end, asking = _question_end(sentences)
    return _names_nothing(sentences[end], _ASKS_OF_A_TEXT) and not _followed(asking, end)


def _may_ask(sentence: str) -> bool:
    """False for a lead-in to what was cut, an aside or an edit: none of them is what a post asks."""
    return not (_LEAD_IN.search(sentence) or _ASIDE.match(sentence) or _EDIT.match(sentence))


def _unmarked_questions(sentences: list[str]) -> list[int]:
    """Which of `sentences` ask though typed without their mark: they open as a question (`_may_ask`)."""
    return [i for i, s in enumerate(sentences) if _may_ask(s) and OPENS_AS_QUESTION.match(s)]


def _widened(sentences: list[str], start: int, end: int, follow_pointers: bool) -> str:
    """Sentences `start`..`end`, widened backwards while they are too short to stand alone or (with
    `follow_pointers`) the first leans on the sentence before it; at most MAX_FOCUS_WORDS words."""

    def incomplete() -> bool:
        return (_terms(" ".join(sentences[start:end + 1])) < MIN_FOCUS_TERMS
                or (follow_pointers and leans_back(sentences[start])))

    while start > 0 and end - start + 1 < MAX_FOCUS_SENTENCES and incomplete():
        start -= 1
    words = " ".join(sentences[start:end + 1]).split()
    return " ".join(words[-MAX_FOCUS_WORDS:])


def questions_of(sentences: list[str]) -> tuple[str, ...]:
    """Each sentence that asks something, widened backwards like the focus when it is too short.

    Pointers are not followed here: these are the post's separate questions (answered part by
    part), and "And is NLL the same as cross-entropy?" is its own question even though it opens
    with "and"; following it back would fold the question before it into this one. A sentence asks
    with its mark, or without it when it opens as a question: in "kl in bits or nats, does it
    matter? and why is kl(p||q) mean seeking" the second is asked too, though typed without its
    mark. A question widened over the one before it replaces it: "what order do nodes have to be
    visited in? bfs? dfs?" asks one thing, not three."""
    questions: list[str] = []
    for i, sentence in enumerate(sentences):
        if "?" in sentence or OPENS_AS_QUESTION.match(sentence):
            question = _widened(sentences, i, i, follow_pointers=False)
            questions = [earlier for earlier in questions if earlier not in question] + [question]
    return tuple(questions)


def title_of(text: str) -> str:
    """The post's title: its first line, when a blank line stands under it and it is short and
    not code, a quote, a section heading, a greeting or a sentence leading into the body; else ""."""
    lines = text.split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    # The thread's header above its title, and the site's name or the repository above both ("Cross
    # Validated", "tensorflow / tensorflow")
    while len(filled) > 2 and (PAGE_METADATA.match(lines[filled[0]]) or is_site_name(lines[filled[0]])
                               or REPOSITORY_LINE.match(lines[filled[0]])):
        filled.pop(0)
    if len(filled) < 2 or filled[1] == filled[0] + 1:
        return ""
    first = lines[filled[0]]
    if (not_the_students_words(first) or is_furniture(first)
            or (HEADING.match(first) and not _TITLE_HEADING.match(first)) or GREETING.match(first)):
        return ""
    title = " ".join(prose_of(first).split())
    low, high = TITLE_WORDS
    return title if low <= len(title.split()) <= high and not _LEADS_ON.search(title) else ""


def read_post(text: str) -> Post:
    typed, text = text, unwrapped(as_typed_formulas(text))
    post, asking = _read(text, typed)
    # A question that only asks for help under the lines it quotes ("> Why is the KL divergence not
    # symmetric?" then "This was on last year's midterm. Can someone explain?") asks about what it
    # quotes: a TA reads the quoted question, or the quoted claim, as the question. Elsewhere a quote
    # is someone else's words and stays out of the prose (docs/real-phrasing.md, forty-second session).
    if asks_only_for_help(asking) and (unquoted := unquoted_above(text)) is not None:
        return _read(unquoted, typed)[0]
    return post


def _read(text: str, typed: str) -> tuple[Post, list[str]]:
    """The post `typed` read from `text` (the same, or it with its quotes read as its own words), and
    the sentences its question was looked for in."""
    prose = prose_of(text) or " ".join(text.split())
    sentences = sentences_of(prose)
    # The question is looked for in the body: a heading asks only when the body does not.
    body = sentences_of(prose_of(text, headings=False)) if HEADING.search(text) else sentences
    asking = body if any("?" in s for s in body) else sentences
    # With nothing asked out loud, an issue form still says where its question is: under its
    # question's label, not under "What have you tried?".
    asked = None if any("?" in s for s in asking) else asked_in_form(text)
    asking = (sentences_of(prose_of(asked)) if asked else []) or asking
    focus = focus_of(asking) or prose
    prose = " ".join(prose.split())
    title = title_of(text)
    # A title the focus already holds, or that the prose lost, adds nothing to it.
    if title.lower() in focus.lower() or title not in prose:
        title = ""
    return Post(text=typed, prose=prose, focus=focus, questions=questions_of(asking), title=title,
                messages=chat_messages(text)), asking
