"""docs/tried-ideas.md indexes docs/real-phrasing.md: each row names the section an attempt sits in and
the line where the log discusses it. A line number goes stale whenever the log grows above it, so these
hold the index to the log it points into."""

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
# A row's last cell: the section's heading as the log writes it (its first words suffice), then (Lnnn).
_HEADING_CELL = re.compile(r'\s*"(.+?)"\s*\(L(\d+)')
HEADING_WORDS = 40  # characters of the heading, whitespace and emphasis normalised, to find it by


def _flat(text: str) -> tuple[str, list[int]]:
    """`text` without emphasis marks, its whitespace runs (line breaks too) as one space, and the line
    each character of that comes from: a heading wraps across lines."""
    flat: list[str] = []
    line_of: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        for ch in line.replace("*", "") + " ":
            if ch.isspace() and flat and flat[-1] == " ":
                continue
            flat.append(" " if ch.isspace() else ch)
            line_of.append(number)
    return "".join(flat), line_of


def test_every_row_of_the_index_points_into_the_section_it_names() -> None:
    log = (DOCS / "real-phrasing.md").read_text(encoding="utf-8")
    flat, line_of = _flat(log)
    # Each section opens with a bold paragraph; a line number past the next one is in another section.
    opens = [number for number, line in enumerate(log.split("\n"), start=1) if line.startswith("**")]
    rows = [row for row in (DOCS / "tried-ideas.md").read_text(encoding="utf-8").split("\n")
            if row.startswith("| ") and _HEADING_CELL.match(row.split(" | ")[-1])]
    assert len(rows) > 250
    for row in rows:
        heading, line = _HEADING_CELL.match(row.split(" | ")[-1]).groups()
        words = " ".join(heading.replace("*", "").replace("“", '"').replace("”", '"').split())[:HEADING_WORDS]
        starts = [line_of[found.start()] for found in re.finditer(re.escape(words), flat)]
        assert any(start <= int(line) and not any(start < o <= int(line) for o in opens) for start in starts), (
            f"L{line} is not in the section {words!r}")


def test_the_row_counts_by_family_are_the_rows_the_index_holds() -> None:
    index = (DOCS / "tried-ideas.md").read_text(encoding="utf-8")
    families = re.split(r"^## (\d+)\. ", index, flags=re.MULTILINE)[1:]
    held = {}
    for number, body in zip(families[::2], families[1::2], strict=True):
        table = body.split("\n## ")[0]
        held[int(number)] = sum(1 for row in table.split("\n")
                                if row.startswith("| ") and not row.startswith(("| idea", "|---")))
    counts = index[index.index("## Row counts by family"):]
    listed = {int(n): int(rows) for n, rows in re.findall(r"^\| (\d+)\. [^|]+\| (\d+) \|", counts, re.MULTILINE)}
    assert listed == held
    assert re.search(rf"\| \*\*total\*\* \| \*\*{sum(held.values())}\*\* \|", counts)
