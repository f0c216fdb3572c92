"""Read a student's post the way a TA does: find the question inside it.

Real posts are not one line. They greet the team, quote a paper or a comment thread, paste code,
a stack trace or a formula, link a blog post, and ask the actual question last. An encoder that
reads only the first 256 word pieces never sees that question, and every off-topic word of the
context dilutes the match. `read_post` splits a post into:

- `prose`: the post without code (fenced, indented, or a bare call line), stack traces and compiler
  messages, number-heavy output (metric logs, tensors, timestamps), reference lists, quoted lines,
  URLs, HTML tags, image alt texts, a greeting on one of its first lines and a sign-off at its very
  end, nor an issue template's comments, checklists and "Label (e.g., ...):" fields; hard-wrapped
  lines joined back into sentences; full-width punctuation read as ASCII;
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

import html
import re
from dataclasses import dataclass

from bot.search.lexical import FUNCTION_WORDS, tokenize
from bot.search.page_furniture import (
    MONTH,
    Byline,
    asked_in_form,
    chat_messages,
    ends_the_post,
    furniture_lines,
    is_furniture,
    is_page_chrome,
    is_pasted,
    quotes_a_reply,
    starts_the_page,
    thread_byline,
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
    "thoughts advice suggestion suggestions guidance tips insight insights"])[0])
# ... but never more than this many sentences or words: a focus is a question, not the post.
MAX_FOCUS_SENTENCES = 3
MAX_FOCUS_WORDS = 80

# A fence is three or more backticks or tildes, closed by the same run (a fence of four can hold ```).
_FENCE = re.compile(r"(`{3,}|~{3,}).*?(?:\1|\Z)", re.DOTALL)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# An image's alt text is a file name, "image" or a number far more often than words of the post.
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
# Full-width punctuation (posts typed with a CJK keyboard) ends sentences and asks as ASCII does.
_FULL_WIDTH = str.maketrans({"？": "?", "！": "!", "。": ". ", "：": ": ", "，": ", ", "；": "; "})
_MENTION = re.compile(r"(?<![\w@])@[\w.-]+")
_INLINE_CODE = re.compile(r"`([^`\n]*)`")
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
# backtrack exponentially on a hostile line ("x:1e1 x:1e1 ... !" parses two ways per field).
_METRIC_FIELD = re.compile(r"['\"]?[A-Za-z][\w .()/@-]{0,40}?['\"]?\s*[:=]\s*"
                           r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?\s*%?",
                           re.IGNORECASE)
_FIELD_SEPARATORS = re.compile(r"[\s,;|*{}\[\]-]*")
# A reference list is citations, not the post's words: "References: [1] [2]", "[3] Kingma & Ba, 2015".
_REFERENCE_LINE = re.compile(r"^\s*(?:(?:references?|sources?|citations?|footnotes?)\s*:|\[\d{1,3}\]\s)",
                             re.IGNORECASE)
# Progress bars, rules and drawn tables repeat one symbol (`[=====>....]`, `━━━━━━`, `________`,
# `|---|---|`): a run this long of one symbol that is not a letter, digit or blank.
_SYMBOL_RUN = re.compile(r"([^\w\s])\1{7,}|^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$")
# An indented line that is a sentence in words is the student's, not code (some forums and mail
# clients indent a whole post): it ends a sentence (. ! ?) and has this many words, most of them
# plain words.
MIN_SENTENCE_WORDS = 5
# A template's "Label (e.g., example): value" line (`- PyTorch Version (e.g., 1.0): 1.4`).
_TEMPLATE_FIELD = re.compile(r"^\s*(?:[-*+]\s*)?[A-Za-z][\w /.&-]{0,40}\(e\.g\.[^)]*\)\s*:", re.IGNORECASE)
_QUOTE_LINE = re.compile(r"^\s*>")
# The line an e-mail client puts above a quoted reply ("On Tue, 6 Oct 2020, Jane Doe wrote:").
_QUOTE_INTRO = re.compile(r"^\s*On [^\n]{4,120}\bwrote:\s*$")
# A thread copied from the web keeps the lines around the post that say where it is and who wrote it
# when: "jdoe commented on Jun 26, 2021", "asked Mar 3, 2019 at 10:22", an issue's "labels: question,
# bug", or a page reader's rows of short fields ("owner/repo · issue #12 · closed · Python", "jdoe ·
# description · 2021-06-26"). Left in, such a line runs into the post's first sentence ("jdoe · ... ·
# 2021-06-26 thanks for your reply, I have a question") and hides the title above it.
_DATE = rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|{MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{MONTH},?\s+\d{{4}})"
_PAGE_METADATA = re.compile(
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
# A greeting opens one of the first lines (a title line may come before it): "Hi all," or a line
# that is only a greeting ("Hello everyone").
_GREETING = re.compile(
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
# A sentence that leans on the one before it: it opens with a connective or asks the same again of
# something else ("Same logic for NN losses?", "Likewise for KL?"; "Same as X, ..." compares inside
# itself), or names what it asks about only by pointing back ("this division", "those two options",
# "is it", "end with one").
# A TA reads the sentence it points to as part of the question; so does the focus.
_CONNECTIVE = re.compile(
    r"^\W*(?:and|or|so|but|also|then|otherwise|plus|if so|in other words|i\.e\.|what about|how about"
    r"|(?:the )?same\b(?! as\b)|similarly|likewise|conversely|vice versa)\b",
    re.IGNORECASE)
_POINTS_BACK = re.compile(r"\b(?:this|that|these|those|such|it|its|they|them|their|above|aforementioned)\b",
                          re.IGNORECASE)
# Only the opening words count: a pointer late in a long question usually points inside it.
POINTER_WORDS = 6
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
# ... and among the rest, the last that opens the way a question or a request does, though typed
# without its mark ("what is early stopping", "in my engine, what order should backward follow",
# "does rmsprop use the hessian", "please explain ..."): a line after it about the student's setup,
# a signature or what they tried is not what they ask. "When I train, ..." and "What I did was ..."
# are statements, and so is a request that asks nothing ("please add a test"). After a comma the
# question opens with a question word, or inverts its verb: after a few words ("For training, is the
# derivative ...") or with a pronoun after it ("I'm using np.log, should it be log2"); "Our TA can
# grade it, can make up the rubric" does not ask.
_OPENS_AS_QUESTION = re.compile(
    r"^(?:(?:so|and|but|ok|okay)\s+)?(?:"
    r"(?:what|whats|why|how|hows|which|whether)\b(?!\s+(?:i|we)\b)"
    r"|(?:when|where)\s+(?:is|are|do|does|did|should|would|can|could|will)\b"
    r"|(?:is|are|was|were|do|does|did|can|could|should|would|will|shall|may|might|must)\s+(?!not\b)\w"
    r"|[^,;:?]{0,60}[,;]\s*(?:(?:what|why|how)\b(?!\s+(?:i|we)\b)"
    r"|(?:is|are|do|does|did|can|could|should|would|will)\s+(?:it|i|we|you|they|this|that|there)\b)"
    r"|(?:[^\s,;:?]+\s+){0,3}[^\s,;:?]+,\s*(?:is|are|do|does|did|can|could|should|would|will)\s+(?!not\b)\w"
    r"|(?:please\s+)?(?:explain|tell me|help me understand|clarify)\b"
    r"|i\s+(?:wonder|want to (?:know|understand)|would like to (?:know|understand)|'d like to (?:know|understand)"
    r"|don't (?:understand|get|see)|am (?:confused|not sure|wondering))"
    # Not knowing, said as a statement, as students type it: the subject dropped or contracted, the
    # verb negated any way ("Not sure why ...", "I'm confused about ...", "can't figure out whether ...").
    r"|(?:i['’]m|im|i am|i)?\s*(?:still\s+|really\s+|just\s+)?(?:"
    r"(?:confused|curious|puzzled)\s+(?:about|why|whether|how|what|which)\b"
    r"|(?:unsure|wondering|unclear|not sure|not clear)\s+(?:why|whether|how|what|which|as to)\b"
    r"|(?:don['’]t|do not|dont|can['’]t|cannot|cant|can not|couldn['’]t|fail to|struggling to)\s+"
    r"(?:understand|figure out|work out|grasp|wrap my head around"
    r"|(?:get|see|tell)\s+(?:why|how|what|whether|if|it\b|the (?:point|difference|idea|intuition|reason))))"
    r"|no idea\s+(?:why|whether|how|what|which)\b)",
    re.IGNORECASE)
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
# A period after these is an abbreviation's, not a sentence's end: "e.g. the NLL loss", "Eq. 3 of
# the paper", "Goodfellow et al. say", "KL(q||p), i.e. the reverse one". Split there, the focus was
# the half after the period ("3 of the paper the KL is reversed. Does the order matter?") and lost
# what the sentence was about. Some only before a number ("No. 3", "p. 12") or a lower-case word
# ("softmax, sigmoid, etc. are"): "No." and "etc." also end sentences.
_ABBREVIATION = re.compile(r"(?:^|[\s(])(?:e\.g|i\.e|eg|ie|et al|eqs?|eqns?|figs?|secs?|chap|ch|vs|cf|approx|resp|"
                           r"viz|w\.r\.t|a\.k\.a|incl|esp|thm|refs?|vol|dr|prof)\.$", re.IGNORECASE)
_NUMBERING_ABBREVIATION = re.compile(r"(?:^|[\s(])(?:no|nr|pp?|ex|tab|alg)\.$", re.IGNORECASE)
_ET_CETERA = re.compile(r"(?:^|\s)etc\.$", re.IGNORECASE)
# How far back from a full stop an abbreviation is looked for: the longest above ("w.r.t.", "approx.")
# with the space before it fits, so only a sentence's last characters are read, never the whole post.
ABBREVIATION_REACH = 12


@dataclass(frozen=True)
class Post:
    text: str  # the whole post as the student wrote it (cleaned by the guard)
    prose: str  # without code, traces, quotes, links, greetings and sign-offs
    focus: str  # the question the post asks
    questions: tuple[str, ...] = ()  # every question sentence of the prose, in order (for multi-question posts)
    title: str = ""  # the post's title line, when it has one its focus does not already contain
    messages: tuple[str, ...] = ()  # a copied chat's messages, by several people (`chat_messages`), else ()
    read_words: tuple[tuple[str, str], ...] = ()  # misspelled words as typed and as read (`bot.search.spelling`)
    spelled_out: tuple[tuple[str, str], ...] = ()  # abbreviations as typed and as read (`bot.search.abbreviations`)
    set_aside: tuple[str, ...] = ()  # what says where it comes from, read aside (`bot.search.where_asked`)
    # The last question, when it was off the course and an earlier one is the post's (`bot.search.off_course`).
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


def _not_the_students_words(line: str) -> bool:
    """A quoted line, the page's metadata, an image's placeholder, code, machine output, or a
    template's or citation list's line. (A page's furniture is read in `_strip_lines`, with its
    neighbours.)"""
    return bool(_QUOTE_LINE.match(line) or _QUOTE_INTRO.match(line) or _PAGE_METADATA.match(line)
                or _IMAGE_PLACEHOLDER.match(line) or _is_code(line) or _CHECKLIST_LINE.match(line)
                or _TEMPLATE_FIELD.match(line) or _REFERENCE_LINE.match(line) or _is_output(line))


# A line of the student's is a sentence when it is this long or ends like one; a page's labels above a
# thread's first byline (its title, category, "Display replies in nested form") are neither, and do
# not make that byline someone else's reply.
MIN_SENTENCE_LINE_WORDS = 8
_ENDS_SENTENCE = re.compile(r"[.!?]['\")]?\s*$")


def _post_end(lines: list[str], chrome: list[bool], furniture: list[bool], bylines: list[Byline | None]) -> int:
    """How many lines of a copied page are the post:
    - up to a line after which the page lists other threads, opens the answer box, signs or adds a
      list's footer (`ends_the_post`), once the post has asked something above it (a post that asks
      nothing may still ask below) or right under the page's chrome;
    - up to the header of the mail a reply quotes (`quotes_a_reply`), once the body has asked (a
      bottom-posted reply has the quote above the student's words, under the subject line);
    - up to where the page's chrome starts once the post's body has asked (`starts_the_page`; the
      line itself kept, to be stripped as furniture with the tag list right above it): under the
      question come its byline, tags, other users' comments and the page's lists of threads, which
      ask too. A title that asks does not count (a page prints the asker's byline and counts between
      title and body), nor a chrome line with more of the student's words below it than above, up to
      the page's lists: a notice the reader does not know ("Want to improve this question?") in a
      page's header has the whole post under it;
    - up to another person's reply in a copied thread (`thread_byline`: "kerasfan · comment ·
      2021-06-27", "kerasfan commented on Jun 27, 2021", a forum's name over a date), once the
      student has written a sentence's worth (MIN_SENTENCE_WORDS words, the title of a page aside):
      a maintainer's "Did you try a lower learning rate?" is not the student's question. The first
      byline above the student's words names the asker, whose own follow-ups are still the post; so
      does a first byline under a page's labels only (nothing above it asks or is a sentence).
    `chrome`, `furniture` and `bylines`: `is_page_chrome`, `is_furniture` and `thread_byline` of each line."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    words: list[int] | None = None  # the student's words on each line, counted when a cut is first weighed
    asked = body_asked = under_chrome = False
    asker: str | None = None  # the post's author, once a byline names them
    guessed: int | None = None  # the byline taken for the asker's under a title, which a later one may refute
    spoken: list[int] = []  # the lines above with the student's words
    said = 0  # how many words they hold: a stray "best" of a page's header is not a post yet
    sentence = False  # whether one of them is a sentence, not a label (a title, a category, "Settings")
    # A first line with the page's header under it is the thread's title, not yet the post.
    under_first = next((j for j in range((first or 0) + 1, len(lines)) if lines[j].strip()), None)
    titled = under_first is not None and furniture[under_first] and bylines[under_first] is None
    for i, line in enumerate(lines):
        byline = bylines[i]
        if byline is not None:
            if asker is None and (byline.kind == "post" or said < MIN_SENTENCE_WORDS or not (asked or sentence)):
                asker = byline.author
            elif (asker is None and byline.kind == "either"
                  and _title_over_its_post(lines, i, spoken, furniture, bylines)):
                asker, guessed = byline.author, i
            elif byline.kind == "post" and byline.author != asker and guessed is not None:
                return guessed  # the asker is someone else: what followed the first line was a reply
            elif (said >= MIN_SENTENCE_WORDS and byline.kind != "post"
                  and (byline.author is None or byline.author != asker)):
                return i  # someone else's reply, once the student has written something
        elif (not furniture[i] and not _HEADING.match(line) and any(ch.isalpha() for ch in line)
              and not (titled and i == first)):
            spoken.append(i)
            said += len(line.split())
            sentence = sentence or len(line.split()) >= MIN_SENTENCE_LINE_WORDS or bool(_ENDS_SENTENCE.search(line))
        if ((asked or under_chrome) and ends_the_post(line)) or (body_asked and quotes_a_reply(lines, i)):
            return i
        if body_asked and starts_the_page(lines, i, chrome):
            if words is None:
                words = [0 if flag or not any(ch.isalpha() for ch in text) else len(text.split())
                         for text, flag in zip(lines, furniture, strict=True)]
            lists = next((j for j in range(i + 1, len(lines)) if ends_the_post(lines[j])), len(lines))
            if sum(words[:i]) >= sum(words[i + 1:lists]):
                return i + 1
        if ("?" in line or _OPENS_AS_QUESTION.match(line.strip())) and not chrome[i]:
            asked = True
            body_asked = body_asked or i != first
        if line.strip():
            under_chrome = chrome[i] or not any(ch.isalpha() for ch in line)
    return len(lines)


def _title_over_its_post(lines: list[str], byline: int, spoken: list[int], furniture: list[bool],
                         bylines: list[Byline | None]) -> bool:
    """Whether the one line of words above a thread's first byline that sites print over any post
    ("jdoe commented on Jun 3", a forum's name over a date) is the thread's title, the post under the
    byline being longer ("Softmax gradient check fails" over the asker's paragraph), rather than a
    question with someone's reply under it. A one-line question with a longer reply under such a
    byline reads as a title: the two look alike."""
    if len(spoken) != 1:
        return False
    below = 0
    for j in range(byline + 1, len(lines)):
        if bylines[j] is not None:
            break
        below += 0 if furniture[j] else len(lines[j].split())
    return below > len(lines[spoken[0]].split())


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
    end = _post_end(lines, chrome, furniture, bylines)
    lines = lines[:end]
    dropped = [flag or _not_the_students_words(line)
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
                dropped[i] = dropped[i] or (_continues_the_output(lines[i]) and not _HEADING.match(lines[i]))
        start = end + 1
    # ... unless they are all the post has: a question pasted between a page's lines with no blank line.
    if not any(not drop and not sign and any(ch.isalpha() for ch in line)
               for line, drop, sign in zip(lines, dropped, signed, strict=True)):
        dropped = before
    kept = []
    for line, drop, sign in zip(lines, dropped, signed, strict=True):
        if drop or sign or (not headings and _HEADING.match(line)):
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
    text = html.unescape(text).translate(_FULL_WIDTH)
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
    text = _drop_greeting(text)
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


def _drop_greeting(text: str) -> str:
    """The post without the greeting that opens one of its first GREETING_LINES non-empty lines."""
    lines = text.split("\n")
    seen = 0
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _GREETING.match(line):
            lines[i] = _GREETING.sub("", line, count=1)
            break
        seen += 1
        if seen >= GREETING_LINES:
            break
    return "\n".join(lines)


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
    return bool(_ABBREVIATION.search(tail)
                or (_NUMBERING_ABBREVIATION.search(tail) and after.lstrip("(")[:1].isdigit())
                or (_ET_CETERA.search(tail) and after[:1].islower()))


def _terms(text: str, function_words: frozenset[str] = FUNCTION_WORDS) -> int:
    """Content terms that name something: `function_words` and words that only ask for help left out."""
    return sum(term not in _ASKING_WORDS for term in tokenize([text], function_words)[0])


def stands_alone(question: str) -> bool:
    """True when `question` names enough to be asked on its own (no widening needed, `focus_of`)."""
    return _terms(question) >= MIN_FOCUS_TERMS


def leans_back(sentence: str) -> bool:
    """True when the sentence opens with a connective or points back within its first words."""
    return bool(_CONNECTIVE.match(sentence) or _POINTS_BACK.search(" ".join(sentence.split()[:POINTER_WORDS])))


def focus_of(sentences: list[str], follow_pointers: bool = True) -> str:
    """The last question sentence, widened backwards while it is too short to stand alone or
    (with `follow_pointers`) leans on the sentence before it; a question that leans back starts at
    the question it follows when that one is among the sentences the focus may hold."""
    if not sentences:
        return ""
    asking = [i for i, s in enumerate(sentences) if "?" in s]
    own = [i for i in asking if not _ASIDE.match(sentences[i])]
    if asking and not own:
        # Only an add-on is marked: the post's own question may be typed without its mark before it
        # ("is adagrad second order" then "Also, is the midterm open book?"). Only a sentence that
        # opens as a question takes over; a statement about the student's setup never does.
        own = _unmarked_questions(sentences[:asking[-1]])
    asking = own or asking
    if asking:
        end = asking[-1]
    else:
        plain = [i for i, s in enumerate(sentences) if _may_ask(s)]
        asking = _unmarked_questions(sentences)  # what a closing line after them hands the focus to
        end = (asking or plain)[-1] if plain else len(sentences) - 1
    start = end
    # A follow-up leans on the question it follows, not on whatever sentence stands between them:
    # in "Why divide the loss by math.log(2)? My first guess was an fp16 trick. And does this
    # division affect training?" the division is the one the first question names, and the student's
    # guess in between names nothing a TA answer would. A closing line that names nothing at all
    # ("Any ideas?", "What am I missing?", "Thoughts?") adds nothing to the question before it: that
    # question is the focus, read as a last question is.
    closing = _closing_line(sentences[end])
    if follow_pointers and (leans_back(sentences[end]) or closing):
        followed = [i for i in asking if end - MAX_FOCUS_SENTENCES < i < end]
        if followed and closing:
            return focus_of(sentences[:followed[-1] + 1], follow_pointers)
        if followed:
            start = followed[-1]
    return _widened(sentences, start, end, follow_pointers)


# A closing line asks with modal verbs ("Could someone explain?", "Would appreciate any help"); the
# English stop-word list has only their negations.
_NOT_NAMING = FUNCTION_WORDS | {"could", "would", "might", "may", "must", "shall"}


def _closing_line(sentence: str) -> bool:
    """A line that asks only for help, naming nothing ("Any ideas?", "Could someone explain?") and
    pointing back to nothing; a question mark alone on its line is not one: it ends the sentence above
    it."""
    return any(c.isalpha() for c in sentence) and _terms(sentence, _NOT_NAMING) == 0 and not leans_back(sentence)


def _may_ask(sentence: str) -> bool:
    """False for a lead-in to what was cut, an aside or an edit: none of them is what a post asks."""
    return not (_LEAD_IN.search(sentence) or _ASIDE.match(sentence) or _EDIT.match(sentence))


def _unmarked_questions(sentences: list[str]) -> list[int]:
    """Which of `sentences` ask though typed without their mark: they open as a question (`_may_ask`)."""
    return [i for i, s in enumerate(sentences) if _may_ask(s) and _OPENS_AS_QUESTION.match(s)]


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
        if "?" in sentence or _OPENS_AS_QUESTION.match(sentence):
            question = _widened(sentences, i, i, follow_pointers=False)
            questions = [earlier for earlier in questions if earlier not in question] + [question]
    return tuple(questions)


def title_of(text: str) -> str:
    """The post's title: its first line, when a blank line stands under it and it is short and
    not code, a quote, a section heading, a greeting or a sentence leading into the body; else ""."""
    lines = text.split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    while len(filled) > 2 and _PAGE_METADATA.match(lines[filled[0]]):  # the thread's header above its title
        filled.pop(0)
    if len(filled) < 2 or filled[1] == filled[0] + 1:
        return ""
    first = lines[filled[0]]
    if (_not_the_students_words(first) or is_furniture(first)
            or (_HEADING.match(first) and not _TITLE_HEADING.match(first)) or _GREETING.match(first)):
        return ""
    title = " ".join(prose_of(first).split())
    low, high = TITLE_WORDS
    return title if low <= len(title.split()) <= high and not _LEADS_ON.search(title) else ""


def read_post(text: str) -> Post:
    prose = prose_of(text) or " ".join(text.split())
    sentences = sentences_of(prose)
    # The question is looked for in the body: a heading asks only when the body does not.
    body = sentences_of(prose_of(text, headings=False)) if _HEADING.search(text) else sentences
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
    return Post(text=text, prose=prose, focus=focus, questions=questions_of(asking), title=title,
                messages=chat_messages(text))
