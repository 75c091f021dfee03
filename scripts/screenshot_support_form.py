"""Screenshot the support form in a real headless Chromium, in each state, at a desktop and a phone width.

    .venv/bin/python scripts/screenshot_support_form.py [--out docs/support_form.png]

1. Writes the bundled sample (destination_milvus_zendesk/sample_data/zendesk_sample.jsonl) into a new
   Milvus Lite collection with the connector itself and the demo's model (the offline local model),
   and calibrates it, as `scripts/demo.sh` does: the screenshots show what the demo's form shows.
2. Starts `streamlit run destination_milvus_zendesk/support_form.py` headless (and a second one whose
   Milvus is down), from the repository, so .streamlit/config.toml applies.
3. Drives headless Chromium over the DevTools protocol (test_support/browser.py): opens `/?org=<org>`,
   types into "Describe the problem", clicks "Look up" with real mouse events, waits for the answer and
   saves, next to `<out>`:
   `<out>` (desktop, a case that is very likely the same problem: the main screenshot), `<stem>_details.png`
   (the same with Details open), `<stem>_articles.png` (articles only), `<stem>_nothing.png` (nothing
   found), `<stem>_input_error.png`, `<stem>_backend_down.png`, `<stem>_phone.png` and
   `<stem>_phone_articles.png` (390 px wide), and `<stem>_empty.png` (the empty form).
4. Stops Streamlit and Chromium.
Needs Debian's chromium (`apt-get install -y chromium`). The tests regenerate docs/ only when asked:
`DMZ_SCREENSHOT_DIR=docs` on the pytest command (integration_tests/test_support_form_browser.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer, Type  # noqa: E402

from destination_milvus_zendesk.config import parse_config  # noqa: E402
from destination_milvus_zendesk.destination import DestinationMilvusZendesk  # noqa: E402
from destination_milvus_zendesk.embedding.factory import create_embedder  # noqa: E402
from destination_milvus_zendesk.milvus import MilvusStore  # noqa: E402
from destination_milvus_zendesk.support.calibration import run_calibration  # noqa: E402
from destination_milvus_zendesk.support.search import SupportSearch  # noqa: E402
from test_support.browser import (DESKTOP, PHONE, Browser, chromium_path, open_form, streamlit_form,  # noqa: E402
                              submit_case)

APP = ROOT / "destination_milvus_zendesk" / "support_form.py"
SAMPLE = ROOT / "destination_milvus_zendesk" / "sample_data"
# the README's example: organization 360000105148 has three unsolved tickets about being charged twice
DUPLICATE = (360000105148, "I was charged twice this month")
QUESTION = "How do I set up SAML single sign-on with JumpCloud?"
NOTHING = "What's the weather like tomorrow?"


# --- demo collection ----------------------------------------------------------------------------


def write_collection(config: dict[str, Any]) -> int:
    """The bundled sample, written by the connector; the number of records."""
    catalog = ConfiguredAirbyteCatalogSerializer.load(json.loads((SAMPLE / "catalog.json").read_text()))
    messages = [AirbyteMessageSerializer.load(json.loads(line))
                for line in (SAMPLE / "zendesk_sample.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    for _ in DestinationMilvusZendesk().write(config, catalog, iter(messages)):
        pass
    return sum(m.type == Type.RECORD for m in messages)


def calibrate(config: dict[str, Any]) -> str:
    parsed = parse_config(config)
    store = MilvusStore(parsed.indexing)
    store.connect(create=False)
    try:
        store.describe()
        return run_calibration(parsed, store, create_embedder(parsed)).rule.origin
    finally:
        store.close()


def quiet_org(config: dict[str, Any]) -> int:
    """An organization with no ticket related to the question, for the articles-only screenshot."""
    search = SupportSearch.from_config(parse_config(config))
    try:
        orgs = sorted({q["organization_id"] for q in json.loads((SAMPLE / "eval_queries.json").read_text())["novel"]})
        return next((org for org in orgs if not search.lookup(QUESTION, org).tickets), orgs[0])
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
    """Child process: write the collection and calibrate it (Milvus Lite opens a .db file in one process only)."""
    config = {"embedding": {"mode": "local"},
              "indexing": {"host": str(work / "zendesk.db"), "collection": "zendesk", "create_collection": True},
              "processing": {"chunk_size": 1000, "text_fields": ["body", "title", "description", "subject"]}}
    (work / "config.json").write_text(json.dumps(config))
    records = write_collection(config)
    origin = calibrate(config)
    (work / "demo.json").write_text(json.dumps({"records": records, "rule": origin, "quiet_org": quiet_org(config)}))


def open_details(browser: Browser) -> None:
    """Opens the Details expander (a real click on its summary)."""
    browser.click("[...document.querySelectorAll('summary')].find(s => s.innerText.includes('Details'))")
    browser.wait_for("[...document.querySelectorAll('details')].some(d => d.open)")


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
    org, text = DUPLICATE
    print(f"demo collection: {demo['records']} records of the bundled sample, local model; {demo['rule']}")
    down = work / "down.json"
    down.write_text(json.dumps({**json.loads((work / "config.json").read_text()),
                                "indexing": {"host": "http://127.0.0.1:1", "collection": "zendesk",
                                             "timeout_seconds": 2}}))
    browser = None
    try:
        with streamlit_form(work / "config.json", work / "streamlit.log") as base, \
                streamlit_form(down, work / "streamlit-down.log") as down_base:
            url, quiet = f"{base}/?org={org}", f"{base}/?org={demo['quiet_org']}"
            browser = Browser(args.chromium)
            name = lambda suffix: out.with_name(f"{out.stem}_{suffix}.png")  # noqa: E731
            open_form(browser, url)
            browser.screenshot(name("empty"))
            print(f"{name('empty')}: the empty form")
            shoot(browser, DESKTOP, url, text, out)
            open_details(browser)
            browser.screenshot(name("details"))
            print(f"{name('details')}: the same, Details open")
            shoot(browser, DESKTOP, quiet, QUESTION, name("articles"))
            shoot(browser, DESKTOP, url, NOTHING, name("nothing"))
            shoot(browser, DESKTOP, url, "", name("input_error"))
            shoot(browser, DESKTOP, f"{down_base}/?org={org}", text, name("backend_down"))
            shoot(browser, PHONE, url, text, name("phone"))
            shoot(browser, PHONE, quiet, QUESTION, name("phone_articles"))
    finally:
        if browser is not None:
            browser.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
