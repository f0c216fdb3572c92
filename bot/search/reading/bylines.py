"""Who wrote each part of a copied thread or chat.

A student who copies a forum thread, an issue or a chat channel brings along other people's words:
a maintainer's reply under the question, a classmate's message above theirs. Their questions are not
the student's. Sites say who wrote what in a byline ("kerasfan commented on Jun 27, 2021", a name
over a date, "by Ana Ruiz - Monday, 3 March 2025, 2:02 PM"), chat apps in a message header
("kestrel_07 — Today at 3:38 PM"). `thread_byline` reads a byline, which `bot.search.reading.prose` uses to
cut a copied page at the first reply that is not the asker's; `chat_messages` splits a copied chat
into its messages, which the retriever reads one by one.

Like `bot.search.reading.page_furniture`, nothing here knows a topic or an entry: only what sites print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from bot.search.reading.page_furniture import CHROME_WORDS, DATE_MENTION, MONTH, WHEN, WHEN_LINE

# Who wrote the part of a thread under a line. A page reader's row ("jdoe · description · 2021-06-26"
# over the question, "kerasfan · comment · 2021-06-27" over a reply) and GitHub's own ("jdoe opened this
# issue on Jun 26, 2021", "kerasfan commented on Jun 27, 2021", a "Member" or "Author" badge under it)
# say so in words. Forums print a name over a date ("kvoss" over "Mar 5", Reddit's "quiet_gradient" over
# "· 2y ago", "5 points · 4 years ago"), or both on one line ("Anonymous Atom 2 days ago"), over every
# post of a thread, the asker's included; course boards and Reddit head a reply with "Instructor
# answer", "followup discussions", "level 2". The asker's byline opens the post; another person's opens
# their reply, whose questions are theirs, not the student's.
_THREAD_BYLINE = re.compile(
    r"^\W*(?:(?P<author>[^\s·][^·\n]{0,60}?)\s+·\s+(?P<row>description|comment|reply|answer|review thread|review)"
    r"\s+·\s+[^·\n]{1,40}"
    r"|(?P<user>[\w.\[\]-]{1,40})\s+(?P<verb>opened this issue|commented|replied|answered)\s+"
    rf"(?:on\s+)?{WHEN}(?:\s+at\s+\d{{1,2}}:\d{{2}})?(?:\s*[·•][^\n]*)?)\s*$",
    re.IGNORECASE)
# A GitHub discussion prints each comment's author over it with "on" and the date ("jpshaw on Apr 12"), the
# asker's post too, and a copy may keep GitHub's "commented" without its date ("ta-ignacio commented"). Read
# so only in a copy whose header names the asker ("... asked this question in Q&A", "... opened this issue"):
# elsewhere "Exam on Mar 5" is a student's line, and a post that pastes someone else's issue thread
# ("HaoMood commented" ... "^ copied this because it's my situation") goes on under its last comment.
_NAMES_THE_ASKER = re.compile(r"(?:^|\s)(?P<name>[\w.\[\]-]{1,40})\s+"
                              r"(?:asked this question in|started this conversation in|opened this issue)\b",
                              re.IGNORECASE)
_HANDLE_ON_WHEN = re.compile(rf"^\s*(?P<name>[\w.\[\]-]{{2,40}}(?:\s+bot)?)\s+(?:on\s+{WHEN}|commented)\s*$",
                             re.IGNORECASE)  # a GitHub app comments as "google-ml-butler bot"
_NAME = r"[\w.\[\]'’-]{2,40}(?:\s[\w.'’-]*[^\W\d_][\w.'’-]*){0,2}"
# On one line, the date needs a separator or an "ago": "Deadline Mar 5" or "Training took 3 hours" is a student's line.
# A full timestamp after a gap of columns needs neither ("gabriel.m    Mar 12, 2024, 9:14 AM"), nor
# after a reply's arrow ("↳ hannah_t  Mar 12, 2024, 10:02 AM"): a student writes "Deadline Mar 5, 2024, 9:00 AM".
_TIMESTAMP = (rf"(?:{MONTH}\s+\d{{1,2}},?\s*\d{{4}}|\d{{1,2}}\s+{MONTH},?\s*\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})"
              r",?\s*(?:at\s+)?\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?")
_NAME_AND_WHEN = re.compile(rf"^\s*(?P<name>{_NAME})\s*(?:[·•]\s*{WHEN}|{WHEN}\s+ago)\s*$", re.IGNORECASE)
_NAME_AND_TIMESTAMP = re.compile(
    rf"^\s*(?P<arrow>[↳↪⤷└]\s*)?(?P<name>{_NAME})(?(arrow)\s+|[ \t]{{2,}}){_TIMESTAMP}\s*$", re.IGNORECASE)
_STAFF_ROLE = r"(?:staff|instructor|ta|moderator)"
# A name on a line of its own, with a course board's role after it ("Tomás Vidal STAFF").
_NAME_LINE = re.compile(rf"^\s*(?P<name>{_NAME}?)(?:\s+(?P<role>{_STAFF_ROLE}))?\s*$", re.IGNORECASE)
# Lines that head someone's reply on a course board or Reddit, naming no one: Piazza's "the students'
# answer, where students collectively construct a single answer", "followup discussions for lingering
# questions and comments", Ed's "Instructor answer", Reddit's "level 2". (A bare "Answer" is not one: a
# student quoting an exercise writes it too.)
_REPLY_HEADING = re.compile(
    r"^\W*(?:(?:the\s+)?(?:instructors?'?|students?'?) answers?(?:,[^?]*)?|follow-?up discussions?(?:\s+for\s[^?]*)?"
    r"|level \d+)\W*$",
    re.IGNORECASE)
# The badge under a byline: GitHub's for the author, or for someone else with a role in the
# repository or the course ("Member", "Collaborator", a course board's "STAFF").
_AUTHOR_BADGE = re.compile(r"^\s*author\s*$", re.IGNORECASE)
_ROLE_BADGE = re.compile(rf"^\s*(?:member|contributor|collaborator|owner|maintainer|{_STAFF_ROLE})\s*$", re.IGNORECASE)
# ... or a course board's badge for a student, which says no more than who wrote it ("Student").
_LEARNER_BADGE = re.compile(r"^\s*(?:student|learner|novice|expert|master|grandmaster|topic author)\s*$", re.IGNORECASE)
# A thread copied as Markdown (a chat export, a forum's "copy as Markdown") puts each writer's name in bold
# over their message: "**lin.yz**", "**mrw-ta** commented", "**dpatel3** · 2 replies". A student's own bold
# line is a heading in words ("**My question**", "**Update**") or a name in code ("**nn.Softmax**"): a bold
# word alone counts as a name only when it is written as a handle (a digit, an underscore, or a dot or
# hyphen inside it) and the copy has another such line (a thread has several messages), or when a verb
# or a reply count after it says so.
_HANDLE_WORD = r"[^\W\d_][\w.-]{0,38}(?:\d|_|[^\W\d_][.-][^\W\d_])[\w.-]*"
_BOLD_NAME = re.compile(
    rf"^\s*\*\*(?:(?P<name>[^\W\d_][\w.-]{{0,38}})\*\*\s*(?:(?:commented|replied|answered|wrote)\b[^\n]{{0,40}}"
    rf"|[·•]\s*\d+\s+repl(?:y|ies))|(?P<handle>{_HANDLE_WORD})\*\*)\s*$",
    re.IGNORECASE)
# Reddit's comment header: old Reddit's "[–] kestrel_ml 9 points 2 years ago", new Reddit's
# "u/tanh_enjoyer - 1d ago" or "u/tanh_enjoyer · 1d ago".
_REDDIT_COMMENTER = re.compile(
    rf"^\s*(?:\[[–+-]\]\s*(?P<old>[\w-]{{2,40}})\s+-?\d+\s+points?\s+{WHEN}"
    rf"|u/(?P<new>[\w-]{{2,40}})\s*(?:[-–·•]\s*)?{WHEN})\s*$",
    re.IGNORECASE)
# A course board's byline on one line: Moodle's "by Ana Ruiz - Monday, 3 March 2025, 2:02 PM", a
# "Posted by ... on ...", Blackboard's "Author: Ana Ruiz (Student)".
_BY_NAME = re.compile(
    rf"^\s*(?:posted\s+)?by\s+(?P<name>{_NAME})\s*(?:[-–—,]|\son\s)\s*(?P<when>.{{4,60}})$"
    rf"|^\s*author:\s*(?P<author>{_NAME})(?:\s*\((?P<role>[^)]{{1,20}})\))?\s*$",
    re.IGNORECASE)
# What a course board prints over a byline: the poster's initials in place of an avatar ("NA"), a
# reply's subject ("Re: week 5").
_OVER_A_BYLINE = re.compile(r"^\s*(?:[A-Z]{1,3}|[Rr][Ee]:\s.{1,60})\s*$")


@dataclass(frozen=True)
class Byline:
    """Who wrote the part of a thread under a line. `kind` is "post" over the asker's post
    ("description", "opened this issue", GitHub's "Author" badge), "reply" over someone else's (a
    reply's row, a role badge, a course board's "Instructor answer", which names no one: `author`
    None), and "either" where sites print the same over the opening post and over replies (GitHub's
    "commented", a forum's name over a date). `lines`: how many lines it takes (a name over its date, two)."""

    author: str | None
    kind: str
    lines: int = 1


# A byline is short and is no sentence: longer lines, and lines a sentence ends, are not looked at.
MAX_BYLINE_CHARS = 120


def thread_byline(lines: list[str], i: int) -> Byline | None:
    """The byline line `i` opens, if it is one (see `Byline`)."""
    line = lines[i].strip()
    if not line or len(line) > MAX_BYLINE_CHARS or line.endswith(("?", ".", ":", ",", ";", "!")):
        return None
    match = _THREAD_BYLINE.match(line)
    if match is None and (header := _NAMES_THE_ASKER.search(line)) is not None:
        # An issue's or a discussion's header names the asker wherever the line puts it, dated or not, with
        # the thread's state and labels around it: "Closed   j-park opened this issue · 3 comments   Labels: question",
        # "mkalderon asked this question in Q&A".
        return Byline(header.group("name").lower(), "post")
    if match is not None:
        said = (match.group("row") or match.group("verb")).lower()
        kind = "post" if said in ("description", "opened this issue") else "either" if said == "commented" else "reply"
        if kind == "either":  # a badge under it ("edited" may come first) says whose comment it is
            badge = next((lines[j] for j in _filled_under(lines, i)
                          if _AUTHOR_BADGE.match(lines[j]) or _ROLE_BADGE.match(lines[j])), "")
            kind = "post" if _AUTHOR_BADGE.match(badge) else "reply" if badge else kind
        return Byline((match.group("author") or match.group("user")).strip().lower(), kind)
    if _REPLY_HEADING.match(line):
        return Byline(None, "reply")
    on_when = _HANDLE_ON_WHEN.match(line)
    if on_when is not None and any(_NAMES_THE_ASKER.search(above) for above in lines[:i]):
        return Byline(on_when.group("name").lower(), "either")
    marked = _BOLD_NAME.match(line) or _REDDIT_COMMENTER.match(line)
    if marked is not None and (marked.re is not _BOLD_NAME or not marked.group("handle")
                               or len(list(islice((o for o in lines if _BOLD_NAME.match(o)), 2))) > 1):
        return Byline(next(name for name in marked.groups() if name).lower(), "either")
    if WHEN_LINE.match(line):
        return None
    if _OVER_A_BYLINE.match(line) and i + 1 < len(lines):
        under_it = thread_byline(lines, i + 1)
        return Byline(under_it.author, under_it.kind, under_it.lines + 1) if under_it is not None else None
    by = _BY_NAME.match(line)
    if by is not None and (by.group("author") or DATE_MENTION.search(by.group("when") or "")):
        role = by.group("role") or ""
        staff = re.fullmatch(_STAFF_ROLE, role.strip(), re.IGNORECASE) is not None
        return Byline((by.group("name") or by.group("author")).strip().lower(), "reply" if staff else "either")
    named, span, staff = _NAME_AND_WHEN.match(line) or _NAME_AND_TIMESTAMP.match(line), 1, False
    name = named.group("name") if named is not None else None
    alone = _NAME_LINE.match(line) if named is None else None
    if alone is not None:
        # The date under the name, or under a role badge under it ("Daniel Osei" / "STAFF" / "3d").
        under = _filled_under(lines, i)
        when = next((j for k, j in enumerate(under[:2]) if WHEN_LINE.match(lines[j])
                     and (k == 0 or _ROLE_BADGE.match(lines[under[0]]) or _LEARNER_BADGE.match(lines[under[0]]))),
                    None)
        if when is not None:
            name, span = alone.group("name"), when - i + 1
            # Course staff answer the asker.
            staff = bool(alone.group("role")) or _ROLE_BADGE.match(lines[under[0]]) is not None
    # A name is no chrome word ("Closed 3 months ago", "asked 2 days ago" are the page's own lines), nor a badge.
    if (name is None or CHROME_WORDS.search(name) or _LEARNER_BADGE.match(name)
            or not re.search(r"[^\W\d_]", name)):
        return None
    return Byline(name.strip().lower(), "reply" if staff else "either", span)


# A chat app's message header, as a copy of a channel prints it: Discord's "kestrel_07 — Today at 3:38 PM"
# or "— 04/11/2025 9:02 PM", Slack's and Teams' "Mira Castellanos  10:42 AM" and "[10:37 AM] Bellamy Ortiz",
# and the one-line forms whose message follows on the line ("[9:02 PM] juno_arc: anyone ...", WhatsApp's
# "4/11/25, 9:02 PM - Ana: ..."). The time is what makes it one: a name alone is not.
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?"
_DAY = (rf"(?:today|yesterday|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|\d{{1,2}}\.\d{{1,2}}\.\d{{2,4}}"
        rf"|{MONTH}\s+\d{{1,2}}(?:,?\s*\d{{4}})?)")
_CHAT_NAME = r"[^\W\d][\w.'’&| ()-]{0,40}?"
_PLAIN_NAME = r"[^\W\d][^\W\d_]*(?:[ '’.-]+[^\W\d_]+){0,3}"  # "Mira Castellanos": words only
_SPEAKER = r"[^\W\d][^:\n\[\]]{0,40}?"  # before a colon, anything a display name holds ("Hamid 🏀")
_CHAT_HEADER = re.compile(
    rf"^\s*(?P<a>{_CHAT_NAME})\s+[—–-]\s+{_DAY}(?:,?\s+(?:at\s+)?{_CLOCK})?\s*$"
    rf"|^\s*(?P<b>{_PLAIN_NAME})\s+{_CLOCK}\s*$"
    rf"|^\s*\[(?:{_DAY},?\s+)?{_CLOCK}\]\s+(?P<c>[^\W\d][^:\n\[\]]{{0,50}}?)\s*$"
    rf"|^\s*(?P<f>{_CHAT_NAME}),\s*\[{_DAY},?\s+{_CLOCK}\]\s*$"
    rf"|^\s*\[(?:{_DAY},?\s+)?{_CLOCK}(?:,?\s+{_DAY})?\]\s*(?P<d>{_SPEAKER}):\s+(?P<said>\S.*)$"
    rf"|^\s*{_DAY},?\s+{_CLOCK}\s+-\s+(?P<e>{_SPEAKER}):\s+(?P<said2>\S.*)$",
    re.IGNORECASE)
# A header split over two lines (the name, then the time under it), and a time alone: a message's
# continuation in Discord ("[1:54 PM]").
_CLOCK_LINE = re.compile(rf"^\s*\[?{_CLOCK}\]?\s*$", re.IGNORECASE)
_NAME_ALONE = re.compile(rf"^\s*{_PLAIN_NAME}\s*$")
MIN_CHAT_AUTHORS = 2
_ANY_CLOCK = re.compile(r"\d:\d\d")


def chat_messages(text: str) -> tuple[str, ...]:
    """The messages of a copied chat, each without its header, when `text` holds messages by at least
    MIN_CHAT_AUTHORS people; else (). Words above the first header are a message too: the student's
    own line over what they paste. Who asked the course question is not in the copy: the retriever
    reads each message on its own (`bot.search.retrieve.HybridRetriever.read`)."""
    if not _ANY_CLOCK.search(text):  # every header has a time: most posts are no chat, and say so at once
        return ()
    messages: list[list[str]] = [[]]
    authors: list[str | None] = [None]
    lines = text.splitlines()
    for i, line in enumerate(lines):
        header = _CHAT_HEADER.match(line)
        if header is not None:
            authors.append(next(group for group in header.group("a", "b", "c", "f", "d", "e") if group).strip().lower())
            messages.append([header.group("said") or header.group("said2") or ""])
        elif _NAME_ALONE.match(line) and i + 1 < len(lines) and _CLOCK_LINE.match(lines[i + 1]):
            authors.append(line.strip().lower())
            messages.append([])
        elif not _CLOCK_LINE.match(line):
            messages[-1].append(line)
    said = [("\n".join(lines).strip(), author) for lines, author in zip(messages, authors, strict=True)]
    said = [(words, author) for words, author in said if any(ch.isalpha() for ch in words)]
    # People who said something: a schedule's "Office hours Monday 10:30 AM" says nothing under it.
    if len({author for _, author in said if author is not None}) < MIN_CHAT_AUTHORS:
        return ()
    return tuple(words for words, _ in said)


def _filled_under(lines: list[str], i: int) -> list[int]:
    """The lines with text among the three under line `i`."""
    return [j for j in range(i + 1, min(i + 4, len(lines))) if lines[j].strip()]
