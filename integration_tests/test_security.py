"""Security: nothing leaks, nothing is injected, TLS is verified, nothing hangs.

* No secret (OpenAI key, Milvus token/password, also the wrong ones given on purpose) appears in
  stdout, stderr (the TRACE messages with their stack traces included) or files the connector
  writes, across deliberate failures: wrong Milvus password/token, 401 from the provider, a provider
  that keeps failing.
* The query module's filters cannot be injected: organization ids and statuses are validated, stream
  names and text with quotes are escaped.
* https endpoints are used with certificate verification: against a local TLS server with a
  self-signed certificate, `check` fails naming the certificate, and no byte of the session (so no
  credential) reaches it; the package contains nothing that turns verification off.
* Credentials for a non-local plain-text endpoint trigger a warning (unit-tested: no traffic leaves
  this machine).
* `check` and `write` end within a bounded time against a black-holed host (a local TCP server that
  accepts and never answers) and a closed port, for Milvus and for the embedding endpoint.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest

from destination_milvus_zendesk.config import IndexingConfig, NoAuth, TokenAuth, UsernamePasswordAuth, parse_config
from destination_milvus_zendesk.embedding.local import FakeEmbedder
from destination_milvus_zendesk.milvus import MilvusStore
from destination_milvus_zendesk.support.inputs import QueryInputError
from destination_milvus_zendesk.support.calibration import run_calibration
from destination_milvus_zendesk.support.search import SupportSearch

from .helpers import REPO, TEST_OPENAI_KEY, Backend, make_config, record, run_connector, state
from .reliability import figure, scan_secrets

SECTION = "security"
WRONG_PASSWORD = "Wrong-PW-SECRET-83b1f0"
WRONG_TOKEN = "root:Wrong-TOKEN-SECRET-19ac"
WRONG_KEY = "sk-wrong-SECRET-77aa01bb22cc"


def status(run):
    [message] = run.of_type("CONNECTION_STATUS")
    return message["connectionStatus"]


def scan(run, tmp_path: Path) -> None:
    """stdout (TRACE messages with stack traces included), stderr, and any file left in the working dir."""
    texts = [run.stdout, run.stderr]
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.name.startswith(("config-", "catalog-")) and path.stat().st_size < 5_000_000:
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    scan_secrets(SECTION, *texts, extra=[WRONG_PASSWORD, WRONG_TOKEN, WRONG_KEY])
    assert not re.search(r'"token":\s*"[^"*]', run.stdout), "a token value in the output"


# --- secrets --------------------------------------------------------------------------------------


@pytest.mark.server
def test_no_secret_leaks_when_credentials_are_wrong(milvus_server, server_token, openai_stub, collection_name,
                                                    tmp_path):
    server = Backend("server", milvus_server.uri, {"mode": "token", "token": server_token}, server_token)
    lite = Backend("lite", str(tmp_path / "lite.db"), {"mode": "no_auth"}, None)
    runs = []
    wrong_password = Backend("server", milvus_server.uri, {"mode": "username_password", "username": "dmz_tester",
                                                           "password": WRONG_PASSWORD}, None)
    runs.append(("check", run_connector("check", tmp_path, make_config(wrong_password, collection_name))))
    wrong_token = Backend("server", milvus_server.uri, {"mode": "token", "token": WRONG_TOKEN}, None)
    messages = [record("tickets", {"id": 1, "subject": "s", "description": "d"}), state("tickets", 1)]
    from .helpers import catalog

    runs.append(("write", run_connector("write", tmp_path, make_config(wrong_token, collection_name, create=True),
                                        catalog(), messages)))
    bad_key = make_config(lite, collection_name, openai=openai_stub, create=True)
    bad_key["embedding"]["api_key"] = WRONG_KEY
    runs.append(("check", run_connector("check", tmp_path, bad_key)))
    runs.append(("write", run_connector("write", tmp_path, bad_key, catalog(), messages)))
    openai_stub.inject({"kind": "status", "status": 500, "repeat": 10})
    failing = make_config(server, collection_name, openai=openai_stub, create=True, embedding_max_retries=1)
    runs.append(("write", run_connector("write", tmp_path, failing, catalog(), messages)))
    for command, run in runs:
        scan(run, tmp_path)
        if command == "check":
            assert status(run)["status"] == "FAILED"
        else:
            assert run.returncode != 0 and run.errors
    assert "check indexing.auth" in status(runs[0][1])["message"]
    assert runs[1][1].errors[0]["failure_type"] == "config_error"
    assert "rejected the API key (401)" in status(runs[2][1])["message"]
    assert runs[3][1].errors[0]["failure_type"] == "config_error"
    assert runs[4][1].errors[0]["failure_type"] == "transient_error"
    figure(SECTION, deliberate_failures_scanned=len(runs))


# --- filter injection -------------------------------------------------------------------------------


INJECTIONS = ["1 or 1 == 1", "1) or (1 == 1", "1 || true", "0 or organization_id > 0", "1; drop", "1.0", "0x10",
              "1e3", "", " ", "- 1", "1 2", '1" or "1" == "1', "１ or １", 1.5, True, False, None, [1], {"id": 1},
              float("nan")]
BAD_STATUSES = [['new" or "a" == "a'], ["new') or ('1"], [], ["deleted"], ["new", "open || true"], [""]]


def test_query_filters_cannot_be_injected(tmp_path):
    backend = Backend("lite", str(tmp_path / "query.db"), {"mode": "no_auth"}, None)
    config = make_config(backend, "support", create=True)
    text = "SSO login keeps looping back to the sign-in page"
    tickets = [record("tickets", {"id": i, "subject": "Login loop", "description": text, "status": "new",
                                  "organization_id": 1 + i % 2}) for i in range(1, 7)]
    tickets.append(record("tickets", {"id": 99, "subject": 'Quote "loop" \\ it\'s', "description": text + ' "" \'',
                                      "status": "new", "organization_id": 7}))
    from .helpers import catalog

    assert run_connector("write", tmp_path, config, catalog(), tickets + [state("tickets", 1)]).returncode == 0
    store = _store(config)
    store.describe()
    run_calibration(parse_config(config), store, FakeEmbedder())  # verdicts need the model's rule
    search = SupportSearch(store, FakeEmbedder())
    try:
        vector = search.embed(text)
        hits = search.similar_open_tickets(vector, 1, limit=10)
        assert hits and {h.id for h in hits} == {2, 4, 6}
        assert [h.id for h in search.similar_open_tickets(vector, "7", limit=10)] == [99]
        refused = 0
        for value in INJECTIONS:
            with pytest.raises(QueryInputError):
                search.similar_open_tickets(vector, value, limit=10)
            refused += 1
        for statuses in BAD_STATUSES:
            with pytest.raises(QueryInputError):
                search.similar_open_tickets(vector, 1, statuses, limit=10)
            refused += 1
        assert {h.id for h in search.similar_open_tickets(vector, 1, [" NEW "], limit=10)} == {2, 4, 6}
        # stream names and free text reach Milvus only as escaped literals / vectors
        sneaky = SupportSearch(search.store, FakeEmbedder(),
                               tickets_stream='tickets" or _ab_stream != "', articles_stream="x' or '1' == '1")
        assert sneaky.similar_open_tickets(vector, 1, limit=10) == []
        assert sneaky.relevant_articles(vector, limit=10) == []
        answer = search.lookup('he said "it\'s \\ broken" or 1 == 1 --', 7)
        assert all(t.id == 99 for t in answer.tickets) and (answer.tickets or answer.organization_has_tickets)
    finally:
        search.store.close()
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(backend.host)
    figure(SECTION, injection_attempts_refused=refused + 2)


def _store(config: dict) -> MilvusStore:
    store = MilvusStore(parse_config(config).indexing)
    store.connect()
    return store


# --- TLS ------------------------------------------------------------------------------------------


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class TLSServer:
    """127.0.0.1 only: completes TLS handshakes with a self-signed certificate and records what came."""

    def __init__(self, tmp_path: Path) -> None:
        cert, key = _self_signed(tmp_path)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.context.set_alpn_protocols(["h2", "http/1.1"])
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handshakes_failed: list[str] = []
        self.sessions = 0
        self.bytes_received = 0
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                self.sessions += 1
                data = tls.recv(65536)
                self.bytes_received += len(data)
        except (ssl.SSLError, OSError) as exc:
            self.handshakes_failed.append(str(getattr(exc, "reason", exc)))

    def close(self) -> None:
        self._stop = True
        self.sock.close()


@pytest.fixture
def tls_server(tmp_path):
    server = TLSServer(tmp_path)
    yield server
    server.close()


def test_https_milvus_endpoint_with_an_untrusted_certificate_is_refused(tls_server, tmp_path, collection_name):
    backend = Backend("server", f"https://127.0.0.1:{tls_server.port}", {"mode": "token", "token": WRONG_TOKEN}, None)
    config = make_config(backend, collection_name, indexing={"timeout_seconds": 4})
    started = time.monotonic()
    run = run_connector("check", tmp_path, config)
    elapsed = time.monotonic() - started
    scan(run, tmp_path)
    message = status(run)["message"]
    assert status(run)["status"] == "FAILED"
    assert "TLS certificate" in message and "could not be verified" in message, message
    assert tls_server.handshakes_failed and tls_server.sessions == 0 and tls_server.bytes_received == 0, (
        "the connector completed a TLS session with an untrusted certificate")
    assert elapsed < 60
    figure(SECTION, tls_untrusted_refused=1)


def test_https_embedding_endpoint_with_an_untrusted_certificate_is_refused(tls_server, tmp_path, collection_name):
    backend = Backend("lite", str(tmp_path / "tls.db"), {"mode": "no_auth"}, None)
    config = make_config(backend, collection_name, create=True, embedding={
        "mode": "openai_compatible", "api_key": TEST_OPENAI_KEY, "base_url": f"https://127.0.0.1:{tls_server.port}/v1",
        "model_name": "text-embedding-ada-002", "dimensions": 1536})
    run = run_connector("check", tmp_path, config)
    scan(run, tmp_path)
    message = status(run)["message"]
    assert status(run)["status"] == "FAILED" and "TLS certificate" in message, message
    assert tls_server.handshakes_failed and tls_server.sessions == 0 and tls_server.bytes_received == 0
    figure(SECTION, tls_untrusted_refused=1)


def test_the_package_never_turns_certificate_verification_off():
    forbidden = re.compile(r"CERT_NONE|check_hostname\s*=\s*False|_create_unverified_context|verify\s*=\s*False|"
                           r"secure\s*=\s*False|PYTHONHTTPSVERIFY|CURL_CA_BUNDLE|server_pem_path|insecure", re.I)
    hits = [f"{path.relative_to(REPO)}:{n}" for path in (REPO / "destination_milvus_zendesk").rglob("*.py")
            for n, line in enumerate(path.read_text().splitlines(), 1) if forbidden.search(line)]
    assert not hits, hits


# --- plain text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme,host,auth,warned", [
    ("http", "milvus.example.com", TokenAuth(token="tok-SECRET-1"), True),
    ("grpc", "10.0.0.5", UsernamePasswordAuth(username="u", password="pw-SECRET-2"), True),
    ("https", "milvus.example.com", TokenAuth(token="tok-SECRET-1"), False),
    ("grpcs", "milvus.example.com", TokenAuth(token="tok-SECRET-1"), False),
    ("http", "localhost", TokenAuth(token="tok-SECRET-1"), False),
    ("http", "127.0.0.1", TokenAuth(token="tok-SECRET-1"), False),
    ("http", "127.8.9.10", TokenAuth(token="tok-SECRET-1"), False),
    ("http", "::1", TokenAuth(token="tok-SECRET-1"), False),
    ("http", "milvus.example.com", NoAuth(), False),
])
def test_credentials_over_plain_text_to_a_remote_host_are_warned(caplog, scheme, host, auth, warned):
    store = MilvusStore(IndexingConfig(host=f"{scheme}://{host}:19530", collection="c", auth=auth))
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        store.connection.warn_plaintext(scheme, host)
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert bool(messages) == warned, messages
    if warned:
        assert host in messages[0] and "plain-text" in messages[0] and "https://" in messages[0]
    assert not any("SECRET" in m for m in messages)
    figure(SECTION, plaintext_cases_checked=1)


# --- bounded time -------------------------------------------------------------------------------


class BlackHole:
    """A local TCP server that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            with contextlib.suppress(OSError):
                self.conns.append(self.sock.accept()[0])

    def close(self) -> None:
        self._stop = True
        for conn in self.conns:
            conn.close()
        self.sock.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


@pytest.fixture
def black_hole():
    hole = BlackHole()
    yield hole
    hole.close()


@pytest.mark.parametrize("target", ["black-holed Milvus", "closed Milvus port", "black-holed embedding endpoint"])
def test_check_and_write_end_in_bounded_time(target, black_hole, tmp_path, collection_name):
    timeout = 2
    if target == "black-holed embedding endpoint":
        backend = Backend("lite", str(tmp_path / "bounded.db"), {"mode": "no_auth"}, None)
        embedding = {"mode": "openai_compatible", "api_key": TEST_OPENAI_KEY, "dimensions": 1536,
                     "base_url": f"http://127.0.0.1:{black_hole.port}/v1"}
        config = make_config(backend, collection_name, create=True, embedding=embedding,
                             embedding_timeout_seconds=timeout, embedding_max_retries=1)
        bound = 40  # start-up, two timed-out attempts and a backoff per command
    else:
        port = black_hole.port if target.startswith("black") else closed_port()
        backend = Backend("server", f"http://127.0.0.1:{port}", {"mode": "token", "token": WRONG_TOKEN}, None)
        config = make_config(backend, collection_name, create=True, indexing={"timeout_seconds": timeout})
        bound = 40
    from .helpers import catalog

    started = time.monotonic()
    check = run_connector("check", tmp_path, config, timeout=120)
    check_s = time.monotonic() - started
    started = time.monotonic()
    write = run_connector("write", tmp_path, config, catalog(), [record("tickets", {"id": 1, "subject": "s"}),
                                                                 state("tickets", 1)], timeout=120)
    write_s = time.monotonic() - started
    for run in (check, write):
        scan(run, tmp_path)
    assert status(check)["status"] == "FAILED"
    assert write.returncode != 0 and write.errors and not write.states
    assert check_s < bound and write_s < bound, (check_s, write_s)
    message = status(check)["message"] + " | " + write.errors[0]["message"]
    expected = {"black-holed Milvus": "refused the session", "closed Milvus port": "unreachable",
                "black-holed embedding endpoint": "timed out"}[target]
    assert message.count(expected) == 2, message
    figure(SECTION, hang_cases_bounded=2)
    figure(f"{SECTION} seconds", **{f"{target.replace(' ', '_')}_check": round(check_s),
                                    f"{target.replace(' ', '_')}_write": round(write_s)})
