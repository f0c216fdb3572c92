"""The second-encoder measurement (eval/second_opinion.py) recomputes tabot's own features."""

import numpy as np

from bot.knowledge import load_entries
from bot.search.reading.abbreviations import as_searched
from bot.search.retrieve import Calibration
from eval.calibrate.rows import calibration_rows, read_as_the_bot
from eval.second_opinion import ENCODER_FEATURES, VARIANTS, CourseRead, second_features, with_second


def test_with_minilm_as_the_second_encoder_the_features_are_tabots_own(session_settings) -> None:
    rows, retriever = calibration_rows(session_settings)
    assert len(rows.questions) == len(rows.features) > 300 and rows.labels.sum() > 150
    # What was read is kept beside what was scored: a (focus, prose) and the candidates' entries per row.
    assert len(rows.embedded) == len(rows.entry_ids) == len(rows.questions)
    assert all(len(ids) == retriever.k_entries for ids in rows.entry_ids if ids)
    _, (focus, prose), found = read_as_the_bot(retriever, session_settings, rows.questions[0].question)
    kept_focus, kept_prose = rows.embedded[0]
    assert np.allclose(focus.vector, kept_focus.vector) and np.allclose(prose.vector, kept_prose.vector)
    assert [hit.entry_id for hit in found] == rows.entry_ids[0][:len(found)]
    # A post written in Chinese is read through the glossary there too, as the bot reads it.
    chinese, _, _ = read_as_the_bot(retriever, session_settings, "KL散度为什么不对称？")
    assert chinese.focus == "kl divergence why asymmetric?"
    minilm = retriever.index.model
    course = CourseRead.of(retriever.index, as_searched(load_entries(session_settings.knowledge_dir)), minilm)
    second = second_features(rows, retriever, course, minilm)
    # The same encoder gives every candidate the features the retriever gave it: what the comparison
    # swaps is the encoder, nothing else about the features. The cosines agree everywhere. The word-piece
    # features count words whose best cosine clears a threshold, and the encoder's float noise between
    # batch shapes (~1e-7, CPU-dependent) can tip one word of one candidate across it even with the pieces
    # rounded as the index stores them (a step of 1/words, seen once on CI as 0.027 before they were
    # rounded): a few such values in a thousand are allowed, where a feature computed otherwise would
    # differ almost everywhere.
    assert second.shape == rows.candidates.features.shape
    differs = np.abs(second - rows.candidates.features) > 1e-4
    cosines = [Calibration.FEATURES.index(name) for name in ("focus", "post", "background", "near_miss")]
    assert not differs[:, :, cosines].any()
    assert differs.mean() < 1e-3
    assert set(ENCODER_FEATURES) == set(Calibration.FEATURES) - {"coverage"}
    # Each variant puts the features it names in MiniLM's place, or after all eight.
    altered = second + 1.0
    for names, where in VARIANTS.values():
        grown = with_second(rows, altered, names, where).candidates.features
        changed = [k for k in range(grown.shape[2]) if k >= len(Calibration.FEATURES)
                   or not np.array_equal(grown[:, :, k], rows.candidates.features[:, :, k])]
        wanted = ([Calibration.FEATURES.index(name) for name in names] if where == "in place"
                  else list(range(len(Calibration.FEATURES), len(Calibration.FEATURES) + len(names))))
        assert sorted(changed) == sorted(wanted)
    # And the groups keep a thread's posts together (a fold never splits one).
    real = [g for g, q in zip(rows.groups, rows.questions, strict=True) if q.split.startswith("real_posts")]
    assert len(set(real)) < len(real)
