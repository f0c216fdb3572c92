"""`tabot gaps --draft DIR`: one knowledge-entry skeleton per topic, for a TA to finish.

A draft is a valid entry in every way but one: where the TA's answer goes it holds
`bot.knowledge.DRAFT_PLACEHOLDER`, which the loader refuses (file:line), so a draft copied into
knowledge/answers/ stops `tabot index` until a TA writes the answer, and can never be served.
`question` is the topic's most typical student question, `aliases` the students' other phrasings
(their own words are what later students will type), `claims: []` until the TA links demos.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.faces.gaps import GapReport, Topic
from bot.knowledge import DRAFT_PLACEHOLDER

MAX_ALIASES = 10
# Words that say nothing about the topic, left out of a draft's id.
_FILLER = {"a", "an", "the", "is", "are", "do", "does", "did", "what", "why", "how", "when", "which", "who",
           "we", "i", "you", "it", "its", "of", "to", "in", "on", "for", "at", "and", "or", "can", "should",
           "would", "could", "there", "this", "that", "be", "with", "use", "used", "any", "someone", "me", "my"}


def draft_id(question: str, taken: set[str]) -> str:
    """A lowercase-hyphenated id from the question's topic words, unique among `taken`."""
    words = [w for w in re.findall(r"[a-z0-9]+", question.lower()) if w not in _FILLER][:6]
    base = "-".join(words) or "new-topic"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def draft_text(entry_id: str, topic: Topic) -> str:
    question = " ".join(topic.typical.split())
    aliases = [" ".join(q.split()) for q in topic.questions[1:MAX_ALIASES + 1] if q.strip()]
    front = {"id": entry_id, "question": question, "claims": []}
    if aliases:
        front["aliases"] = aliases
    front["source"] = "tabot gaps draft"
    # safe_dump quotes whatever student text needs quoting (a colon, a leading '[', ...).
    fields = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    similar = (f"closest entry now: {topic.nearest_entry} (cosine {topic.similarity:.2f})"
               if topic.nearest_entry else "no entry is close")
    note = (f"# Draft from `tabot gaps`: asked {topic.asked} times by {topic.students} students, "
            f"{topic.first_seen[:10]} to {topic.last_seen[:10]}; {similar}.\n"
            "# Write the answer below, keep or trim the aliases, add claims, then move this file to "
            "knowledge/answers/ and run `tabot index`.\n")
    return f"---\n{note}{fields}---\n{DRAFT_PLACEHOLDER}\n"


def write_drafts(report: GapReport, directory: Path, existing: set[str]) -> list[Path]:
    """Write one `<id>.md` per topic into `directory`; ids avoid `existing` ones and files already there."""
    directory.mkdir(parents=True, exist_ok=True)
    taken = set(existing) | {p.stem for p in directory.glob("*.md")}
    written = []
    for topic in report.topics:
        entry_id = draft_id(topic.typical, taken)
        taken.add(entry_id)
        path = directory / f"{entry_id}.md"
        path.write_text(draft_text(entry_id, topic), encoding="utf-8")
        written.append(path)
    return written
