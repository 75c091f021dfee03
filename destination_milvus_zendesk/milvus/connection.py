"""Opening a Milvus client for a config: a server (reachability and TLS probed first, so a wrong
host or certificate is named in seconds) or a Milvus Lite file (its folder checked, its lock holder
named), the client loggers quieted, the Lite file released on the last close, and the session
timestamps pymilvus keeps for this client's writes."""

from __future__ import annotations

import logging
import os
import socket
import ssl
from typing import Any
from urllib.parse import urlparse

from pymilvus import MilvusClient, MilvusException
from pymilvus import __version__ as pymilvus_version

from ..config import IndexingConfig, NoAuth, TokenAuth, UsernamePasswordAuth
from ..errors import ConfigError
from .errors import first_line

logger = logging.getLogger("airbyte")

DATABASE_NOT_FOUND = 800  # Milvus error code
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "host.docker.internal"}


class MilvusConnection:
    """One client for one config: `connect` opens it, `connected` hands it out, `close` releases it."""

    def __init__(self, cfg: IndexingConfig) -> None:
        self.cfg = cfg
        self.client: MilvusClient | None = None
        self._lite_open = False

    @property
    def lite_missing(self) -> bool:
        """A Milvus Lite path with nothing there yet (opening it would create an empty database)."""
        return self.cfg.is_lite and not os.path.exists(self.cfg.host)

    def connected(self) -> MilvusClient:
        """The client; using the store before connect() is a programming error (kept under python -O)."""
        if self.client is None:
            raise RuntimeError("MilvusStore used before connect()")
        return self.client

    def connect(self, *, create: bool | None = None) -> MilvusClient:
        """`create` (Milvus Lite): may a missing file be created? Default: indexing.create_collection.
        Readers (check, the query CLI, the form) pass False: a typo in the path is an error, not a new
        empty database."""
        cfg = self.cfg
        if cfg.is_lite:
            if self.lite_missing and not (cfg.create_collection if create is None else create):
                _lite_folder(cfg.host)
                raise ConfigError(f"Milvus Lite database {cfg.host!r} does not exist: check indexing.host (a sync "
                                  "with indexing.create_collection on creates it).")
            self.client = _open_lite(cfg)
            self._lite_open = True
            return self.client
        parsed = urlparse(cfg.uri)
        if parsed.scheme not in ("http", "https", "grpc", "grpcs") or not parsed.hostname:
            raise ConfigError(f"indexing.host {cfg.host!r} is not a Milvus endpoint: use https://host:port, "
                              "http://host:19530, tcp://host:19530, or a path ending in .db for Milvus Lite.")
        port = parsed.port or (443 if parsed.scheme in ("https", "grpcs") else 19530)
        _quiet_client_loggers(lite=False)
        self.warn_plaintext(parsed.scheme, parsed.hostname)
        _probe_tcp(parsed.hostname, port, min(cfg.timeout_seconds, 10))
        try:
            self.client = MilvusClient(**_client_kwargs(cfg))
            self.client.list_collections(timeout=cfg.timeout_seconds)
        except Exception as exc:  # noqa: BLE001
            raise _session_refused(cfg, exc, parsed.scheme, parsed.hostname, port) from None
        return self.client

    def warn_plaintext(self, scheme: str, host: str) -> None:
        has_secret = not isinstance(self.cfg.auth, NoAuth)
        if has_secret and scheme in ("http", "grpc") and host not in LOCAL_HOSTS and not host.startswith("127."):
            logger.warning(f"Credentials for Milvus at {host} are sent over plain-text {scheme}: use https:// for a "
                           "remote server.")

    def write_timestamp(self, collection: str) -> int:
        """The newest (hybrid) timestamp of this client's writes to `collection`; 0 if unknown."""
        if self.client is None:
            return 0
        return SessionTimestamps.latest(self.client, collection, self.cfg.db or "")

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001 - closing must never mask the real outcome
                pass
            self.client = None
        if self._lite_open:
            self._lite_open = False
            _lite_closed(self.cfg.host)


def _quiet_client_loggers(lite: bool) -> None:
    """Silenced once a store connects (not on import), and only these, each for a reason:
    pymilvus logs every failed RPC at ERROR with a traceback on stderr, including the ones `call`
    retries or turns into a one-line error (the platform would show tracebacks for handled errors);
    Milvus Lite serves gRPC in-process, and grpc's server logs a traceback for each call Lite lacks
    (AllocTimestamp) although nothing failed. Both stay at CRITICAL for the process's lifetime."""
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    if lite:
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
        # milvus-lite's server manager logs a traceback when the file is locked; connect() names the holder
        logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)
        # faiss (loaded by Lite) reports at INFO which CPU builds it could not load ("Could not load library
        # with AVX512 support"), shown wherever pymilvus's import set the root logger to INFO; warnings stay
        logging.getLogger("faiss").setLevel(logging.WARNING)


class SessionTimestamps:
    """The one adapter over pymilvus internals: the timestamp of this client's last write to a
    collection, which pymilvus keeps for its Session consistency but exposes through no public API
    (MilvusClient's write results drop it). The writer probes stored rows at an older, already
    readable timestamp instead of a strong read (0.2-0.7 s per read on a busy 2.3 server).

    unit_tests/test_pymilvus_adapter.py fails if these internals change; in production a change
    logs one warning and readers fall back to strong reads (slower, still correct)."""

    _warned = False

    @classmethod
    def latest(cls, client: MilvusClient, collection: str, db: str) -> int:
        try:
            from pymilvus.client import ts_utils

            handler = client._get_connection()  # private: the handler's address keys pymilvus's timestamp cache
            return int(ts_utils.get_collection_ts(collection, handler.server_address, db) or 0)
        except (ImportError, AttributeError, TypeError) as exc:
            if not cls._warned:
                cls._warned = True
                logger.warning(f"pymilvus {pymilvus_version} no longer exposes its session timestamps "
                               f"({type(exc).__name__}: {exc}): stored rows are probed with strong reads.")
            return 0


# --- servers ----------------------------------------------------------------------------------


def _client_kwargs(cfg: IndexingConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"uri": cfg.uri, "timeout": cfg.timeout_seconds}
    if isinstance(cfg.auth, TokenAuth):
        kwargs["token"] = cfg.auth.token
    elif isinstance(cfg.auth, UsernamePasswordAuth):
        kwargs["user"], kwargs["password"] = cfg.auth.username, cfg.auth.password
    if cfg.db:
        kwargs["db_name"] = cfg.db
    return kwargs


def _session_refused(cfg: IndexingConfig, exc: Exception, scheme: str, host: str, port: int) -> ConfigError:
    """Why a reachable server refused the session: a missing database, TLS, or (likely) the credentials."""
    if isinstance(exc, MilvusException) and exc.code == DATABASE_NOT_FOUND:
        return ConfigError(f"Milvus database {cfg.db!r} does not exist at {cfg.uri}: create it or fix indexing.db.")
    tls_problem = _tls_problem(host, port, min(cfg.timeout_seconds, 10)) if scheme in ("https", "grpcs") else None
    if tls_problem:
        return ConfigError(tls_problem, internal=first_line(exc))
    return ConfigError(
        f"Milvus at {cfg.uri} is reachable but refused the session: check indexing.auth (token or "
        "username/password; the server reports wrong credentials as a generic connection failure) and that "
        "the endpoint is a Milvus gRPC port.", internal=first_line(exc))


def _tls_problem(host: str, port: int, timeout: float) -> str | None:
    """Why a TLS session with host:port fails, if it does. gRPC reports an unverifiable certificate as
    a generic connection failure (the reason goes to its own log only), so after a failed connect a
    handshake here names it. Verification is on, as in gRPC: chain and host name are checked."""
    roots = os.environ.get("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH")
    try:
        context = ssl.create_default_context(cafile=roots if roots and os.path.isfile(roots) else None)
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with context.wrap_socket(sock, server_hostname=host):
                return None
    except ssl.SSLCertVerificationError as exc:
        return (f"The TLS certificate of Milvus at {host}:{port} could not be verified "
                f"({exc.verify_message or exc.reason}): the connector only talks to endpoints whose certificate "
                "a trusted CA signed for that host name; check indexing.host.")
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc.strerror or type(exc).__name__
        return (f"No TLS session with Milvus at {host}:{port} ({reason}): check that the endpoint serves https, "
                "or use http:// for a plain one.")


def _probe_tcp(host: str, port: int, timeout: float) -> None:
    """pymilvus waits long and says little on an unreachable host; a socket says it in seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise ConfigError(f"Milvus endpoint {host}:{port} is unreachable ({exc.strerror or type(exc).__name__}): "
                          "check indexing.host, the port, and firewalls.") from None


# --- Milvus Lite ------------------------------------------------------------------------------


def _lite_folder(path: str) -> None:
    """The folder of a Milvus Lite file must exist (Lite would fail with a less clear message)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(f"Milvus Lite file {path!r}: folder {folder!r} does not exist.")


def _open_lite(cfg: IndexingConfig) -> MilvusClient:
    _lite_folder(cfg.host)
    _quiet_client_loggers(lite=True)
    try:
        client = MilvusClient(uri=cfg.host, timeout=cfg.timeout_seconds)
    except Exception as exc:  # noqa: BLE001 - the boundary: classify whatever Lite raises
        holder = lite_lock_holder(cfg.host)
        if holder:
            raise ConfigError(
                f"Milvus Lite database {cfg.host!r} is in use by another process ({holder}): Milvus Lite "
                "lets one process open a file at a time. Stop that process or wait for it to finish, then "
                "retry; to search while a sync writes, use a Milvus server (see the README).",
                internal=first_line(exc)) from None
        raise ConfigError(f"Could not open Milvus Lite database {cfg.host!r}: {first_line(exc)}") from None
    _lite_opened(cfg.host)
    return client


# Milvus Lite files opened by this process: path -> open stores. The last close stops the file's
# in-process server, which releases its lock (pymilvus keeps it until the process exits otherwise).
_LITE_OPEN: dict[str, int] = {}


def _lite_opened(path: str) -> None:
    key = os.path.abspath(path)
    _LITE_OPEN[key] = _LITE_OPEN.get(key, 0) + 1


def _lite_closed(path: str) -> None:
    key = os.path.abspath(path)
    _LITE_OPEN[key] = _LITE_OPEN.get(key, 1) - 1
    if _LITE_OPEN[key] <= 0:
        del _LITE_OPEN[key]
        try:
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(path)
        except Exception:  # noqa: BLE001 - older milvus-lite: the lock is released at exit
            pass


def lite_lock_holder(path: str) -> str | None:
    """Who holds the lock of a Milvus Lite database (`pid N: command line`), if another process does."""
    lock = os.path.join(path, "LOCK") if os.path.isdir(path) else path
    try:
        inode = os.stat(lock).st_ino
    except OSError:
        return None
    if not _lock_taken(lock):
        return None
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].rsplit(":", 1)[-1] == str(inode):
                    return _lock_process(parts[4])
    except OSError:
        pass
    return "a process whose id is not visible here"


def _lock_taken(lock: str) -> bool:
    """Is the file lock held? A free lock is taken and released at once; False if it cannot be tried."""
    try:
        import fcntl

        with open(lock, "rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                return False
            except OSError:
                return True
    except (ImportError, OSError):
        return False


def _lock_process(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmd:
            command = " ".join(cmd.read().replace(b"\0", b" ").decode(errors="replace").split())
    except OSError:
        command = ""
    if pid == str(os.getpid()):
        return f"pid {pid}, this process, through another open connection"
    return f"pid {pid}: {command[:160]}" if command else f"pid {pid}"
