"""Compose the `Answer`: which TA answers to use, which of their sentences, which demos.

The default path needs no LLM: the reply is the TA's own sentences, in the TA's order, each
cited to its entry. A question spanning two topics is split into parts and each part is
retrieved on its own; a short follow-up ("why?", "and the reverse one?") is answered from the
previous turn's entries instead of being retrieved cold; when no entry is confident enough the
bot abstains and names the nearest topics it does cover.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bot.answering.guard import OTHER_LANGUAGE_NOTICE
from bot.answering.small_talk import small_talk, small_talk_reply, without_opening_thanks
from bot.answering.support import Support, score_support
from bot.knowledge import Claim, Entry, split_sentences
from bot.schema import SMALL_TALK, Answer, CitedSentence, Source
from bot.search.lexical import tokenize
from bot.search.reading.focus import Post
from bot.search.reading.instructions import NO_INSTRUCTIONS, Instructions, instructions_in
from bot.search.reading.where_asked import tools_named
from bot.search.retrieve import EntryHit, HybridRetriever

FORUM_HINT = "Please ask on the course forum so a TA can answer it (and it may become a new entry here)."
TOPICS_HINT = "If it is about one of the closest topics below, pick that topic to see its TA answer."
# An answer the abstention model is less than this sure of says so. Its confidence is the model's
# probability that a TA answer covers the post, and held out it keeps that promise roughly
# (`python -m eval.calibrate --reliability`): calibration posts answered at 0.5-0.9 were in scope
# with the right entry 0.71-0.88 of the time by band (0.78 over the three), at 0.9 or more 0.95.
# Most near-topic posts the bot should have declined land below 0.9 (README, "Unsure answers"):
# the student is told, in the answer, that it may not be what they asked.
UNSURE_BELOW = 0.9
# An add-on left out is quoted in its notice up to this many characters.
PASSED_OVER_SHOWN = 160
# The question found in a long post is quoted in its notice up to this many characters.
ASKED_SHOWN = 240
# A post that only tells the bot what to do (`bot.search.reading.instructions`) asks no course question:
# it is declined with this, and offered no topics (it asked about none).
INSTRUCTIONS_ONLY = ("Your message tells me what to do but asks no question about the course. I don't follow "
                     "instructions in messages: I answer course questions from the TA answers only. Ask me a "
                     "question about the course and I'll answer it from them.")
# ... and a post that also asks a question is answered (or declined) as any post, saying so.
INSTRUCTIONS_NOTICE = ("I did not follow the instructions your message gives me: I answer only from the TA answers, "
                       "and only the question you asked.")
UNSURE_NOTICE = ("This is the closest TA answer I have, but I'm not sure it covers exactly what you asked. "
                 "If it doesn't, please ask on the course forum.")
# Entries with at most this many sentences are quoted whole: cutting them loses the point.
WHOLE_ENTRY_SENTENCES = 4
# From a longer entry keep the sentences whose similarity to the question is within this
# margin of the best one, and at least MIN_SENTENCES of them.
SENTENCE_MARGIN = 0.12
MIN_SENTENCES = 3
# A TA sentence that opens by pointing back ("This is called ...", "But ...", "2) ...") says something
# else after a sentence it did not follow: "This is called mean-seeking", quoted straight after the
# mode-seeking sentence, names the wrong curve, and "2) ..." without its "1)" reads as half a list.
# Such a sentence is quoted with the one before it, as is the TA's answer to a question the TA asked
# aloud ("Where do we get likelihood values from?" "From the softmax function :)").
_OPENS_BACK = re.compile(
    r"^\W*(?:(?:this|that|these|those|such|and|but|so|also|then|however|otherwise|thus|hence|therefore|"
    r"similarly|likewise|conversely|instead|second(?:ly)?|third(?:ly)?|finally|lastly)\b|"
    r"\(?(?:[2-9]|[b-h]|ii|iii|iv)\)\s)", re.IGNORECASE)
# A second entry found only by the whole question (not by a part of it) must be this sure.
SECOND_ENTRY_CONFIDENCE = 0.9
# A post's parts are embedded alone only where that could add an entry (`parts_may_add`):
# the whole post already shows a second entry at least this confident, or a part's own words are
# another entry's. A part adds an entry only if that entry is its own best and confident. On the
# calibration and development rows, each of the 35 posts whose parts added an entry passed that test,
# and 88 of the 247 whose parts added nothing did not (docs/performance.md, thirty-fifth session).
# The parts' pass is about as long as the post's own, so a multi-question post took twice as long.
PARTS_NEED_CONFIDENCE = 0.01
# A question is split into at most this many parts, each retrieved once: a post with 285 question
# marks costs what a post with three does (and one student cannot stall the queue for everyone).
MAX_PARTS = 3

# Follow-ups that only make sense against the previous turn.
_FOLLOW_UP = re.compile(
    r"^\s*(why|how( so| come)?|and( what about)?|what about|the (other|reverse|opposite)|(show|give) me|"
    r"explain|elaborate|more|really|so|then|ok(ay)?|can you|could you|what do you mean|huh|example|"
    r"and the|numbers|proof|demo)\b", re.IGNORECASE)
# Words (stemmed) a follow-up may use without naming a topic; any other word must come from the
# previous turn's TA answers, so "so what is batch norm?" is a new question, not a follow-up.
_FOLLOW_UP_WORDS = set(tokenize([
    "why how so then ok okay really what about and the reverse opposite other one ones way direction case show "
    "give me us numbers number demo demos proof code plot example examples explain elaborate more detail details "
    "please can could you do does mean means meant that this it those these which huh again same instead "
    "wait sorry thanks thank hmm"])[0])
_FOLLOW_UP_MAX_WORDS = 8
# Split after a question mark or semicolon, and before "and <question word>" / "also" / "plus"
# (the question word stays with its part), or after ", and" and a few words before a question that
# opens with its subject: "are nll and ce the same thing, and for the hw do i differentiate the
# softmax?", "... in my backward pass, and in what order should i visit the nodes?". The subject
# keeps statements whole: ", and the loss is lower" asks nothing.
_PART_SPLIT = re.compile(r"\?+\s*|;\s*|,?\s+(?:and\s+also|also|plus|and(?=\s+(?:what|how|why|when|which|is|are|do|"
                         r"does|can|should)\b))\s+"
                         r"|,\s+and\s+(?:[\w'-]+\s+){1,3}?(?=(?:what|how|why|which|(?:do|does|did|is|are|can|could|"
                         r"should|would|will)\s+(?:i|we|you|it|they|this|that|these|those)\b))", re.IGNORECASE)

Encode = Callable[[list[str]], list[list[float]]]


def question_parts(question: str) -> list[str]:
    """Split a multi-part question into parts of at least three words (else: no split).

    At most MAX_PARTS parts, the last ones: a post's questions come at its end."""
    parts = [p.strip(" ,.") for p in _PART_SPLIT.split(question) if p and p.strip(" ,.")]
    parts = [p for p in parts if len(p.split()) >= 3][-MAX_PARTS:]
    return parts if len(parts) >= 2 else []


def is_follow_up(question: str, previous_terms: set[str]) -> bool:
    """A short question that reads as a continuation and names no topic the last answer lacked."""
    question = without_opening_thanks(question)  # "thanks! and the reverse one?" is still a follow-up
    if len(question.split()) > _FOLLOW_UP_MAX_WORDS:
        return False
    terms = set(tokenize([question])[0])
    if not terms <= _FOLLOW_UP_WORDS | previous_terms:
        return False
    return bool(_FOLLOW_UP.match(question)) or len(question.split()) <= 4


@dataclass(frozen=True)
class Selection:
    entries: list[EntryHit]  # the entries to answer from, best first
    nearest: list[EntryHit]  # the best hits overall (for abstention)
    follow_up: bool = False
    read_words: tuple[tuple[str, str], ...] = ()  # misspelled words as typed and as searched (`Post.read_words`)
    other_language: bool = False  # the post reads as written in another language (`Speller.reads_as_other_language`)
    tools: tuple[str, ...] = ()  # the frameworks it named, read aside (`bot.search.reading.where_asked.tools_named`)
    # its last question, off the course, left for an earlier one (`bot.search.reading.off_course`)
    passed_over: str = ""
    asked: str = ""  # the question found in a long post, when it is a small part of it (`question_found`)
    glossary_reading: str = ""  # a post in Chinese as read through the glossary (`bot.search.reading.glossary`), shown
    # what it tells the bot to do (`bot.search.reading.instructions`), and whether that is all it says
    told: Instructions = NO_INSTRUCTIONS


def listed(items: list[str] | tuple[str, ...], conjunction: str = "and") -> str:
    """"a", "a and b", "a, b and c": items as a sentence lists them."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def read_words_notice(read_words: tuple[tuple[str, str], ...]) -> str:
    """'I read "sofmax" as "softmax".': the student sees what was searched, and can say so if a word
    was meant as typed."""
    return f"I read {listed([f'“{typed}” as “{read}”' for typed, read in read_words])}."


def tools_notice(tools: tuple[str, ...]) -> str:
    """'I answered the idea; the TA answers say nothing specific to PyTorch.': the answer was chosen
    for the idea asked about, with the framework read aside (`bot.search.reading.where_asked`), so the
    student knows that what only their framework does is not in it."""
    return f"I answered the idea; the TA answers say nothing specific to {listed(tools, 'or')}."


def question_found(post: Post, typed: Post) -> str:
    """The question the reader found in `post` when the post says much more than it asks (its focus
    at most half of the prose's words), else "", in the words the student typed. A TA answering a
    long post says which question they answer; where the question is most of the message, saying it
    again tells the student nothing.

    `typed` is the post before the retriever read it (`HybridRetriever.read`): its words read as meant
    ("NN" as "neural network", "sofmax" as "softmax") and what says where it comes from read aside,
    each field for field, so `typed.focus` is the same question as the student wrote it; and when a
    last question off the course was passed over, the earlier one is the same item of `questions`. A
    student is quoted as they wrote, never in words they did not use. A copied chat's message was read
    apart (`Post.messages`), and is quoted as read."""
    if 2 * len(post.focus.split()) > len(post.prose.split()):  # also a post that is its question
        return ""
    if typed.messages:
        return post.focus
    if post.passed_over:
        return typed.questions[post.questions.index(post.focus)] if post.focus in post.questions else post.focus
    return typed.focus


def _shown(question: str) -> str:
    return question if len(question) <= ASKED_SHOWN else question[:ASKED_SHOWN].rsplit(" ", 1)[0] + " …"


def asked_notice(question: str) -> str:
    """'The question I found in your message: “…”': in a long post (a copied page, context first, several
    asides) the reply is to one question, and the student can see which one and ask again if the
    reader picked the wrong one."""
    return f"The question I found in your message: “{_shown(question)}”"


def glossary_notice(question: str) -> str:
    """'I read it through a glossary of the course's terms, as: “…”': a post written in Chinese was searched
    in the English its terms translate to (`bot.search.reading.glossary`); the student sees that reading, never
    words of theirs put in English as if they had written them, and can ask again if it missed."""
    return f"I read it through a glossary of the course's terms, as: “{_shown(question)}”"


def passed_over_notice(question: str) -> str:
    """'I left out "Is the final exam cumulative?": ...': the post's last question was an add-on about
    nothing the TA answers cover (`bot.search.reading.off_course`), and the answer is to the question before
    it, so the student knows the add-on was read and where to ask it."""
    shown = question if len(question) <= PASSED_OVER_SHOWN else question[:PASSED_OVER_SHOWN].rstrip() + "…"
    return (f"I left out “{shown}”: it is not about anything the TA answers cover, so please ask it on the "
            "course forum.")


def select_entries(hits: list[EntryHit], part_hits: list[list[EntryHit]], threshold: float) -> list[EntryHit]:
    """Entries to answer from, in the order that answers the question: the whole post's most
    confident entry first (what the post is about), then the entries its parts find confidently,
    in the order the parts were asked. Parts only add to an answered post: a confident side
    question in a post about something else does not make the bot answer it, nor lead its answer:
    a post about NLL and cross-entropy that first asks, on the side, whether its last layer needs
    two units cites the two-units answer second."""
    if not hits or hits[0].confidence < threshold:
        return []  # a part alone never answers: the post is about its main question, not a side one
    by_part = [ranked[0] for ranked in part_hits if ranked and ranked[0].confidence >= threshold]
    ordered = [hits[0], *by_part]
    if len(hits) > 1 and hits[1].confidence >= max(threshold, SECOND_ENTRY_CONFIDENCE) and part_hits:
        ordered.append(hits[1])
    chosen: dict[str, EntryHit] = {}
    for hit in ordered:
        chosen.setdefault(hit.entry_id, hit)
    return list(chosen.values())


def parts_may_add(hits: list[EntryHit], parts: list[str], lexical_best: Callable[[str], str | None]) -> bool:
    """Whether reading a post's parts alone could add an entry to its answer: the whole post already
    shows a second entry (`PARTS_NEED_CONFIDENCE`), or a part's own words are another entry's
    (`lexical_best`, BM25's best entry for a text: no encoder pass)."""
    main = hits[0].entry_id
    return (any(hit.confidence >= PARTS_NEED_CONFIDENCE for hit in hits[1:])
            or any(lexical_best(part) not in (None, main) for part in parts))


def choose_sentences(sentences: list[str], similarities: list[float], key: set[int] = frozenset()) -> list[int]:
    """Indices (in TA order) of the sentences that address the question.

    `key` are the sentences holding the entry's claims — the statements staff marked as the
    answer's checkable core. They are always kept: question similarity alone misses them when
    the student asks about the symptom ("bfs or dfs?") and the TA answers with the cure
    ("reverse topological sort"), and keeping them is what lets every shown claim carry its demo.
    """
    if len(sentences) <= WHOLE_ENTRY_SENTENCES:
        return list(range(len(sentences)))
    order = sorted(range(len(sentences)), key=lambda i: -similarities[i])
    best = similarities[order[0]]
    keep = {i for i in order if similarities[i] >= best - SENTENCE_MARGIN} | set(order[:MIN_SENTENCES]) | set(key)
    for i in sorted(keep, reverse=True):  # a chain of such sentences is followed back to its head
        while i > 0 and leans_on_previous(sentences[i], sentences[i - 1]):
            i -= 1
            keep.add(i)
    return sorted(keep)


def leans_on_previous(sentence: str, previous: str) -> bool:
    """True when a TA sentence needs the one before it to mean what the TA meant (see `_OPENS_BACK`)."""
    return bool(_OPENS_BACK.match(sentence)) or previous.rstrip().endswith("?")


def claim_sentences(sentences: list[str], claims: list[str]) -> set[int]:
    """Indices of the sentences that hold part of one of the claims.

    A claim may be part of a sentence, a whole sentence, or run across several; each of its own
    sentences is matched against the answer's (both are whitespace-normalised by the loader).
    """
    pieces = [piece for claim in claims for piece in split_sentences(claim)]
    return {i for i, text in enumerate(sentences) for piece in pieces if piece in text or text in piece}


def abstention_text(offers_topics: bool = True) -> str:
    """What the bot says when it finds no TA answer that clearly covers the question. The nearest
    covered topics are structured data (`Answer.nearest`) that each front end lists in its own format.

    A decline is a judgement, not a fact about the course: real students' in-scope posts that the bot
    declines have their entry among the closest topics (every one of them on the verbatim hold-outs,
    README), so the text says where the answer may be instead of saying that none exists."""
    declined = "I couldn't find a TA answer that clearly covers this question, so I won't guess."
    if not offers_topics:
        return f"{declined} {FORUM_HINT}"
    return f"{declined} {TOPICS_HINT} {FORUM_HINT}"


class Composer:
    """Turns a cleaned question (and the previous turn) into a grounded `Answer`."""

    def __init__(self, entries: dict[str, Entry], retriever: HybridRetriever, encode: Encode) -> None:
        self.entries = entries
        self.retriever = retriever
        self.encode = encode
        self._sentence_vectors: dict[str, np.ndarray] = {}
        self._support: dict[tuple[str, str], Support] = {}

    @property
    def threshold(self) -> float:
        return self.retriever.calibration.threshold

    def sentence_vectors(self, entry: Entry) -> np.ndarray:
        """Embeddings of an entry's sentences, computed once per entry (cleared on re-index)."""
        if entry.id not in self._sentence_vectors:
            self._sentence_vectors[entry.id] = np.asarray(self.encode(list(entry.sentences)))
        return self._sentence_vectors[entry.id]

    def support(self, entry: Entry, sentence: str) -> Support:
        """The support check for one of the entry's own sentences; it never changes, so once."""
        key = (entry.id, sentence)
        if key not in self._support:
            self._support[key] = score_support(sentence, entry.answer)
        return self._support[key]

    def select(self, question: str, previous: Answer | None) -> tuple[Selection, np.ndarray]:
        typed = self.retriever.read_text(question)
        # Read through the glossary, the post's words are no longer the student's: that reading is shown
        # (the whole post when short, else its question), and nothing is quoted as theirs.
        glossary_reading = ""
        if typed.text != question:
            glossary_reading = typed.prose if len(typed.prose) <= ASKED_SHOWN else typed.focus
        # Told from the words as typed: read as meant, "Divergenz" would count as English.
        other_language = self.retriever.speller.reads_as_other_language(typed.prose)
        told = instructions_in(typed.text, typed.prose)
        if told.only:  # nothing to search for: the post asks no question of its own
            return Selection([], [], other_language=other_language, told=told), np.zeros(0, dtype=np.float32)
        post, (focus, prose) = self.retriever.read(typed)
        # Parts are the post's own questions (several question sentences), else the parts of its one
        # question ("is X the same as Y, and what is Z?"); never its context: a quote is not a question.
        asked = list(dict.fromkeys(post.questions))
        parts = asked[-MAX_PARTS:] if len(asked) >= 2 else question_parts(post.focus)
        [hits] = self.retriever.search_many([post], [(focus, prose)])
        # Parts only add to a post that is answered at all (`select_entries`), so a declined post never
        # pays for embedding and searching them. Each part is read alone, as a question of its own.
        part_hits: list[list[EntryHit]] = []
        if parts and hits and hits[0].confidence >= self.threshold and parts_may_add(
                hits, parts, self.retriever.lexical_best):
            alone = self.retriever.embed_texts(parts)
            part_hits = self.retriever.search_many([Post(p, p, p) for p in parts],
                                                   [(alone[p], alone[p]) for p in parts])
        chosen = select_entries(hits, part_hits, self.threshold)
        tools = tools_named(post.set_aside)
        if previous is not None and previous.sources and not parts:
            same = [s.entry_id for s in previous.sources if s.entry_id in self.entries]
            terms = set().union(*(self.retriever.terms(entry_id) for entry_id in same))
            if is_follow_up(question, terms) and (not chosen or chosen[0].entry_id in same):
                # The previous answer's entries at their shown confidence; nothing was measured against them now.
                carried = [EntryHit(entry_id=s.entry_id, confidence=s.score, dense=0.0, dense_post=0.0, lexical=0.0,
                                    coverage=0.0, score=0.0, best_chunk="")
                           for s in previous.sources if s.entry_id in self.entries]
                return Selection(carried, hits, follow_up=True, read_words=post.read_words,
                                 other_language=other_language, tools=tools, passed_over=post.passed_over,
                                 told=told), focus.vector
        return Selection(chosen, hits, read_words=post.read_words, other_language=other_language,
                         tools=tools, passed_over=post.passed_over,
                         asked="" if glossary_reading else question_found(post, typed),
                         glossary_reading=glossary_reading, told=told), focus.vector

    def compose(self, question: str, previous: Answer | None = None) -> Answer:
        started = time.perf_counter()
        if (kind := small_talk(question)) is not None:
            reply = small_talk_reply(kind, [entry.title for entry in self.entries.values()])
            return Answer(question=question, answer=reply, abstained=True, backend=SMALL_TALK,
                          timings_ms={"retrieve": (time.perf_counter() - started) * 1000})
        selection, vector = self.select(question, previous)
        retrieved = time.perf_counter()
        timings = {"retrieve": (retrieved - started) * 1000}
        read_as = [OTHER_LANGUAGE_NOTICE] if selection.other_language else []
        read_as += [asked_notice(selection.asked)] if selection.asked else []
        read_as += [glossary_notice(selection.glossary_reading)] if selection.glossary_reading else []
        read_as += [read_words_notice(selection.read_words)] if selection.read_words else []
        read_as += [passed_over_notice(selection.passed_over)] if selection.passed_over else []
        if selection.told.only:
            return Answer(question=question, answer=INSTRUCTIONS_ONLY, abstained=True, notices=read_as,
                          timings_ms=timings)
        read_as += [INSTRUCTIONS_NOTICE] if selection.told.said else []
        if not selection.entries:
            nearest = [self._source(h) for h in selection.nearest[:3]]
            return Answer(question=question, answer=abstention_text(bool(nearest)), abstained=True, nearest=nearest,
                          notices=read_as, asked=selection.asked, timings_ms=timings)
        query = vector
        if selection.follow_up and previous is not None:
            # "why?" carries little meaning alone; rank sentences by the conversation so far.
            query = np.asarray(self.encode([f"{previous.question} {question}"])[0])
        sources, sentences, blocks = [], [], []
        for number, hit in enumerate(selection.entries, start=1):
            entry = self.entries[hit.entry_id]
            sources.append(self._source(hit))
            similarities = (self.sentence_vectors(entry) @ query).tolist()
            key = claim_sentences(list(entry.sentences), [c.text for c in entry.claims])
            picked = [entry.sentences[i] for i in choose_sentences(list(entry.sentences), similarities, key)]
            for text in picked:
                verdict = self.support(entry, text)
                sentences.append(CitedSentence(text, entry.id, verdict.score, verdict.supported))
            body = " ".join(f"{text} [{number}]" for text in picked)
            blocks.append(f"**{entry.title}** [{number}]\n\n{body}" if len(selection.entries) > 1 else body)
        notices = list(read_as) + ([tools_notice(selection.tools)] if selection.tools else [])
        if selection.follow_up:
            notices.append("Answered as a follow-up to your previous question.")
        elif selection.entries[0].confidence < UNSURE_BELOW:
            notices.append(UNSURE_NOTICE)
        timings["compose"] = (time.perf_counter() - retrieved) * 1000
        return Answer(question=question, answer="\n\n".join(blocks), abstained=False, sources=sources,
                      sentences=sentences, notices=notices, asked=selection.asked, timings_ms=timings)

    def _source(self, hit: EntryHit) -> Source:
        entry = self.entries[hit.entry_id]
        return Source(entry.id, entry.question, hit.confidence, entry.answer, entry.title)


def claims_made(answer: Answer, entries: dict[str, Entry]) -> list[tuple[Entry, Claim]]:
    """The claims with a demo that the reply actually makes: a claim counts when one of the reply's
    sentences cited to its entry holds it (the grounded path quotes it; an LLM rewrite must keep it)."""
    made = []
    for source in answer.sources:
        entry = entries.get(source.entry_id)
        if entry is None:
            continue
        cited = [s.grounded_in or s.text for s in answer.sentences if s.entry_id == entry.id]
        said = [piece for text in cited for piece in split_sentences(text)]
        made += [(entry, claim) for claim in entry.claims if claim.demo and claim_sentences(said, [claim.text])]
    return made
