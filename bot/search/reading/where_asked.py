"""Where a question comes from is not what it asks: the framework, the lecture, the student's own
setting.

"What log base is the NLL loss using in PyTorch?" asks what "What log base is the NLL loss using?"
asks, and so does "... in lecture 5?", "... in my code?", "... on MNIST?", "... according to the
docs?" or "... (newbie here)?": a TA answers them all alike, since the TA answers here explain
ideas, whatever library a student runs them in, wherever they met them and whoever they are. But
read as they are, those words are words no answer covers, and many near misses name a framework
(they follow framework-specific posts), so they cost the question its coverage and pull it towards
the near misses. Put into the last question of each calibration row, a framework's name took
held-out answered-and-right from 0.968 to 0.880, a lecture or homework to 0.931, a dataset to 0.933,
a source ("according to the docs") to 0.935 (`python -m eval.context_check --where`;
docs/real-phrasing.md, twenty-fourth and twenty-fifth sessions).

So the retriever reads a post with them set aside, with the words that attach them, as it reads a
greeting or a signature aside:
- the names of deep-learning frameworks, the numeric libraries under them and the languages posts
  name ("in PyTorch", "using Keras", "PyTorch's"); a name inside code stays (`torch.nn.NLLLoss`,
  `tf.keras`, `pytorch_lightning`): what a call names is part of what is asked;
- public datasets and benchmarks ("on CIFAR-10", "my MNIST classifier"), likewise;
- a pointer to a part of the course: a lecture, its slides or notes, a homework, assignment, lab,
  quiz or exam, with its number or week ("in lecture 5", "for HW2", "on slide 12", "in today's
  lecture"); without one, only where the sentence does not go on with a content word ("in the
  lecture we saw ..." is read aside, "on the final layer" and "for the final project" are not);
- the student's setting: their own work ("in my code", "for my thesis", "at work"), where they read
  something ("according to the docs", "on Stack Overflow", "in the paper"; not a named paper), how
  they see themselves ("as a beginner", "(sorry if this is basic)"); again only where the sentence
  does not go on with a content word ("in my implementation of the softmax" stays).
The post's text stays as the student wrote it. Nothing here knows any entry or topic: the words
are the field's tools and data, a course's parts and a student's situation, the same for every
question.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.search.lexical import FUNCTION_WORDS, tokenize
from bot.search.reading.focus import Post

# Deep-learning frameworks, the numeric libraries under them, and the languages posts name. Not
# "R" or "Lightning": as words they mean other things far more often than a tool.
_TOOLS = (r"py\s?torch(?:\s+lightning)?", r"torch", r"keras", r"tensor\s?flow", r"tf", r"jax", r"flax",
          r"numpy", r"scipy", r"sklearn", r"scikit[- ]learn", r"mxnet", r"caffe2?", r"theano", r"fast\.?ai",
          r"matlab", r"octave", r"paddle(?:paddle)?", r"chainer", r"cupy", r"python", r"julia")
# A version after the name ("TensorFlow 2.x", "PyTorch 2.1", "v1.13").
_VERSION = r"(?:\s*v?\d+(?:\.(?:\d+|x))*)?"
# Never part of a dotted, hyphenated, slashed or underscored identifier: that is code, or another name.
_ALONE_BEFORE = r"(?<![\w.\-/])"
_ALONE_AFTER = r"(?![\w\-/]|\.\w)"
_TOOL = rf"{_ALONE_BEFORE}(?:{'|'.join(_TOOLS)}){_VERSION}(?:['’]s)?{_ALONE_AFTER}"
_PREPOSITION = r"(?:in|with|using|on|for|from|via|under|through|during|at)"
# A tool with what attaches it to the sentence: a preposition before it ("in PyTorch", "using the
# Keras library"), or a parenthesis around it ("(PyTorch)"); or the name alone ("PyTorch's").
_TOOL_PHRASE = (rf"\((?:in\s+|with\s+|using\s+)?{_TOOL}\)"
                rf"|\b{_PREPOSITION}\s+(?:the\s+)?{_TOOL}(?:\s+(?:library|framework|package|module|version|api|docs|documentation)\b)?"
                rf"|{_TOOL}")

# The parts of a course a question can point at, and what numbers them ("lecture 5", "HW2", "week
# 3", "problem 2b", "slide 12", "Q4").
# Not "class" or "section": in this course "class 0" is a label and "section 3.2" a paper's.
_COURSE_PART = (r"(?:lecture|lec|slides?|lecture\s+notes|course\s+notes|notes|hw|homework|assignment|"
                r"pset|problem\s+set|lab|quiz|midterm|final(?:\s+exam)?|exam|recitation|tutorial|"
                r"discussion\s+section|office\s+hours|video|recording)")
_NUMBER = r"(?:\s*#?\s*\d+[a-z]?(?:\.\d+)*|\s+(?:one|two|three|four|five|six|seven|eight|nine|ten))"
_WEEK = rf"(?:week|module|unit|part|problem|question|q|exercise|ex){_NUMBER}\b"
# Words that say which one of the course's parts is meant, as a number does.
_WHICH = (r"(?:today['’]s|yesterday['’]s|this\s+week['’]s|last\s+week['’]s|last|\d+(?:st|nd|rd|th)|first|second|third|"
          r"fourth|fifth|one|two|three|four|five|six|seven|eight|nine|ten)")
_WHOSE = rf"(?:the|my|our|this|that|{_WHICH})"
# "in lecture 5", "from the week 3 slides", "for HW2 problem 3", "in today's lecture", "on slide 12":
# a preposition, whose, at most one numbering before the part, the part, its number, then at most one
# numbering after it ("HW2 problem 3").
_COURSE_PHRASE = (rf"\b{_PREPOSITION}\s+(?:{_WHOSE}\s+)*(?:{_WEEK}\s+)?{_COURSE_PART}(?:{_NUMBER})?\b"
                  rf"(?:\s*,?\s*{_WEEK})?"
                  rf"|\((?:see\s+)?{_COURSE_PART}{_NUMBER}(?:\s*,?\s*{_WEEK})?\)")

# A phrase about the student's setting is read aside only where the sentence does not go on with a
# content word: it ends, or punctuation, a parenthesis or a function word other than "of"
# follows ("in my code, why ...", "in my code I ...", "for the assignment (around 60%)"). "In my
# implementation of the softmax" and "in the IMDB example" say what is asked about; a possessive or a
# hyphen goes on too ("the paper's notation").
_FUNCTION_WORD = "|".join(sorted((re.escape(w) for w in FUNCTION_WORDS if w != "of"), key=len, reverse=True))
_STANDS_APART = rf"(?=\s*(?:$|[?.!,;:()\[\]]|(?:{_FUNCTION_WORD})\b(?!['’\-])))"

# The data a question was met on: public datasets and benchmarks, named alone ("my MNIST classifier")
# or with what attaches them ("on the CIFAR-10 dataset", "(ImageNet)"). Not "GLUE" or "SQuAD": as
# words they mean other things.
_DATASETS = (r"(?:fashion[- ]|e|k)?mnist", r"cifar(?:[- ]?(?:10|100))?",
             r"(?:tiny[- ])?imagenet(?:[- ](?:1k|21k|22k))?", r"(?:ms[- ])?coco", r"(?:pascal[- ])?voc",
             r"cityscapes", r"celeba", r"svhn", r"stl[- ]?10", r"lsun", r"imdb", r"sst-?2",
             r"wikitext(?:-(?:2|103))?", r"penn\s+treebank", r"librispeech", r"kaggle")
_DATASET = rf"{_ALONE_BEFORE}(?:{'|'.join(_DATASETS)}){_ALONE_AFTER}"
_DATA_PHRASE = (rf"\({_DATASET}\)"
                rf"|\b{_PREPOSITION}\s+(?:the\s+|my\s+|our\s+|a\s+)?{_DATASET}"
                rf"(?:\s+(?:dataset|data\s+set|data|benchmark|images|digits|competition|challenge)\b)?{_STANDS_APART}"
                rf"|{_DATASET}")

# The student's own work: "in my code", "for my thesis", "on our own data", "at work".
_OWN_WORK = (r"(?:code|code\s?base|project|thesis|dissertation|research|work|job|company|team|startup|internship|"
             r"capstone|implementation|notebook|script|program|repo|repository|experiments?|setup|pipeline|app|"
             r"application|use[- ]case|case|situation|task|data|dataset|data\s+set)")
_OWN_PHRASE = (rf"\b{_PREPOSITION}\s+(?:my|our)\s+(?:(?:own|current|little|personal|small|side|final|"
               rf"research|school|university|uni|class|course|work|custom)\s+)?{_OWN_WORK}\b"
               r"|\b(?:at|for)\s+(?:work|my\s+job|my\s+company|my\s+internship)\b")
# Where they read an idea: "according to the docs", "on Stack Overflow", "in the paper", "as a blog
# post said". A single book, paper, article, blog or video needs its determiner ("on paper" is by
# hand); a named one is not read aside ("in the Adam paper" says what is asked about).
_SOURCE_NAME = (r"(?:docs|documentation|stack\s?overflow|stack\s?exchange|cross\s?validated|forums|reddit|medium|"
                r"wikipedia|youtube|blogs|blog\s+posts|tutorials|articles|books|textbooks|papers|videos|coursera|chatgpt|"
                r"google|the\s+(?:internet|web))")
_SOURCE_THING = r"(?:forum|blog(?:\s+post)?|tutorial|article|book|textbook|paper|video)"
_DETERMINER = r"(?:the|a|an|this|that|these|those|some|one|many|several|various|most|other|my|our)"
_ADJECTIVE = r"(?:official|original|linked|above|same|following|online|popular|famous)"
_SOURCE = (rf"(?:(?:{_DETERMINER}\s+)?(?:{_ADJECTIVE}\s+)?{_SOURCE_NAME}"
           rf"|{_DETERMINER}\s+(?:{_ADJECTIVE}\s+)?{_SOURCE_THING})")
_SAYS = (r"(?:says?|said|claims?|claimed|suggests?|suggested|explains?|explained|mentions?|mentioned|states?|"
         r"stated|puts?\s+it|shows?|showed|recommends?|recommended)")
_SOURCE_PHRASE = (rf"\b(?:according\s+to|per|in|on|from|via)\s+{_SOURCE}\b"
                  rf"|\bas\s+{_SOURCE}\s+{_SAYS}\b")
# How they see themselves: "as a beginner", "as someone new to this", "(newbie here)", "(sorry if
# this is basic)", "noob question".
_NOVICE = r"(?:beginner|newbie|noob|novice|newcomer|layman|student|undergrad|grad\s+student|phd\s+student)"
_SELF_PHRASE = (rf"\b(?:as|for)\s+an?\s+(?:(?:total|complete|absolute|real)\s+)?{_NOVICE}\b"
                r"|\bas\s+(?:someone|somebody)\s+(?:who\s+is\s+|who['’]s\s+)?(?:quite\s+|very\s+)?new\s+to\s+"
                r"(?:this|it|ml|dl|ai|(?:deep|machine)\s+learning|the\s+field|the\s+topic|all\s+(?:of\s+)?this)\b"
                rf"|\((?:(?:total|complete)\s+)?{_NOVICE}(?:\s+(?:here|question|alert))?\)"
                r"|\((?:sorry|apologies)\b[^()\n]{0,80}\)"
                rf"|\b(?:(?:total|complete)\s+)?{_NOVICE}\s+(?:here|question|alert)\b")
_SETTING_PHRASE = rf"(?:{_OWN_PHRASE}|{_SOURCE_PHRASE}|{_SELF_PHRASE}){_STANDS_APART}"

_WHERE = re.compile(rf"(?P<course>{_COURSE_PHRASE})|{_SETTING_PHRASE}|{_TOOL_PHRASE}|{_DATA_PHRASE}", re.IGNORECASE)
_TOOL_NAME = re.compile(rf"{_ALONE_BEFORE}(?:{'|'.join(_TOOLS)})(?!\w)", re.IGNORECASE)
_NUMBERED = re.compile(rf"\d|\b{_WHICH}(?!\w)", re.IGNORECASE)
_ENDS_APART = re.compile(_STANDS_APART, re.IGNORECASE)


def _names_a_course_part(text: str, match: re.Match[str]) -> bool:
    """Whether a course phrase names a part of the course, not the start of a noun phrase: "on the
    final layer", "in the video frames", "in the lab results" go on with a content word
    (`_STANDS_APART`, as a phrase about the student's setting must not), and without a number or a
    "today's" nothing says they meant the course."""
    return bool(_NUMBERED.search(match.group()) or _ENDS_APART.match(text, match.end()))


def without_where(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` with what it says of where it comes from set aside (the spaces left tidy), and what was
    set aside as written."""
    named: list[str] = []

    def aside(match: re.Match[str]) -> str:
        if match.group("course") and not _names_a_course_part(text, match):
            return match.group()
        named.append(" ".join(match.group().split()))
        return " "

    kept = _WHERE.sub(aside, text)
    if not named:
        return text, ()
    # Where a phrase stood before punctuation ("in PyTorch?") no space is left before it ...
    tidy = re.sub(r"\s+([?.!,;:])", r"\1", " ".join(kept.split()))
    # ... nor a comma that led into it ("is KL symmetric, according to the docs?").
    tidy = re.sub(r"[,;:]+(?=[?.!])", "", tidy)
    # ... nor punctuation first where it opened the sentence ("In PyTorch, why ...").
    return re.sub(r"^[,;:]\s*", "", tidy), tuple(named)


def _asks_something(text: str) -> bool:
    """True when `text` has a content word besides function words and "vs" ("PyTorch or TensorFlow?"
    without its tools is "or?")."""
    return any(len(term) > 2 for term in tokenize([text], FUNCTION_WORDS)[0])


def set_aside_where(post: Post) -> Post:
    """The post with what says where it comes from set aside from its prose, focus, title and
    questions alike (so the focus is still found inside the prose), and those words in
    `Post.set_aside`. A post that asks about nothing else ("PyTorch or TensorFlow?", "what is on
    the midterm?") keeps them: without them it would ask nothing."""
    prose, named = without_where(post.prose)
    focus, _ = without_where(post.focus)
    if not named or not _asks_something(focus):
        return post
    return replace(post, prose=prose, focus=focus, title=without_where(post.title)[0],
                   questions=tuple(without_where(q)[0] for q in post.questions), set_aside=named)


def tools_named(set_aside: tuple[str, ...]) -> tuple[str, ...]:
    """The tools among what a post had read aside (`Post.set_aside`), each once, as first written:
    ("in PyTorch 2.1", "for HW2", "PyTorch's") -> ("PyTorch",)."""
    names: dict[str, str] = {}
    for phrase in set_aside:
        for match in _TOOL_NAME.finditer(phrase):
            names.setdefault(" ".join(match.group().lower().split()), match.group())
    return tuple(names.values())
