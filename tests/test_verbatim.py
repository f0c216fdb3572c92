"""The verbatim-post scorer (eval/verbatim.py): its lists, its counts, and a run end to end on posts
written here (real posts' text never enters the repository)."""

from pathlib import Path

import pytest

from bot.knowledge import load_entries
from eval.baselines import Reply
from eval.verbatim import VerbatimPost, main, read_list, tally, text_file

DATASETS = Path(__file__).resolve().parent.parent / "eval" / "datasets"


def _reply(answered: list[str], candidates: list[str]) -> Reply:
    return Reply(ranking=answered, candidates=candidates, answered=answered, abstained=not answered, confidence=0.5)


def test_every_verbatim_list_reads_and_names_only_entries_or_decline() -> None:
    entries = {e.id for e in load_entries(DATASETS.parent.parent / "knowledge" / "answers")}
    for path in sorted(DATASETS.glob("verbatim_*_sources.tsv")):
        posts = [p for p in read_list(path) if p.judged]
        assert len(posts) >= 50, path.name
        assert {p.ta for p in posts} <= set(entries) | {"decline"}, path.name
        assert {p.confidence for p in posts} <= {"sure", "unsure", ""}, path.name


def test_an_unsure_mark_and_a_split_decision_are_read_as_such(tmp_path: Path) -> None:
    listing = tmp_path / "list.tsv"
    listing.write_text("# a comment\naddress\tta\tshapes\nhttps://a\tlog-base?\tB\nhttps://b\tdecline/kl-asymmetry?\t-\n"
                       "https://c\tdecline\t-\n", encoding="utf-8")
    a, b, c = read_list(listing)
    assert (a.ta, a.confidence, a.judged) == ("log-base", "unsure", True)
    assert not b.judged
    assert (c.ta, c.in_scope, c.confidence) == ("decline", False, "")


def test_the_tally_counts_the_entry_answered_first_and_the_entry_ranked_first_apart() -> None:
    posts = [VerbatimPost("a", "log-base", "sure"), VerbatimPost("b", "log-base", "sure"),
             VerbatimPost("c", "kl-asymmetry", "unsure"), VerbatimPost("d", "decline", "sure"),
             VerbatimPost("e", "decline", "sure")]
    replies = [_reply(["log-base"], ["log-base", "kl-asymmetry"]),  # right
               _reply([], ["log-base"]),  # declined, but ranked first
               _reply(["log-base", "kl-asymmetry"], ["log-base", "kl-asymmetry"]),  # its entry is second
               _reply([], ["kl-asymmetry"]),  # declined: right
               _reply(["kl-asymmetry"], ["kl-asymmetry"])]  # answered: wrong
    assert tally(posts, replies).__dict__ == {"in_scope": 3, "answered_right": 1, "ranked_first": 2,
                                              "out_of_scope": 2, "declined": 1, "declined_in_scope": 1,
                                              "offered": 1}
    # A decline that does not offer the post's entry among its closest topics is counted apart.
    replies[1] = _reply([], ["kl-asymmetry", "softmax-derivative"])
    assert (tally(posts, replies).declined_in_scope, tally(posts, replies).offered) == (1, 0)


def test_a_run_scores_the_posts_it_has_text_for_and_names_the_missing_one(
        tabot, session_settings, monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("TABOT_DATA_DIR", str(session_settings.data_dir))
    listing = tmp_path / "list.tsv"
    listing.write_text("address\tta\tconfidence\nhttps://example.org/kl\tkl-asymmetry\tsure\n"
                       "https://example.org/library\tdecline\tsure\nhttps://example.org/gone\tlog-base\tsure\n",
                       encoding="utf-8")
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / text_file("https://example.org/kl")).write_text(
        "# KL direction when fitting one Gaussian\n\nI fit a single Gaussian to a two-bump distribution. "
        "Why does minimising KL(q||p) lock onto one bump while KL(p||q) spreads over both?", encoding="utf-8")
    (texts / text_file("https://example.org/library")).write_text(
        "Does anyone know until what time the campus library is open on Sundays?", encoding="utf-8")
    out = tmp_path / "records.json"
    assert main([str(listing), "--texts", str(texts), "--out", str(out), "--no-baseline"]) == 0
    printed = capsys.readouterr().out
    assert "2 of 3 posts have text" in printed and "missing: https://example.org/gone" in printed
    # One in-scope post answered right and ranked first, one off-topic post declined; the missing
    # post counts nowhere (1 / 1, not 1 / 2).
    assert "| tabot (ours) | all | 1 / 1 (1.00) | 1 / 1 (1.00) | 1 / 1 (1.00) | 0 of 0 |" in printed
    assert out.read_text(encoding="utf-8").count('"address"') == 2


def test_a_list_naming_an_unknown_entry_is_refused(tabot, session_settings, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TABOT_DATA_DIR", str(session_settings.data_dir))
    listing = tmp_path / "list.tsv"
    listing.write_text("address\tta\nhttps://example.org/x\tno-such-entry\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        main([str(listing), "--texts", str(tmp_path), "--no-baseline"])
