"""Screenshot the support form in a real headless Chromium, before and after submitting a case.

    /work/venv/bin/python scripts/screenshot_support_form.py [--out docs/support_form.png]

1. Writes a demo Milvus Lite collection with the connector itself (fake embeddings: offline and
   deterministic) from destination_milvus_zendesk/sample_data/zendesk_sample.jsonl if it exists, else
   from a small built-in set.
2. Starts `streamlit run destination_milvus_zendesk/support_form.py` headless on 127.0.0.1:8599.
3. Drives headless Chromium over the DevTools protocol (Python websockets): opens `/?org=<org>` and
   saves `<out stem>_empty.png` (the empty form, organization prefilled); types a near-copy of a `new`
   ticket into "Describe your problem", clicks Submit with real mouse events, waits for the answer and
   saves `<out>` (the duplicate warning); then `<out stem>_articles.png` for an article-like question
   ("Submitted!" plus article links). (`chromium --screenshot --virtual-time-budget` alone only
   captures Streamlit's loading skeleton: the page is rendered from a websocket, after load.)
4. Stops Streamlit and Chromium.
Needs Debian's chromium (`apt-get install -y chromium`).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airbyte_cdk.models import (AirbyteMessage, AirbyteMessageSerializer, AirbyteRecordMessage,  # noqa: E402
                                ConfiguredAirbyteCatalogSerializer, Type)

from destination_milvus_zendesk.config import parse_config  # noqa: E402
from destination_milvus_zendesk.destination import DestinationMilvusZendesk  # noqa: E402
from destination_milvus_zendesk.query import SupportSearch  # noqa: E402

APP = ROOT / "destination_milvus_zendesk" / "support_form.py"
SAMPLE = ROOT / "destination_milvus_zendesk" / "sample_data" / "zendesk_sample.jsonl"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1200,900"]

BUILTIN = [
    ("tickets", {"id": 35436, "organization_id": 360001, "status": "new",
                 "subject": "Cannot log in after password reset",
                 "description": "I reset my password yesterday and now the login page says my credentials are "
                                "invalid. Clearing the cache did not help."}),
    ("tickets", {"id": 35437, "organization_id": 360001, "status": "open", "subject": "Invoice shows the wrong VAT",
                 "description": "Our March invoice lists an old VAT number, please correct it."}),
    ("tickets", {"id": 35438, "organization_id": 360001, "status": "solved", "subject": "CSV export times out",
                 "description": "Exporting the full report to CSV never finishes."}),
    ("tickets", {"id": 35501, "organization_id": 360002, "status": "new", "subject": "Add a second admin",
                 "description": "How can we give a colleague admin rights on our account?"}),
    ("articles", {"id": 9001, "title": "Set up two-factor authentication", "html_url":
                  "https://help.example.com/hc/en-us/articles/9001-Set-up-two-factor-authentication",
                  "body": "<p>Two-factor authentication with an authenticator app: open <b>Settings</b>, choose "
                          "Security, scan the QR code with your authenticator app and enter the code.</p>"}),
    ("articles", {"id": 9002, "title": "Reset your password", "html_url":
                  "https://help.example.com/hc/en-us/articles/9002-Reset-your-password",
                  "body": "<p>To reset your password, open the login page, click <i>Forgot password</i> and follow "
                          "the link we email you.</p>"}),
    ("articles", {"id": 9003, "title": "Download your invoices", "html_url":
                  "https://help.example.com/hc/en-us/articles/9003-Download-your-invoices",
                  "body": "<p>Invoices are under Billing, then History. Each invoice can be downloaded as a PDF.</p>"}),
]


# --- demo collection ----------------------------------------------------------------------------


def sample_records() -> list[tuple[str, dict[str, Any]]]:
    """(stream, record) pairs: the bundled sample when present (Airbyte messages or {stream, data} lines)."""
    if not SAMPLE.exists():
        return BUILTIN
    records = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if item.get("type") == "RECORD":
            record = AirbyteMessageSerializer.load(item).record
            records.append((record.stream, record.data))
        elif "stream" in item and isinstance(item.get("data"), dict):
            records.append((item["stream"], item["data"]))
    if not any(s == "tickets" for s, _ in records) or not any(s == "articles" for s, _ in records):
        print(f"{SAMPLE.name} has no tickets or no articles in a known shape: using the built-in set")
        return BUILTIN
    return records


def write_collection(config: dict[str, Any], records: list[tuple[str, dict[str, Any]]]) -> None:
    streams = [{"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                "sync_mode": "full_refresh", "destination_sync_mode": "overwrite", "primary_key": [["id"]]}
               for name in dict.fromkeys(s for s, _ in records)]
    catalog = ConfiguredAirbyteCatalogSerializer.load({"streams": streams})
    now = int(time.time() * 1000)

    def messages() -> Iterator[AirbyteMessage]:
        for stream, data in records:
            yield AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream=stream, data=data,
                                                                               emitted_at=now))

    for _ in DestinationMilvusZendesk().write(config, catalog, messages()):
        pass


def pick_demo(config: dict[str, Any], records: list[tuple[str, dict[str, Any]]]) -> tuple[int, str, str]:
    """An organization, a near-copy of one of its `new` tickets, and a question that finds an article."""
    search = SupportSearch.from_config(parse_config(config))
    try:
        duplicate = None
        for stream, t in records:
            if stream == "tickets" and t.get("status") == "new" and isinstance(t.get("organization_id"), int):
                text = ". ".join(filter(None, [t.get("subject"), t.get("description")]))[:600]
                if search.lookup(text, t["organization_id"]).duplicate:
                    duplicate = (t["organization_id"], text)
                    break
        if duplicate is None:
            raise SystemExit("no `new` ticket with an organization_id in the demo data")
        question = None
        for stream, a in records:
            if stream == "articles" and a.get("title"):
                text = f"{a['title']}?"
                answer = search.lookup(text, duplicate[0])
                if answer.helpful_articles and not answer.duplicate:
                    question = text
                    break
        return duplicate[0], duplicate[1], question or "How do I export my data?"
    finally:
        search.store.close()


# --- streamlit and chromium ---------------------------------------------------------------------


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
            raise SystemExit(f"{url} did not answer within {seconds:.0f}s")
        time.sleep(0.3)


class Browser:
    """Just enough of the DevTools protocol: navigate, evaluate, type, click, screenshot."""

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
                raise SystemExit("chromium did not open its DevTools port")
            time.sleep(0.2)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10))
        self.next_id = 0
        self.send("Emulation.setDeviceMetricsOverride", width=1200, height=900, deviceScaleFactor=1, mobile=False)

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
                raise SystemExit(f"timed out waiting for: {expression}")
            time.sleep(0.25)
        return value

    def click(self, selector_js: str) -> None:
        box = self.wait_for(f"(() => {{ const e = {selector_js}; if (!e) return null; "
                            "const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        try:
            self.stack.close()
        finally:
            self.process.terminate()
            self.process.wait(10)
            shutil.rmtree(self.profile, ignore_errors=True)


TEXTAREA = "document.querySelector('textarea')"
SUBMIT = "[...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Submit')"
ANSWER = "document.querySelector('[data-testid=\"stAlert\"], [data-testid=\"stAlertContainer\"]')"


def submit_case(browser: Browser, url: str, text: str, path: Path) -> str:
    browser.send("Page.navigate", url=url)
    browser.wait_for(f"{TEXTAREA} && {SUBMIT} && !{ANSWER}")
    browser.click(TEXTAREA)
    browser.send("Input.insertText", text=text)
    browser.click(SUBMIT)  # the click blurs the text area first, which commits its value, as for a user
    answer = browser.wait_for(f"{ANSWER} && {ANSWER}.innerText", seconds=60)
    time.sleep(1.0)  # let the article list and fonts settle
    browser.screenshot(path)
    return answer


def prepare(work: Path) -> None:
    """Child process: write the collection and pick the demo (Milvus Lite opens a .db file in one process only)."""
    config = {"embedding": {"mode": "fake"},
              "indexing": {"host": str(work / "zendesk.db"), "collection": "zendesk", "create_collection": True},
              "processing": {"chunk_size": 1000, "text_fields": ["body", "title", "description", "subject"]}}
    (work / "config.json").write_text(json.dumps(config))
    records = sample_records()
    write_collection(config, records)
    org, duplicate_text, question = pick_demo(config, records)
    (work / "demo.json").write_text(json.dumps({"records": len(records), "org": org, "duplicate": duplicate_text,
                                                "question": question}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(ROOT / "docs" / "support_form.png"))
    parser.add_argument("--port", type=int, default=8599)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    if args.prepare:
        prepare(Path(args.prepare))
        return 0
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not os.path.exists(args.chromium):
        raise SystemExit("chromium not found: apt-get install -y chromium")

    work = Path(tempfile.mkdtemp(prefix="support-form-demo-"))
    subprocess.run([sys.executable, __file__, "--prepare", str(work)], check=True, stdout=subprocess.DEVNULL)
    demo = json.loads((work / "demo.json").read_text())
    org, duplicate_text, question = demo["org"], demo["duplicate"], demo["question"]
    print(f"demo collection: {demo['records']} records ({'sample' if SAMPLE.exists() else 'built-in'}); org {org}")

    env = {**os.environ, "SUPPORT_FORM_CONFIG": str(work / "config.json")}
    streamlit = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
                                  "--server.address", "127.0.0.1", "--server.port", str(args.port),
                                  "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"], env=env, cwd=ROOT,
                                 stdout=open(work / "streamlit.log", "w"), stderr=subprocess.STDOUT)
    browser = None
    try:
        base = f"http://127.0.0.1:{args.port}"
        wait_http(f"{base}/_stcore/health", 60)
        url = f"{base}/?org={org}"
        browser = Browser(args.chromium)
        empty = out.with_name(f"{out.stem}_empty.png")
        browser.send("Page.navigate", url=url)
        browser.wait_for(f"!!({TEXTAREA} && {SUBMIT})")
        time.sleep(1.0)
        browser.screenshot(empty)
        print(f"{empty}: the empty form")
        answer = submit_case(browser, url, duplicate_text, out)
        print(f"{out}: {answer!r}")
        articles = out.with_name(f"{out.stem}_articles.png")
        answer = submit_case(browser, url, question, articles)
        print(f"{articles}: {answer!r}")
    finally:
        if browser is not None:
            browser.close()
        streamlit.terminate()
        streamlit.wait(15)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
