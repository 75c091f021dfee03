"""The lookup from a shell: one case, a batch of JSONL cases in one process, or the calibration of
the configured embedding model.

    python -m destination_milvus_zendesk.query "text" --org 123 [--json] [--details] [--config config.json]
    python -m destination_milvus_zendesk.query --batch queries.jsonl --config config.json  (JSONL in, JSONL out)
    python -m destination_milvus_zendesk.query --calibrate --config config.json

Without --config: MILVUS_URL, MILVUS_TOKEN, OPENAI_API_KEY (and optional MILVUS_COLLECTION).
Imports stay light (no airbyte_cdk, no openai unless configured): a lookup starts in about a second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Iterator, Sequence

from ..embedding.factory import create_embedder
from ..command_line import JsonUsageParser, print_error
from ..errors import ConfigError, ConnectorError
from ..migration.shape import scanning_advice
from ..milvus import MilvusStore
from ..schema import DENSE, HYBRID
from .answer import render
from .calibration import Calibration, run_calibration
from .inputs import DEFAULT_STATUSES, TUTORIAL_STATUSES, QueryInputError, statuses_value
from .search import SupportSearch
from .settings import load_config

EXIT_OK, EXIT_SOME_LINES_FAILED, EXIT_ERROR = 0, 1, 2
EXIT_OUTPUT_CLOSED = 141  # as a command killed by SIGPIPE: the reader stopped reading (`| head`)
EXIT_CODES = """exit status:
  0    every lookup was answered (or the model was calibrated)
  1    --batch: some lines could not be answered (each has its {"line", "error", "kind"} line)
  2    nothing was answered: a usage, input or configuration error, or Milvus or the embedding
       service unavailable (one line on stderr; with --json or --batch a {"error", "kind"} object)
  141  the reader closed the output early (e.g. `| head`): the rest is not written"""


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
    A bad line gets {"line", "error"} and the batch goes on (exit status 1 at the end)."""
    out = out or sys.stdout
    failed = 0
    for number, line in _batch_lines(path):
        result, ok = _batch_answer(search, number, line, default_statuses)
        failed += not ok
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return EXIT_SOME_LINES_FAILED if failed else EXIT_OK


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
    if args.calibrate and (args.text or args.batch is not None):
        parser.error("--calibrate takes no text and no --batch")
    if not args.calibrate and args.batch is None and (not args.text or args.org is None):
        parser.error("the text and --org are required (or --batch FILE, or --calibrate)")
    try:
        status = _calibrate(args) if args.calibrate else _run(args)
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
        return status
    except BrokenPipeError:
        # the reader is gone: say nothing more (Python would print a traceback when it flushes stdout at exit)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OUTPUT_CLOSED


def _parser(json_errors: bool) -> JsonUsageParser:
    parser = JsonUsageParser(prog="python -m destination_milvus_zendesk.query", epilog=EXIT_CODES,
                             formatter_class=argparse.RawDescriptionHelpFormatter,
                             description="Find unsolved tickets of the same problem and helpful articles for a support case; "
                                         "or calibrate the configured embedding model for the collection "
                                         "(--calibrate).")
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
    parser.add_argument("--details", action="store_true", help="also print the scores and the rule behind the verdicts")
    parser.add_argument("--batch", metavar="FILE", help="JSONL queries ({\"text\", \"org\", \"status\", \"id\"}; - for "
                                                       "stdin): one JSON answer per line, in one process")
    parser.add_argument("--retrieval", choices=("auto", DENSE, HYBRID), default="auto",
                        help="how candidates are found: auto (default) is hybrid where the collection has a BM25 "
                             "full-text field, else dense")
    parser.add_argument("--tutorial", action="store_true",
                        help="the tutorial's behaviour: statuses 'new' only, 'Submitted!' and articles only without "
                             "a duplicate")
    parser.add_argument("--calibrate", action="store_true",
                        help="embed the calibration set shipped with the package (about 3,000 tokens) with the "
                             "configured model, fit its rule and store it with the collection")
    return parser


def _run(args: argparse.Namespace) -> int:
    """One lookup (or a batch) with the parsed arguments; errors as one line (JSON with --json/--batch)."""
    as_json = args.json or args.batch is not None
    search = None
    try:
        statuses = statuses_value(args.status or (TUTORIAL_STATUSES if args.tutorial else DEFAULT_STATUSES))
        search = SupportSearch.from_config(load_config(args.config, args.collection),
                                           zendesk_subdomain=args.zendesk_subdomain, retrieval=args.retrieval)
        _advise(search, args.config)
        if args.batch is not None:
            return run_batch(search, args.batch, statuses)
        answer = search.lookup(args.text, args.org, statuses)
        output = (json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if args.json
                  else render(answer, tutorial=args.tutorial, details=args.details))
    except (QueryInputError, ConnectorError) as exc:
        return _fail(exc, as_json)
    except BrokenPipeError:
        raise
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        return _fail(exc, as_json)
    finally:
        if search is not None:
            search.close()
    print(output)
    return EXIT_OK


def _advise(search: SupportSearch, config_file: str | None) -> None:
    """Once per run, on stderr (stdout stays the answers): a large collection whose filters scan every row.
    Only advice: a failure to give it never stops the lookups."""
    try:
        advice = scanning_advice(search.store, search.info, config_file or "<the connector's config file>")
    except ConnectorError:
        return
    if advice:
        print(f"note: {advice}", file=sys.stderr)


def _calibrate(args: argparse.Namespace) -> int:
    """Calibrate the configured model on the configured collection; one summary (JSON with --json)."""
    store = None
    try:
        config = load_config(args.config, args.collection)
        store = MilvusStore(config.indexing)
        store.connect(create=False)
        if store.describe() is None:
            raise ConfigError(f"Collection '{config.indexing.collection}' does not exist: run a sync first, then "
                              "calibrate.")
        calibration = run_calibration(config, store, create_embedder(config))
    except (QueryInputError, ConnectorError) as exc:
        return _fail(exc, args.json)
    except BrokenPipeError:
        raise
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        return _fail(exc, args.json)
    finally:
        if store is not None:
            store.close()
    print(json.dumps(_calibration_summary(calibration, config.indexing.collection), indent=2) if args.json
          else calibration_text(calibration, config.indexing.collection))
    return EXIT_OK


def _calibration_summary(calibration: Calibration, collection: str) -> dict[str, Any]:
    rule = json.loads(calibration.rule.to_json())
    return {"collection": collection, "model": calibration.rule.model, "texts": calibration.texts,
            "tokens": calibration.tokens, "rule": rule}


def calibration_text(calibration: Calibration, collection: str) -> str:
    """What calibrate did and what it cost, in a few lines (the CLI and the demo print it)."""
    rule, figures = calibration.rule, calibration.rule.figures
    dup, art = figures.get("duplicate", {}), figures.get("articles", {})
    return (f"Calibrated embedding model {rule.model} for collection '{collection}': embedded {calibration.texts} "
            f"texts of the calibration set, {calibration.tokens:,} tokens (cl100k_base count).\n"
            f"On the calibration set's deliberately hard pairs: duplicates precision {dup.get('precision', 0):.2f}, "
            f"recall {dup.get('recall', 0):.2f}; articles precision {art.get('precision', 0):.2f}, recall "
            f"{art.get('recall', 0):.2f} (held-out figures: docs/retrieval_quality.md).\n"
            "The rule is stored with the collection: the form, the CLI and the demo decide with it from now on.")


def _fail(exc: BaseException, as_json: bool) -> int:
    if isinstance(exc, ConnectorError):
        message, kind = exc.message, _error_kind(exc)
    elif isinstance(exc, QueryInputError):
        message, kind = str(exc), "input"
    else:
        message, kind = f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}", \
            "unexpected"
    print_error(message, kind, as_json)
    return EXIT_ERROR
