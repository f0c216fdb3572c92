"""The second-encoder measurement (eval/second_opinion.py) recomputes tabot's own features."""

import numpy as np

from eval.calibrate import calibration_rows, read_as_the_bot
from eval.second_opinion import second_cosines


def test_with_minilm_as_the_second_encoder_the_cosines_are_tabots_own(session_settings) -> None:
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
    chunk_texts = {entry_id: [c.text for c in chunks] for entry_id, chunks in retriever.index.chunks_by_entry().items()}
    cosines = second_cosines(rows, chunk_texts, retriever.index.model)
    # The same encoder gives the same focus and prose cosines as the retriever's best chunks: what the
    # comparison swaps is the encoder, nothing else about the features.
    assert np.abs(cosines - rows.features[:, :2]).max() < 1e-4
    # And the groups keep a thread's posts together (a fold never splits one).
    real = [g for g, q in zip(rows.groups, rows.questions, strict=True) if q.split.startswith("real_posts")]
    assert len(set(real)) < len(real)
