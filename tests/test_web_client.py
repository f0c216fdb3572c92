"""The launched app, called over HTTP with gradio_client as a script or another service would."""

import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from gradio.utils import get_upload_folder
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


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


@pytest.mark.slow
def test_ask_endpoint_returns_a_cited_answer_and_follow_ups_use_the_session(server):
    url, _ = server
    client = Client(url, verbose=False)
    history, box, picker = client.predict("why is KL divergence not symmetric", api_name="/ask")
    text = reply_text(history)
    assert "tabot-source" in text and "<code>kl-asymmetry</code>" in text
    assert "[1]" not in text.split("tabot-label")[0]  # one TA answer cited: no markers in the answer
    assert '<span class="tabot-icon">✅</span> <b>kl_asymmetry</b>' in text
    assert 'download="kl_asymmetry.py"' in text
    assert box == ""
    assert picker["value"] == "kl_asymmetry"
    # a short follow-up in the same client session is resolved against the previous answer
    history, *_ = client.predict("and the reverse one?", api_name="/ask")
    assert "<code>kl-asymmetry</code>" in reply_text(history)


@pytest.mark.slow
def test_ask_endpoint_abstains_and_echoes_plain_text(server):
    url, _ = server
    client = Client(url, verbose=False)
    history, *_ = client.predict("<script>alert(1)</script> # what is the capital of France?", api_name="/ask")
    assert history[0]["content"][0]["text"] == (
        '<pre class="tabot-echo">&lt;script&gt;alert(1)&lt;/script&gt; # what is the capital of France?</pre>')
    text = reply_text(history)
    assert "course forum" in text and "tabot-source" not in text


@pytest.mark.slow
def test_plots_and_scripts_are_served_and_nothing_else_of_the_data_dir(server, session_settings):
    url, store = server
    client = Client(url, verbose=False)
    history, *_ = client.predict("why is KL divergence not symmetric", api_name="/ask")
    text = reply_text(history)
    links = re.findall(r'(?:src|href)="(gradio_api/file=[^"]+)"', text)
    assert len(links) == 3  # the plot, the script, the notebook
    for link in links:
        status, body = fetch(url + link)
        assert status == 200 and body
        if link.endswith(".png"):
            assert body.startswith(b"\x89PNG")
    store.rows()  # make sure the database file exists
    cache = session_settings.demo_cache_dir
    private = [session_settings.feedback_db, *session_settings.data_dir.rglob("*.sqlite3"), *cache.rglob("*.json"),
               *cache.rglob("*.png")]  # cached results, matplotlib's font list, the original plots
    assert any(p.suffix == ".json" for p in private) and any(p.suffix == ".png" for p in private)
    for path in private:
        status, _ = fetch(f"{url}gradio_api/file={urllib.parse.quote(str(path))}")
        assert status in (403, 404), path


@pytest.mark.slow
@pytest.mark.parametrize("size", [0, 10_000, 3_000_000])
def test_uploads_are_refused_whatever_their_size(server, size):
    url, _ = server
    uploads = Path(get_upload_folder())
    before = set(uploads.rglob("upload.bin"))
    boundary = "tabotboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"upload.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n")
    body = head.encode() + b"x" * size + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{url}gradio_api/upload", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(request, timeout=60)
    if isinstance(refused.value, urllib.error.HTTPError):
        assert refused.value.code == 403
    else:  # a big body: the 403 came (and the connection closed) before the client had sent it all
        assert size > 100_000 and isinstance(refused.value.reason, BrokenPipeError | ConnectionResetError)
    assert set(uploads.rglob("upload.bin")) == before  # nothing was kept
