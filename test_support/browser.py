"""Drive the support form in a real headless Chromium over the DevTools protocol (Python websockets).

Shared by scripts/screenshot_support_form.py (the screenshots in docs/) and the browser tests
(integration_tests/test_support_form_browser.py). Needs Debian's chromium (`apt-get install -y chromium`).
`chromium --screenshot --virtual-time-budget` alone only captures Streamlit's loading skeleton: the page
is rendered from a websocket after load, so the page is driven and awaited instead.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "destination_milvus_zendesk" / "support_form.py"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = (1280, 900, False)
PHONE = (390, 844, True)  # an iPhone 12-14 sized viewport

TEXTAREA = "document.querySelector('textarea')"
ALERT = "document.querySelector('[data-testid=\"stAlertContainer\"], [data-testid=\"stAlert\"]')"


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {seconds:.0f}s")
        time.sleep(0.3)


@contextlib.contextmanager
def streamlit_form(config_path: Path | str, log_path: Path, *args: str, options: tuple[str, ...] = (),
                   env: dict[str, str] | None = None) -> Iterator[str]:
    """`streamlit run support_form.py` headless on a free port, from the repository (its .streamlit/
    config.toml applies, the listening address included: as the README's command runs it); yields the base URL.
    `options`: more Streamlit flags (`--server.address`, ...); `args`: the app's own arguments."""
    port = free_port()
    env = {**os.environ, "SUPPORT_FORM_CONFIG": str(config_path), **(env or {})}
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
                                    "--server.port", str(port), *options,
                                    "--browser.gatherUsageStats", "false", *(["--", *args] if args else [])],
                                   env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", 90)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket LISTENing on `port` (IPv4 and IPv6), read from /proc/net."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, _, state = line.split()[1:4]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port and len(address) == width:
                found.add(_address(address))
    return found


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # /proc prints each 32-bit word little-endian
    return str(ipaddress.ip_address(words))


class Browser:
    """Just enough of the DevTools protocol: viewport, navigate, evaluate, type, click, screenshot."""

    def __init__(self, chromium: str) -> None:
        from websockets.sync.client import connect

        self.profile = tempfile.mkdtemp(prefix="chromium-")
        self.process = subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
                                         "--remote-debugging-port=0", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.2)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10))
        self.next_id = 0
        self.viewport(*DESKTOP)

    def viewport(self, width: int, height: int, mobile: bool) -> None:
        self._viewport = (width, height, mobile)
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=2 if mobile else 1, mobile=mobile)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv(timeout=60))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression: str) -> Any:
        return self.send("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, seconds: float = 30) -> Any:
        deadline = time.monotonic() + seconds
        while not (value := self.evaluate(expression)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for: {expression}")
            time.sleep(0.25)
        return value

    def click(self, selector_js: str) -> None:
        box = self.wait_for(f"(() => {{ const e = {selector_js}; if (!e) return null; e.scrollIntoView({{block: "
                            "'center'}); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, "
                            "r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def settle(self, seconds: float = 10) -> None:
        """Waits until the sidebar stops sliding (Streamlit animates it in after load and on resizes)."""
        probe = ("(() => { const s = document.querySelector('[data-testid=\"stSidebar\"]'); if (!s) return 'none'; "
                 "const r = s.getBoundingClientRect(); return [Math.round(r.x), Math.round(r.width)].join(','); })()")
        deadline = time.monotonic() + seconds
        last = self.evaluate(probe)
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.evaluate(probe)
            settled = now == "none" or now.split(",")[0] == "0" or int(now.split(",")[0]) <= -int(now.split(",")[1])
            if now == last and settled:
                return
            last = now

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        """The page (whole length with `full_page`): the viewport is made as tall as the page for the capture,
        since Chromium's captureBeyondViewport re-lays the page out and Streamlit then half-collapses its sidebar."""
        self.settle()
        width, height, mobile = self._viewport
        if full_page:
            full = self.evaluate("Math.max(document.body.scrollHeight, document.documentElement.scrollHeight, "
                                 "...[...document.querySelectorAll('[data-testid=\"stMain\"], section.main')]"
                                 ".map(e => e.scrollHeight))")
            if full and full > height:
                self.viewport(width, int(full), mobile)
                time.sleep(0.5)
                self.settle()
        try:
            path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))
        finally:
            if (width, height, mobile) != self._viewport:
                self.viewport(width, height, mobile)

    def close(self) -> None:
        try:
            if hasattr(self, "stack"):
                self.stack.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)


def button(label: str) -> str:
    return f"[...document.querySelectorAll('button')].find(b => b.innerText.trim() === {json.dumps(label)})"


def open_form(browser: Browser, url: str, label: str = "Look up") -> None:
    browser.send("Page.navigate", url=url)
    browser.wait_for(f"!!({TEXTAREA} && {button(label)}) && !{ALERT}")
    time.sleep(0.5)  # fonts and icons


def submit_case(browser: Browser, url: str, text: str, label: str = "Look up", seconds: float = 60) -> str:
    """Types `text` (may be empty) into the form at `url`, clicks the button, returns the first alert's text."""
    open_form(browser, url, label)
    if text:
        browser.click(TEXTAREA)
        browser.send("Input.insertText", text=text)
    browser.click(button(label))  # the click blurs the text area first, which commits its value, as for a user
    answer = browser.wait_for(f"{ALERT} && !document.querySelector('[data-testid=\"stSpinner\"]') && "
                              f"{ALERT}.innerText", seconds=seconds)
    time.sleep(0.8)  # let the article list render
    return answer


def page_facts(browser: Browser) -> dict[str, Any]:
    """What the browser tests check on every state: the alerts, links, Deploy button, overflow."""
    return browser.evaluate("""(() => ({
        alerts: [...document.querySelectorAll('[data-testid="stAlertContainer"], [data-testid="stAlert"]')]
                .map(e => e.innerText.trim()).filter((t, i, all) => t && all.indexOf(t) === i),
        links: [...document.querySelectorAll('[data-testid="stMain"] a, section.main a, .stMain a')]
                .map(a => a.href),
        text: document.body.innerText,
        deploy: !!document.querySelector('[data-testid="stAppDeployButton"]') ||
                [...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Deploy'),
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
    }))()""")
