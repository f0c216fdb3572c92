"""The student's own words in a post: what `bot.search.reading.focus` looks for the question in.

A post pasted from a page, an issue, a mail or a terminal holds much that the student did not write
or does not ask about: code (fenced, indented, or a bare call line), stack traces and compiler
messages, number-heavy output (metric logs, tensors, timestamps), reference lists, quoted lines,
URLs, HTML tags and comments, image alt texts, an issue template's checklists and "Label (e.g., ...):"
fields, a greeting on one of its first lines and a sign-off at its very end, and, in a copied page,
the site's furniture (`bot.search.reading.page_furniture`) and other people's replies under the post
(where the post ends: `bot.search.reading.thread_end`, by the bylines of `bot.search.reading.bylines`). `prose_of`
keeps the rest: the student's sentences, hard-wrapped lines joined back, full-width punctuation read
as ASCII, link texts and inline code kept (they often name the topic: `F.nll_loss`). What a heading or
a line that asks looks like is `bot.search.reading.line_shapes`.

Nothing here knows any entry or topic: the rules are about the shape of posts only
(tests/test_focus.py and tests/test_page_furniture.py name each shape).
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata

from bot.search.lexical import FUNCTION_WORDS
from bot.search.reading.bylines import thread_byline
from bot.search.reading.held_words import HeldWords
from bot.search.reading.line_shapes import ABBREVIATION_END, ABBREVIATION_REACH, HEADING, MIN_SENTENCE_WORDS
from bot.search.reading.page_furniture import MONTH, furniture_lines, is_page_chrome, is_pasted
from bot.search.reading.thread_end import askers_later_lines, post_end

# A fence is three or more backticks or tildes, closed by the same run (a fence of four can hold ```).
_FENCE = re.compile(r"(`{3,}|~{3,}).*?(?:\1|\Z)", re.DOTALL)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# An image's alt text is a file name, "image" or a number far more often than words of the post.
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
# Full-width punctuation (posts typed with a CJK keyboard) ends sentences and asks as ASCII does, and a
# phone's or a word processor's typographic quotes are the apostrophes and quotes the reader's rules
# read ("don’t understand" is "don't understand").
_AS_ASCII = str.maketrans({"？": "?", "！": "!", "。": ". ", "：": ": ", "，": ", ", "；": "; ",
                           "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_MENTION = re.compile(r"(?<![\w@])@[\w.-]+")
_INLINE_CODE = re.compile(r"`([^`\n]*)`")
# A sentence typed fast, or two lines a copy ran together, can lack the space after its mark: "the loss
# is nan.Why does it" reads as one sentence to the focus and to MiniLM. A word of the function words
# after a word's full stop ("nan.Why", "train.But"), or any capitalised word after "?" or "!", starts a
# new sentence; a name after a dot stays as written ("nn.Module", "torch.Tensor", "x.T").
_MISSING_SPACE = re.compile(r"(?<=[a-z]{2}([.?!]))(?=([A-Z][a-z]+)\b)")


def _spaced(match: re.Match[str]) -> str:
    """The space `_MISSING_SPACE` found missing, or nothing when a name follows a dot."""
    return " " if match[1] != "." or match[2].lower() in FUNCTION_WORDS else ""


_HTML_TAG = re.compile(r"</?[a-zA-Z][^>\n]*>")
# An exception's or warning's name, as it opens its message ("RuntimeError: ", "torch.cuda.OutOfMemoryError: ").
_ERROR_NAME = r"[\w.]+(?:Error|Exception|Warning): "
# A line that is code or machine output rather than prose: indented code, a traceback frame, an
# error line, a prompt, or a line made mostly of symbols.
_CODE_LINE = re.compile(
    r"^(?:\s{4,}|\t)\S|^\s*(?:Traceback \(most recent call last\)|File \".*\", line \d+|>>>|\$ |"
    + _ERROR_NAME + r"|at [\w.$]+\(|(?:import|from) [\w.]+|def \w+\(|class \w+[(:]|"
    r"return\b|for \w+ in\b|#include|\w+\s*=\s*[^=\s][^\n]*[\])}0-9'\"]$|"
    # a method call on its own line (`model.add(Dense(64))`, `np.log(x)`), a statement keyword,
    # a compiler's or checker's "file.ext:LINE:" message
    r"[A-Za-z_][\w\[\]'\"]*\.[\w.\[\]'\"]*\(.*\)\s*;?\s*$|(?:print|assert|raise)\b\s*\(|[\w/.-]+\.\w+:\d+:)")
# An error line, bare or after the file and line that raised it ("RuntimeError: CUDA error: ...",
# "/usr/lib/.../dataloader.py:554: UserWarning: ..."): the lines under it in its paragraph are the
# message going on, until the student speaks (`_continues_the_output`).
_ERROR_LINE = re.compile(r"^\s*(?:[\w/.-]+\.\w+:\d+:\s*)?" + _ERROR_NAME)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|i'd|my|me|mine|we|our|us)\b", re.IGNORECASE)
# Machine output pasted without a fence (metric lines, tensors, timestamps) is number-heavy: a line
# without letters, or with at least MIN_OUTPUT_DIGITS digits that are this share of its characters,
# and with no question mark, is not prose. Formulas stay: LaTeX and math are symbols and letters, few
# digits (`m_t = β1·m_{t-1} + (1−β1)·g_t` is 4 digits in 25). A short line counts too: a log's
# "Epoch 83/400" is as much output as a long one, while "Step 1:" or "Figure 2" is not.
MAX_DIGIT_SHARE = 0.3
MIN_OUTPUT_DIGITS = 3
# A metric line is "label: number" fields and nothing else ("Validation accuracy: 0.338244",
# "loss = 1.09, acc = 0.71"): a training log, however few digits its numbers have. The fields are
# removed one by one and the rest must be separators: one pattern repeating over the line would
# backtrack exponentially on a hostile line ("x:1e1 x:1e1 ... !" parses two ways per field). A line
# with no ":" or "=" has no field, and most lines tried have neither (`HeldWords`).
_METRIC_FIELD = HeldWords(re.compile(r"['\"]?[A-Za-z][\w .()/@-]{0,40}?['\"]?\s*[:=]\s*"
                                     r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?\s*%?",
                                     re.IGNORECASE))
_FIELD_SEPARATORS = re.compile(r"[\s,;|*{}\[\]-]*")
# A reference list is citations, not the post's words: "References: [1] [2]", "[3] Kingma & Ba, 2015".
_REFERENCE_LINE = re.compile(r"^\s*(?:(?:references?|sources?|citations?|footnotes?)\s*:|\[\d{1,3}\]\s)",
                             re.IGNORECASE)
# Progress bars, rules and drawn tables repeat one symbol (`[=====>....]`, `━━━━━━`, `________`,
# `|---|---|`): a run this long of one symbol that is not a letter, digit or blank.
_SYMBOL_RUN = re.compile(r"([^\w\s])\1{7,}|^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$")
# A template's "Label (e.g., example): value" line (`- PyTorch Version (e.g., 1.0): 1.4`).
_TEMPLATE_FIELD = re.compile(r"^\s*(?:[-*+]\s*)?[A-Za-z][\w /.&-]{0,40}\(e\.g\.[^)]*\)\s*:", re.IGNORECASE)
_QUOTE_LINE = re.compile(r"^\s*>")
_QUOTE_MARKS = re.compile(r"^\s*(?:>\s?)+")
# A Python prompt (">>> c.backward()") opens a line the way a quote does; it is code.
_PROMPT = re.compile(r"^\s*>>>")
# The line an e-mail client puts above a quoted reply ("On Tue, 6 Oct 2020, Jane Doe wrote:").
_QUOTE_INTRO = re.compile(r"^\s*On [^\n]{4,120}\bwrote:\s*$")
# A thread copied from the web keeps the lines around the post that say where it is and who wrote it
# when: "jdoe commented on Jun 26, 2021", "asked Mar 3, 2019 at 10:22", an issue's "labels: question,
# bug", or a page reader's rows of short fields ("owner/repo · issue #12 · closed · Python", "jdoe ·
# description · 2021-06-26"). Left in, such a line runs into the post's first sentence ("jdoe · ... ·
# 2021-06-26 thanks for your reply, I have a question") and hides the title above it.
_DATE = rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|{MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{MONTH},?\s+\d{{4}})"
PAGE_METADATA = re.compile(
    r"^\s*(?:[^·?!\n]{1,100}(?:\s·\s[^·?!\n]{1,100}){2,}(?<![.,;:])"
    rf"|(?:\S{{1,40}}\s+)?(?:commented|opened this issue|opened|asked|answered|edited|posted)\s+(?:on\s+)?{_DATE}"
    r"(?:\s+at\s+\d{1,2}:\d{2})?\W*"
    r"|labels?:[^.?!\n]{1,120})\s*$",
    re.IGNORECASE)
# An image the copy lost leaves its placeholder on a line of its own: Stack Exchange's default alt text
# "enter image description here", or a forum's "image" / "screenshot". With no question mark in the
# post, the last line is taken as its question, and that would be the placeholder.
_IMAGE_PLACEHOLDER = re.compile(r"^\W*(?:enter image description here|image|screenshot)\W*$", re.IGNORECASE)
# Issue and forum templates: HTML comments ("<!-- What did you expect to happen? -->") and checklist
# lines ("- [x] I searched the docs") are the template's words, never the student's.
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# The markers a Stack Exchange site with MathJax wraps around every post and comment, which a copy of
# its page keeps ("$\begingroup$ Is this on held-out data? $\endgroup$").
_MATHJAX_GROUP = re.compile(r"\$\\(?:begin|end)group\$")
# A formula copied from a rendered page (`as_typed_formulas`): Wikipedia's comes as its image's alt text,
# KaTeX's as its TeX between two copies of its symbols. The TeX is told by a command or a sub- or
# superscript; its symbols are compared by their ASCII letters and digits, the commands that print a
# word ("\\log") read as that word and the others (`\\delta`, `\\frac`, `\\,`) as nothing, as a page shows
# them in other characters or in the layout.
_WIKIPEDIA_FORMULA = "{\\displaystyle"
_BRACE = re.compile(r"[{}]")
_TEX = re.compile(r"\\[^\s\d]|[_^]")
_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
          "upsilon phi chi psi omega").split()
_TEX_WORD = re.compile(r"\\(?:var)?(log|ln|exp|max|min|arg|sin|cos|tan|det|lim|sup|inf|"
                       + "|".join(_GREEK + [name.capitalize() for name in _GREEK]) + r")(?![A-Za-z])")
_GREEK_LETTER = re.compile(r"[\u0391-\u03c9]")
_TEX_COMMAND = re.compile(r"\\(?:[A-Za-z]+|\S)")
_NOT_SYMBOL = re.compile(r"[^A-Za-z0-9\s\x00]+")
_WORD_TOKEN = re.compile(r"\S+")
_TRAILING_MARKS = ".,;:?!"
KATEX_REACH = 40  # the most words a formula's TeX between its copies runs to
# Markdown source as an editor saves it escapes underscores and asterisks ("F.nll\_loss", "2\*x"); in
# LaTeX too "\_" is an underscore. Other escapes stay: "\[" and "\(" open LaTeX's math.
_MARKDOWN_ESCAPE = re.compile(r"\\([_*])")
# Emoji (the pictographs' planes and the selector that asks for their colour form) end no sentence and
# ask nothing: "Is Adam second order? 🤔 My notes say" splits where it would without them, and "Thanks! 🙏"
# is a sign-off. The older symbols stay: "✓" is a notebook's furniture (`page_furniture`).
_EMOJI = re.compile("[\U0001f000-\U0001faff\ufe0f]")
_CHECKLIST_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s*\[[ xX]?\]")
# A line that goes on in lower case after a line that did not end a sentence continues it (a
# hard-wrapped sentence: "... Does it\nchange the gradients?").
_CONTINUES = re.compile(r"^[a-z0-9(]")
_ENDS = re.compile(r"[.!?:;]\W*$")
# A mail client or a plain-text archive wraps its lines at 72 or 80 characters, so a wrapped sentence
# also goes on in a line that opens with a name or a formula ("... as it would with\nD_KL(q || p)?").
# A line was cut by a wrap when the next line's first word would not have fitted on it within the
# post's longest line, and posts whose lines are all shorter than WRAP_WIDTH_MIN were not wrapped.
WRAP_WIDTH_MIN = 60
_LIST_ITEM = re.compile(r"^(?:[-*+\u2022]|\d+[.)])\s")


def _no_room_for(line: str, previous: str, width: int) -> bool:
    """True when the first word of `line` would not have fitted on `previous` in a post wrapped at
    `width` (a post narrower than WRAP_WIDTH_MIN was not wrapped)."""
    return width >= WRAP_WIDTH_MIN and len(previous) + 1 + len(line.split(" ", 1)[0]) > width


def _cut_by_a_wrap(previous: str, line: str, width: int) -> bool:
    """True when `previous` ends where a wrap at the post's `width` would have cut it before `line`
    (a list's item starts a line of its own)."""
    return _no_room_for(line, previous, width) and not _LIST_ITEM.match(line)


# A typeset page (a PDF, a paper) also cuts a word at a line's end with a hyphen ("backpropa-" over
# "gating"). It is read as one word without the hyphen: a compound cut at its own hyphen ("log-" over
# "likelihood") then reads as two words typed together, which `bot.search.reading.spelling` reads as both.
_CUT_WORD = re.compile(r"[A-Za-z]{2}-$")
_FENCE_LINE = re.compile(r"^\s*(?:`{3,}|~{3,})")
_WORD_CHARACTER = re.compile(r"[^\W_]")  # a letter or a digit: a rule of underscores is no sentence's end
_OWN_LINE = re.compile(r"^(?:\s|\||#)")  # indented (code, a forum's indent), a table's row, a heading
_ENDS_A_SENTENCE = re.compile(r"[.!?]\W*$")  # `_ENDS` without the colon's and semicolon's lead-ins
# A line ending in a colon may stand over what it leads into ("Here is my code:" over `loss = ...`): the
# next line goes on with it only in words ("... the biggest jump:" over "width, depth or learning rate?").
_LEADS_IN = re.compile(r"[:;]\W*$")
_GOES_ON_IN_WORDS = re.compile(r"^[a-z][a-z'-]*\b[^=(){}\[\]<>]*$")


def _wrap_went_on(above: str, previous: str, line: str, width: int) -> bool:
    """Whether `line` may go on the logical line `above`, whose last piece on the page is `previous`, by
    their shapes: the first word of `line` would not have fitted on `previous` within `width`,
    `previous` ends no sentence and holds a sentence's words, and `line` starts no quote, list item,
    table row or heading of its own ("- beta^t fix it?" goes on a sentence that ends "(1", not a list
    that opens it). Whose words they are is `unwrapped`'s to judge."""
    if (_OWN_LINE.match(previous) or _OWN_LINE.match(line) or _QUOTE_LINE.match(line)
            or (_ENDS_A_SENTENCE.search(previous.translate(_AS_ASCII))
                and not ABBREVIATION_END.search(previous[-ABBREVIATION_REACH:]))
            or len(previous.split()) < MIN_SENTENCE_WORDS or not _no_room_for(line, previous, width)
            or not _WORD_CHARACTER.search(line)):
        return False
    if _LIST_ITEM.match(line) and (_LIST_ITEM.match(above) or _LEADS_IN.search(previous)):
        return False
    return not (_LEADS_IN.search(previous) and not _GOES_ON_IN_WORDS.match(line))


def unwrapped(text: str) -> str:
    """The post with each line a wrap cut (a mail client, a plain-text archive or a typeset page, at the
    post's longest line) joined back to the line it was cut from, before any line is judged: the tail of
    a cut sentence alone can look like a signature ("images"), code ("from PyTorch's built-in loss"),
    a list item ("- beta^t") or a title's end. Lines in a fenced block stay as written; a line goes on
    only a quote (a mail client's rewrap of a quote leaves its tail unquoted: "whether") or the student's
    words, judged by the logical line's first piece, once, so a long paste costs its length."""
    lines = [line.rstrip() for line in text.split("\n")]
    fenced, fences = False, []
    for line in lines:
        fence = bool(_FENCE_LINE.match(line))
        fences.append(fenced or fence)
        fenced ^= fence
    width = max((len(line) for line, fence in zip(lines, fences, strict=True) if not fence), default=0)
    if width < WRAP_WIDTH_MIN:
        return text
    joined: list[str] = []
    goes_on: list[bool] = []  # whether each logical line is a quote or the student's words
    previous = ""  # the line above as it stands on the page
    for line, fence in zip(lines, fences, strict=True):
        if not fence and previous and line and _wrap_went_on(joined[-1], previous, line, width) and (
                goes_on[-1] or _spoken_in(previous, line)):
            cut = _CUT_WORD.search(previous) and line[:1].islower()
            joined[-1] = joined[-1][:-1] + line if cut else joined[-1] + " " + line
            goes_on[-1] = True
        else:
            joined.append(line)
            goes_on.append(not fence and bool(_QUOTE_LINE.match(line) or not not_the_students_words(line)))
        previous = "" if fence else line
    return "\n".join(joined)


def _spoken_in(previous: str, line: str) -> bool:
    """A line cut full of numbers reads as output ("with my data (0.42, 0.81, 0.33) I get -1.57, a
    negative"): the student who speaks in it and goes on in words wrote it."""
    return bool(_FIRST_PERSON.search(previous)) and not not_the_students_words(f"{previous} {line}")


# A greeting opens one of the first lines (a title line may come before it): "Hi all," or a line
# that is only a greeting ("Hello everyone").
GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening))\b"
    r"(?:[^.!?\n,:]{0,40}(?:[,.!:]+|\s-+\s)|(?:\s+[\w'-]+){0,2}\s*$)\s*",
    re.IGNORECASE)
GREETING_LINES = 3
# A sign-off ends the post: its line is short and at most four short lines (blank ones, a name, a title) follow.
# A phone's "Sent from my iPhone" is one too.
# A "Thanks for the great library" that opens a post is not one: the post goes on after it.
_SIGN_OFF = re.compile(
    r"(?:\n|^|(?<=[.!?])\s)\s*(?:thanks?(?: you)?(?: (?:so|very) much)?(?: in advance)?|thx|cheers|best(?: regards)?|"
    r"regards|kind regards|any help (?:is|would be) (?:much |greatly )?appreciated|appreciate any help"
    r"|sent from (?:my|mail for|outlook for))\b"
    r"[^?\n]{0,80}(?:\n[^?\n]{0,40}){0,4}$",
    re.IGNORECASE)


def _is_output(line: str) -> bool:
    """True for a line of machine output: no letters at all, many digits, "label: number" fields
    only, or a long run of one symbol; never one that asks."""
    chars = "".join(line.split())
    if not chars or "?" in chars:
        return False
    if _SYMBOL_RUN.search(line) or _is_metric_line(line):
        return True
    digits = sum(ch.isdigit() for ch in chars)
    return (not any(ch.isalpha() for ch in chars)
            or (digits >= MIN_OUTPUT_DIGITS and digits >= MAX_DIGIT_SHARE * len(chars)))


def _is_metric_line(line: str) -> bool:
    rest, fields = _METRIC_FIELD.subn(" ", line)
    return fields > 0 and _FIELD_SEPARATORS.fullmatch(rest) is not None


def _is_code(line: str) -> bool:
    if not _CODE_LINE.match(line):
        return False
    words = line.split()
    # An indented sentence in words ("     Is there a way to tune it without more data?") is prose.
    return not (line[:1].isspace() and line.rstrip().rstrip("\"')").endswith((".", "!", "?"))
                and len(words) >= MIN_SENTENCE_WORDS and sum(w.isalpha() for w in words) >= 0.6 * len(words))


def not_the_students_words(line: str) -> bool:
    """A quoted line, the page's metadata, an image's placeholder, code, machine output, or a
    template's or citation list's line. (A page's furniture is read in `_strip_lines`, with its
    neighbours.)"""
    return bool(_QUOTE_LINE.match(line) or _QUOTE_INTRO.match(line) or PAGE_METADATA.match(line)
                or _IMAGE_PLACEHOLDER.match(line) or _is_code(line) or _CHECKLIST_LINE.match(line)
                or _TEMPLATE_FIELD.match(line) or _REFERENCE_LINE.match(line) or _is_output(line))


def _continues_the_output(line: str) -> bool:
    """A line among machine output, in the same paragraph, that goes on with it ("LinearRegression
    does not accept missing values encoded as NaN natively.", "The above exception was the direct
    cause of the following exception:", "Aborted (core dumped)") rather than with the student's
    words, which ask or speak in the first person, or quote and link what they read."""
    return (bool(line.strip()) and "?" not in line and not _FIRST_PERSON.search(line)
            and not _QUOTE_LINE.match(line) and not _URL.search(line))


# A paragraph of at least this many lines, this share of them output, code or furniture, is output:
# its other lines too, unless they ask, speak in the first person (`_continues_the_output`) or are a
# heading (a thread's title under its header). A student's results table among log lines stays.
MIN_OUTPUT_PARAGRAPH = 3
OUTPUT_SHARE = 2 / 3


def _strip_lines(text: str, headings: bool) -> str:
    lines = text.splitlines()
    chrome = [is_page_chrome(line) for line in lines]  # each line read once, here
    furniture = [flag or is_pasted(line) for line, flag in zip(lines, chrome, strict=True)]
    bylines = [thread_byline(lines, i) for i in range(len(lines))]
    end, asker = post_end(lines, chrome, furniture, bylines)
    kept = [*range(end), *askers_later_lines(lines, end, bylines, asker)]
    lines = [lines[i] for i in kept]
    furniture = [furniture[i] for i in kept]
    bylines = [bylines[i] for i in kept]
    end = len(kept)
    dropped = [flag or not_the_students_words(line)
               for line, flag in zip(lines, furniture_lines(lines, furniture[:end]), strict=True)]
    # The asker's byline (a name and a date) is not their words, nor output their paragraph is made of.
    signed = [False] * len(lines)
    for i, byline in enumerate(bylines[:end]):
        if byline is not None:
            signed[i:i + byline.lines] = [True] * len(signed[i:i + byline.lines])
    # The message under an error line goes on until the student speaks.
    after_error = False
    for i, line in enumerate(lines):
        if after_error and _continues_the_output(line):
            dropped[i] = True
            continue
        after_error = bool(_ERROR_LINE.match(line))
    before = list(dropped)
    start = 0
    for end in [*(i for i, line in enumerate(lines) if not line.strip()), len(lines)]:
        paragraph = [i for i in range(start, end) if not signed[i]]
        if (len(paragraph) >= MIN_OUTPUT_PARAGRAPH
                and sum(dropped[i] for i in paragraph) >= OUTPUT_SHARE * len(paragraph)):
            for i in paragraph:
                dropped[i] = dropped[i] or (_continues_the_output(lines[i]) and not HEADING.match(lines[i]))
        start = end + 1
    # ... unless they are all the post has: a question pasted between a page's lines with no blank line.
    if not any(not drop and not sign and any(ch.isalpha() for ch in line)
               for line, drop, sign in zip(lines, dropped, signed, strict=True)):
        dropped = before
    kept = []
    for line, drop, sign in zip(lines, dropped, signed, strict=True):
        if drop or sign or (not headings and HEADING.match(line)):
            kept.append("")  # a paragraph break, so sentences on either side stay apart
            continue
        kept.append(HEADING.sub("", line))
    return "\n".join(kept)


def unquoted_above(text: str) -> str | None:
    """The post with the lines it quotes above its own last words read as its own ("> Why is KL not
    symmetric?" over "Can someone explain?"), or None when it quotes nothing there. A quote below the
    student's last words (a reply's quoted mail) stays a quote, and a Python prompt's line stays code."""
    lines = text.split("\n")
    plain = [html.unescape(line) for line in lines]  # a page's source writes "&gt;" for the quote mark
    own = [i for i, line in enumerate(plain) if line.strip() and not _QUOTE_LINE.match(line)]
    if not own:
        return None
    quoted = [i for i in range(own[-1]) if _QUOTE_LINE.match(plain[i]) and not _PROMPT.match(plain[i])]
    for i in quoted:
        lines[i] = _QUOTE_MARKS.sub("", plain[i])
    return "\n".join(lines) if quoted else None


def prose_of(text: str, headings: bool = True) -> str:
    """The post's own words: code blocks, stack traces, quoted lines, template comments and
    checklists, URLs, mentions and HTML removed (and Markdown headings too, unless `headings`); link
    texts and inline code kept (they often name the topic: `F.nll_loss`). HTML entities are read as
    their characters first: a post copied from a web page's source says `&gt;` for a quote mark and
    `&#39;` for an apostrophe; so are Markdown's escaped underscores and asterisks (`nll\\_loss`), and
    emoji are dropped."""
    text = _EMOJI.sub("", _MARKDOWN_ESCAPE.sub(r"\1", html.unescape(text).translate(_AS_ASCII)))
    text = _HTML_COMMENT.sub("\n\n", text)
    text = _MATHJAX_GROUP.sub("", text)
    text = _FENCE.sub("\n\n", text)
    text = _strip_lines(text, headings)
    text = _MD_IMAGE.sub("\n", text)
    text = _MD_LINK.sub(r"\1", text)
    # Tags before URLs: a URL inside a tag (`<img src="https://...">`) would take the tag's end with it.
    text = _HTML_TAG.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _MISSING_SPACE.sub(_spaced, text)
    text = _drop_greeting(text)
    text = _SIGN_OFF.sub("", text.rstrip())
    lines: list[str] = []
    previous = ""
    plain = [" ".join(raw.split()) for raw in text.splitlines()]
    width = max(map(len, plain), default=0)
    for line in plain:
        if line and previous and lines and not _ENDS.search(previous) and (
                _CONTINUES.match(line) or _cut_by_a_wrap(previous, line, width)):
            lines[-1] += " " + line
        elif line:
            lines.append(line)
        previous = line
    return "\n".join(lines).strip()


def as_typed_formulas(text: str) -> str:
    """Formulas copied from a rendered page read as a student types them, in LaTeX between dollars and
    once: Wikipedia's (`_from_wikipedia`) and KaTeX's (`_from_katex`). Left as copied, a formula is read
    two or three times, and Wikipedia's "displaystyle" is a word of the question once per formula."""
    return _from_katex(_from_wikipedia(text))


def _from_wikipedia(text: str) -> str:
    """A formula copied from Wikipedia comes as its image's alt text, "{\\displaystyle D_{\\text{KL}}(P\\parallel
    Q)}", read "$D_{\\text{KL}}(P\\parallel Q)$", and the copy often repeats it right after, as the same alt
    text, its braces' content or the letter it renders ("distributions {\\displaystyle P}P and")."""
    if _WIKIPEDIA_FORMULA not in text:
        return text
    read, at = [], 0
    while (start := text.find(_WIKIPEDIA_FORMULA, at)) >= 0:
        end = _closing_brace(text, start)
        if end < 0:  # never closed: the rest stays as written (and no later formula is searched again)
            break
        formula = text[start + len(_WIKIPEDIA_FORMULA):end].strip()
        read += [text[at:start], f"${formula}$"]
        at = end + 1
        for again in (text[start:end + 1], formula):
            after = at + len(again)
            if again and text.startswith(again, at) and not (after < len(text) and text[after].isalnum()):
                at = after
                break
    return "".join(read) + text[at:]


def _from_katex(text: str) -> str:
    """A formula copied from a page KaTeX rendered comes three times: its hidden MathML's symbols in a row,
    its TeX, and its glyphs' symbols ("A0(x0,y0) A_0 (x_0, y_0) A0(x0,y0)"), read "$A_0 (x_0, y_0)$"."""
    return "".join(map(_from_katex_line, text.splitlines(keepends=True))) if _TEX.search(text) else text


def _from_katex_line(line: str) -> str:
    """`_from_katex` in one line. The two copies of the symbols are one word, the same twice, with the TeX
    between them within KATEX_REACH words, and the same letters and digits as the TeX. One pass over the
    words: each is looked up where it last stood, and the letters and digits between two copies are
    counted before they are compared (a 100 kB line of repeated words must cost a pass, not a search)."""
    if not _TEX.search(line):
        return line
    words = list(_WORD_TOKEN.finditer(line))
    # Each word's symbols, the line read in three passes: what is not a symbol leaves a mark, so that a
    # word of none ("=", "\\,") stays a word and the line splits into as many words as it has.
    symbols = _NOT_SYMBOL.sub("\x00", _TEX_COMMAND.sub("\x00", _TEX_WORD.sub(_tex_word, _GREEK_LETTER.sub(
        _greek_name, line)))).split()
    if len(symbols) != len(words):
        return line
    symbols = [each.replace("\x00", "") for each in symbols]
    counted = list(itertools.accumulate((len(each) for each in symbols), initial=0))
    read: list[str] = []
    at = after_formula = 0  # where the line is read up to; the first word a formula did not take
    last: dict[str, int] = {}
    for j, word in enumerate(words):
        key = word[0].rstrip(_TRAILING_MARKS)
        i, last[key] = last.get(key, -1), j
        if i < after_formula or not 1 <= j - i - 1 <= KATEX_REACH:
            continue
        shown = symbols[j]  # the key's, which drops only marks
        if (shown and counted[j] - counted[i + 1] == len(shown) and "".join(symbols[i + 1:j]) == shown
                and _TEX.search(tex := line[words[i + 1].start():words[j - 1].end()])):
            read += [line[at:words[i].start()], f"${tex}$", word[0][len(key):]]
            at, after_formula = word.end(), j + 1
    return "".join(read) + line[at:]


def _tex_word(command: re.Match[str]) -> str:
    """What a command that prints a word or a Greek letter shows, in ASCII letters: "\\log" log, "\\Sigma" sigma."""
    return command[1].lower()


def _greek_name(letter: re.Match[str]) -> str:
    """A Greek letter by its name in ASCII letters, as TeX writes it: "θ" theta, "Σ" sigma."""
    return unicodedata.name(letter[0], "").rsplit(" ", 1)[-1].lower()


def _closing_brace(text: str, start: int) -> int:
    """Where the brace that opens at `start` closes (-1: never)."""
    depth = 0
    for brace in _BRACE.finditer(text, start):
        depth += 1 if brace[0] == "{" else -1
        if not depth:
            return brace.start()
    return -1


def _drop_greeting(text: str) -> str:
    """The post without the greeting that opens one of its first GREETING_LINES non-empty lines."""
    lines = text.split("\n")
    seen = 0
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if GREETING.match(line):
            lines[i] = GREETING.sub("", line, count=1)
            break
        seen += 1
        if seen >= GREETING_LINES:
            break
    return "\n".join(lines)
