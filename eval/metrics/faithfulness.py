"""Faithfulness: the share of answer sentences supported by the TA text they cite.

Each (sentence, cited TA answer) pair is scored with `bot.answering.support.score_support` - the same
scorer the answer engine uses to keep or drop LLM sentences - and the metric is the supported
fraction over all sentences of all answers (micro average: a long answer weighs more than a
short one, because each sentence is a claim a student reads).

A system that judges its own sentences (tabot: `CitedSentence.supported`, from the same scorer)
is taken at its word rather than re-scored. On tabot's default grounded path every sentence is a
verbatim TA sentence cited to its own entry, so faithfulness there is 1.0 by construction; the
number only measures something on the LLM path. What keeps the support scorer honest is its
meta-evaluation on labelled sentences (eval.metrics.meta, `support_meta.jsonl`), which the CI
gate checks beside this metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.answering.support import score_support
from eval.metrics import Metric


def sentence_verdicts(sentences: Sequence[tuple[str, str]], sources: Mapping[str, str]) -> list[bool]:
    """Supported or not, for each (sentence, cited entry id); a sentence citing no known entry is not."""
    return [entry_id in sources and score_support(text, sources[entry_id]).supported
            for text, entry_id in sentences]


def reply_verdicts(sentences: Sequence[tuple[str, str]], own: Sequence[bool] | None,
                   sources: Mapping[str, str]) -> list[bool]:
    """The system's `own` verdicts when it gave them (one per sentence), else `sentence_verdicts`."""
    if own is None:
        return sentence_verdicts(sentences, sources)
    if len(own) != len(sentences):
        raise ValueError(f"{len(own)} verdicts for {len(sentences)} sentences")
    return list(own)


def supported_share(verdicts: Sequence[bool]) -> float | None:
    """Micro average of the verdicts (None when no sentence was produced)."""
    return sum(verdicts) / len(verdicts) if verdicts else None


FAITHFULNESS = Metric("faithfulness", "faithfulness", "answer sentences supported by the TA answer they cite")
METRICS = (FAITHFULNESS,)
