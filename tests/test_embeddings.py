"""MiniLM on both backends. sentence-transformers (torch) is the reference: the ONNX Runtime model must
give its vectors, be rebuilt when its files are stale or tampered with, and fall back to it with a
message when it cannot be made."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.errors import ConfigError
from bot.search import embeddings, onnx_export, onnx_minilm
from bot.search.embeddings import MiniLM, TorchEncoder
from bot.search.langchain_views import MiniLMEmbeddings
from bot.search.onnx_minilm import PROBE_MIN_COSINE, OnnxUnusable, models_dir, open_verified

DATASETS = Path(__file__).resolve().parent.parent / "eval" / "datasets"


def eval_questions() -> list[str]:
    """Every question of every eval set (the files whose records carry a "question")."""
    found = []
    for path in sorted(DATASETS.glob("*.jsonl")):
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        found += [r["question"] for r in records if isinstance(r.get("question"), str) and r["question"].strip()]
    return found


@pytest.fixture(scope="module")
def reference() -> TorchEncoder:
    return TorchEncoder()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding a fresh export (made the way `tabot index` makes it)."""
    data = tmp_path_factory.mktemp("onnx-data")
    messages: list[str] = []
    model = MiniLM(backend="onnx", data_dir=data, progress=messages.append).load()
    assert model.backend == "onnx" and model.notice is None
    assert any("exporting MiniLM to ONNX" in m for m in messages)
    return data


def copy_of(exported: Path, tmp_path: Path) -> Path:
    shutil.copytree(models_dir(exported), models_dir(tmp_path))
    return tmp_path


def test_packaged_weights_load_after_the_check() -> None:
    assert (embeddings.model_path() / "model.safetensors").is_file()  # model_path() raises if the sha differs


def test_tampered_or_missing_weights_are_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "model.safetensors"
    fake.write_bytes(b"not the model")
    with pytest.raises(ConfigError, match="do not match the expected sha256"):
        embeddings._verify_weights(fake)
    with pytest.raises(ConfigError, match="not found"):
        embeddings._verify_weights(tmp_path / "missing.safetensors")


def test_langchain_and_chroma_views_share_one_model_and_agree() -> None:
    model = embeddings.shared_model()
    lc = MiniLMEmbeddings(model)
    chroma = embeddings.MiniLMChromaFunction(model)
    before = model.texts_embedded
    a = np.asarray(lc.embed_query("why is KL divergence not symmetric"))
    b = np.asarray(chroma(["why is KL divergence not symmetric"])[0])
    assert a.shape == (384,) and np.allclose(a, b, atol=1e-6)
    assert abs(np.linalg.norm(a) - 1.0) < 1e-5  # normalised, so a dot product is the cosine
    assert model.texts_embedded == before + 2
    assert embeddings.shared_model() is model


def test_onnx_gives_the_sentence_transformers_vectors_on_every_eval_question(exported: Path,
                                                                           reference: TorchEncoder) -> None:
    questions = eval_questions()
    assert len(questions) > 200
    onnx = MiniLM(backend="onnx", data_dir=exported)
    assert onnx.backend == "onnx"
    # One call each, so the ONNX side runs padded batches of mixed lengths as the index build does.
    got, want = onnx.encode_array(questions), reference.encode(questions)
    assert onnx_minilm.min_cosine(got, want) >= PROBE_MIN_COSINE
    single = onnx.encode_array([questions[1]])[0]  # and alone, unpadded
    assert float(single @ want[1]) >= PROBE_MIN_COSINE


def test_onnx_word_pieces_match_the_transformer_hidden_states(exported: Path, reference: TorchEncoder) -> None:
    # Semantic coverage reads each content word piece's hidden state; both backends must give the
    # same pieces (same ids kept) and the same vectors, batched with mixed lengths or alone.
    questions = eval_questions()[:60]
    onnx = MiniLM(backend="onnx", data_dir=exported)
    vectors, pieces = onnx.encode_with_pieces(questions)
    want_vectors, want_pieces = reference.encode_with_pieces(questions)
    assert onnx_minilm.min_cosine(vectors, want_vectors) >= PROBE_MIN_COSINE
    for got, want in zip(pieces, want_pieces, strict=True):
        assert got.shape == want.shape and len(got) > 0
        assert float(np.min(np.sum(got * want, axis=1))) >= 0.9999
    assert onnx.encode_with_pieces(["the of and"])[1][0].shape == (0, 384)  # stop words carry no content


def test_the_committed_probe_vectors_are_sentence_transformers_output(reference: TorchEncoder) -> None:
    texts, vectors = onnx_minilm.probe_reference()
    assert texts == list(onnx_export.PROBE_TEXTS)
    assert onnx_minilm.min_cosine(reference.encode(texts), vectors) >= PROBE_MIN_COSINE


def test_tokens_and_truncation_match_sentence_transformers(exported: Path, reference: TorchEncoder) -> None:
    encoder = open_verified(models_dir(exported), embeddings.MODEL_SHA256)
    texts = list(onnx_export.PROBE_TEXTS)
    ours = [e.ids for e in encoder.tokenizer.encode_batch(texts)]
    features = reference.model.preprocess(texts)
    theirs = [row[mask.bool()].tolist() for row, mask in zip(features["input_ids"], features["attention_mask"],
                                                            strict=True)]
    assert ours == theirs
    assert max(len(ids) for ids in ours) == reference.model.max_seq_length == encoder.max_seq_length == 256


def test_the_manifest_records_both_hashes(exported: Path) -> None:
    directory = models_dir(exported)
    manifest = onnx_minilm.read_manifest(directory)
    assert manifest["source_sha256"] == embeddings.MODEL_SHA256
    assert manifest["onnx_sha256"] == onnx_minilm.file_sha256(directory / onnx_minilm.ONNX_NAME)
    assert manifest["tokenizer_sha256"] == onnx_minilm.file_sha256(directory / onnx_minilm.TOKENIZER_NAME)
    assert manifest["opset"] == 17 and manifest["probe_min_cosine"] >= PROBE_MIN_COSINE


def test_loading_the_onnx_model_imports_no_torch(exported: Path) -> None:
    script = ("import sys; from pathlib import Path; from bot.search.embeddings import MiniLM\n"
              f"m = MiniLM(backend='onnx', data_dir=Path({str(exported)!r})).load()\n"
              "v = m.encode(['which log base'])[0]\n"
              "heavy = sorted(n for n in sys.modules if n.split('.')[0] in ('torch', 'transformers',"
              " 'sentence_transformers'))\n"
              "print(m.backend, len(v), heavy[:5])")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.split() == ["onnx", "384", "[]"], out.stderr[-2000:]


def test_a_tampered_onnx_file_is_exported_again(exported: Path, tmp_path: Path) -> None:
    data = copy_of(exported, tmp_path)
    onnx_file = models_dir(data) / onnx_minilm.ONNX_NAME
    blob = bytearray(onnx_file.read_bytes())
    blob[-100] ^= 0xFF  # a flipped bit in the weights
    onnx_file.write_bytes(bytes(blob))
    with pytest.raises(OnnxUnusable, match="does not match the sha256"):
        open_verified(models_dir(data), embeddings.MODEL_SHA256)
    messages: list[str] = []
    model = MiniLM(backend="onnx", data_dir=data, progress=messages.append)
    assert model.backend == "onnx" and model.notice is None
    assert any("does not match the sha256" in m and "re-exporting" in m for m in messages)
    open_verified(models_dir(data), embeddings.MODEL_SHA256)  # the rebuilt files pass every check


def test_a_model_exported_from_other_weights_is_rejected(exported: Path, tmp_path: Path) -> None:
    data = copy_of(exported, tmp_path)
    manifest_file = models_dir(data) / onnx_minilm.MANIFEST_NAME
    manifest = json.loads(manifest_file.read_text())
    manifest["source_sha256"] = "0" * 64
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(OnnxUnusable, match="other weights"):
        open_verified(models_dir(data), embeddings.MODEL_SHA256)


def test_probe_disagreement_rebuilds_then_falls_back_to_torch(exported: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              reference: TorchEncoder) -> None:
    # A reference that no correct export can meet: the check must refuse the model, a re-export must
    # fail the same way, and the encoder must end on sentence-transformers, saying why.
    texts, vectors = onnx_minilm.probe_reference()
    wrong = tmp_path / "probes.json"
    wrong.write_text(json.dumps({"texts": texts, "vectors": np.roll(vectors, 1, axis=1).tolist()}))
    monkeypatch.setattr(onnx_minilm, "PROBES_FILE", wrong)
    data = copy_of(exported, tmp_path / "data")
    with pytest.raises(OnnxUnusable, match="probe vectors differ"):
        open_verified(models_dir(data), embeddings.MODEL_SHA256)
    messages: list[str] = []
    model = MiniLM(backend="onnx", data_dir=data, progress=messages.append)
    assert model.backend == "torch"
    assert any("probe vectors differ" in m for m in messages) and "using sentence-transformers" in messages[-1]
    assert float(model.encode_array(["which log base"])[0] @ reference.encode(["which log base"])[0]) > 0.99999


def test_a_failed_export_falls_back_to_torch_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_onnx(*args: object, **kwargs: object) -> None:
        raise ModuleNotFoundError("No module named 'onnx'", name="onnx")

    monkeypatch.setattr(onnx_export, "export", no_onnx)
    messages: list[str] = []
    model = MiniLM(backend="onnx", data_dir=tmp_path, progress=messages.append)
    assert model.backend == "torch" and model.notice is not None and "pip install onnx" in model.notice
    assert messages[-1] == model.notice
    assert len(model.encode(["which log base"])[0]) == 384


def test_the_torch_backend_is_the_reference_and_writes_nothing(tmp_path: Path) -> None:
    model = MiniLM(backend="torch", data_dir=tmp_path)
    assert model.backend == "torch" and not models_dir(tmp_path).exists()


def test_the_shared_encoder_takes_the_first_index_settings(tmp_path: Path) -> None:
    model = MiniLM()
    model.adopt(Settings(data_dir=tmp_path, embed_backend="torch"))
    model.adopt(Settings(data_dir=tmp_path / "other", embed_backend="onnx"))  # too late: the first one holds
    assert model.data_dir == tmp_path and model.backend == "torch"


def test_backend_setting() -> None:
    assert Settings.from_env({}).embed_backend == "onnx"
    assert Settings.from_env({"TABOT_EMBED_BACKEND": "Torch"}).embed_backend == "torch"
    with pytest.raises(ConfigError, match="onnx, torch"):
        Settings.from_env({"TABOT_EMBED_BACKEND": "tensorflow"})


def test_length_batches_group_similar_lengths() -> None:
    lengths = [5, 256, 7, 30, 6, 33, 250]
    batches = onnx_minilm.length_batches(lengths, size=2)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert batches == [[0, 4], [2], [3, 5], [6, 1]]
    assert onnx_minilm.length_batches([]) == []


def test_two_passes_of_one_question_run_side_by_side_and_give_what_one_after_the_other_gives(
        exported: Path) -> None:
    import threading

    model = MiniLM(backend="onnx", data_dir=exported)
    prose = "Hi all! I read the lecture notes twice. Why is KL divergence not symmetric? Thanks."
    threads: list[str] = []

    def alone(m: MiniLM) -> np.ndarray:
        threads.append(threading.current_thread().name)
        return m.encode_array(["Why is KL divergence not symmetric?"])

    def in_context(m: MiniLM) -> tuple:
        threads.append(threading.current_thread().name)
        return m.encode_in_context(prose, "Why is KL divergence not symmetric?")

    first, second = model.two_passes(alone, in_context)
    assert len(set(threads)) == 2  # two threads, so the passes could overlap
    assert np.array_equal(first, model.encode_array(["Why is KL divergence not symmetric?"]))
    vector, pieces, inside = model.encode_in_context(prose, "Why is KL divergence not symmetric?")
    assert np.array_equal(second[0], vector) and np.array_equal(second[1], pieces)
    assert inside is not None and np.array_equal(second[2][0], inside[0])
    assert model.texts_embedded == 4

    # A pass that fails fails the call, and the lock is free once both have ended.
    def broken(m: MiniLM) -> None:
        raise ValueError("no")

    for passes in ((broken, alone), (alone, broken)):
        with pytest.raises(ValueError, match="no"):
            model.two_passes(*passes)
        assert not model._lock.locked()
    assert model.encode_array(["still answers"]).shape == (1, 384)


def test_once_onnx_encodes_numpy_blas_runs_on_one_thread(exported: Path) -> None:
    from threadpoolctl import threadpool_info

    MiniLM(backend="onnx", data_dir=exported).load()
    # numpy's own OpenBLAS (the one its matrix products use; scipy may bring another, loaded later).
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas" and "numpy" in pool["filepath"]]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)


def test_an_early_open_is_handed_over_once_with_its_verdict(exported: Path, tmp_path: Path) -> None:
    # `tabot ask` / `tabot chat` start opening the model before their imports (bot.faces.cli); the
    # encoder takes that one, and an unusable model fails there exactly as `open_verified` would.
    directory = models_dir(exported)
    onnx_minilm.open_early(directory, embeddings.MODEL_SHA256)
    early = onnx_minilm.opened_early(directory, embeddings.MODEL_SHA256)
    assert isinstance(early, onnx_minilm.OnnxEncoder)
    assert onnx_minilm.opened_early(directory, embeddings.MODEL_SHA256) is None  # handed out once
    onnx_minilm.open_early(directory, embeddings.MODEL_SHA256)
    MiniLM(backend="onnx", data_dir=exported).load()
    assert onnx_minilm.opened_early(directory, embeddings.MODEL_SHA256) is None  # the MiniLM took it
    data = copy_of(exported, tmp_path)
    manifest_file = models_dir(data) / onnx_minilm.MANIFEST_NAME
    manifest_file.write_text(json.dumps({**json.loads(manifest_file.read_text()), "source_sha256": "0" * 64}))
    onnx_minilm.open_early(models_dir(data), embeddings.MODEL_SHA256)
    with pytest.raises(OnnxUnusable, match="other weights"):
        onnx_minilm.opened_early(models_dir(data), embeddings.MODEL_SHA256)


def test_both_backends_read_a_focus_inside_its_post_alike(exported: Path, reference: TorchEncoder) -> None:
    from bot.search.reading.focus import read_post

    onnx = MiniLM(backend="onnx", data_dir=exported)
    posts = [p for p in map(read_post, eval_questions()) if p.focus != p.prose][:40]
    assert len(posts) == 40
    for post in posts:
        vector, pieces, focus = onnx.encode_in_context(post.prose, post.focus)
        want_vector, want_pieces, want_focus = reference.encode_in_context(post.prose, post.focus)
        assert float(vector @ want_vector) >= PROBE_MIN_COSINE and pieces.shape == want_pieces.shape
        assert float(vector @ reference.encode([post.prose])[0]) >= PROBE_MIN_COSINE  # the usual sentence vector
        assert (focus is None) == (want_focus is None)
        if focus is not None:
            assert float(focus[0] @ want_focus[0]) >= 0.9999 and focus[1].shape == want_focus[1].shape


def test_a_process_that_exits_while_the_model_opens_early_exits_cleanly(tabot, session_settings) -> None:
    """A command that starts the early opening (`tabot ask`, `tabot chat`) and then fails, or a test
    run that ends, within the opening's ~0.4 s: the daemon thread was stopped inside ONNX Runtime's
    session set-up and the process aborted (SIGABRT, 8 of 8 runs exiting 0.15 s after the start)."""
    import subprocess
    import sys

    code = ("import sys, time; from pathlib import Path; "
            "from bot.search.onnx_minilm import models_dir, open_early; "
            "from bot.search.torch_minilm import MODEL_SHA256; "
            "open_early(models_dir(Path(sys.argv[1])), MODEL_SHA256); time.sleep(float(sys.argv[2]))")
    for delay in ("0.1", "0.15", "0.2", "0.3"):
        done = subprocess.run([sys.executable, "-c", code, str(session_settings.data_dir), delay],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (delay, done.returncode, done.stderr[-500:])
