"""Copy the configured collection into one the connector creates, without embedding anything:

    python -m destination_milvus_zendesk.migrate --config CONFIG.json --to NEW_COLLECTION [--json]

The tutorial's hand-made collection keeps record ids and organizations in dynamic fields, which
Milvus filters by scanning every row: each sync and each lookup slows down as it grows. The copy
(migration/) has typed, indexed columns, rows keyed by record and chunk, and BM25 full text where
the backend has it; it carries the stored vectors, so it costs no embedding tokens.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from .command_line import JsonUsageParser, print_error
from .config import parse_config, read_json_object
from .errors import ConfigError, ConnectorError, TransientError
from .migration.copy import PAGE_ROWS, Migration, MigrationResult

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130
PROGRESS_EVERY_S = 2.0
EPILOG = """The configured collection (indexing.collection) is only read: never changed, never dropped.
Killed or interrupted, the same command continues where it stopped (rows are keyed, so nothing is
copied twice), and at the end the two collections must hold the same number of rows. Pause the
connection's syncs while it runs; afterwards set indexing.collection to the new name.

exit status:
  0    copied and verified (or an earlier run had already finished the copy)
  1    Milvus failed or the row counts differ: run the same command again, it resumes
  2    a usage or configuration error (one line says what to fix)
  130  interrupted: run the same command again, it resumes"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    parser.json_errors = "--json" in argv
    args = parser.parse_args(argv)
    progress = _ProgressLine(quiet=args.json)
    try:
        config = parse_config(read_json_object(args.config))
        result = Migration(config, args.to, page_rows=args.page_rows, on_progress=progress.show).run()
    except KeyboardInterrupt:
        return _fail("interrupted: run the same command again to continue where it stopped", "interrupted",
                     args.json, EXIT_INTERRUPTED)
    except ConfigError as exc:
        return _fail(exc.message, "config", args.json, EXIT_CONFIG)
    except ConnectorError as exc:
        kind = "transient" if isinstance(exc, TransientError) else "system"
        return _fail(exc.message, kind, args.json, EXIT_FAILED)
    except Exception as exc:  # noqa: BLE001 - the boundary: one line, never a traceback
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        return _fail(f"unexpected {type(exc).__name__}: {first} (run the same command again, it resumes)", "system",
                     args.json, EXIT_FAILED)
    progress.clear()
    print(json.dumps(summary(result)) if args.json else report(result, args.config))
    return EXIT_OK


def _parser() -> JsonUsageParser:
    parser = JsonUsageParser(
        prog="python -m destination_milvus_zendesk.migrate", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Copy the configured collection (e.g. the tutorial's hand-made one, whose filters scan every\n"
                    "row) into a new collection the connector creates: typed, indexed status, organization_id and\n"
                    "record columns, rows keyed by record and chunk, BM25 full text where Milvus has it. The stored\n"
                    "vectors and metadata are copied: 0 embedding tokens.")
    parser.add_argument("--config", required=True, help="the connector's config JSON (its indexing.collection is copied)")
    parser.add_argument("--to", required=True, metavar="NEW_COLLECTION",
                        help="the new collection, in the same Milvus and database (created by the command)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (rows, seconds, rows_per_s, tokens, source, target, ...); "
                             "errors as {\"error\", \"kind\"}")
    parser.add_argument("--page-rows", type=_page_rows, default=PAGE_ROWS,
                        help=f"rows read and written per request (default {PAGE_ROWS}; memory grows with it)")
    return parser


def _page_rows(value: str) -> int:
    try:
        rows = int(value)
    except ValueError:
        rows = 0
    if not 1 <= rows <= 16_384:
        raise argparse.ArgumentTypeError("must be an integer from 1 to 16384 (Milvus's query window)")
    return rows


class _ProgressLine:
    """`copied 12,000 of 100,000 rows (8,100 rows/s)` on stderr, every few seconds."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.first: tuple[float, int] | None = None  # (when, rows copied) at the first report of this run
        self.last = 0.0

    def show(self, copied: int, total: int) -> None:
        now = time.monotonic()
        self.first = self.first or (now, copied)
        if self.quiet or (now - self.last < PROGRESS_EVERY_S and copied < total):
            return
        self.last = now
        elapsed, rows = now - self.first[0], copied - self.first[1]
        rate = f" ({rows / elapsed:,.0f} rows/s)" if elapsed > 0 else ""
        print(f"copied {copied:,} of {total:,} rows{rate}", file=sys.stderr, flush=True)

    def clear(self) -> None:
        sys.stderr.flush()


def summary(result: MigrationResult) -> dict[str, Any]:
    """The --json object: what bench/ and scripts read."""
    return {"rows": result.rows, "copied": result.copied, "seconds": round(result.seconds, 3),
            "rows_per_s": round(result.rows_per_s, 1), "tokens": result.tokens, "source": result.source,
            "target": result.target, "resumed": result.resumed, "already_done": result.already_done,
            "retrieval": result.retrieval, "keyed": result.keyed, "own_keys": result.own_keys,
            "refused_values": result.refused, "config": {"indexing": {"collection": result.target}}}


def report(result: MigrationResult, config_path: str) -> str:
    """The summary in a few lines, ending with the config change to make."""
    if result.already_done:
        head = (f"'{result.target}' is already a complete copy of '{result.source}' ({result.rows:,} rows, "
                "counts verified again): nothing to copy.")
    else:
        again = " (continuing an interrupted run)" if result.resumed else ""
        head = (f"Copied '{result.source}' into '{result.target}'{again}: {result.copied:,} rows in {result.seconds:.1f} s "
                f"({result.rows_per_s:,.0f} rows/s), 0 embedding tokens (stored vectors copied); both hold "
                f"{result.rows:,} rows.")
    lines = [head, _shape_line(result)]
    for name, count in sorted(result.refused.items()):
        lines.append(f"{count:,} rows had a '{name}' value the typed column cannot hold: stored as the column's "
                     "sentinel, as a sync would have.")
    lines.append(f"'{result.source}' is unchanged. To use the copy, set in {config_path}: "
                 f'"indexing": {{..., "collection": "{result.target}"}}')
    return "\n".join(lines)


def _shape_line(result: MigrationResult) -> str:
    retrieval = ("BM25 full text and dense vectors" if result.retrieval == "hybrid"
                 else "dense vectors (this Milvus has no BM25)")
    keys = ("rows keyed by record and chunk" if result.keyed else
            "some rows under keys of their own (versions an append stream kept of one record, or rows without a "
            "chunk index), so syncs find a record's rows through the indexed record column")
    return f"'{result.target}' has typed, indexed status, organization_id and record columns, {keys}, {retrieval}."


def _fail(message: str, kind: str, as_json: bool, status: int) -> int:
    print_error(message, kind, as_json)
    return status


if __name__ == "__main__":
    sys.exit(main())
