"""How far a rate measured on a few hundred questions can be trusted.

A real-phrasing test split of 156 in-scope posts moves 0.6 points per post, so two runs a few posts
apart may differ by chance alone. The report shows each real-phrasing rate with its 95 % Wilson
interval, and `python -m eval.compare` tests a change on the same questions with the exact McNemar
(sign) test on the questions it fixed and broke.
"""

from __future__ import annotations

import math


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a binomial rate (95 % by default); (0, 1) for no trials."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def sign_test(fixed: int, broken: int) -> float:
    """Two-sided exact McNemar p-value for a change that fixed `fixed` questions and broke `broken`
    (the questions right or wrong both times carry no information about the difference)."""
    n = fixed + broken
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(fixed, broken) + 1)) / 2 ** n
    return min(1.0, 2 * tail)
