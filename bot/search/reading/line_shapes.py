"""What a line of a post looks like: a heading, a line that opens as a question, a sentence's least words,
an abbreviation's period.

A Markdown heading ("### Expected behavior", a line all in bold: "**What have you tried?**") is a
section title, not a sentence of the post; "what is early stopping" or "not sure why my loss goes up"
asks though it was typed without a question mark; "     Is there a way to tune it without more
data?", indented as some forums and mail clients indent a whole post, is a sentence in words, not
code. `bot.search.reading.prose` keeps the student's words by these shapes, `bot.search.reading.thread_end` weighs
where a copied thread's post ends by them, and `bot.search.reading.focus` picks the question by the first
two (and sentences by the abbreviations, as `bot.search.reading.prose` finds where a wrap cut a line); they
sit here so that the three read one definition and none of them imports another for it.

Nothing here knows any entry or topic: only the shape of a line.
"""

from __future__ import annotations

import re

# An indented line that is a sentence in words is the student's, not code (some forums and mail
# clients indent a whole post): it ends a sentence (. ! ?) and has this many words, most of them
# plain words.
MIN_SENTENCE_WORDS = 5
# A Markdown heading ("### ...", or a line that is all bold: "**Expected behavior?**") is a section
# title. Its words say what the post is about, but a heading that asks ("#### What have you tried?")
# is usually the template asking the student, so it is read as a question only when nothing in the
# body asks one (`read_post`).
HEADING = re.compile(r"^\s{0,3}(?:#{1,6}\s+|(?=(?:\*\*|__)[^*_\n]+(?:\*\*|__)\s*:?\s*$))", re.MULTILINE)
# A line that opens the way a question or a request does, though typed without its mark
# ("what is early stopping", "in my engine, what order should backward follow",
# "does rmsprop use the hessian", "please explain ..."): a line after it about the student's setup,
# a signature or what they tried is not what they ask. "When I train, ..." and "What I did was ..."
# are statements, and so is a request that asks nothing ("please add a test"). After a comma the
# question opens with a question word, or inverts its verb: after a few words ("For training, is the
# derivative ...") or with a pronoun after it ("I'm using np.log, should it be log2"); "Our TA can
# grade it, can make up the rubric" does not ask.
OPENS_AS_QUESTION = re.compile(
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
# A period after these is an abbreviation's, not a sentence's end: "e.g. the NLL loss", "Eq. 3 of
# the paper", "Goodfellow et al. say", "KL(q||p), i.e. the reverse one". Split there, the focus was
# the half after the period ("3 of the paper the KL is reversed. Does the order matter?") and lost
# what the sentence was about; a line a wrap cut after "(e.g." goes on in the next.
ABBREVIATION_END = re.compile(r"(?:^|[\s(])(?:e\.g|i\.e|eg|ie|et al|eqs?|eqns?|figs?|secs?|chap|ch|vs|cf|approx|resp|"
                              r"viz|w\.r\.t|a\.k\.a|incl|esp|thm|refs?|vol|dr|prof)\.$", re.IGNORECASE)
# How far back from a full stop an abbreviation is looked for: the longest above ("w.r.t.", "approx.")
# with the space before it fits, so only a sentence's last characters are read, never the whole post.
ABBREVIATION_REACH = 12
