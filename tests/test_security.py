"""Nothing a stranger can reach: the local cluster speaks TLS with a certificate of its own, a worker
binds to the interface that reaches its scheduler, bad addresses fail in seconds with one line, the
committed folder takes only full default runs, and every file a page shows is sealed and checked."""

import asyncio
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grubook.jobs import cluster
from grubook.results.files import RESULTS_DIR, ResultsError, read

ROOT = Path(__file__).resolve().parents[1]


def grubook(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "grubook", *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=ROOT)


def one_line(proc, pattern, code=2):
    import re

    assert proc.returncode == code, (proc.returncode, proc.stdout[-1000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and re.search(pattern, lines[0]), lines


def stranger_connects(address: str) -> bool:
    """Whether another process of this machine, without the run's credentials, gets a working client."""
    code = ("import sys\nfrom distributed import Client\ntry:\n"
            f"    c = Client({address!r}, timeout='5s', set_as_default=False)\n"
            "    print('connected', c.submit(sum, [1, 2]).result(timeout=10))\n"
            "except Exception as err:\n    print('refused', type(err).__name__)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.stdout.startswith(("connected", "refused")), proc.stderr[-2000:]
    return proc.stdout.startswith("connected")


@pytest.mark.slow
def test_a_client_without_the_runs_certificate_cannot_connect_to_the_local_cluster(tmp_path):
    from distributed import Client

    saved = {k: v for k, v in os.environ.items() if k.startswith("DASK_DISTRIBUTED__COMM")}
    with cluster.local_cluster(1, folder=tmp_path) as address:
        assert address.startswith("tls://127.0.0.1:")
        for plain in (address, address.replace("tls://", "tcp://")):   # no certificate, or no TLS at all
            assert not stranger_connects(plain)
        with Client(address, timeout="20s", set_as_default=False) as client:     # the run's own clients
            assert client.submit(sum, [1, 2]).result() == 3
        credentials = {k: v for k, v in os.environ.items() if k.startswith("DASK_DISTRIBUTED__COMM__TLS")}
        assert len(credentials) == 3
        assert all(Path(p).stat().st_mode & 0o077 == 0 for p in credentials.values())
    assert {k: v for k, v in os.environ.items() if k.startswith("DASK_DISTRIBUTED__COMM")} == saved


def test_worker_command_binds_to_the_interface_that_reaches_the_scheduler(monkeypatch, tmp_path):
    monkeypatch.setattr(cluster, "probe_scheduler", lambda address, timeout=10, security=None: "")
    command = cluster.worker_command("tls://127.0.0.1:8786", [])
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--dashboard-address") + 1] == "127.0.0.1:0"
    assert "--death-timeout" in command and command[-1] == "tls://127.0.0.1:8786"
    tls = []
    for option, name in (("--tls-ca-file", "ca.pem"), ("--tls-cert", "node.pem"), ("--tls-key", "node.key")):
        (tmp_path / name).write_text("")
        tls += [option, str(tmp_path / name)]
    given = cluster.worker_command("tls://127.0.0.1:8786", ["--host", "10.0.0.6", *tls])
    assert given.count("--host") == 1 and "10.0.0.6" in given and str(tmp_path / "ca.pem") in given
    with pytest.raises(cluster.SchedulerError, match="TLS needs --tls-ca-file, --tls-cert, --tls-key together"):
        cluster.worker_command("tls://127.0.0.1:8786", tls[:2])


@pytest.mark.slow
def test_grubook_worker_listens_only_on_loopback_for_a_loopback_scheduler(tmp_path):
    import psutil

    scheduler = subprocess.Popen([str(Path(sys.executable).parent / "dask"), "scheduler", "--host", "127.0.0.1",
                                  "--port", "0", "--no-dashboard", "--scheduler-file", str(tmp_path / "s.json")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.time() + 60
        while not (tmp_path / "s.json").exists() and time.time() < deadline:
            time.sleep(0.2)
        address = json.loads((tmp_path / "s.json").read_text())["address"]
        worker = subprocess.Popen([sys.executable, "-m", "grubook", "worker", address, "--nworkers", "1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        listening = []
        deadline = time.time() + 90
        while time.time() < deadline and len(listening) < 2:
            time.sleep(1)
            procs = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
            listening = [c.laddr for p in procs for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        assert len(listening) >= 2, listening                 # the comm port and the HTTP port
        assert all(addr.ip == "127.0.0.1" for addr in listening), listening
    finally:
        for p in (worker, scheduler):
            if p is not None:
                p.terminate()
                p.wait(30)


@pytest.fixture
def http_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address,pattern", [
    ("not-an-address", r"is not of the form tls://HOST:PORT"),
    ("http://127.0.0.1:80", r"the protocol must be tls:// \(or tcp://\)"),
    ("tcp://no-such-host.invalid:8786", r"cannot resolve host"),
    ("closed", r"cannot reach a Dask scheduler at tcp://127.0.0.1:\d+"),
    ("http", r"(no Dask scheduler answered|did not answer as a Dask scheduler)"),
], ids=["garbage", "protocol", "unknown-host", "closed-port", "not-dask"])
def test_a_bad_scheduler_fails_with_one_line_before_any_kernel(tmp_path, http_server, address, pattern):
    from grubook.execution.notebooks import LOGS_DIR, RUNS_DIR

    address = {"closed": f"tcp://127.0.0.1:{free_port()}", "http": f"tcp://127.0.0.1:{http_server}"}.get(address, address)
    before = set(LOGS_DIR.glob("run-*")) | set(RUNS_DIR.glob("run-*"))
    proc = grubook("reproduce", "counting", "--quick", "--scheduler", address, "--results-dir", str(tmp_path))
    one_line(proc, pattern)
    started = (set(LOGS_DIR.glob("run-*")) | set(RUNS_DIR.glob("run-*"))) - before
    assert not started, f"a run began before the scheduler was checked: {started}"   # so no kernel either
    worker = grubook("worker", address)
    one_line(worker, pattern)


def test_too_many_workers_are_refused_with_the_machines_bound(tmp_path):
    proc = grubook("reproduce", "counting", "--quick", "--workers", "10000", "--results-dir", str(tmp_path))
    one_line(proc, rf"--workers must be an integer from 1 to {cluster.max_workers()} on this machine")


@pytest.mark.parametrize("args", [["--quick"], ["--set", "steps=5"]], ids=["quick", "custom"])
def test_the_committed_folder_takes_only_full_default_runs_even_through_a_symlink(tmp_path, args):
    link = tmp_path / "link"
    link.symlink_to(RESULTS_DIR)
    for target in (RESULTS_DIR, link, RESULTS_DIR / "sub"):
        proc = grubook("reproduce", "counting", *args, "--results-dir", str(target))
        one_line(proc, r"is the committed results folder .* takes only full runs with every default parameter")


@pytest.mark.parametrize("combination,pattern", [
    ("seed_example:cells=['LSTM']", r"'cells' must be a list that includes 'GRU'"),
    ("overfitting:regimes=['dropout']", r"'regimes' must be a list that includes 'none'"),
    ("seq2seq:test_max_len=3", r"'test_max_len' must be at least train_max_len \(8\)"),
], ids=["seed_example", "overfitting", "seq2seq"])
def test_combinations_a_notebook_cannot_use_fail_before_any_work(tmp_path, combination, pattern):
    name, setting = combination.split(":")
    one_line(grubook("reproduce", name, "--set", setting, "--results-dir", str(tmp_path)), pattern)


def test_the_results_folder_holds_only_sealed_results():
    """The experiment pages are drawn from the sealed JSON at build time: no executed notebook, or any
    other unsealed file a page could show, lives beside them."""
    shown = sorted(p.name for p in RESULTS_DIR.iterdir() if p.suffix != ".json")
    assert shown == [], shown


@pytest.mark.parametrize("damage,pattern", [
    (lambda text: text.replace('{\n "experiment"', '{\n "experiment": "x",\n "experiment"', 1), r"repeats the key 'experiment'"),
    (lambda text: text[:-2] + ',\n "extra": 1\n}\n', r"unknown field 'extra'"),
], ids=["duplicate-key", "extra-field"])
def test_unsealed_content_is_refused(tmp_path, damage, pattern):
    import re

    from grubook.results.files import load

    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "counting.json").write_text(damage((RESULTS_DIR / "counting.json").read_text()))
    with pytest.raises(ResultsError, match=pattern):
        load("counting", folder)


def test_a_symbolic_link_loop_is_reported_as_such(tmp_path):
    from grubook.execution.freshness import status

    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "counting.json").symlink_to(folder / "counting.json")
    row = next(r for r in status(folder) if r["experiment"] == "counting")
    assert row["status"] == "corrupt" and "leads nowhere" in row["detail"][0]


def test_make_book_refuses_results_that_are_not_fresh_with_one_line(tmp_path):
    folder = tmp_path / "results"
    shutil.copytree(RESULTS_DIR, folder)
    (folder / "chrono.json").write_text((folder / "chrono.json").read_text().replace('"seeds": [', '"seeds": [99, ', 1))
    proc = grubook("status", "--book", "--results-dir", str(folder))
    one_line(proc, r"the book cannot be built: .*chrono.json is (edited|corrupt) .*restore it with `git checkout")
    proc = subprocess.run(["make", "book"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=os.environ | {"GRUBOOK_BOOK_RESULTS": str(folder)})
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "chrono.json is" in errors[0], proc.stderr[-2000:]


def test_make_pdf_without_tex_says_which_packages_and_removes_the_stale_pdf(tmp_path):
    stale = ROOT / "_build" / "html" / "grubook.pdf"
    stale.parent.mkdir(parents=True, exist_ok=True)
    existed = stale.read_bytes() if stale.exists() else None
    stale.write_bytes(b"%PDF stale")
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("bash", "sh", "env", "python3", "make", "rm", "mkdir", "cp", "dirname", "command"):
        found = shutil.which(tool)
        if found:
            (bare / tool).symlink_to(found)
    try:
        proc = subprocess.run(["make", "pdf"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                              env=os.environ | {"PATH": str(bare)})
        assert proc.returncode != 0
        assert "jupyter-book" not in proc.stdout + proc.stderr, "the build started before TeX was checked"
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "latexmk" in errors[0] and "texlive-xetex" in errors[0], proc.stderr
        assert not stale.exists()
    finally:
        if existed is not None:
            stale.write_bytes(existed)


def _certificates(folder: Path) -> dict:
    """A certificate authority and one certificate it signed, as a user would make them with openssl
    (README), written as PEM files: {"ca": ..., "cert": ..., "key": ...}."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, node_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "grubook-test-ca")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    node = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "grubook")]))
            .issuer_name(ca_name).public_key(node_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .sign(ca_key, hashes.SHA256()))
    paths = {"ca": folder / "ca.pem", "cert": folder / "node.pem", "key": folder / "node.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(node.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(node_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    return {k: str(v) for k, v in paths.items()}


@pytest.mark.slow
def test_a_cluster_you_start_with_your_own_certificates_runs_jobs_and_refuses_strangers(tmp_path):
    """The commands of the README and the reproducibility page: a TLS scheduler, `grubook worker`
    with the same certificate, and a client configured through Dask's own TLS settings."""
    from distributed import Client
    from distributed.security import Security

    certs = _certificates(tmp_path)
    tls = ["--tls-ca-file", certs["ca"], "--tls-cert", certs["cert"], "--tls-key", certs["key"]]
    address = f"tls://127.0.0.1:{free_port()}"
    scheduler = subprocess.Popen([str(Path(sys.executable).parent / "dask"), "scheduler", "--host", address,
                                  "--no-dashboard", *tls], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        time.sleep(3)
        worker = subprocess.Popen([sys.executable, "-m", "grubook", "worker", address, "--nworkers", "1", *tls],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        security = Security(tls_ca_file=certs["ca"], tls_client_cert=certs["cert"], tls_client_key=certs["key"],
                            require_encryption=True)
        with Client(address, security=security, timeout="30s", set_as_default=False) as client:
            client.wait_for_workers(1, timeout=90)
            assert client.submit(sum, [1, 2, 3]).result(timeout=60) == 6
        assert not stranger_connects(address)                    # no certificate: refused
        assert not stranger_connects(address.replace("tls://", "tcp://"))   # not TLS at all: refused
    finally:
        for p in (worker, scheduler):
            if p is not None:
                p.terminate()
                p.wait(30)


def test_a_full_disk_is_said_plainly_with_the_file():
    """A write the kernel refuses with ENOSPC (as /dev/full does every write) reads as a full disk
    and names the file, where Python alone says only "[Errno 28]"."""
    from grubook.execution.notebooks import _disk_message

    with pytest.raises(OSError) as info:
        with open("/dev/full", "w") as f:
            f.write("{}")
    target = Path("results/seed_example.json")
    assert _disk_message(info.value, target) in (f"the disk is full: cannot write {target}",
                                                 "the disk is full: cannot write /dev/full")
