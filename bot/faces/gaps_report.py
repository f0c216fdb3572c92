"""How `tabot gaps` shows its topics: a terminal table, Markdown, and HTML with a plot over time.

Student text is untrusted: in Markdown and HTML it is escaped (a question holding `<script>` or a
`|` must neither run in a staff member's browser nor break the table).
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from bot.faces.gaps import GAP_QUESTIONS, GapReport, Topic

PLOTTED = 8  # topics drawn over time; more lines would be unreadable


def _where(topic: Topic) -> str:
    if topic.nearest_entry is None:
        return "—"
    return f"{topic.nearest_entry} ({topic.similarity:.2f})"


def _answers(count: int, kind: str) -> str:
    return f"{count} {kind} {'answer' if count == 1 else 'answers'}"


def near_miss_hint(topic: Topic) -> str | None:
    """For a topic whose answers students rated 👎 or that said they may not cover the question: the
    entry that gave most of them, and the fix when it does not cover them (knowledge/README.md, near
    misses), or, for answers the bot was only unsure of, when it does (aliases). None for a topic of
    declines only."""
    given = {entry: topic.disliked_from.get(entry, 0) + topic.unsure_from.get(entry, 0)
             for entry in {*topic.disliked_from, *topic.unsure_from}}
    if not given:
        return None
    entry = max(given, key=lambda e: (given[e], e))
    disliked, unsure = topic.disliked_from.get(entry, 0), topic.unsure_from.get(entry, 0)
    counts = " and ".join([_answers(n, kind) for n, kind in ((disliked, "👎"), (unsure, "unsure")) if n])
    fix = "add them to its near_misses" + ("; if it does, to its aliases" if unsure else "")
    return f"{counts} from {entry}: if it does not answer these, {fix}"


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def terminal_table(report: GapReport, limit: int = 20, width: int = 100) -> str:
    """One block per topic, best first: counts, dates and nearest entry, then its representative questions."""
    if not report.topics:
        return (f"No gaps: {report.questions} logged questions were declined, rated 👎 or answered unsure "
                "(the question log may be off: TABOT_LOG_QUESTIONS).")
    lines = [f"{len(report.topics)} topics from {report.questions} {GAP_QUESTIONS} "
             f"({report.distinct} distinct), by distinct students:", "",
             f"{'#':>3}  {'students':>8}  {'asked':>5}  {'first seen':<10}  {'last seen':<10}  nearest entry (cosine)",
             f"{'-' * 3}  {'-' * 8}  {'-' * 5}  {'-' * 10}  {'-' * 10}  {'-' * 30}"]
    for number, topic in enumerate(report.topics[:limit], start=1):
        lines.append(f"{number:>3}  {topic.students:>8}  {topic.asked:>5}  {topic.first_seen[:10]:<10}  "
                     f"{topic.last_seen[:10]:<10}  {_where(topic)}")
        for question in topic.representatives:
            lines.append(f"       · {_short(question, width - 9)}")
        hint = near_miss_hint(topic)
        if hint:
            lines.append(f"       ↳ {hint}")
    if len(report.topics) > limit:
        lines += ["", f"... and {len(report.topics) - limit} more topics (--limit N, --json or --out DIR for all)"]
    return "\n".join(lines)


def _md(text: str) -> str:
    return html.escape(" ".join(text.split())).replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def markdown(report: GapReport, plot: str | None) -> str:
    lines = ["# Questions no TA answer covers", "",
             f"{report.questions} {GAP_QUESTIONS} ({report.distinct} distinct) in "
             f"{len(report.topics)} topics, ranked by distinct students.", ""]
    if plot:
        lines += [f"![topics over time]({plot})", ""]
    lines += ["| # | students | asked | first seen | last seen | nearest entry (cosine) | representative questions |",
              "|---|---|---|---|---|---|---|"]
    for number, t in enumerate(report.topics, start=1):
        questions = "<br>".join(_md(q) for q in t.representatives)
        hint = near_miss_hint(t)
        where = _md(_where(t)) + (f"<br>{_md(hint)}" if hint else "")
        lines.append(f"| {number} | {t.students} | {t.asked} | {t.first_seen[:10]} | {t.last_seen[:10]} | "
                     f"{where} | {questions} |")
    return "\n".join(lines) + "\n"


def plot_png(report: GapReport) -> bytes | None:
    """Questions per day for the top topics (None when there is nothing to draw)."""
    if not report.topics:
        return None
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt
    from matplotlib.dates import datestr2num

    fig, ax = plt.subplots(figsize=(9, 4), dpi=100)
    for number, topic in enumerate(report.topics[:PLOTTED], start=1):
        days = sorted(topic.days)
        ax.plot([datestr2num(d) for d in days], [topic.days[d] for d in days], marker="o",
                label=f"{number}. {_short(topic.typical, 50)}")
    ax.xaxis_date()
    ax.set_ylabel("questions per day")
    ax.set_title("Topics no TA answer covers, over time")
    ax.legend(fontsize=7, loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def topics_html(report: GapReport, limit: int | None = None) -> str:
    """The topics as an HTML table (student text escaped); also the chat's Staff tab."""
    if not report.topics:
        return f"<p>No {GAP_QUESTIONS} yet.</p>"
    rows = []
    for number, t in enumerate(report.topics[:limit], start=1):
        questions = "".join(f"<li>{html.escape(q)}</li>" for q in t.representatives)
        hint = near_miss_hint(t)
        where = html.escape(_where(t)) + (f"<br><small>{html.escape(hint)}</small>" if hint else "")
        rows.append(f"<tr><td>{number}</td><td>{t.students}</td><td>{t.asked}</td><td>{t.first_seen[:10]}</td>"
                    f"<td>{t.last_seen[:10]}</td><td>{where}</td><td><ul>{questions}</ul></td></tr>")
    return ("<table class='tabot-gaps'><tr><th>#</th><th>students</th><th>asked</th><th>first seen</th>"
            "<th>last seen</th><th>nearest entry (cosine)</th><th>representative questions</th></tr>"
            f"{''.join(rows)}</table>")


def html_page(report: GapReport, png: bytes | None) -> str:
    image = (f'<img alt="questions per day for the top topics" src="data:image/png;base64,'
             f'{base64.b64encode(png).decode()}">' if png else "")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>tabot gaps</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}img{max-width:100%}</style></head><body>"
            f"<h1>Questions no TA answer covers</h1><p>{report.questions} {GAP_QUESTIONS} "
            f"({report.distinct} distinct) in {len(report.topics)} topics, ranked by distinct students.</p>{image}"
            f"{topics_html(report)}</body></html>\n")


def write_reports(report: GapReport, out: Path) -> list[Path]:
    """gaps.md, gaps.html (plot inline), gaps.json and topics.png (when there are topics) in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    png = plot_png(report)
    written = []
    if png is not None:
        (out / "topics.png").write_bytes(png)
        written.append(out / "topics.png")
    for name, text in (("gaps.md", markdown(report, "topics.png" if png else None)),
                       ("gaps.html", html_page(report, png)),
                       ("gaps.json", json.dumps(report.to_json(), ensure_ascii=False, indent=1))):
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    return written
