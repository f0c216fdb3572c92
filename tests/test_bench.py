"""The benchmark's own pieces: the synthetic knowledge base is valid and reproducible, and the report's
ratios and verdicts are the arithmetic they claim (the measurements themselves run in `python -m eval.bench`)."""

from pathlib import Path

from bot.config import Settings
from bot.demo_runs.runner import DemoRunner
from bot.knowledge import load_entries
from bot.search.chunks import build_chunks
from eval.bench.report import rows, write_report
from eval.synthetic_kb import write_kb


def test_synthetic_entries_are_valid_reproducible_and_shaped_like_real_ones(tmp_path: Path) -> None:
    assert write_kb(tmp_path / "a", 150) == 159  # with the 9 real entries
    write_kb(tmp_path / "b", 150, with_real=False)
    runner = DemoRunner(Settings(data_dir=tmp_path / "data"))
    entries = load_entries(tmp_path / "a", {name: runner.check_names(name) for name in runner.names()})
    synthetic = [e for e in entries if e.id.startswith("syn-")]
    assert len(synthetic) == 150 and {e.id for e in entries} >= {"kl-asymmetry", "log-base"}
    assert all(e.claims and e.aliases and 3 <= len(e.sentences) <= 6 for e in synthetic)
    same = sorted(p.name for p in (tmp_path / "b").glob("*.md"))
    assert [(tmp_path / "a" / n).read_text() for n in same] == [(tmp_path / "b" / n).read_text() for n in same]
    chunks = build_chunks(synthetic)
    assert 7 <= len(chunks) / len(synthetic) <= 11  # about the 8.7 chunks per entry of the 2,009-entry run
    assert len({c.text for c in chunks}) > 0.85 * len(chunks)  # mostly distinct texts, as in a real course


def test_report_rows_are_ratios_against_the_same_run(tmp_path: Path) -> None:
    results = {
        "machine": {"cpus": 2, "load_average_start": 1.0, "load_average_end": 1.5},
        "query_embedding": {"questions": 40, "repeats": 6, "p50_ms": {"torch": 20.0, "onnx": 6.0}, "min_cosine": 1.0},
        "cli": {"repeats": 5, "ask_s": {"torch": 8.0, "onnx": 2.0}, "ask_rss_mb": {"torch": 650.0, "onnx": 300.0},
                "imports_s": {"sentence_transformers": 10.0, "onnxruntime+tokenizers": 0.3},
                "chat_ready_s": {"torch": 12.0, "onnx": 8.0}},
        "index_build": {"entries": 2009, "chunks": 100, "distinct_texts": 90,
                        "torch": {"build_chunks_per_s": 40.0, "bare_chunks_per_s": 50.0},
                        "onnx": {"build_chunks_per_s": 95.0, "bare_chunks_per_s": 100.0}},
    }
    table = {row[0]: row for row in rows(results)}
    embedding = next(r for w, r in table.items() if w.startswith("query embedding"))
    assert embedding[3] == "0.300" and embedding[4] == "<= 0.4 ok"
    ask = table["`tabot ask` / `import sentence_transformers`"]
    assert ask[2] == "0.200" and ask[4] == "<= 0.25 ok"
    assert table["`tabot chat` warm start / `import sentence_transformers`"][2:] == ("0.800", "0.800", "<= 0.7 MISSED")
    assert table["index build / bare encode, torch"][3:] == ("0.800", ">= 0.9 MISSED")
    assert table["index build / bare encode, onnx"][3:] == ("0.950", ">= 0.9 ok")
    text = write_report(results, tmp_path / "bench.md")
    assert (tmp_path / "bench.md").read_text() == text and "| what | torch (old) | onnx (new) |" in text


def test_startup_only_report_with_one_backend() -> None:
    # `python -m eval.bench --startup-only --backends onnx`: only the start-up figures, only for ONNX Runtime.
    results = {"cli": {"repeats": 5, "ask_s": {"onnx": 1.0}, "ask_rss_mb": {"onnx": 300.0},
                       "chat_ready_s": {"onnx": 3.0},
                       "imports_s": {"sentence_transformers": 5.0, "onnxruntime+tokenizers": 0.3}}}
    table = {row[0]: row for row in rows(results)}
    assert table["`tabot ask` / `import sentence_transformers`"][1:] == ("—", "0.200", "0.200", "<= 0.25 ok")
    assert table["`tabot chat` warm start / `import sentence_transformers`"][3:] == ("0.600", "<= 0.7 ok")


def test_latency_stages_attributes_an_answers_time_and_leaves_the_bot_as_it_was(tabot) -> None:
    import bot.search.retrieve as retrieve
    from bot.search.reading.spelling import Speller
    from eval.latency_stages import STAGES, answer_paths, stage_times

    read_post, matches, correct_post = retrieve.read_post, retrieve.matched_words, Speller.correct_post
    long_post = ("Hi all, quick question about hw2. I read the Adam paper and tried momentum, RMSprop and "
                 "Adagrad on my network. " * 6 + "Are adaptive optimizers second order methods?")
    two_questions = "Why is KL divergence not symmetric? Which log base should I use when I compute entropy?"
    answers, bare = stage_times(tabot, ["why is KL divergence not symmetric", long_post, "how do I bake bread",
                                        two_questions])
    assert len(answers) == len(bare) == 4 and min(bare) > 0
    # A question read in its post's own pass alone, and a post that asked an earlier question (the course
    # check's pass beside its own) and is answered with its two questions read alone (the parts' pass).
    paths = answer_paths(answers)
    assert [answers[i]["total"] for i in (0, 1, 2)] == paths["own pass only"]
    assert paths["course_check_pass + parts_pass"] == [answers[3]["total"]]
    for answer in answers:
        # Every answer embeds and searches Chroma; the named stages never add up to more than the whole.
        assert answer["encoder"] > 0 and answer["chroma"] > 0 and answer["read_post"] > 0 and answer["spelling"] > 0
        assert sum(answer.get(stage, 0.0) for stage in STAGES) <= answer["total"]
    # The timers are gone afterwards: the bot's own methods and functions are back.
    assert "encode" not in vars(tabot.index.model) and "dense_search_many" not in vars(tabot.index)
    assert "two_passes" not in vars(tabot.index.model) and "embed_texts" not in vars(tabot.retriever)
    assert retrieve.read_post is read_post and retrieve.matched_words is matches
    assert Speller.correct_post is correct_post


def test_bench_beside_caller_alternates_blocks_and_leaves_the_index_as_it_was(tabot) -> None:
    from eval.bench.beside_caller import measure

    was = tabot.index.beside_caller.active
    rows = measure(tabot, ["why is KL divergence not symmetric?", "which log base does the NLL loss use?"], rounds=2)
    assert [row["beside"] for row in rows] == ([False, True, True, False] if was else [False] * 4)
    assert all(row["query_ms"] > 0 and row["answer_ms"] > row["chroma_stage_ms"] > 0 for row in rows)
    assert tabot.index.beside_caller.active == was


def test_parts_gate_answers_each_post_both_ways_and_leaves_the_bot_as_it_was(tabot) -> None:
    import bot.answering.compose as compose
    from eval.parts_gate import compare

    built = compose.parts_may_add
    posts = [("Why is KL divergence not symmetric? Which direction should I minimise if I want q to cover every "
              "mode of p?", set()),
             ("is adam a momentum method or not? and how do i get my accuracy up on a2, stuck at 60%",
              {"adaptive-optimizers", "understand-not-accuracy"})]
    found = compare(tabot, posts)
    # The one-topic post reads its parts alone only with the gate open; the two-topic post both ways.
    assert (found["parts_read_gated"], found["parts_read_open"]) == (1, 2)
    assert found["changed"] == [] and found["both_cited_gated"] == found["both_cited_open"] == 1
    assert compose.parts_may_add is built and "embed_texts" not in vars(tabot.retriever)


def test_joined_pairs_are_two_entries_questions_and_repeatable() -> None:
    from eval.parts_gate import joined_pairs

    questions = [("Why is KL asymmetric?", "kl"), ("Which log base?", "log"), ("Is Adam momentum?", "adam"),
                 ("Does the base of the log matter?", "log")]
    posts = joined_pairs(questions, 30, seed=1)
    assert posts == joined_pairs(questions, 30, seed=1) and len(posts) == 30
    for text, entries in posts:
        assert len(entries) == 2  # always two different entries
        asked = [q for q, entry in questions if entry in entries and q[1:].rstrip("?").lower() in text.lower()]
        assert {entry for q, entry in questions if q in asked} == entries
    assert joined_pairs(questions[:1], 5, seed=1) == []  # one entry: no pair to make
