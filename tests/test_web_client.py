"""The launched app, called over HTTP with gradio_client as a script or another service would."""

import urllib.error
import urllib.request

import pytest
from gradio_client import Client

from tests.web_server import running_app


@pytest.fixture(scope="module")
def server(tabot, session_settings):
    # `tabot` (tests/conftest.py): the real engine, started once per test session.
    with running_app(tabot, session_settings) as (url, store):
        yield url, store


def reply_text(history: list) -> str:
    assert history[-1]["role"] == "assistant"
    return history[-1]["content"][0]["text"]


@pytest.mark.slow
def test_ask_endpoint_returns_a_cited_answer_and_follow_ups_use_the_session(server):
    url, _ = server
    client = Client(url, verbose=False)
    history, box, picker = client.predict("why is KL divergence not symmetric", api_name="/ask")
    text = reply_text(history)
    assert "[1]" in text and "### Sources" in text and "`kl-asymmetry`" in text
    assert "✅ verified" in text and "python -m demos.kl_asymmetry" in text
    assert box == ""
    assert picker["value"] == "kl_asymmetry"
    # a short follow-up in the same client session is resolved against the previous answer
    history, *_ = client.predict("and the reverse one?", api_name="/ask")
    assert "`kl-asymmetry`" in reply_text(history)


@pytest.mark.slow
def test_ask_endpoint_abstains_and_escapes(server):
    url, _ = server
    client = Client(url, verbose=False)
    history, *_ = client.predict("<script>alert(1)</script> what is the capital of France?", api_name="/ask")
    assert history[0]["content"][0]["text"].startswith("&lt;script&gt;")
    text = reply_text(history)
    assert "course forum" in text and "### Sources" not in text


@pytest.mark.slow
def test_the_feedback_database_and_index_cannot_be_downloaded(server, session_settings):
    url, store = server
    store.rows()  # make sure the database file exists
    for path in [session_settings.feedback_db, *session_settings.data_dir.rglob("*.sqlite3")]:
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"{url}gradio_api/file={path}", timeout=10)
        assert error.value.code in (403, 404)
