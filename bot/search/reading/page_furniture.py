"""What a page adds around a post copied from it: the site's furniture, not the student's words.

A student who selects a whole question page and pastes it brings along the page's own lines: "Asked 2
years ago · Viewed 3k times", "Share Improve this question Follow", the asker's byline and badges,
other users' comments under the question, "1 Like · Reply · 3 replies", "Related topics" and the
titles listed under them, a mailing list's footer, a signature under "--", an issue form's
"_No response_", a pip freeze, an image's file name and size. Read as prose they dilute every match,
and a comment's question ("What have you tried so far? – jdoe Jun 3 at 21:30") can pass for the
student's. `python -m eval.context_check --noise` measures how much each such shape moves the
abstention model's decisions on the calibration rows.

Nothing here knows a topic or an entry. The rules are about what sites print: a line made of their
chrome words, counts and dates only; the lines that end a post and start the page around it; other
users' dated comments; environment dumps; an image's leftovers. Who wrote each part of a copied thread
or chat is `bot.search.reading.bylines`.
"""

from __future__ import annotations

import re

from bot.search.lexical import FUNCTION_WORDS
from bot.search.reading.held_words import HeldWords

# Words and phrases sites print around a post (Stack Exchange, Discourse, Reddit, GitHub, Kaggle,
# course boards). Longest first, so "improve this question" goes before "question".
_CHROME = sorted((
    "share", "edit", "edited", "follow", "following", "unfollow", "flag", "cite", "improve this question",
    "improve this answer", "improve this post", "add a comment", "add comment", "show more comments", "reply",
    "replies", "like", "likes", "liked", "solution", "solved", "accepted", "bookmark", "copy link", "permalink",
    "report", "save", "saved", "hide", "join", "upvote", "upvotes", "upvoted", "downvote", "vote", "votes",
    "answer", "answers", "comment", "comments", "view", "views", "viewed", "times", "users", "participants",
    "links", "link", "members", "online", "points", "point", "sorted by", "sort by", "highest score", "default",
    "reset to default", "date modified", "newest first", "oldest first", "date created", "active", "oldest",
    "newest", "trending", "hotness", "top", "new", "award", "awards", "ask question", "new contributor",
    "your answer", "post your answer", "gold badge", "gold badges", "silver badge", "silver badges",
    "bronze badge", "bronze badges", "badge", "badges", "reputation", "rep", "trust level", "basic user",
    "member", "regular", "leader", "mentor", "super mentor", "moderator", "staff", "first post", "question",
    "questions", "discussion", "help", "help request", "asked", "answered", "modified", "posted", "created",
    "last reply", "submitted", "by", "ago", "today", "yesterday", "archived", "locked", "pinned", "closed",
    "min read", "show more", "show less", "read more", "collapse", "expand", "level", "go to", "page",
    "previous", "next", "imgur", "image", "images", "attachment", "download", "kb", "mb", "good question",
    "endorsed", "instructor", "helpful", "unresolved", "resolved", "followup", "follow-up", "thread",
    "threads", "topic", "topics", "activity", "category", "categories", "home", "latest", "unread", "tags",
    "tag", "labels", "label", "assignees", "milestone", "projects", "linked", "related", "subscribe",
    "subscribed", "notifications", "issue", "opened", "opened this issue", "contributor", "author", "owner",
    "collaborator", "maintainer", "commented", "mentioned", "pull request", "fork", "star", "watch",
    "mark as read", "mark as unread", "mark unread", "mark read", "status", "published", "quote", "react",
    "forward", "topic author", "expert", "upvoted", "updated", "settings", "dashboard", "my courses", "hotness",
), key=len, reverse=True)
CHROME_WORDS = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in _CHROME) + r")\b", re.IGNORECASE)
# A month as sites and students write it ("Mar", "March", "Sept.").
# Only a month's own letters follow: "Mark", "Decoder" and "Augment" are words.
MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
         r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
# Counts, dates and times as sites print them: "3k", "1,014,227", "2 yr. ago", "Mar '23", "at 21:30".
_COUNTS_AND_DATES = re.compile(
    rf"\b{MONTH}(?:\s*'\d{{2}}|\s+\d{{1,2}}(?:,?\s*\d{{4}})?)?(?=\W|$)|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
    r"|\b\d+(?:[.,]\d+)*\s*(?:k|m|yrs?|yr|years?|mo|months?|w|wks?|weeks?|d|days?|h|hrs?|hours?|mins?(?!\s+read)|minutes?|s)?\b\.?"
    r"|\b(?:at\s+)?\d{1,2}:\d{2}\b|\bu/[\w-]+|\br/[\w-]+|@[\w.-]+|#\d+",
    re.IGNORECASE)
# A date named in a field (a month, an ISO date, an "ago"): a listing row has one ("12 replies · Mar 3"),
# and so does the "when" of a byline ("by Ana Ruiz - Monday, 3 March 2025", not "by hand - it works").
DATE_MENTION = re.compile(rf"\b{MONTH}(?=\W|$)|\b\d{{4}}-\d{{2}}-\d{{2}}\b|\bago\b", re.IGNORECASE)
_SUBREDDIT_OR_USER = re.compile(r"(?:^|\s)[ur]/[\w-]+")
# When a thread says a post was written: "Mar 5", "12 Feb", "March 5, 2023, 10:02am", "Jan '24", "2024-05-02",
# "2d", "· 2y ago", "• 3 yr. ago", "5 points · 4 years ago", "2 days ago"; Stack Exchange writes an earlier
# year short after the day ("Nov 17 '20 at 9:02").
WHEN = (rf"(?:{MONTH}\s+\d{{1,2}}(?:,?\s*\d{{4}}|\s+'\d{{2}})?(?:,?\s*\d{{1,2}}:\d{{2}}\s*(?:[ap]m)?)?"
        rf"|{MONTH}\s*'\d{{2}}"
        rf"|\d{{1,2}}\s+{MONTH}(?:,?\s*\d{{4}})?|\d{{4}}-\d{{2}}-\d{{2}}"
        r"|\d+\s*(?:[smhdwy]|mo|mins?|hrs?|yrs?|minutes?|hours?|days?|weeks?|months?|years?)\.?(?:\s+ago)?"
        r"|an?\s+(?:minute|hour|day|week|month|year)\s+ago"
        r"|yesterday|today|just now)")
# A line that says only when, with what some sites say around it: "Posted 2 days ago", Ed's "3 days ago in Lectures".
WHEN_LINE = re.compile(rf"^\s*[·•]?\s*(?:\d+\s+points?\s*[·•]\s*)?(?:(?:posted|updated|edited|created)\s+)?{WHEN}"
                       r"(?:\s+at\s+\d{1,2}:\d{2})?(?:\s+in\s+[^\W\d][\w &/-]{0,30})?\s*$", re.IGNORECASE)
# A line of furniture is chrome words only ("Share", "Improve this question"), or has two of them or a
# count or date and at most this many words left once they are taken out: a user name ("asked 17
# hours ago fennwick"), a category ("🤗Transformers 1 Like Reply"). A title such as "Backprop help"
# has one chrome word and no count: it stays.
MAX_LEFT_WORDS = 2

# Sentences sites print in full: sign-up banners, bounty, closing and duplicate notices (with the
# other question's title and "(2 answers)"), the asker's new-contributor note, the lines under a Q&A
# page's question and over its answers, a mailing list's footer. Tried on every line of a post, and
# nearly none holds any of their words: a substring test rules a line out first (`HeldWords`; 0.15 ->
# 0.04 ms a post, the calibration and development posts).
_BOILERPLATE = HeldWords(re.compile(r"(?:" + "|".join((
    r"is a question and answer site for", r"it only takes a minute to sign up", r"sign up to join this community",
    r"anybody can (?:ask|answer)", r"the best answers are voted up", r"this question shows research effort",
    r"this question does not show any research effort", r"save this question", r"show activity on this post",
    r"the bounty expires", r"eligible for a \+?\d+ reputation bounty", r"wants to draw more attention to this question",
    r"looking for an answer drawing from credible", r"is a new contributor to this site",
    r"take care in asking for clarification", r"check out our code of conduct", r"this topic was automatically closed",
    r"new replies are no longer allowed", r"archived post", r"new comments cannot be posted", r"votes cannot be cast",
    r"this post has been locked", r"this question needs (?:details|debugging details|to be more focused)",
    r"it is not currently accepting answers", r"want to improve this question\?", r"update the question so it",
    r"this question already has (?:an )?answers? here", r"^.{5,200}\(\d+ answers?\)\s*$",
    r"^\W*(?:closed|duplicate)\.\s",
    r"protected question\.", r"skip to main content", r"collaborate at work with stack overflow",
    r"try teams for free", r"sign up for free to join this conversation on github",
    r"has an open bounty worth", r"questions tagged \[",
    r"this thread has been locked", r"browse other (?:topics|questions)",
    r"want to read more\?", r"share a link to this question", r"part of .{1,40} collective",
    r"you received this message because you are subscribed", r"to unsubscribe from this group",
    r"to view this discussion on the web", r"search entries or author",
    r"^\W*(?:last\s+)?edited by\s.{1,40}\s(?:on|at)\s",
    # a Kaggle poster's rank; a mail client's banners; an app's notification over what it announces
    r"\b\d+(?:st|nd|rd|th) in this competition\b", r"this email originated from outside",
    r"you don't often get email from", r"^\W*learn why this is important\W*$", r"^\W*get outlook for \w+\W*$",
    r"^\W*[\w &.-]{1,30}:\s+new (?:post|note|question|followup|follow-up|reply|comment|answer|message)s?"
    r"\s+(?:in|on|to)\b",
    r"\bposted a new (?:note|question|post)\b", r"^\W*(?:tap|click) to view\W*$",
    # a course board's avatar text and view switch (Moodle's "Picture of Ana Ruiz")
    r"^\W*picture of [^\W\d][\w .'’-]{1,40}$", r"^\W*display replies (?:in|flat|nested)\b",
    # GitHub's timeline events between an issue's comments
    r"\b(?:added|removed) the [\w :.-]{1,40} labels?\b", r"^\W*no one assigned\W*$", r"\bself-assigned this\b",
    r"\bclosed this as (?:completed|not planned)\b", r"\bmentioned this issue\b", r"\blinked a pull request\b",
)) + r")", re.IGNORECASE))
# ... and an issue form's: the post goes on under them.
_FORM_BOILERPLATE = HeldWords(re.compile(r"(?:" + "|".join((
    r"a clear and concise description of", r"if applicable, add screenshots", r"steps to reproduce the behavior",
    r"i agree to follow this project's code of conduct", r"_no response_",
)) + r")", re.IGNORECASE))

# A line after which the rest of the copy is the page around the post, not the post: the lists of
# other threads under it, the answer box, a signature under "-- ", a mailing list's footer.
_PAGE_CONTINUES = re.compile(
    r"^\W*(?:related(?: topics| questions| posts| threads| discussions)?|suggested topics"
    # a mirror site's headings over the answers and its list of other threads ("Best Answer", "Related
    # Solved Questions")
    r"|(?:best|accepted|top) answer|related(?:\s+[^\W\d_]+){1,2}\s+(?:questions|topics|posts|threads)"
    r"|similar (?:topics|questions|threads|posts)|linked"
    r"|hot network questions|your answer|know someone who can answer\?.*|\d+ answers?|sorted by:?.*"
    r"|you received this message because you are subscribed.*)\W*$|^-- ?$",
    re.IGNORECASE)


# Another user's comment under the question, as Stack Exchange prints it: the text, then a dash, the
# commenter's name and when ("– kerasfan Jun 3, 2022 at 21:30", "— Hollis Varga, Jan 17 at 12:02", an
# earlier year short: "– tmoreau Nov 17 '20 at 9:02").
_DATED_COMMENT = re.compile(
    rf"\s[–—-]\s*[\w .'’♦-]{{1,40}},?\s+(?:{MONTH}\s+\d{{1,2}}(?:,\s*\d{{4}}|\s+'\d{{2}})?"
    rf"|\d{{1,2}}\s+{MONTH}(?:\s+\d{{4}})?"
    r"|\d+\s*\w+\s+ago)(?:\s+at\s+\d{1,2}:\d{2})?\W*$",
    re.IGNORECASE)

# ... and as a copy of the page may split it: the text on its line, then "– kerasfan" and the date on
# lines of their own.
_COMMENTER = re.compile(r"^\s*[–—]\s*[\w .'’♦-]{1,40}$")

# An environment dump: pip freeze lines, and "label: value" lines whose label names a part of the
# setup and whose value is a version or a flag ("PyTorch version: 1.13.1", "Is debug build: False").
_SETUP_WORD = (r"(?:version|os|platform|python|torch|pytorch|tensorflow|tf|keras|jax|cuda|cudnn|gpu|cpu|numpy|driver|"
               r"build|runtime|transformers|compiler|gcc|clang|cmake|libc|rocm|device|hardware|environment|env|system)")
_PINNED = re.compile(r"^\W*(?:\[\w+\]\s*)?[A-Za-z][\w.-]*\s*(?:==|>=|<=|~=)\s*\d[\w.+-]*\W*$"
                     r"|^\s*[A-Za-z][\w.-]*\s+\d+(?:\.\d+)+\s+\S+(?:\s+[\w.-]+)?\s*$")  # a conda list's row
_SETUP_FIELD = re.compile(
    r"^\W*(?:[A-Za-z][\w ./()-]{0,40}?\s)?" + _SETUP_WORD + r"\b[^:\n]{0,30}:\s*"
    r"(?:[^?!\n]{0,40}\d[^?!\n]{0,40}|(?:true|false|none|n/?a|yes|no|could not collect|not installed)\b[^?!\n]{0,60})$",
    re.IGNORECASE)
# A form's question with its answer after "?:" ("Using GPU in script?: yes"): filled in, not asked.
_ANSWERED_FIELD = re.compile(r"^\W*[^?\n]{3,80}\?\s*:\s*[^?\s][^?\n]{0,40}$")
# ... and its value is a few words at most: "Environment: Python 3.11, numpy 1.26, my own tiny autograd
# for HW2" is the student's sentence about their setup.
MAX_SETUP_VALUE_WORDS = 5
_SETUP_TABLE_ROW = re.compile(rf"^\s*\|\s*(?:[\w .-]{{0,30}}\s)?{_SETUP_WORD}\b[^|]{{0,30}}\|"
                              r"\s*v?\d+(?:\.\d+)+[^|]*\|\s*$",
                              re.IGNORECASE)
_SETUP_HEADER = re.compile(
    r"^\W*(?:environment|system info(?:rmation)?|versions?(?: of relevant libraries)?|setup|my (?:setup|environment)"
    r"|packages in environment at .*|name\s+version\s+build\s+channel)\W*$",
    re.IGNORECASE)

# The section labels of issue and forum forms, alone on their line (as a heading, in bold, with a
# colon or an emoji): "Describe the bug", "**To Reproduce**", "### Expected behavior", "N/A".
_FORM_LABEL = re.compile(r"^[\W_]*(?:" + "|".join((
    r"describe the (?:bug|problem|question|issue)", r"bug (?:report|description)", r"(?:steps )?to reproduce",
    r"reproduction", r"(?:minimal )?reproducible example", r"code (?:sample|to reproduce)",
    r"(?:expected|actual|current|observed) behaviou?r", r"additional (?:context|information|details)",
    r"other information", r"(?:error |relevant )?logs?(?: output)?", r"screenshots?", r"who can help\??",
    r"your question", r"questions? and help", r"motivation", r"pitch", r"alternatives", r"checklist",
    r"what have you tried\??", r"what are you trying to do\??", r"anything else\??", r"details", r"description",
    r"summary", r"information", r"tasks", r"related issues?", r"possible (?:solution|fix)", r"proposal",
    r"feature request", r"question type\b.*", r"title:\s*\[[^\]]*\]:?", r"n/?a", r"none",
)) + r")[\W_]*$", re.IGNORECASE)
# Of those, the labels under which the reporter says what they ask or what went wrong; the other
# sections hold what they tried, expected, ran or add ("What have you tried?", "Versions").
_QUESTION_LABEL = re.compile(
    r"^[\W_]*(?:describe the (?:bug|problem|question|issue)|bug (?:report|description)|your question"
    r"|questions? and help|question|description|summary|details)[\W_]*$", re.IGNORECASE)


def asked_in_form(text: str) -> str | None:
    """The lines under a form's question labels, when the post is a form that has another section too
    ("### Describe the question" over the question, "### What have you tried?" over what was tried);
    else None. Text before the first label (a title) counts with the question."""
    kinds = [("question" if _QUESTION_LABEL.match(line) else "other") if _FORM_LABEL.match(line) else None
             for line in text.splitlines()]
    if "question" not in kinds or "other" not in kinds:
        return None
    asked, section = [], "question"
    for line, kind in zip(text.splitlines(), kinds, strict=True):
        section = kind or section
        if kind is None and section == "question":
            asked.append(line)
    return "\n".join(asked)


# A page's breadcrumb: three or more places joined by arrows ("Course Q&A › Deep Learning › Week 1"),
# or by slashes or ">" with one of the site's words among them ("Home / Categories / Part 1 (2022)"):
# "train / val / test split" is the student's.
_PLACE = r"[^\W\d][\w&'’ ():.-]{0,39}"
_BREADCRUMB = re.compile(rf"^\W*{_PLACE}(?:\s+[›»→]\s+{_PLACE}){{2,}}$")
_SLASHED_BREADCRUMB = re.compile(rf"^\W*{_PLACE}(?:\s+[/>]\s+{_PLACE}){{2,}}$")
# The site's own name, which a copy of the whole page starts with (and often ends with, in its footer):
# "Cross Validated", "Stack Overflow", "Data Science Stack Exchange", "PyTorch Forums", "fast.ai Course
# Forums", "DeepLearning.AI Community". Read as the post's title line, it took the place of the title
# under it (two probes of page shapes, docs/real-phrasing.md, fifty-fourth session). The words before
# the site's kind are a name, not a phrase: "Question for the community" is a student's.
_SITE_NAME = re.compile(r"^\W*(?:(?P<name>(?:[^\W\d_][\w.+&'’-]*\s+){0,3})(?:stack\s*exchange|forums?|community)"
                        r"|stack\s*overflow|cross\s*validated)\W*$", re.IGNORECASE)


def is_site_name(line: str) -> bool:
    """True for a line that is only a Q&A site's or a forum's name."""
    named = _SITE_NAME.match(line)
    return named is not None and not any(word.lower() in FUNCTION_WORDS for word in (named["name"] or "").split())


# A GitHub page's repository line over an issue's title ("tensorflow / tensorflow", "fchollet /
# deep-learning-with-python-notebooks  Public"). Only the first line of a post is read so
# (`bot.search.reading.focus.title_of`): elsewhere "lr / 10" is the student's.
REPOSITORY_LINE = re.compile(r"^\s*[\w.-]{1,39}\s+/\s+[\w.-]{1,100}(?:\s+(?:public|private))?\s*$", re.IGNORECASE)


# A tag list: up to six lower-case tags ("machine-learning neural-network pytorch"), read as
# furniture only right above other furniture (`furniture_lines`): a short line of the post may look alike.
_TAGS = re.compile(r"^\W*(?:[Tt]ags?:\s*)?(?:#?[a-z][a-z0-9.+#-]*(?:\s*[|,•·]?\s+|\s*$)){1,6}$")
# A tag names a topic; a lower-case line with a word that only joins a sentence ("what is early
# stopping", typed without a capital or a question mark) is the student's.
def _is_tag_list(line: str) -> bool:
    return bool(_TAGS.match(line)) and not any(word in FUNCTION_WORDS for word in re.split(r"[\s,|•·]+", line.lower()))
# ... and on its own when it says it is one ("Tags: #regression #time-series").
_TAG_LABEL = re.compile(r"^\W*tags?\s*:", re.IGNORECASE)
# The names of a page's icons, copied as text where its icon font did not load ("arrow_drop_up 5
# more_vert", "thumb_up content_copy"): two at least, as one alone may be a user's name ("kiwi_coder").
# ... and the one a page's vote buttons always print, alone or beside a count ("arrow_drop_up 2").
_VOTE_ICON = re.compile(r"^\s*(?:arrow_drop_(?:up|down)|more_(?:vert|horiz)|thumb_(?:up|down))(?:\s+\d+)?\s*$")
_ICON_NAMES = re.compile(r"^\s*(?:[a-z]+(?:_[a-z]+)+(?:\s+\d+)?\s+){1,}[a-z]+(?:_[a-z]+)+(?:\s+\d+)?\s*$")
# A row of a page's list of other threads: a title, then fields of counts and dates and the category
# ("• Trainer not saving checkpoints — 🤗Transformers — 4 — Jun 2024", "Title\tvision\t3\t540\tJan 2023").
# Two or more of its fields are counts or dates, and one of them is a date.
# A run of spaces is tried once, from its start, not again from each of its spaces (which made a
# line of thousands of spaces take a quadratic time).
_ROW_FIELDS = re.compile(r"(?<!\s)\s+[—–·|]\s+|\t")
MIN_COUNT_FIELDS = 2

# What an image leaves behind: its file name, often with its size ("image.png 812×604 34.2 KB"),
# or a placeholder in brackets ("[image: plot_run3.png]", "[Screenshot]").
_IMAGE_LEFTOVER = re.compile(
    r"^\W*(?:\[(?:image|img|screenshot|attachment|figure)\b[^\]]*\]"
    r"|[\w .()-]{1,80}\.(?:png|jpe?g|gif|webp|svg|bmp)\b[^?]{0,60}?(?:\d+(?:\.\d+)?\s*[kKmM]i?B\b[^?]*)?)\W*$",
    re.IGNORECASE)

# Machine output sites and tools print with a time stamp first ("2023-10-05 09:12:44.118203: W
# tensorflow/...", "[2024-02-19 14:04:10,004][WARNING] ..."), a notebook's traceback header and frames
# ("ValueError  Traceback (most recent call last)", "Cell In[14], line 3", "----> 3 clf.fit(X)",
# "File /opt/conda/.../base.py:1151, in fit(...)"), a progress bar ("37%|███▋ | 1160/3125 [...]"), a
# native backtrace's frames and addresses ("frame #3: main + 0x2f1 (0x55d1c4e0a3b1 in ./infer)"), the
# sentences Python prints between chained tracebacks, and how a crashed process ends.
_TOOL_OUTPUT = re.compile(
    r"^\W*(?:\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|\d{2}:\d{2}:\d{2}[.,]\d+)"
    r"|traceback \(most recent call last\)|^\s*cell in\s*\[\d*\]|^\s*-+>\s*\d+\s|^\s*file [^\s\"]+:\d+, in "
    r"|\d+%\|.*\|\s*\d+/\d+|\bit/s\]|\bs/it\]"
    r"|^\s*frame #\d+|\b0x[0-9a-f]{6,}\b|the above exception was the direct cause of the following exception"
    r"|during handling of the above exception, another exception occurred"
    r"|^\W*(?:aborted|segmentation fault|killed|bus error)(?: \(core dumped\))?\W*$"
    # a logger's level ("[LightGBM] [Warning] ...", "WARNING:tensorflow:...") and a banner ("***** Running
    # Evaluation *****")
    r"|^\s*(?:\[[\w .:-]+\]\s*)*\[(?:warn(?:ing)?|info|debug|error|critical|fatal)\]"
    r"|^(?:warning|info|debug|error|critical):[\w.]+:|^\s*([*=#~-])\1{2,}\s*[\w .]{1,40}\s*\1{3,}\s*$"
    # a notebook's prompts and cell furniture copied with it ("In [3]:", "Out[3]:", Colab's "[5]", "▸ Show
    # code", " 2s", "✓ 2s completed at 3:41 PM", "<Figure size 640x480 with 1 Axes>")
    r"|^\s*(?:in|out)\s*\[\s*\d*\s*\]:|^\s*\[\s*\d*\s*\]\s*$|^\W*show code\s*$|^\s*\d+(?:\.\d+)?\s?m?s\s*$"
    r"|^\W*\d+(?:\.\d+)?\s?m?s completed at\b|^\s*<(?:figure|axes\b)[^>]*>\s*$"
    # a video's transcript: a line opened by its time stamp ("0:03 today we're going to"), a caption's tag
    r"|^\s*(?:\d{1,2}:)?\d{1,2}:\d{2}(?:\s|$)|^\s*\[(?:music|applause|laughter|inaudible|silence|crosstalk)\]\s*$",
    re.IGNORECASE)
# ... and a transcript's time stamp alone on its line, with the caption it times under it.
_LONE_TIMESTAMP = re.compile(r"^\s*(?:\d{1,2}:)?\d{1,2}:\d{2}\s*$")


def _is_setup_field(line: str) -> bool:
    if _ANSWERED_FIELD.match(line):
        return True
    if not _SETUP_FIELD.match(line):
        return False
    value = line.split(":", 1)[1]
    return len(re.findall(r"[^\W\d_]{2,}", value)) <= MAX_SETUP_VALUE_WORDS


def _is_breadcrumb(line: str) -> bool:
    return bool(_BREADCRUMB.match(line) or (_SLASHED_BREADCRUMB.match(line) and CHROME_WORDS.search(line)))


def _is_count_or_date(field: str) -> bool:
    return bool(field.strip()) and not re.search(r"[^\W\d_]{2,}", _COUNTS_AND_DATES.sub(" ", field))


def _is_listing_row(line: str) -> bool:
    fields = _ROW_FIELDS.split(line.strip())
    counts = [field for field in fields if _is_count_or_date(field)]
    return len(fields) >= 3 and len(counts) >= MIN_COUNT_FIELDS and any(map(DATE_MENTION.search, counts))


def is_furniture(line: str) -> bool:
    """True for a line the page printed rather than the student wrote: its chrome (`is_page_chrome`)
    or what was pasted with the post (`is_pasted`)."""
    return is_page_chrome(line) or is_pasted(line)


# A mail's header fields, as a forwarded or replied-to message copies them ("From: Ana <ana@uni.edu>",
# "Sent: Tuesday, March 4, 2025 9:12 AM"); the subject stays: it names what the mail is about.
_MAIL_FIELD = re.compile(r"^\s*(?:from|sent|date|to|cc|bcc|reply-to):\s+\S.{0,120}$", re.IGNORECASE)


def is_pasted(line: str) -> bool:
    """True for a line pasted with the post that the student did not write: an environment dump's
    line, an issue form's label or boilerplate, an image's leftovers, a tool's time-stamped, logged
    or progress output."""
    return bool(
        _PINNED.match(line) or _is_setup_field(line) or _SETUP_HEADER.match(line) or _SETUP_TABLE_ROW.match(line)
        or _IMAGE_LEFTOVER.match(line) or _TOOL_OUTPUT.search(line) or _FORM_LABEL.match(line)
        or _MAIL_FIELD.match(line)
        or _FORM_BOILERPLATE.search(line))


def _is_plainly_page(line: str) -> bool:
    """A line no post holds: a site's boilerplate sentence, another user's dated comment, a
    breadcrumb, a labelled tag list, a row of a list of threads, icon names, the site's name."""
    return bool(_BOILERPLATE.search(line) or _DATED_COMMENT.search(line) or _is_breadcrumb(line)
                or (_TAG_LABEL.match(line) and _is_tag_list(line)) or _is_listing_row(line) or _VOTE_ICON.match(line)
                or _ICON_NAMES.match(line) or is_site_name(line))


def starts_the_page(lines: list[str], i: int, chrome: list[bool] | None = None) -> bool:
    """True when line `i` opens the page around a post: a line no post holds, or a line of chrome
    with another right under it ("Share" over "Improve this question"). One chrome word alone may be
    a form's heading ("#### Question"), and the post goes on under it. `chrome`: `is_page_chrome` of
    each line, when the caller has it."""
    chrome = chrome if chrome is not None else [is_page_chrome(line) for line in lines]
    if not chrome[i]:
        return False
    if _is_plainly_page(lines[i]):
        return True
    below = next((j for j in range(i + 1, len(lines)) if lines[j].strip()), None)
    return below is not None and chrome[below]


def is_page_chrome(line: str) -> bool:
    """True for a line of the page around a post rather than of a post: chrome words, counts and
    dates only; a site's boilerplate sentence; another user's dated comment; a breadcrumb, a tag
    list, a row of a list of other threads. (An environment dump or a form's label belongs to the
    student's post: more of the post may follow it.)"""
    if not line.strip():
        return False
    if _is_plainly_page(line):
        return True
    if "?" in line:
        return False
    uncounted, counts = _COUNTS_AND_DATES.subn(" ", line)
    rest, chrome = CHROME_WORDS.subn(" ", uncounted)
    left = len(re.findall(r"[^\W\d_]{2,}", rest))
    if not (chrome or _SUBREDDIT_OR_USER.search(line)):
        return False
    return left == 0 or ((chrome > 1 or counts > 0) and left <= MAX_LEFT_WORDS)


# A user's handle alone on its line: one word with an underscore or a digit in it ("nervous_newbie",
# "student42"), as Reddit prints the asker under "r/MLQuestions • 8 mo. ago". A title has words.
_HANDLE = re.compile(r"^\s*u?/?[A-Za-z][\w.-]*(?:_|\d)[\w.-]*\s*$")


def furniture_lines(lines: list[str], furniture: list[bool] | None = None) -> list[bool]:
    """Per line, `is_furniture` (or `furniture`, when the caller has it); and a tag list or a user's
    name right above or between furniture (the asker's name sits between "asked 2 hours ago" and "2
    gold badges"), or a user's handle right under it; and another user's comment copied over three
    lines."""
    furniture = furniture if furniture is not None else [is_furniture(line) for line in lines]
    # A line of numbers only (a vote count, a reputation "31 1 4") is output the reader drops anyway;
    # here it counts as furniture a name may sit beside.
    flags = [flag or (any(ch.isdigit() for ch in line) and not any(ch.isalpha() for ch in line))
             for line, flag in zip(lines, furniture, strict=True)]
    filled = [i for i, line in enumerate(lines) if line.strip()]
    # A caption under its time stamp, unless it asks.
    for i in range(len(lines) - 1):
        if _LONE_TIMESTAMP.match(lines[i]) and "?" not in lines[i + 1]:
            flags[i + 1] = True
    # A comment split over three lines: its text, "– kerasfan", the date.
    for i in range(1, len(lines) - 1):
        if _COMMENTER.match(lines[i]) and WHEN_LINE.match(lines[i + 1]) and lines[i - 1].strip():
            flags[i - 1:i + 2] = [True, True, True]
    for k, i in enumerate(filled):
        before = filled[k - 1] if k else None
        after = filled[k + 1] if k + 1 < len(filled) else None
        if flags[i] or "?" in lines[i]:
            continue
        above_furniture = after is not None and flags[after]
        between = above_furniture and before is not None and flags[before]
        under_furniture = before == i - 1 and flags[before]
        if ((above_furniture and _is_tag_list(lines[i])) or (between and len(lines[i].split()) <= MAX_LEFT_WORDS)
                or (under_furniture and _HANDLE.match(lines[i]))):
            flags[i] = True
    return flags


# The header of the mail a reply quotes below it: "From:" with a "Subject: Re: ..." a few lines down.
# (A forward's header has no "Re:": under it is the mail passed on, which may be the question.)
_QUOTED_REPLY_LINES = 6
_REPLY_SUBJECT = re.compile(r"^\s*subject:\s*re:", re.IGNORECASE)


def quotes_a_reply(lines: list[str], i: int) -> bool:
    """True when line `i` opens the header of the earlier mail a reply quotes."""
    return bool(re.match(r"\s*from:\s", lines[i], re.IGNORECASE)) and any(
        _REPLY_SUBJECT.match(line) for line in lines[i + 1:i + 1 + _QUOTED_REPLY_LINES])


def ends_the_post(line: str) -> bool:
    """True for a line after which the copy is the page around the post (other threads, the answer
    box, a signature, a mailing list's footer), not the post."""
    return bool(_PAGE_CONTINUES.match(line))
