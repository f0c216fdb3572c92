"""Load and validate the knowledge base: one Markdown file per TA answer.

A file is YAML front matter (id, question, claims, optional aliases/near_misses/tags/source) followed by
the TA's answer verbatim. Validation fails loudly with the file, the line and the reason, so
a staff member who breaks an entry learns exactly what to fix before the bot serves it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.errors import KnowledgeError

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REQUIRED_FIELDS = ("id", "question", "claims")
KNOWN_FIELDS = {"id", "question", "claims", "aliases", "near_misses", "tags", "source"}
# What `tabot gaps --draft` writes where the TA's answer goes. A file still holding it is refused, so a
# draft can never be served: students would get the placeholder quoted back as a TA answer.
DRAFT_PLACEHOLDER = "TODO(TA): replace this line with your answer"


@dataclass(frozen=True)
class Claim:
    """A verbatim span of the answer that a demo can check with numbers."""

    text: str
    demo: str | None = None
    checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    id: str
    question: str
    answer: str
    claims: tuple[Claim, ...] = ()
    aliases: tuple[str, ...] = ()
    # Questions next to this answer's topic that it does NOT answer (staff-written): never searched
    # as the entry's text, only used to tell such a question from one the answer covers.
    near_misses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: str = ""
    path: str = ""
    sentences: tuple[str, ...] = field(default=(), compare=False)

    @property
    def title(self) -> str:
        """A short label for menus: the first alias if staff wrote one, else the question."""
        text = self.aliases[0] if self.aliases else self.question
        return text if len(text) <= 80 else text[:77].rstrip() + "..."


# Abbreviations that end in a period but do not end a sentence.
_ABBREVIATIONS = re.compile(r"(?:\be\.g|\bi\.e|\betc|\bvs|\bcf|\bDr|\bProf|\bFig)\.?$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=:\))\s+")


def split_sentences(text: str) -> list[str]:
    """Split TA prose into sentences, keeping LaTeX and abbreviations intact.

    Paragraph breaks always end a sentence. Within a paragraph we split after . ! ? (and the
    TA's ':)' smiley) when the next chunk starts a new sentence, but not after 'e.g.' etc.
    """
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        pieces = _SENTENCE_END.split(paragraph)
        current = ""
        for piece in pieces:
            current = f"{current} {piece}".strip() if current else piece
            if _ABBREVIATIONS.search(current.rstrip(".!? ")) and current.endswith("."):
                continue
            sentences.append(current)
            current = ""
        if current:
            sentences.append(current)
    return sentences


def _line_of(raw: str, needle: str) -> int | None:
    """1-based line where `needle` (or its first 40 chars) first appears in the raw file."""
    probe = needle.strip()[:40]
    for number, line in enumerate(raw.splitlines(), start=1):
        if probe and probe in line:
            return number
    return None


def _string_list(value: object, name: str, path: str, raw: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise KnowledgeError(path, f"'{name}' must be a list of non-empty strings", _line_of(raw, f"{name}:"))
    return tuple(v.strip() for v in value)


# PyYAML's safe loader in C (libyaml) where the wheel has it: the same documents, and its errors carry the
# same marks, but the nine seed files' front matter (aliases and near misses) takes 5 ms instead of 83 ms
# of every start-up (`tabot ask`, the chat, the Discord bot).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_entry(path: Path, demo_checks: Mapping[str, Sequence[str]] | None = None) -> Entry:
    """Parse one knowledge file; raise KnowledgeError(file, reason, line) if it is invalid.

    `demo_checks` maps each known demo name to its check names; when given, a claim naming an
    unknown demo or check is rejected.
    """
    where = str(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise KnowledgeError(where, "file is not UTF-8 text") from None
    raw = raw.replace("\r\n", "\n")
    if not raw.startswith("---\n"):
        raise KnowledgeError(where, "file must start with '---' YAML front matter", 1)
    end = raw.find("\n---", 4)
    if end == -1:
        raise KnowledgeError(where, "front matter is not closed with a '---' line", 1)
    front, body = raw[4:end], raw[end + 4:].lstrip("\n")
    try:
        meta = yaml.load(front, Loader=_YAML_LOADER)  # noqa: S506 (a safe loader, in C where built)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None  # +1 for 1-based, +1 for the opening '---'
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise KnowledgeError(where, f"bad YAML in front matter: {problem}", line) from None
    if not isinstance(meta, dict):
        raise KnowledgeError(where, "front matter must be a YAML mapping (key: value lines)", 2)
    for name in REQUIRED_FIELDS:
        if name not in meta:
            raise KnowledgeError(where, f"missing required field '{name}'", 2)
    unknown = sorted(set(meta) - KNOWN_FIELDS)
    if unknown:
        raise KnowledgeError(where, f"unknown field(s) {unknown}; allowed: {sorted(KNOWN_FIELDS)}",
                             _line_of(raw, f"{unknown[0]}:"))

    entry_id = meta["id"]
    if not isinstance(entry_id, str) or not ID_PATTERN.match(entry_id):
        raise KnowledgeError(where, f"id {entry_id!r} must be lowercase words joined by '-'", _line_of(raw, "id:"))
    if path.stem != entry_id:
        raise KnowledgeError(where, f"file name must be the id: rename it to {entry_id}.md", _line_of(raw, "id:"))
    question = meta["question"]
    if not isinstance(question, str) or not question.strip():
        raise KnowledgeError(where, "'question' must be the student's question as text", _line_of(raw, "question:"))
    answer = body.strip()
    if not answer:
        raise KnowledgeError(where, "the TA answer (the text after the front matter) is empty",
                             raw[:end].count("\n") + 2)
    if DRAFT_PLACEHOLDER in answer:
        raise KnowledgeError(where, "this is a draft from `tabot gaps --draft`: replace the TODO line with the "
                                    "TA's answer before it can be served", _line_of(raw, DRAFT_PLACEHOLDER))

    claims = _parse_claims(meta["claims"], answer, where, raw, demo_checks)
    aliases = _string_list(meta.get("aliases"), "aliases", where, raw)
    near_misses = _string_list(meta.get("near_misses"), "near_misses", where, raw)
    # A near miss that is also the entry's question or an alias would argue against its own entry.
    asked = {_asked(text) for text in (question, *aliases)}
    for near_miss in near_misses:
        if _asked(near_miss) in asked:
            raise KnowledgeError(where, f"near miss {near_miss!r} is also this entry's question or an alias: "
                                        "a near miss is a question the answer does NOT answer",
                                 _line_of(raw, "near_misses:"))
    return Entry(
        id=entry_id,
        question=" ".join(question.split()),
        answer=answer,
        claims=claims,
        aliases=aliases,
        near_misses=near_misses,
        tags=_string_list(meta.get("tags"), "tags", where, raw),
        source=str(meta.get("source") or ""),
        path=where,
        sentences=tuple(split_sentences(answer)),
    )


def _parse_claims(value: object, answer: str, where: str, raw: str,
                  demo_checks: Mapping[str, Sequence[str]] | None) -> tuple[Claim, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise KnowledgeError(where, "'claims' must be a list of {text, demo} items", _line_of(raw, "claims:"))
    claims = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise KnowledgeError(where, "each claim needs a 'text' string", _line_of(raw, "claims:"))
        # Whitespace is not part of a claim: staff may wrap the answer or the claim differently.
        text = " ".join(item["text"].split())
        line = _line_of(raw, text) or _line_of(raw, "claims:")
        if text not in " ".join(answer.split()):
            raise KnowledgeError(where, f"claim is not verbatim in the answer: {text[:60]!r}", line)
        demo = item.get("demo")
        if demo in ("", "none", "None"):
            demo = None
        checks = tuple(item.get("checks") or ())
        if demo is None and checks:
            raise KnowledgeError(where, "a claim lists 'checks' but no 'demo'", line)
        if demo is not None and demo_checks is not None:
            if demo not in demo_checks:
                raise KnowledgeError(where, f"unknown demo {demo!r}; known demos: {sorted(demo_checks)}", line)
            missing = [c for c in checks if c not in demo_checks[demo]]
            if missing:
                raise KnowledgeError(where, f"demo {demo!r} has no check(s) {missing}; "
                                            f"its checks: {list(demo_checks[demo])}", line)
        claims.append(Claim(text=text, demo=demo, checks=checks))
    return tuple(claims)


def load_entries(directory: Path, demo_checks: Mapping[str, Sequence[str]] | None = None) -> list[Entry]:
    """Load every `*.md` entry under `directory` (README.md excluded; subfolders allowed, e.g. one per
    semester — which is how two files can claim the same id)."""
    if not directory.is_dir():
        raise KnowledgeError(str(directory), "knowledge folder not found; set TABOT_KNOWLEDGE_DIR")
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.rglob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        entry = parse_entry(path, demo_checks)
        if entry.id in seen:
            raise KnowledgeError(str(path), f"duplicate id {entry.id!r} (also in {seen[entry.id]})",
                                 _line_of(path.read_text(encoding="utf-8"), "id:"))
        seen[entry.id] = str(path)
        entries.append(entry)
    if not entries:
        raise KnowledgeError(str(directory), "no knowledge entries (*.md) found")
    _refuse_near_misses_another_entry_asks(entries)
    return entries


def _asked(text: str) -> str:
    return " ".join(text.lower().split())


def _refuse_near_misses_another_entry_asks(entries: list[Entry]) -> None:
    """A near miss that is another entry's question or alias is answered after all: an answer added
    later covers it, and the near miss would argue against the entry that does."""
    asked_by = {_asked(text): entry.id for entry in entries for text in (entry.question, *entry.aliases)}
    for entry in entries:
        for near_miss in entry.near_misses:
            other = asked_by.get(_asked(near_miss))
            if other is not None and other != entry.id:
                raise KnowledgeError(entry.path, f"near miss {near_miss!r} is a question or alias of {other!r}, "
                                                 "which answers it: delete the near miss",
                                     _line_of(Path(entry.path).read_text(encoding="utf-8"), near_miss))
