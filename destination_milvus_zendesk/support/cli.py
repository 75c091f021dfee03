"""The lookup from a shell: one case, or a batch of JSONL cases in one process.

    python -m destination_milvus_zendesk.query "text" --org 123 [--json] [--config config.json]
    python -m destination_milvus_zendesk.query --batch queries.jsonl --config config.json  (JSONL in, JSONL out)

Without --config: MILVUS_URL, MILVUS_TOKEN, OPENAI_API_KEY (and optional MILVUS_COLLECTION).
Imports stay light (no airbyte_cdk, no openai unless configured): a lookup starts in about a second.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Iterator, Sequence

from ..errors import ConfigError, ConnectorError
from ..milvus_store import DENSE, HYBRID
from .answer import render
from .inputs import DEFAULT_STATUSES, TUTORIAL_STATUSES, QueryInputError, statuses_value
from .search import SupportSearch
from .settings import load_config


class _Parser(argparse.ArgumentParser):
    """argparse, except that with --json a usage error is a JSON object on stdout too."""

    json_errors = False

    def error(self, message: str) -> Any:  # type: ignore[override]
        if self.json_errors:
            print(json.dumps({"error": f"{message} (see --help)", "kind": "usage"}))
            sys.exit(2)
        super().error(message)


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, QueryInputError):
        return "input"
    if isinstance(exc, ConfigError):
        return "config"
    return "unavailable"


def _batch_lines(path: str) -> Iterator[tuple[int, str]]:
    handle = sys.stdin if path == "-" else open(path, encoding="utf-8")
    try:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, line
    finally:
        if handle is not sys.stdin:
            handle.close()


def run_batch(search: SupportSearch, path: str, default_statuses: Sequence[str] | str, out: Any = None) -> int:
    """JSONL in ({"text", "org", optional "status", optional "id"}), one JSON answer per line out, in order.
    A bad line gets {"line", "error"} and the batch goes on; the exit code is 1 if any line failed."""
    out = out or sys.stdout
    failed = 0
    for number, line in _batch_lines(path):
        result, ok = _batch_answer(search, number, line, default_statuses)
        failed += not ok
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return 1 if failed else 0


def _batch_answer(search: SupportSearch, number: int, line: str,
                  default_statuses: Sequence[str] | str) -> tuple[dict[str, Any], bool]:
    """(one batch line's answer, True), or ({"line", "error", "kind"} with the line's "id" if any, False)."""
    item: Any = None
    try:
        item = json.loads(line)
        if not isinstance(item, dict):
            raise QueryInputError("each line must be a JSON object with text and org")
        if "org" not in item and "organization_id" not in item:
            raise QueryInputError("missing org (the organization id)")
        answer = search.lookup(str(item.get("text") or ""), item.get("org", item.get("organization_id")),
                               item.get("status") or default_statuses)
        return {"line": number, **({"id": item["id"]} if "id" in item else {}), **answer.to_dict()}, True
    except (QueryInputError, ConnectorError, ValueError) as exc:
        return _batch_error(number, item, exc), False


def _batch_error(number: int, item: Any, exc: Exception) -> dict[str, Any]:
    message = exc.message if isinstance(exc, ConnectorError) else str(exc)
    if isinstance(exc, ValueError) and not isinstance(exc, QueryInputError):
        message = f"not a JSON object: {exc}"
    return {"line": number, **({"id": item["id"]} if isinstance(item, dict) and "id" in item else {}),
            "error": message, "kind": _error_kind(exc) if not isinstance(exc, json.JSONDecodeError) else "input"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(json_errors="--json" in argv or "--batch" in argv)
    args = parser.parse_args(argv)
    if args.batch is None and (not args.text or args.org is None):
        parser.error("the text and --org are required (or --batch FILE)")
    return _run(args)


def _parser(json_errors: bool) -> "_Parser":
    parser = _Parser(prog="python -m destination_milvus_zendesk.query",
                     description="Find duplicate unsolved tickets and helpful articles for a support case.")
    parser.json_errors = json_errors
    parser.add_argument("text", nargs="?", help="the customer's description of the problem")
    parser.add_argument("--org", help="the customer's organization id (integer)")
    parser.add_argument("--status", action="append",
                        help="ticket statuses that count as open, comma-separated or repeated "
                             f"(default: {','.join(DEFAULT_STATUSES)}, Zendesk's unsolved tickets; the tutorial: new)")
    parser.add_argument("--config", help="the connector's config JSON (default: MILVUS_URL/MILVUS_TOKEN/OPENAI_API_KEY)")
    parser.add_argument("--collection", help="collection name (overrides the config)")
    parser.add_argument("--zendesk-subdomain", help="for ticket links: acme or acme.zendesk.com (default: from the "
                                                    "tickets' url field, or ZENDESK_SUBDOMAIN)")
    parser.add_argument("--json", action="store_true", help="print JSON (errors too, as {\"error\": ...})")
    parser.add_argument("--batch", metavar="FILE", help="JSONL queries ({\"text\", \"org\", \"status\", \"id\"}; - for "
                                                       "stdin): one JSON answer per line, in one process")
    parser.add_argument("--retrieval", choices=("auto", DENSE, HYBRID), default="auto",
                        help="auto (default): hybrid where the collection has a BM25 full-text field, else dense")
    parser.add_argument("--tutorial", action="store_true",
                        help="the tutorial's behaviour: statuses 'new' only, 'Submitted!' and articles only without "
                             "a duplicate")
    return parser


def _run(args: argparse.Namespace) -> int:
    """One lookup (or a batch) with the parsed arguments; errors as one line (JSON with --json/--batch)."""
    as_json = args.json or args.batch is not None
    search = None
    try:
        statuses = statuses_value(args.status or (TUTORIAL_STATUSES if args.tutorial else DEFAULT_STATUSES))
        search = SupportSearch.from_config(load_config(args.config, args.collection),
                                           zendesk_subdomain=args.zendesk_subdomain, retrieval=args.retrieval)
        if args.batch is not None:
            return run_batch(search, args.batch, statuses)
        answer = search.lookup(args.text, args.org, statuses)
    except (QueryInputError, ConnectorError) as exc:
        message = exc.message if isinstance(exc, ConnectorError) else str(exc)
        return _fail(message, _error_kind(exc), as_json)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        return _fail(f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
                     "unexpected", as_json)
    finally:
        if search is not None:
            search.close()
    print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if args.json
          else render(answer, tutorial=args.tutorial))
    return 0


def _fail(message: str, kind: str, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"error": message, "kind": kind}))
    else:
        print(f"error: {message}", file=sys.stderr)
    return 2
