"""Read a student's post the way a TA does: find the question inside it.

Real posts are not one line. They greet the team, quote a paper or a comment thread, paste code,
a stack trace or a formula, link a blog post, and ask the actual question last. An encoder that
reads only the first 256 word pieces never sees that question, and every off-topic word of the
context dilutes the match. `read_post` splits a post into:

- `prose`: the post without code blocks, stack traces, quoted lines, URLs, greetings and sign-offs,
  nor an issue template's comments and checklists; hard-wrapped lines joined back into sentences;
- `focus`: the question the post asks — its last question sentence, widened backwards to the
  sentences before it while it is too short to stand alone ("any ideas?", "why?") or leans on
  them ("And does this division change training?", "Or are those the same loss?"), or the last
  sentences when no sentence asks anything. A Markdown heading that asks ("#### What have you
  tried?") is an issue template asking the student: it is the question only when the body asks none.

Both are searched, so a post is matched by what it asks *and* by what it is about. Nothing here
knows any entry or topic: the rules are about the shape of posts only.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bot.search.lexical import tokenize

# A focus needs this many content terms (stemmed, stop words dropped) to stand on its own; "is
# that right?" or "what am I missing?" has none and takes the sentence before it.
MIN_FOCUS_TERMS = 4
# ... but never more than this many sentences or words: a focus is a question, not the post.
MAX_FOCUS_SENTENCES = 3
MAX_FOCUS_WORDS = 80

_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MENTION = re.compile(r"(?<![\w@])@[\w.-]+")
_INLINE_CODE = re.compile(r"`([^`\n]*)`")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>\n]*>")
# A line that is code or machine output rather than prose: indented code, a traceback frame, an
# error line, a prompt, or a line made mostly of symbols.
_CODE_LINE = re.compile(
    r"^(?:\s{4,}|\t)\S|^\s*(?:Traceback \(most recent call last\)|File \".*\", line \d+|>>>|\$ |"
    r"[\w.]+(?:Error|Exception|Warning): |at [\w.$]+\(|(?:import|from) [\w.]+|def \w+\(|class \w+[(:]|"
    r"return\b|for \w+ in\b|#include|\w+\s*=\s*[^=\s][^\n]*[\])}0-9'\"]$)")
_QUOTE_LINE = re.compile(r"^\s*>")
# The line an e-mail client puts above a quoted reply ("On Tue, 6 Oct 2020, Jane Doe wrote:").
_QUOTE_INTRO = re.compile(r"^\s*On [^\n]{4,120}\bwrote:\s*$")
# Issue and forum templates: HTML comments ("<!-- What did you expect to happen? -->") and checklist
# lines ("- [x] I searched the docs") are the template's words, never the student's.
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_CHECKLIST_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s*\[[ xX]?\]")
# A Markdown heading ("### ...", or a line that is all bold: "**Expected behavior?**") is a section
# title. Its words say what the post is about, but a heading that asks ("#### What have you tried?")
# is usually the template asking the student, so it is read as a question only when nothing in the
# body asks one (`read_post`).
_HEADING = re.compile(r"^\s{0,3}(?:#{1,6}\s+|(?=(?:\*\*|__)[^*_\n]+(?:\*\*|__)\s*:?\s*$))", re.MULTILINE)
# A line that goes on in lower case after a line that did not end a sentence continues it (a
# hard-wrapped sentence: "... Does it\nchange the gradients?").
_CONTINUES = re.compile(r"^[a-z0-9(]")
_ENDS = re.compile(r"[.!?:;]\W*$")
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening))\b[^.!?\n,:]{0,40}[,.!:\n-]+\s*",
    re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"(?:\n|^|(?<=[.!?])\s)\s*(?:thanks?(?: you)?(?: (?:so|very) much)?(?: in advance)?|thx|cheers|best(?: regards)?|"
    r"regards|kind regards|any help (?:is|would be) (?:much |greatly )?appreciated|appreciate any help)\b[^?]*$",
    re.IGNORECASE)
# A sentence that leans on the one before it: it opens with a connective, or names what it asks
# about only by pointing back ("this division", "those two options", "is it", "end with one").
# A TA reads the sentence it points to as part of the question; so does the focus.
_CONNECTIVE = re.compile(
    r"^\W*(?:and|or|so|but|also|then|otherwise|plus|if so|in other words|i\.e\.|what about|how about)\b",
    re.IGNORECASE)
_POINTS_BACK = re.compile(r"\b(?:this|that|these|those|such|it|its|they|them|their)\b", re.IGNORECASE)
# Only the opening words count: a pointer late in a long question usually points inside it.
POINTER_WORDS = 6
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Za-z0-9\\$])|\n+")


@dataclass(frozen=True)
class Post:
    text: str  # the whole post as the student wrote it (cleaned by the guard)
    prose: str  # without code, traces, quotes, links, greetings and sign-offs
    focus: str  # the question the post asks
    questions: tuple[str, ...] = ()  # every question sentence of the prose, in order (for multi-question posts)

    @property
    def is_long(self) -> bool:
        """True when the focus is a real cut of the post (the post says more than it asks)."""
        return self.focus != self.prose


def _strip_lines(text: str, headings: bool) -> str:
    kept = []
    for line in text.splitlines():
        if (_QUOTE_LINE.match(line) or _QUOTE_INTRO.match(line) or _CODE_LINE.match(line)
                or _CHECKLIST_LINE.match(line) or (not headings and _HEADING.match(line))):
            kept.append("")  # a paragraph break, so sentences on either side stay apart
            continue
        kept.append(_HEADING.sub("", line))
    return "\n".join(kept)


def prose_of(text: str, headings: bool = True) -> str:
    """The post's own words: code blocks, stack traces, quoted lines, template comments and
    checklists, URLs, mentions and HTML removed (and Markdown headings too, unless `headings`); link
    texts and inline code kept (they often name the topic: `F.nll_loss`). HTML entities are read as
    their characters first: a post copied from a web page's source says `&gt;` for a quote mark and
    `&#39;` for an apostrophe."""
    text = html.unescape(text)
    text = _HTML_COMMENT.sub("\n\n", text)
    text = _FENCE.sub("\n\n", text)
    text = _strip_lines(text, headings)
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _GREETING.sub("", text, count=1)
    text = _SIGN_OFF.sub("", text.rstrip())
    lines: list[str] = []
    previous = ""
    for line in (" ".join(raw.split()) for raw in text.splitlines()):
        if line and previous and lines and _CONTINUES.match(line) and not _ENDS.search(previous):
            lines[-1] += " " + line
        elif line:
            lines.append(line)
        previous = line
    return "\n".join(lines).strip()


def sentences_of(prose: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(prose) if s and s.strip()]


def _terms(text: str) -> int:
    return len(tokenize([text])[0])


def leans_back(sentence: str) -> bool:
    """True when the sentence opens with a connective or points back within its first words."""
    return bool(_CONNECTIVE.match(sentence) or _POINTS_BACK.search(" ".join(sentence.split()[:POINTER_WORDS])))


def focus_of(sentences: list[str], follow_pointers: bool = True) -> str:
    """The last question sentence, widened backwards while it is too short to stand alone or
    (with `follow_pointers`) leans on the sentence before it."""
    if not sentences:
        return ""
    asking = [i for i, s in enumerate(sentences) if "?" in s]
    end = asking[-1] if asking else len(sentences) - 1
    start = end

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
    with "and"; following it back would fold the question before it into this one."""
    return tuple(focus_of(sentences[: i + 1], follow_pointers=False) for i, s in enumerate(sentences) if "?" in s)


def read_post(text: str) -> Post:
    prose = prose_of(text) or " ".join(text.split())
    sentences = sentences_of(prose)
    # The question is looked for in the body: a heading asks only when the body does not.
    body = sentences_of(prose_of(text, headings=False)) if _HEADING.search(text) else sentences
    asking = body if any("?" in s for s in body) else sentences
    focus = focus_of(asking) or prose
    return Post(text=text, prose=" ".join(prose.split()), focus=focus, questions=questions_of(asking))
