"""Demo verification: of the claims an answer attached a demo to, the share whose demo passed."""

from __future__ import annotations

from collections.abc import Sequence

from eval.metrics import Metric


def demo_pass_fraction(passed: Sequence[bool]) -> float | None:
    """`passed` holds one flag per attached claim over all answers (None when none attached)."""
    return sum(passed) / len(passed) if passed else None


DEMO_PASS = Metric("demo_pass_fraction", "demo pass", "attached claims whose demo ran verified and passed")
METRICS = (DEMO_PASS,)
