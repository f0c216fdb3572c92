"""The knowledge base grown by what staff add, measured on the posts that come after.

- `feedback`: staff's loop through `tabot gaps`, one term to the next. The development posts are
  dealt into two terms by thread; after a term, staff add the question found in each in-scope post
  the bot missed as an alias of its entry, and in each out-of-scope post it answered as a near miss
  of the entry that answered (`staff_additions`: every miss, as if staff read them all). The next
  term's posts are then read with the grown knowledge base and decided by the rule refit on it, beside
  today's decisions on the same posts; each term in turn. With `--written TERM1 TERM2`, staff add what
  they wrote after reading each term's misses instead (`eval/datasets/staff_written_term*.json`, written
  from the misses `--misses-to DIR` prints).
- `written`: the knowledge base with the aliases and near misses a file holds (`{"entry": {"aliases":
  [...], "near_misses": [...]}}`, as `feedback --written` reads) added to its entries, beside today's: a
  batch of lines staff wrote, before it is put in the answers' files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import numpy as np

from eval.calibrate.rows import CalibrationRows, report_rates
from eval.variants.scoring import (
    development_rates,
    picked,
    rates_by_set,
    read_both,
    refit,
    report_development,
    rows_where,
)

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.knowledge import Entry
    from eval.datasets import Question


def term_of(question: Question) -> int:
    """The term (0 or 1) a development post is asked in: by its thread, so a thread's posts share one."""
    return int(hashlib.sha256((question.source or question.id).encode()).hexdigest(), 16) % 2


Additions = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]  # per entry: (aliases, near misses)


def misses(rows: CalibrationRows, answered: np.ndarray, picked_right: np.ndarray) -> Iterator[tuple[int, str]]:
    """Each row the bot got wrong, with how: an in-scope post declined or answered from another entry, an
    out-of-scope post answered."""
    for i in range(len(rows.questions)):
        if rows.labels[i] == 1 and not (answered[i] and picked_right[i]):
            yield i, "in scope, declined" if not answered[i] else "in scope, answered from another entry"
        elif rows.labels[i] == 0 and answered[i]:
            yield i, "out of scope, answered"


def staff_additions(rows: CalibrationRows, answered: np.ndarray, entries: np.ndarray,
                    picked_right: np.ndarray) -> Additions:
    """Per entry, the (aliases, near misses) staff add after reading `rows`' misses (`misses`) by copying
    them: the question found in each in-scope post missed, as an alias of its first expected entry; in
    each out-of-scope post answered, as a near miss of the entry that answered it."""
    aliases: dict[str, list[str]] = {}
    near_misses: dict[str, list[str]] = {}
    for i, _ in misses(rows, answered, picked_right):
        if rows.labels[i] == 1:
            aliases.setdefault(rows.questions[i].expected[0], []).append(rows.posts[i].focus)
        else:
            near_misses.setdefault(str(entries[i]), []).append(rows.posts[i].focus)
    return {entry: (tuple(aliases.get(entry, ())), tuple(near_misses.get(entry, ())))
            for entry in sorted(aliases.keys() | near_misses.keys())}


def misses_for_staff(rows: CalibrationRows, answered: np.ndarray, entries: np.ndarray,
                     picked_right: np.ndarray) -> list[dict[str, Any]]:
    """`rows`' misses as staff read them before writing (what `--misses-to` gives the writers): each whole
    post, what the bot did, the TA's entry and the entry it answered from."""
    return [{"post": rows.questions[i].question, "what the bot did": how,
             "TA's entry": list(rows.questions[i].expected) or None,
             "answered from": str(entries[i]) if answered[i] else None}
            for i, how in misses(rows, answered, picked_right)]


@contextmanager
def knowledge_grown(additions: Additions) -> Iterator[None]:
    """The knowledge base as `bot.knowledge.load_entries` reads it, with `additions` (`staff_additions`)
    in its entries' aliases and near misses, for the length of the block."""
    from bot import knowledge

    load = knowledge.load_entries

    def grown(*args: Any, **kwargs: Any) -> list[Entry]:
        return [dataclasses.replace(entry, aliases=entry.aliases + additions.get(entry.id, ((), ()))[0],
                                    near_misses=entry.near_misses + additions.get(entry.id, ((), ()))[1])
                for entry in load(*args, **kwargs)]
    with mock.patch.object(knowledge, "load_entries", grown):
        yield


def written_additions(path: Path, entry_ids: set[str]) -> Additions:
    """What staff wrote after reading a term's misses (`{"entry": {"aliases": [...], "near_misses": [...]}}`),
    as `staff_additions` gives it; an id that is not one of `entry_ids` is refused, not dropped unseen."""
    written = json.loads(path.read_text())
    if unknown := sorted(set(written) - entry_ids):
        raise ValueError(f"{path}: no such entries: {', '.join(unknown)}")
    return {entry: (tuple(lines.get("aliases", ())), tuple(lines.get("near_misses", ())))
            for entry, lines in written.items()}


def feedback_loop(settings: Settings, rows: CalibrationRows, development: CalibrationRows,
                  written: tuple[Additions, Additions] | None = None, misses_to: Path | None = None) -> None:
    """Print, for each term in turn, what staff add from its misses, then the other term's posts decided
    today and with the grown knowledge base (the rule refit on it), and the grown rows' cross-validation.
    Staff add each miss as found (`staff_additions`), or, given `written`, what they wrote for each term;
    given `misses_to`, each term's misses are written there for the writers (`misses_for_staff`) first."""
    columns = tuple(range(rows.features.shape[1]))
    scorer, threshold = refit(rows, columns)
    confidence, picked_right, entries = picked(scorer, development, columns)
    answered = confidence >= threshold
    terms = np.array([term_of(question) for question in development.questions])
    for term in (0, 1):
        asked, next_term = terms == term, terms != term
        if misses_to is not None:
            misses_to.mkdir(parents=True, exist_ok=True)
            term_misses = misses_for_staff(rows_where(development, asked), answered[asked], entries[asked],
                                           picked_right[asked])
            (misses_to / f"misses_term{term + 1}.json").write_text(json.dumps(term_misses, indent=1,
                                                                              ensure_ascii=False))
        additions = written[term] if written else staff_additions(rows_where(development, asked), answered[asked],
                                                                  entries[asked], picked_right[asked])
        print(f"term {term + 1} ({int(asked.sum())} posts): staff add "
              f"{sum(len(a) for a, _ in additions.values())} aliases and "
              f"{sum(len(n) for _, n in additions.values())} near misses")
        label = f"term {2 - term}, today"
        report_development(label, rates_by_set(rows_where(development, next_term), answered[next_term],
                                               picked_right[next_term]))
        with knowledge_grown(additions):
            grown_rows, grown_development = read_both(settings)
        label = f"term {2 - term}, after term {term + 1}'s additions"
        report_rates(label, grown_rows, grown_rows.candidates, columns)
        grown_scorer, grown_threshold = refit(grown_rows, columns)
        print(f"{label:44} {'threshold, all rows':22} {grown_threshold:.4f}")
        report_development(label, development_rates(grown_scorer, grown_threshold,
                                                    rows_where(grown_development, next_term), columns))
