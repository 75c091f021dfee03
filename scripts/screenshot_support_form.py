"""Screenshot the support form in a real headless Chromium, in each state, at a desktop and a phone width.

    .venv/bin/python scripts/screenshot_support_form.py [--out docs/support_form.png]

1. Writes a demo Milvus Lite collection with the connector itself (fake embeddings: offline and
   deterministic) from destination_milvus_zendesk/sample_data/zendesk_sample.jsonl if it exists, else
   from a small built-in set.
2. Starts `streamlit run destination_milvus_zendesk/support_form.py` headless (and a second one whose
   Milvus is down), from the repository, so .streamlit/config.toml applies.
3. Drives headless Chromium over the DevTools protocol (devtools/browser.py): opens `/?org=<org>`,
   types into "Describe the problem", clicks "Look up" with real mouse events, waits for the answer and
   saves, next to `<out>`:
   `<out>` (desktop, a duplicate: the main screenshot), `<stem>_articles.png` (articles only),
   `<stem>_nothing.png` (nothing found), `<stem>_input_error.png`, `<stem>_backend_down.png`,
   `<stem>_phone.png` and `<stem>_phone_articles.png` (390 px wide), and `<stem>_empty.png` (the empty form).
4. Stops Streamlit and Chromium.
Needs Debian's chromium (`apt-get install -y chromium`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airbyte_cdk.models import (AirbyteMessage, AirbyteMessageSerializer, AirbyteRecordMessage,  # noqa: E402
                                ConfiguredAirbyteCatalogSerializer, Type)

from destination_milvus_zendesk.config import parse_config  # noqa: E402
from destination_milvus_zendesk.destination import DestinationMilvusZendesk  # noqa: E402
from destination_milvus_zendesk.support.search import SupportSearch  # noqa: E402
from devtools.browser import (DESKTOP, PHONE, Browser, chromium_path, open_form, streamlit_form,  # noqa: E402
                              submit_case)

APP = ROOT / "destination_milvus_zendesk" / "support_form.py"
SAMPLE = ROOT / "destination_milvus_zendesk" / "sample_data" / "zendesk_sample.jsonl"

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
        search.close()


# --- the screenshots ------------------------------------------------------------------------------


def shoot(browser: Browser, viewport: tuple, url: str, text: str, path: Path) -> str:
    browser.viewport(*viewport)
    answer = submit_case(browser, url, text)
    browser.screenshot(path)
    print(f"{path}: {answer.splitlines()[0]!r}")
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
    parser.add_argument("--chromium", default=chromium_path())
    args = parser.parse_args()
    if args.prepare:
        prepare(Path(args.prepare))
        return 0
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not args.chromium or not os.path.exists(args.chromium):
        raise SystemExit("chromium not found: apt-get install -y chromium")

    work = Path(tempfile.mkdtemp(prefix="support-form-demo-"))
    subprocess.run([sys.executable, __file__, "--prepare", str(work)], check=True, stdout=subprocess.DEVNULL)
    demo = json.loads((work / "demo.json").read_text())
    org, duplicate_text, question = demo["org"], demo["duplicate"], demo["question"]
    print(f"demo collection: {demo['records']} records ({'sample' if SAMPLE.exists() else 'built-in'}); org {org}")
    down = work / "down.json"
    down.write_text(json.dumps({**json.loads((work / "config.json").read_text()),
                                "indexing": {"host": "http://127.0.0.1:1", "collection": "zendesk",
                                             "timeout_seconds": 2}}))
    browser = None
    try:
        with streamlit_form(work / "config.json", work / "streamlit.log") as base, \
                streamlit_form(down, work / "streamlit-down.log") as down_base:
            url = f"{base}/?org={org}"
            browser = Browser(args.chromium)
            name = lambda suffix: out.with_name(f"{out.stem}_{suffix}.png")  # noqa: E731
            open_form(browser, url)
            browser.screenshot(name("empty"))
            print(f"{name('empty')}: the empty form")
            shoot(browser, DESKTOP, url, duplicate_text, out)
            shoot(browser, DESKTOP, url, question, name("articles"))
            shoot(browser, DESKTOP, url, "What's the weather like tomorrow?", name("nothing"))
            shoot(browser, DESKTOP, url, "", name("input_error"))
            shoot(browser, DESKTOP, f"{down_base}/?org={org}", duplicate_text, name("backend_down"))
            shoot(browser, PHONE, url, duplicate_text, name("phone"))
            shoot(browser, PHONE, url, question, name("phone_articles"))
    finally:
        if browser is not None:
            browser.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
