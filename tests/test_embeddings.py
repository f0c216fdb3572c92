from pathlib import Path

import numpy as np
import pytest

from bot.errors import ConfigError
from bot.search import embeddings


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
    lc = embeddings.MiniLMEmbeddings(model)
    chroma = embeddings.MiniLMChromaFunction(model)
    before = model.texts_embedded
    a = np.asarray(lc.embed_query("why is KL divergence not symmetric"))
    b = np.asarray(chroma(["why is KL divergence not symmetric"])[0])
    assert a.shape == (384,) and np.allclose(a, b, atol=1e-6)
    assert abs(np.linalg.norm(a) - 1.0) < 1e-5  # normalised, so a dot product is the cosine
    assert model.texts_embedded == before + 2
    assert embeddings.shared_model() is model
