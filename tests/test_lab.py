"""What `make lab` promises a reader: JupyterLab from the venv opens a chapter (a MyST .md file) as a
notebook through the server, runs it on the "Python (grubook)" kernel, and the numbers it glues are
the ones the built book shows."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "book/claims.md"
TOKEN = uuid.uuid4().hex


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    """`jupyter lab` as `make lab` starts it, headless, on a free port of 127.0.0.1."""
    port = free_port()
    jupyter = Path(sys.executable).parent / "jupyter"
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--ServerApp.root_dir={ROOT}", f"--IdentityProvider.token={TOKEN}", "--ServerApp.port_retries=0",
         "--ServerApp.allow_root=True"],                      # CI runs as root
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        pytest.fail("JupyterLab did not answer within 90 s")
    yield base
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def api(base, path, method="GET", body=None):
    request = urllib.request.Request(f"{base}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def test_the_lab_page_and_the_jupytext_viewer_setting_are_served(lab):
    request = urllib.request.Request(f"{lab}/lab/tree/book", headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200 and "JupyterLab" in response.read().decode()
    settings = api(lab, "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    assert "Jupytext Notebook" in json.dumps(settings), \
        "the venv's overrides.json (written by `make venv`) should make .md files open as notebooks"


def test_a_chapter_opens_as_a_notebook_and_runs_on_the_grubook_kernel_with_the_books_numbers(lab, built_book):
    model = api(lab, f"/api/contents/{CHAPTER}?type=notebook&content=1")
    assert model["type"] == "notebook", model["type"]
    nb = model["content"]
    assert nb["metadata"]["kernelspec"]["name"] == "grubook"
    code = [c["source"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "the chapter came back without code cells"

    session = api(lab, "/api/sessions", "POST", {"path": CHAPTER, "type": "notebook", "name": "claims",
                                                 "kernel": {"name": "grubook"}})
    kernel = session["kernel"]["id"]
    import websocket

    ws = websocket.create_connection(f"{lab.replace('http', 'ws')}/api/kernels/{kernel}/channels?token={TOKEN}",
                                     timeout=300)
    glued = {}
    try:
        for source in code:
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": TOKEN,
                           "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": source, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True}}))
            replied = idle = False
            while not (replied and idle):
                msg = json.loads(ws.recv())
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                kind, content = msg["header"]["msg_type"], msg["content"]
                if kind == "execute_reply":
                    assert content["status"] == "ok", f"{content.get('ename')}: {content.get('evalue')}"
                    replied = True
                elif kind == "status" and content["execution_state"] == "idle":
                    idle = True
                elif kind == "error":
                    pytest.fail(f"the chapter raised on the grubook kernel: {content['ename']}: {content['evalue']}")
                elif kind == "display_data" and "scrapbook" in content.get("metadata", {}):
                    value = content["data"].get("application/papermill.record/text/plain")
                    glued[content["metadata"]["scrapbook"]["name"]] = value
    finally:
        ws.close()
        api(lab, f"/api/sessions/{session['id']}", "DELETE")

    source = (ROOT / CHAPTER).read_text()
    shown = re.findall(r"\{glue:text\}`([^`:]+)`", source)
    assert shown and set(shown) <= set(glued), sorted(set(shown) - set(glued))
    page = (built_book / "book" / "claims.html").read_text()
    text = re.sub(r"<[^>]+>", " ", page)
    for name in shown:
        value = glued[name].strip("'\"")
        assert re.search(rf"(?<![\w.]){re.escape(value)}(?![\w])", text), \
            f"glued {name} = {value!r} when run through JupyterLab, not found on the built page"
