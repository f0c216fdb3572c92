from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import KnowledgeError
from bot.knowledge import load_entries, parse_entry, split_sentences

SEED_IDS = ["adaptive-optimizers", "softmax-vs-sigmoid", "circular-images", "backprop-order", "kl-asymmetry",
            "log-base", "softmax-derivative", "nll-vs-cross-entropy", "understand-not-accuracy"]

GOOD = """---
id: {id}
question: Why?
aliases: [why tho]
claims:
  - text: 'the sky is blue'
    demo: {demo}
---
Because the sky is blue. That is all.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_knowledge_loads_with_every_contract_id() -> None:
    entries = load_entries(Settings().knowledge_dir)
    assert sorted(e.id for e in entries) == sorted(SEED_IDS)
    for entry in entries:
        assert entry.aliases, entry.id
        for claim in entry.claims:
            assert claim.text in entry.answer


def test_seed_answers_keep_the_latex_verbatim() -> None:
    kl = next(e for e in load_entries(Settings().knowledge_dir) if e.id == "kl-asymmetry")
    assert r"\(KL(p\|q)\)" in kl.answer and r"minimise the \(KL(q||p)\)" in kl.answer


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "x", "---\nid: x\nquestion: [unclosed\nclaims: []\n---\nBody.\n")
    with pytest.raises(KnowledgeError) as error:
        load_entries(tmp_path)
    assert "x.md:" in str(error.value) and "bad YAML" in str(error.value)
    assert error.value.line is not None


def test_missing_field_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "x", "---\nid: x\nclaims: []\n---\nBody.\n")
    with pytest.raises(KnowledgeError, match="missing required field 'question'"):
        load_entries(tmp_path)


def test_duplicate_id_across_subfolders_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "fall2020").mkdir()
    (tmp_path / "fall2021").mkdir()
    write(tmp_path / "fall2020", "a", GOOD.format(id="a", demo="null"))
    write(tmp_path / "fall2021", "a", GOOD.format(id="a", demo="null"))
    with pytest.raises(KnowledgeError, match="duplicate id 'a'") as error:
        load_entries(tmp_path)
    assert "fall2020" in str(error.value) and "fall2021" in str(error.value)


def test_file_name_must_match_id(tmp_path: Path) -> None:
    write(tmp_path, "b", GOOD.format(id="a", demo="null"))
    with pytest.raises(KnowledgeError, match=r"rename it to a\.md"):
        load_entries(tmp_path)


def test_claim_not_verbatim_is_rejected_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x", GOOD.format(id="x", demo="null").replace("the sky is blue'", "the sea is blue'"))
    with pytest.raises(KnowledgeError, match="not verbatim") as error:
        parse_entry(path)
    assert error.value.line == 6


def test_claims_match_across_line_wraps(tmp_path: Path) -> None:
    path = write(tmp_path, "x", GOOD.format(id="x", demo="null").replace(
        "Because the sky is blue.", "Because the\n  sky is blue."))
    assert parse_entry(path).claims[0].text == "the sky is blue"


def test_unknown_demo_and_check_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "x", GOOD.format(id="x", demo="no_such_demo"))
    with pytest.raises(KnowledgeError, match="unknown demo 'no_such_demo'"):
        parse_entry(path, {"kl_asymmetry": ("fits_differ",)})
    path = write(tmp_path, "y", GOOD.format(id="y", demo="kl_asymmetry") + "")
    text = path.read_text().replace("demo: kl_asymmetry", "demo: kl_asymmetry\n    checks: [bogus]")
    path.write_text(text)
    with pytest.raises(KnowledgeError, match="has no check"):
        parse_entry(path, {"kl_asymmetry": ("fits_differ",)})


def test_seed_claims_name_real_demos_and_checks(tabot) -> None:
    catalog = {name: tabot.demos.check_names(name) for name in tabot.demos.names()}
    entries = load_entries(Settings().knowledge_dir, catalog)  # raises if any link is broken
    assert sum(1 for e in entries for c in e.claims if c.demo) >= 16


def test_sentence_split_keeps_abbreviations_and_latex() -> None:
    text = "Should we assume a base (e.g. e, 2, 10)? Yes. See \\(KL(p\\|q)\\). Done :) Next one."
    assert split_sentences(text) == ["Should we assume a base (e.g. e, 2, 10)?", "Yes.", "See \\(KL(p\\|q)\\).",
                                     "Done :)", "Next one."]


def test_near_misses_are_parsed_and_one_that_is_also_an_alias_is_rejected(tmp_path: Path) -> None:
    text = GOOD.format(id="x", demo="null").replace("aliases: [why tho]\n",
                                                     "aliases: [why tho]\nnear_misses: [why not, 'how: so']\n")
    (entry,) = load_entries(write(tmp_path, "x", text).parent)
    assert entry.near_misses == ("why not", "how: so") and entry.aliases == ("why tho",)
    write(tmp_path, "x", text.replace("near_misses: [why not,", "near_misses: [Why  THO,"))
    with pytest.raises(KnowledgeError, match="also this entry's question or an alias") as error:
        load_entries(tmp_path)
    assert error.value.line == 5
    write(tmp_path, "x", text)
    write(tmp_path, "y", GOOD.format(id="y", demo="null").replace("[why tho]", "[why not]"))
    with pytest.raises(KnowledgeError, match="is a question or alias of 'y', which answers it") as error:
        load_entries(tmp_path)
    assert "x.md" in str(error.value) and error.value.line == 5
    (tmp_path / "y.md").unlink()
    write(tmp_path, "x", text.replace("near_misses: [why not, 'how: so']", "near_misses: why not"))
    with pytest.raises(KnowledgeError, match="'near_misses' must be a list"):
        load_entries(tmp_path)


def test_every_seed_entry_lists_near_misses() -> None:
    # The loader refuses a near miss that is any entry's question or alias, so loading checks that too.
    for entry in load_entries(Settings().knowledge_dir):
        assert len(entry.near_misses) >= 8, entry.id
