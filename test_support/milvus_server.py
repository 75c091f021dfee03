"""Start/stop a REAL Milvus 2.3.5 standalone server (PyPI wheel ``milvus==2.3.5``) for tests.

The wheel ships ``milvus-server`` (a Python launcher) which unpacks the Go binary into
``<data_dir>/bin`` and runs ``<data_dir>/bin/milvus run standalone`` as its child. Facts
this module is built around (all verified on this machine):

* gRPC on ``127.0.0.1:<port>`` (default 19530) plus embedded etcd on 127.0.0.1:2379 (client)
  and 127.0.0.1:2380 (peer, NOT configurable) -> only ONE server per machine at a time.
* The launcher does not forward SIGTERM: killing only the launcher orphans the Go child, and
  the launcher never exits by itself when the child dies.  ``stop()`` therefore signals the
  child ``milvus run standalone`` (SIGTERM, then SIGKILL after a grace period), then the
  launcher, then the whole process group, and waits until 19530/2379/2380 are free.
* The Go child writes/locks ``/run/milvus/standalone.pid``; a stale file left by a SIGKILL is
  removed before the next start.
* If a port is busy the launcher silently picks the NEXT free one, and its probe bind() lacks
  SO_REUSEADDR, so TIME_WAIT sockets left by the previous server moved etcd to 2380 and gRPC to
  19531.  We run the launcher with a SO_REUSEADDR probe (``_LAUNCHER_CODE``), refuse to spawn
  while 19530/2379/2380 are LISTENed on, and fail fast if milvus.yaml got other ports.
* SIGTERM to the Go child is quick when idle but hangs (>10 s) once collections are loaded;
  ``stop()`` SIGKILLs after ``grace`` (3 s).

Ownership: every data dir we start a server in gets a marker (``.dmz-milvus-server.json``) with
the owner pid.  ``start()`` reuses a healthy server that enforces auth (a foreign one, a CLI
daemon, or one owned by another live process; ``stop()`` then leaves it), waits for one that a
live process is still starting, and kills+replaces only orphans (marker owner dead) and
unresponsive CLI daemons.  Foreign processes are never killed (``stop --force`` does).
* ``--authorization-enabled`` is parsed with ``bool(str)`` by the launcher, i.e. ANY value
  (even "false") enables auth; we only pass it when ``auth=True``.
* With auth the login is ``root:Milvus``.  A wrong password fails in ~10 ms with
  ``MilvusException(code=2, "Fail connecting to server on 127.0.0.1:19530, illegal connection
  params or server unavailable")``; its ``__cause__`` is a grpc error with
  ``StatusCode.UNAUTHENTICATED`` / "auth check failure, please check username and password are
  correct" (see :func:`describe_connection_error`).

Python API::

    from test_support.milvus_server import MilvusServer
    with MilvusServer() as srv:          # temp data dir, auth on, port 19530
        client = srv.client()            # MilvusClient(uri=srv.uri, token=srv.token)

CLI::

    python -m test_support.milvus_server start --data /tmp/milvus-data   # returns once ready
    python -m test_support.milvus_server status
    python -m test_support.milvus_server stop                            # [--force: kill any milvus]

pytest (in ``integration_tests/conftest.py``)::

    import pytest
    from test_support.milvus_server import milvus_server_fixture
    milvus_server = pytest.fixture(scope="session")(milvus_server_fixture)

    # tests:  def test_x(milvus_server): MilvusClient(uri=milvus_server.uri, token=milvus_server.token)

Environment knobs honoured by :func:`milvus_server_fixture`:

* ``DMZ_MILVUS_URI`` / ``DMZ_MILVUS_TOKEN``: use that external server, start nothing.
* ``DMZ_MILVUS_SERVER=skip``: ``pytest.skip`` every test needing the server.
* ``DMZ_MILVUS_START_TIMEOUT``: seconds (default 120).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Dict, Iterable, Iterator, List, Optional

DEFAULT_PORT = 19530
ETCD_PORTS = (2379, 2380)
ROOT_TOKEN = "root:Milvus"
MARKER_NAME = ".dmz-milvus-server.json"  # written into every data dir we start a server in
TEMP_PREFIX = "dmz-milvus-"
MILVUS_PID_FILE = "/run/milvus/standalone.pid"
DEFAULT_STATE_FILE = os.path.join(tempfile.gettempdir(), "dmz-milvus-server.json")
LAUNCHER_LOG = "launcher.log"


class MilvusServerError(RuntimeError):
    """Raised when the server cannot be started (message includes the log tail)."""


# --------------------------------------------------------------------------- /proc helpers
def _read(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _cmdline(pid: int) -> List[str]:
    raw = _read(f"/proc/{pid}/cmdline")
    return [p for p in raw.split("\x00") if p]


def _stat(pid: int) -> Optional[List[str]]:
    """Fields of /proc/PID/stat after the comm field: [state, ppid, pgrp, ...]."""
    raw = _read(f"/proc/{pid}/stat")
    if not raw:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def pid_alive(pid: Optional[int]) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    if not pid or pid <= 0:
        return False
    st = _stat(pid)
    if st is None:
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    return st[0] not in ("Z", "X")


def _all_pids() -> Iterator[int]:
    for name in os.listdir("/proc"):
        if name.isdigit():
            yield int(name)


def _is_launcher(cmd: List[str]) -> bool:
    return any(os.path.basename(a) == "milvus-server" for a in cmd[:2]) or (
        len(cmd) > 2 and cmd[1] == "-c" and "dmz-milvus-launcher" in cmd[2]
    )


def _is_standalone(cmd: List[str]) -> bool:
    return len(cmd) >= 3 and os.path.basename(cmd[0]) == "milvus" and cmd[1:3] == ["run", "standalone"]


def _data_dir_of(pid: int, cmd: List[str]) -> Optional[str]:
    if _is_launcher(cmd):
        if "--data" in cmd:
            i = cmd.index("--data")
            if i + 1 < len(cmd):
                return os.path.abspath(cmd[i + 1])
        return None
    if _is_standalone(cmd):
        # <data_dir>/bin/milvus run standalone ; cwd is <data_dir> as well
        return os.path.dirname(os.path.dirname(os.path.abspath(cmd[0])))
    return None


def milvus_processes() -> List[Dict]:
    """Every live milvus-server launcher / ``milvus run standalone`` process on the machine."""
    out = []
    for pid in _all_pids():
        cmd = _cmdline(pid)
        if not cmd or not (_is_launcher(cmd) or _is_standalone(cmd)):
            continue
        if not pid_alive(pid):
            continue
        data_dir = _data_dir_of(pid, cmd)
        st = _stat(pid) or ["?", "0", "0"]
        out.append(
            {
                "pid": pid,
                "ppid": int(st[1]),
                "pgid": int(st[2]),
                "kind": "launcher" if _is_launcher(cmd) else "standalone",
                "cmdline": " ".join(cmd),
                "data_dir": data_dir,
                "ours": bool(data_dir)
                and (
                    os.path.exists(os.path.join(data_dir, MARKER_NAME))
                    or os.path.basename(data_dir).startswith(TEMP_PREFIX)
                ),
            }
        )
    return out


def _listen_inodes(port: int) -> List[str]:
    inodes = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in _read(table).splitlines()[1:]:
            parts = line.split()
            if len(parts) < 10:
                continue
            local, state = parts[1], parts[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.append(parts[9])
    return inodes


def port_in_use(port: int) -> bool:
    """True if something LISTENs on ``port`` (any address)."""
    if os.path.exists("/proc/net/tcp"):
        return bool(_listen_inodes(port))
    with socket.socket() as s:  # pragma: no cover - non-Linux fallback
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def pids_listening_on(port: int) -> List[int]:
    inodes = {f"socket:[{i}]" for i in _listen_inodes(port)}
    found = []
    if not inodes:
        return found
    for pid in _all_pids():
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        found.append(pid)
                        break
                except OSError:
                    continue
        except OSError:
            continue
    return found


def _descendants(pid: int) -> List[int]:
    children: Dict[int, List[int]] = {}
    for p in _all_pids():
        st = _stat(p)
        if st:
            children.setdefault(int(st[1]), []).append(p)
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_dead(pids: Iterable[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    pids = list(pids)
    while time.monotonic() < deadline:
        if not any(pid_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return not any(pid_alive(p) for p in pids)


def kill_milvus(pids_launcher: Iterable[int], pids_standalone: Iterable[int], grace: float = 3.0,
                pgids: Iterable[int] = ()) -> None:
    """Stop the Go child(ren) first (SIGTERM -> SIGKILL after ``grace``), then the launchers,
    then any remaining member of the given process groups.  Every kill is by PID."""
    standalone = [p for p in set(pids_standalone) if pid_alive(p)]
    for p in standalone:
        _signal(p, signal.SIGTERM)
    if standalone and not _wait_dead(standalone, grace):
        for p in standalone:
            _signal(p, signal.SIGKILL)
        _wait_dead(standalone, 5)
    launchers = [p for p in set(pids_launcher) if pid_alive(p)]
    for p in launchers:
        _signal(p, signal.SIGKILL)  # the launcher ignores nothing, but has nothing to flush either
    _wait_dead(launchers, 5)
    for g in set(pgids):
        if g <= 1 or g == os.getpgrp():
            continue
        try:
            os.killpg(g, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def remove_stale_pid_file(path: str = MILVUS_PID_FILE) -> bool:
    """Remove ``/run/milvus/standalone.pid`` if the pid in it is not a live milvus process."""
    if not os.path.exists(path):
        return False
    try:
        pid = int(_read(path).strip() or 0)
    except ValueError:
        pid = 0
    if pid and pid_alive(pid) and _is_standalone(_cmdline(pid)):
        return False
    try:
        os.remove(path)
        return True
    except OSError:
        return False


def wait_ports_free(ports: Iterable[int], timeout: float = 30.0) -> List[int]:
    """Wait until none of ``ports`` is LISTENed on; returns the ones still busy."""
    ports = list(ports)
    deadline = time.monotonic() + timeout
    while True:
        busy = [p for p in ports if port_in_use(p)]
        if not busy or time.monotonic() > deadline:
            return busy
        time.sleep(0.2)


def _tail(path: str, lines: int = 40) -> str:
    text = _read(path)
    return "\n".join(text.splitlines()[-lines:]) if text else ""


# --------------------------------------------------------------------------- client helpers
def check_server(uri: str, token: str, timeout: float = 3.0, db_name: str = "") -> Optional[str]:
    """Try ``MilvusClient(uri, token).list_collections()``; None on success, else the error."""
    from pymilvus import MilvusClient

    client = None
    try:
        kwargs = {"uri": uri, "token": token, "timeout": timeout}
        if db_name:
            kwargs["db_name"] = db_name
        client = MilvusClient(**kwargs)
        client.list_collections(timeout=timeout)
        return None
    except Exception as exc:  # noqa: BLE001 - we report whatever pymilvus raised
        return describe_connection_error(exc)
    finally:
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001
                pass


def describe_connection_error(exc: BaseException) -> str:
    """pymilvus hides the real reason of a failed connect in ``__cause__`` (a grpc.RpcError).

    Returns e.g. ``"MilvusException(code=2): Fail connecting ... [grpc UNAUTHENTICATED: auth
    check failure, please check username and password are correct]"``.
    """
    code = getattr(exc, "code", None)
    if callable(code) and callable(getattr(exc, "details", None)):  # a raw grpc.RpcError
        try:
            return f"{type(exc).__name__} (grpc.RpcError) {code().name}: {exc.details()}"
        except Exception:  # noqa: BLE001
            pass
    msg = getattr(exc, "message", None) or str(exc)
    text = f"{type(exc).__name__}(code={code}): {msg}" if code is not None else f"{type(exc).__name__}: {msg}"
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc and hasattr(cause, "details") and callable(cause.details):
        try:
            text += f" [grpc {cause.code().name}: {cause.details()}]"
        except Exception:  # noqa: BLE001
            pass
    return text


# --------------------------------------------------------------------------- the manager
class MilvusServer:
    """Manage one ``milvus-server`` (Milvus 2.3.5 standalone) process tree.

    Args:
        data_dir: where the launcher unpacks binaries (~250 MB) and keeps data/logs. ``None`` ->
            a fresh ``tempfile.mkdtemp(prefix="dmz-milvus-")`` removed again by ``stop()``.
        auth: start with ``--authorization-enabled true`` (token ``root:Milvus``).
        port: gRPC port (etcd stays on 2379/2380 whatever this is).
        start_timeout: seconds to wait for ``list_collections()`` to succeed.
        reuse_existing: if a server already answers on ``port`` with our token and it is not an
            orphan of ours, use it and leave it running on ``stop()``.  Orphans of ours (data dir
            carries our marker, their owner process is dead) are killed and replaced.
        keep_data: keep an auto-created temp data dir on ``stop()``.
        grace: seconds between SIGTERM and SIGKILL for the Go process.
    """

    def __init__(self, data_dir: Optional[str] = None, auth: bool = True, port: int = DEFAULT_PORT,
                 start_timeout: float = 120, reuse_existing: bool = True, keep_data: bool = False,
                 grace: float = 3.0, host: str = "127.0.0.1", token: Optional[str] = None):
        self._token = token
        self._uri: Optional[str] = None  # set for external servers (DMZ_MILVUS_URI)
        self.data_dir = os.path.abspath(data_dir) if data_dir else None
        self._own_data_dir = data_dir is None
        self.auth = auth
        self.port = int(port)
        self.host = host
        self.start_timeout = float(start_timeout)
        self.reuse_existing = reuse_existing
        self.keep_data = keep_data
        self.grace = grace
        self.proc: Optional[subprocess.Popen] = None
        self.launcher_pid: Optional[int] = None
        self.standalone_pid: Optional[int] = None
        self.reused = False
        self.owned = False
        self.startup_seconds: Optional[float] = None
        self._log_fh = None
        self._atexit_registered = False

    # ---------------------------------------------------------------- properties
    @property
    def uri(self) -> str:
        if self._uri:
            return self._uri
        return f"http://{self.host}:{self.port}"

    @property
    def token(self) -> str:
        if self._token is not None:
            return self._token
        return ROOT_TOKEN if self.auth else ""

    @property
    def log_path(self) -> Optional[str]:
        return os.path.join(self.data_dir, LAUNCHER_LOG) if self.data_dir else None

    def client(self, **kwargs):
        """A new ``pymilvus.MilvusClient`` for this server (caller closes it)."""
        from pymilvus import MilvusClient

        kwargs.setdefault("timeout", 30)
        return MilvusClient(uri=self.uri, token=self.token, **kwargs)

    def is_running(self) -> bool:
        """Our process tree is alive (or, for a reused server, it still answers)."""
        if self.reused:
            return check_server(self.uri, self.token, timeout=3) is None
        return pid_alive(self.standalone_pid) or pid_alive(self.launcher_pid)

    def is_ready(self, timeout: float = 3.0) -> bool:
        return check_server(self.uri, self.token, timeout=timeout) is None

    def __repr__(self) -> str:
        return (f"MilvusServer(uri={self.uri!r}, auth={self.auth}, data_dir={self.data_dir!r}, "
                f"launcher_pid={self.launcher_pid}, standalone_pid={self.standalone_pid}, "
                f"reused={self.reused})")

    def __enter__(self) -> "MilvusServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---------------------------------------------------------------- start
    def _log_tail(self, lines: int = 40) -> str:
        parts = []
        if self.data_dir:
            for name in (LAUNCHER_LOG, "logs/milvus-stderr.log", "logs/milvus-stdout.log"):
                t = _tail(os.path.join(self.data_dir, name), lines)
                if t:
                    parts.append(f"--- {name} (last {lines} lines) ---\n{t}")
        return "\n".join(parts) or "(no log output)"

    def _find_reusable(self) -> bool:
        """A server answers with our token: reuse it unless it is an orphan of ours."""
        if not port_in_use(self.port):
            return False
        err = check_server(self.uri, self.token, timeout=3)
        if err is not None:
            return False
        if self.auth and check_server(self.uri, "root:__definitely_wrong__", timeout=3) is None:
            return False  # it does not enforce authentication: not what an auth=True caller wants
        listeners = pids_listening_on(self.port)
        procs = {p["pid"]: p for p in milvus_processes()}
        for pid in listeners:
            info = procs.get(pid)
            if info and info["ours"]:
                marker = _read_json(os.path.join(info["data_dir"], MARKER_NAME))
                owner = marker.get("owner_pid")
                if marker.get("daemon") or (owner and pid_alive(owner)):
                    return True  # CLI daemon or a live manager owns it: share it
                return False  # orphan of ours -> replace with a fresh one
        return True  # foreign server (CI service, docker, ...) that accepts our token

    @staticmethod
    def classify(info: Dict) -> str:
        """For one of our processes: 'daemon' (CLI-started), 'live' (a running manager owns it)
        or 'orphan' (its owner died without stopping it)."""
        marker = _read_json(os.path.join(info["data_dir"], MARKER_NAME)) if info.get("data_dir") else {}
        if marker.get("daemon"):
            return "daemon"
        owner = marker.get("owner_pid")
        if owner and pid_alive(owner):
            return "live"
        return "orphan"

    def kill_leftovers(self, include_daemons: bool = False) -> List[Dict]:
        """Kill milvus processes WE started earlier whose owner is gone (orphans), plus CLI daemons
        if ``include_daemons``.  Servers owned by a live manager are never touched."""
        kinds = {"orphan", "daemon"} if include_daemons else {"orphan"}
        victims = [p for p in milvus_processes() if p["ours"] and self.classify(p) in kinds]
        if victims:
            kill_milvus(
                [p["pid"] for p in victims if p["kind"] == "launcher"],
                [p["pid"] for p in victims if p["kind"] == "standalone"],
                grace=self.grace,
            )
            # their auto-created temp data dirs (~250 MB each) would otherwise leak
            for d in {p["data_dir"] for p in victims if p["data_dir"]}:
                marker = _read_json(os.path.join(d, MARKER_NAME))
                if (os.path.basename(d).startswith(TEMP_PREFIX)
                        and os.path.dirname(d) == os.path.abspath(tempfile.gettempdir())
                        and marker.get("own_data_dir", True) and d != self.data_dir):
                    shutil.rmtree(d, ignore_errors=True)
        return victims

    def start(self) -> "MilvusServer":
        if self.launcher_pid and self.is_running():
            return self
        t0 = time.monotonic()
        deadline = t0 + self.start_timeout
        unhealthy_daemon_checks = 0
        while True:
            if self.reuse_existing and self._find_reusable():
                self.reused, self.owned = True, False
                self.startup_seconds = time.monotonic() - t0
                return self
            ours = [p for p in milvus_processes() if p["ours"]]
            live = [p for p in ours if self.classify(p) == "live"]
            daemons = [p for p in ours if self.classify(p) == "daemon"]
            if live:
                # another manager (e.g. a concurrent pytest or `test_support.milvus_server start`) owns a
                # server that is not (yet) answering: wait for it instead of killing it
                if not self.reuse_existing or time.monotonic() > deadline:
                    raise MilvusServerError(
                        "another test_support-managed milvus-server is running/starting and owned by a live "
                        f"process: {[(p['pid'], p['data_dir']) for p in live]}"
                        + ("" if self.reuse_existing else " (reuse_existing=False)")
                    )
                time.sleep(1)
                continue
            killed: List[Dict] = []
            if daemons:
                if not self.reuse_existing:
                    raise MilvusServerError(
                        "a server started by `python -m test_support.milvus_server start` is running "
                        f"({[(p['pid'], p['data_dir']) for p in daemons]}); stop it first "
                        "(`python -m test_support.milvus_server stop`) or use reuse_existing=True"
                    )
                unhealthy_daemon_checks += 1
                if unhealthy_daemon_checks < 4:
                    time.sleep(2)  # a busy daemon may answer slowly: re-check before killing it
                    continue
                killed = self.kill_leftovers(include_daemons=True)  # it stopped answering: replace it
            break

        killed += self.kill_leftovers()
        busy = wait_ports_free([self.port, *ETCD_PORTS], timeout=30 if killed else 1)
        if busy:
            who = {p: pids_listening_on(p) for p in busy}
            details = "; ".join(
                f"port {p}: pids {pids} ({', '.join(' '.join(_cmdline(x))[:120] for x in pids)})"
                for p, pids in who.items()
            )
            hint = ""
            if self.port in busy:
                err = check_server(self.uri, self.token, timeout=3)
                if err is None and self.auth:
                    hint = " The server on the port accepts ANY token (authorization disabled)."
                elif err is not None:
                    hint = f" The server on the port rejects our token: {err}."
            raise MilvusServerError(
                f"cannot start milvus-server: ports still in use after killing our leftovers: {details}.{hint} "
                "Another Milvus (or etcd) not started by test_support is running; stop it or use "
                "reuse_existing=True with its credentials, or `python -m test_support.milvus_server stop --force`."
            )
        remove_stale_pid_file()

        if self.data_dir is None:
            self.data_dir = tempfile.mkdtemp(prefix=TEMP_PREFIX)
            self._own_data_dir = True
        os.makedirs(self.data_dir, exist_ok=True)
        cmd = _launcher_cmd() + ["--data", self.data_dir]
        if self.auth:
            cmd += ["--authorization-enabled", "true"]
        if self.port != DEFAULT_PORT:
            cmd += ["--proxy-port", str(self.port)]
        self._log_fh = open(self.log_path, "ab")
        self._write_marker(daemon=False)
        self.proc = subprocess.Popen(
            cmd, cwd=self.data_dir, stdin=subprocess.DEVNULL, stdout=self._log_fh,
            stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
        )
        self.launcher_pid = self.proc.pid
        self.owned, self.reused = True, False
        if not self._atexit_registered:
            atexit.register(self._atexit_stop)
            self._atexit_registered = True
        try:
            self._wait_ready(t0)
        except BaseException:
            keep = self.keep_data
            self.keep_data = keep and not self._own_data_dir  # never leak a temp dir of a failed start
            try:
                self.stop()
            finally:
                self.keep_data = keep
            raise
        self._write_marker(daemon=False)
        self.startup_seconds = time.monotonic() - t0
        return self

    def _wait_ready(self, t0: float) -> None:
        deadline = t0 + self.start_timeout
        last_err = "not tried"
        while time.monotonic() < deadline:
            if self.standalone_pid is None:
                for c in _descendants(self.launcher_pid):
                    if _is_standalone(_cmdline(c)):
                        self.standalone_pid = c
            launcher_dead = self.proc.poll() is not None
            standalone_dead = self.standalone_pid is not None and not pid_alive(self.standalone_pid)
            if launcher_dead or standalone_dead:
                raise MilvusServerError(
                    f"milvus-server exited early (launcher rc={self.proc.returncode}, "
                    f"standalone pid {self.standalone_pid} alive={pid_alive(self.standalone_pid)}).\n"
                    + self._log_tail()
                )
            ports = _configured_ports(self.data_dir)
            if ports and ports != {"etcd": ETCD_PORTS[0], "proxy": self.port}:
                raise MilvusServerError(
                    f"milvus-server chose other ports than expected ({ports}; wanted etcd "
                    f"{ETCD_PORTS[0]}, proxy {self.port}): a port was busy at start.\n" + self._log_tail()
                )
            if port_in_use(self.port):
                err = check_server(self.uri, self.token, timeout=3)
                if err is None:
                    if self.standalone_pid is None:  # should not happen; resolve via listener
                        ls = pids_listening_on(self.port)
                        self.standalone_pid = ls[0] if ls else None
                    return
                last_err = err
            time.sleep(0.5)
        raise MilvusServerError(
            f"milvus-server not ready within {self.start_timeout:.0f}s (last error: {last_err}).\n"
            + self._log_tail()
        )

    def _write_marker(self, daemon: bool) -> None:
        if not self.data_dir:
            return
        data = self.state(daemon=daemon)
        with open(os.path.join(self.data_dir, MARKER_NAME), "w") as fh:
            json.dump(data, fh, indent=1)

    def state(self, daemon: bool = False) -> Dict:
        return {
            "uri": self.uri, "token": self.token, "port": self.port, "auth": self.auth,
            "data_dir": self.data_dir, "own_data_dir": self._own_data_dir,
            "launcher_pid": self.launcher_pid, "standalone_pid": self.standalone_pid,
            "pgid": self.launcher_pid, "owner_pid": os.getpid(), "daemon": daemon,
        }

    # ---------------------------------------------------------------- stop
    def _atexit_stop(self) -> None:
        try:
            self.stop()
        except Exception:  # noqa: BLE001
            pass

    def stop(self) -> None:
        """Kill our process tree (child, launcher, group) and wait for 19530/2379/2380 to free.
        A reused server is left alone."""
        if self.reused or not self.owned:
            self.reused = False
            return
        standalone = [p for p in [self.standalone_pid] if p]
        launchers = [p for p in [self.launcher_pid] if p]
        for pid in launchers:
            for c in _descendants(pid):
                if _is_standalone(_cmdline(c)):
                    standalone.append(c)
        kill_milvus(launchers, standalone, grace=self.grace, pgids=launchers)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        busy = wait_ports_free([self.port, *ETCD_PORTS], timeout=30)
        remove_stale_pid_file()
        self.owned = False
        self.launcher_pid = self.standalone_pid = None
        if self.data_dir and self._own_data_dir and not self.keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None
        elif self.data_dir:
            try:
                os.remove(os.path.join(self.data_dir, MARKER_NAME))
            except OSError:
                pass
        if busy:
            raise MilvusServerError(f"ports still in use after stopping milvus: {busy}")


# The wheel's launcher probes every port it writes into milvus.yaml by bind()ing 127.0.0.1:PORT
# WITHOUT SO_REUSEADDR and silently moves to the next port when that fails.  Right after a
# previous server was stopped, 2379/19530 still have TIME_WAIT sockets, so the launcher would
# move etcd to 2380 and the proxy to 19531 (verified).  The Go server itself binds with
# SO_REUSEADDR, so we run the launcher with a probe that does the same.
_LAUNCHER_CODE = """# dmz-milvus-launcher
import socket, sys
import milvus
def _try_bind_port(self, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        s.listen()
        return s
    except OSError:
        s.close()
        return None
milvus.MilvusServerConfig.try_bind_port = _try_bind_port
sys.argv[0] = "milvus-server"
sys.exit(milvus.main())
"""


def _launcher_cmd() -> List[str]:
    """Run the wheel's ``milvus-server`` main() with the current interpreter (see above)."""
    return [sys.executable, "-c", _LAUNCHER_CODE]


def _configured_ports(data_dir: Optional[str]) -> Optional[Dict[str, int]]:
    """etcd client port and proxy port the launcher wrote into <data_dir>/configs/milvus.yaml."""
    if not data_dir:
        return None
    text = _read(os.path.join(data_dir, "configs", "milvus.yaml"))
    if not text:
        return None
    section, found = None, {}
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            section = line.strip()[:-1]
            continue
        stripped = line.split("#", 1)[0].strip()
        if section == "etcd" and stripped.startswith("endpoints:") and "etcd" not in found:
            found["etcd"] = int(stripped.rsplit(":", 1)[1])
        elif section == "proxy" and stripped.startswith("port:") and line.startswith("  port") and "proxy" not in found:
            found["proxy"] = int(stripped.split(":", 1)[1])
    return found if len(found) == 2 else None


def _read_json(path: str) -> Dict:
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


# --------------------------------------------------------------------------- pytest fixture
def milvus_server_fixture(tmp_path_factory) -> Iterator[MilvusServer]:
    """Generator fixture: yields a started :class:`MilvusServer` (auth on, root:Milvus).

    Wire it in ``integration_tests/conftest.py``::

        import pytest
        from test_support.milvus_server import milvus_server_fixture
        milvus_server = pytest.fixture(scope="session")(milvus_server_fixture)

    Tests then take ``milvus_server`` and use ``milvus_server.uri`` / ``milvus_server.token``
    (or ``milvus_server.client()``).  Behaviour:

    * ``DMZ_MILVUS_URI`` set -> yields a handle to that server (token from ``DMZ_MILVUS_TOKEN``,
      default ``root:Milvus``); nothing is started or stopped.
    * ``DMZ_MILVUS_SERVER=skip`` -> ``pytest.skip``.
    * otherwise starts milvus-server in ``tmp_path_factory.mktemp("milvus")`` (reusing an
      already-running server that accepts root:Milvus, e.g. one started by
      ``python -m test_support.milvus_server start``), and stops it at session end.
    """
    import pytest

    if os.environ.get("DMZ_MILVUS_SERVER", "").lower() == "skip":
        pytest.skip("DMZ_MILVUS_SERVER=skip")
    ext = os.environ.get("DMZ_MILVUS_URI")
    if ext:
        srv = _external_server(ext, os.environ.get("DMZ_MILVUS_TOKEN", ROOT_TOKEN))
        err = check_server(srv.uri, srv.token, timeout=10)
        if err:
            raise MilvusServerError(f"DMZ_MILVUS_URI={ext} is not usable: {err}")
        yield srv
        return
    data_dir = str(tmp_path_factory.mktemp("milvus"))
    srv = MilvusServer(data_dir=data_dir, auth=True,
                       start_timeout=float(os.environ.get("DMZ_MILVUS_START_TIMEOUT", "120")))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
        # binaries (~250 MB) and etcd/rocksmq data (~270 MB, preallocated) per data dir: don't
        # let pytest keep 3 of each; the logs stay for post-mortems
        if not srv.reused:
            for sub in ("bin", "data"):
                shutil.rmtree(os.path.join(data_dir, sub), ignore_errors=True)


def _external_server(uri: str, token: str) -> MilvusServer:
    from urllib.parse import urlparse

    u = urlparse(uri)
    srv = MilvusServer(auth=bool(token), port=u.port or DEFAULT_PORT, host=u.hostname or "127.0.0.1",
                       token=token)
    srv._uri = uri
    srv.reused = True
    return srv


# --------------------------------------------------------------------------- CLI
def _cmd_start(args) -> int:
    # no --data: a temp dir is created only when a server is really spawned (removed by `stop`)
    srv = MilvusServer(data_dir=args.data, auth=not args.no_auth, port=args.port,
                       start_timeout=args.timeout, reuse_existing=not args.fresh, keep_data=True)
    srv.start()
    # detach: this process exits, the server keeps running (own session, no atexit stop)
    atexit.unregister(srv._atexit_stop)
    srv.owned = False
    if srv.reused:
        print(f"reusing running Milvus at {srv.uri} (not started by this command)")
        return 0
    state = srv.state(daemon=True)
    srv._write_marker(daemon=True)
    with open(args.pid_file, "w") as fh:
        json.dump(state, fh, indent=1)
    if srv._log_fh:
        srv._log_fh.close()
    srv.proc = None  # do not reap/kill at interpreter exit
    print(f"Milvus ready at {srv.uri} token={srv.token!r} in {srv.startup_seconds:.1f}s "
          f"(launcher pid {state['launcher_pid']}, standalone pid {state['standalone_pid']}, "
          f"data {srv.data_dir}, state {args.pid_file})")
    return 0


def _cmd_stop(args) -> int:
    state = _read_json(args.pid_file)
    launchers, standalone, pgids = [], [], []
    if state:
        for key, bucket in (("launcher_pid", launchers), ("standalone_pid", standalone)):
            pid = state.get(key)
            if pid and pid_alive(pid) and (_is_launcher(_cmdline(pid)) or _is_standalone(_cmdline(pid))):
                bucket.append(pid)
        if state.get("pgid"):
            pgids.append(state["pgid"])
    procs = milvus_processes()
    # ours except servers owned by a live manager (e.g. a running pytest session); --force: all
    targets = procs if args.force else [p for p in procs if p["ours"] and MilvusServer.classify(p) != "live"]
    launchers += [p["pid"] for p in targets if p["kind"] == "launcher"]
    standalone += [p["pid"] for p in targets if p["kind"] == "standalone"]
    pgids = [g for g in pgids if any(p["pgid"] == g for p in procs)]
    if launchers or standalone:
        kill_milvus(launchers, standalone, grace=args.grace, pgids=pgids)
    busy = wait_ports_free([state.get("port", DEFAULT_PORT), *ETCD_PORTS],
                           timeout=30 if (launchers or standalone) else 0)
    remove_stale_pid_file()
    if state.get("data_dir"):
        try:
            os.remove(os.path.join(state["data_dir"], MARKER_NAME))
        except OSError:
            pass
        if args.remove_data or state.get("own_data_dir"):
            shutil.rmtree(state["data_dir"], ignore_errors=True)
    try:
        os.remove(args.pid_file)
    except OSError:
        pass
    left = [p for p in milvus_processes() if (p["ours"] and MilvusServer.classify(p) != "live") or args.force]
    print(f"stopped pids {sorted(set(launchers + standalone))}; busy ports: {busy}; "
          f"remaining milvus processes: {[p['pid'] for p in left]}")
    return 1 if (busy or left) else 0


def _cmd_status(args) -> int:
    state = _read_json(args.pid_file)
    procs = milvus_processes()
    uri = state.get("uri", f"http://127.0.0.1:{DEFAULT_PORT}")
    token = state.get("token", ROOT_TOKEN)
    err = check_server(uri, token, timeout=3) if port_in_use(int(uri.rsplit(":", 1)[1])) else "port closed"
    print(json.dumps({"state_file": args.pid_file, "state": state, "processes": procs,
                      "ready": err is None, "error": err}, indent=1))
    return 0 if err is None else 1


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m test_support.milvus_server", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("start", help="start milvus-server in the background, return when ready")
    p.add_argument("--data", help="data dir (default: new temp dir)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--no-auth", action="store_true")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--fresh", action="store_true", help="never reuse an already running server")
    p.set_defaults(func=_cmd_start)
    p = sub.add_parser("stop", help="stop the server started with `start` (and our leftovers)")
    p.add_argument("--force", action="store_true",
                   help="kill EVERY milvus process, also foreign ones and servers owned by a live test session")
    p.add_argument("--grace", type=float, default=5.0)
    p.add_argument("--remove-data", action="store_true",
                   help="also delete --data DIR (an auto-created temp data dir is always deleted)")
    p.set_defaults(func=_cmd_stop)
    p = sub.add_parser("status")
    p.set_defaults(func=_cmd_status)
    for sp in sub.choices.values():
        sp.add_argument("--pid-file", default=os.environ.get("DMZ_MILVUS_STATE", DEFAULT_STATE_FILE),
                        help=f"state file (default {DEFAULT_STATE_FILE}, env DMZ_MILVUS_STATE)")
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except MilvusServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
