"""Where the asker's post ends in a copied page or thread.

A student who copies a page brings along what the page prints under the post: other people's
replies under their bylines ("kerasfan commented on Jun 27, 2021", "kerasfan · comment ·
2021-06-27", a forum's name over a date), a reply that greets the asker by their handle ("Hi
@quentin_r, this sounds like ..."), the header of the mail a reply quotes, the page's chrome and its
lists of other threads ("Related questions", "Know someone who can answer?"). A maintainer's "Did
you try a lower learning rate?" is not the student's question. `post_end` finds the line where the
post stops, once the student has asked or written a sentence's worth above it; `askers_later_lines`
gives back the asker's own comments under the replies ("thanks, that worked. but the accuracy is low,
what can I do?"), which are the post again. `bot.search.reading.prose` reads the student's words in those
lines and drops the rest.

Like `bot.search.reading.page_furniture` and `bot.search.reading.bylines`, whose reading of each line it weighs,
nothing here knows a topic or an entry: only how sites lay a thread out (tests/test_page_furniture.py
and tests/test_focus.py name each shape).
"""

from __future__ import annotations

import re

from bot.search.reading.bylines import Byline
from bot.search.reading.line_shapes import HEADING, MIN_SENTENCE_WORDS, OPENS_AS_QUESTION
from bot.search.reading.page_furniture import ends_the_post, quotes_a_reply, starts_the_page

# A line of the student's is a sentence when it is this long or ends like one; a page's labels above a
# thread's first byline (its title, category, "Display replies in nested form") are neither, and do
# not make that byline someone else's reply.
MIN_SENTENCE_LINE_WORDS = 8
_ENDS_SENTENCE = re.compile(r"[.!?]['\")]?\s*$")
# A reply that greets someone by their handle ("- Hi @quentin_r, this sounds like Course 2 ..."), as a
# forum's replies open under a post: a student greets the thread before asking, not by a handle after it.
_GREETS_BY_HANDLE = re.compile(r"^[\s>*•-]*(?:hi|hello|hey|dear)\s+@[\w.-]+", re.IGNORECASE)


def post_end(lines: list[str], chrome: list[bool], furniture: list[bool],
             bylines: list[Byline | None]) -> tuple[int, str | None]:
    """How many lines of a copied page are the post:
    - up to a line after which the page lists other threads, opens the answer box, signs or adds a
      list's footer (`ends_the_post`), once the post has asked something above it (a post that asks
      nothing may still ask below) or right under the page's chrome;
    - up to the header of the mail a reply quotes (`quotes_a_reply`), once the body has asked (a
      bottom-posted reply has the quote above the student's words, under the subject line);
    - up to a reply that greets someone by their handle ("Hi @quentin_r, ..."), once the post has asked;
    - up to where the page's chrome starts once the post's body has asked (`starts_the_page`; the
      line itself kept, to be stripped as furniture with the tag list right above it): under the
      question come its byline, tags, other users' comments and the page's lists of threads, which
      ask too. A title that asks does not count (a page prints the asker's byline and counts between
      title and body), nor a chrome line with more of the student's words below it than above, up to
      the page's lists: a notice the reader does not know ("Want to improve this question?") in a
      page's header has the whole post under it;
    - up to another person's reply in a copied thread (`thread_byline`: "kerasfan · comment ·
      2021-06-27", "kerasfan commented on Jun 27, 2021", a forum's name over a date), once the
      student has written a sentence's worth (MIN_SENTENCE_WORDS words, the title of a page aside)
      and asked something: a maintainer's "Did you try a lower learning rate?" is not the student's
      question, but a page whose text above its comments asks nothing (a blog post's excerpt over its
      comment thread) may have the student's question in a comment below, as a post that asks nothing
      may still ask below the page's lists (docs/real-phrasing.md, fifty-fourth session). The first
      byline above the student's words names the asker, whose own follow-ups are still the post, under
      the replies too (`askers_later_lines`); so does a first byline under a page's labels only
      (nothing above it asks or is a sentence).
    `chrome`, `furniture` and `bylines`: `is_page_chrome`, `is_furniture` and `thread_byline` of each line.
    Also the asker's name when the post ends at another person's reply under a byline that named them
    (their later comments in the thread are theirs again, `askers_later_lines`), else None."""
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
                return guessed, None  # the asker is someone else: what followed the first line was a reply
            elif (said >= MIN_SENTENCE_WORDS and asked and byline.kind != "post"
                  and (byline.author is None or byline.author != asker)):
                return i, asker  # someone else's reply, once the student has written something
        elif (not furniture[i] and not HEADING.match(line) and any(ch.isalpha() for ch in line)
              and not (titled and i == first)):
            spoken.append(i)
            said += len(line.split())
            sentence = sentence or len(line.split()) >= MIN_SENTENCE_LINE_WORDS or bool(_ENDS_SENTENCE.search(line))
        if ((asked or under_chrome) and ends_the_post(line)) or (body_asked and quotes_a_reply(lines, i)):
            return i, None
        if asked and _GREETS_BY_HANDLE.match(line):
            return i, None
        if body_asked and starts_the_page(lines, i, chrome):
            if words is None:
                words = [0 if flag or not any(ch.isalpha() for ch in text) else len(text.split())
                         for text, flag in zip(lines, furniture, strict=True)]
            lists = next((j for j in range(i + 1, len(lines)) if ends_the_post(lines[j])), len(lines))
            if sum(words[:i]) >= sum(words[i + 1:lists]):
                return i + 1, None
        if ("?" in line or OPENS_AS_QUESTION.match(line.strip())) and not chrome[i]:
            asked = True
            body_asked = body_asked or i != first
        if line.strip():
            under_chrome = chrome[i] or not any(ch.isalpha() for ch in line)
    return len(lines), None


def askers_later_lines(lines: list[str], end: int, bylines: list[Byline | None], asker: str | None) -> list[int]:
    """The lines after `end` (another person's reply) that the asker wrote: a thread's later comments under
    the asker's own byline, each with a blank line before it so it stays a paragraph of its own. Students
    come back under the replies with what they now ask ("thanks, that worked. but the accuracy is low, what
    can I do?"). Nothing when no byline named the asker. The page's lists and footer end them too."""
    if asker is None:
        return []
    later: list[int] = []
    author: str | None = None
    for i in range(end, len(lines)):
        if ends_the_post(lines[i]):
            break
        if bylines[i] is not None:
            author = bylines[i].author
            if author == asker:
                later.append(i)  # the byline itself: read as the asker's, dropped as a byline below
            continue
        if author == asker:
            later.append(i)
    return later


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
