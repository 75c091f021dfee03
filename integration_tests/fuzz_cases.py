"""Seeded generator of hostile input lines for `test_fuzz_input.py`.

Every case is one input line plus what the connector must do with it:

* `stored`:  a legal record (odd Unicode, lone surrogates, NaN, wrong value types, deep nesting,
             10 MB strings, field names Milvus cannot store, ids of every JSON type, ...) -> stored
             exactly once, with the chunks the connector's own DocumentBuilder/Chunker give;
* `no_text`: a record without text in the text fields -> a counted warning, nothing stored (and its
             old rows removed, in append_dedup);
* `ignored`: a legal non-record message (LOG, TRACE, CONTROL from the source) -> no effect;
* `fatal`:   not JSON, not an Airbyte message, a record for a stream not in the catalog, data that is
             not an object -> the sync stops with a TRACE error naming the line (and the stream).

`warnings` lists substrings of the warning reasons a case must add to the end-of-sync summary.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

sys.setrecursionlimit(max(sys.getrecursionlimit(), 4000))  # json.loads/dumps of 1000-deep cases
STREAMS = ("tickets", "articles")
ODD_TEXT = ["😀", "👩‍👩‍👧‍👦", "שָׁלוֹם עולם", "مرحبا بالعالم", "漢字テキスト", "e\u0301\u0302", "\u200b\u200d\u2060",
            "\u2028\u2029", "\ufeff", "\U0001F600" * 40, "\ue000\U000F0000", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\u0000", "\x01\x07\x1b\x7f",
            "\t\r\n", "Ω≈ç√∫", "\\", '"', "'", "<script>alert(1)</script>", "' or 1 == 1 --", '" or ""="',
            "${jndi:ldap://x}", "%s%n%x", "\u202egnp.exe", "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇", "\ud7ff\ue000\ufffd\uffff"]
BAD_NAMES = ["", " ", "a b", "a-b", "a_b", "名前", "$meta", "1st", "x" * 300, "_ab_stream", "_ab_record_id", "id",
             "vector", "text", "__proto__", "a.b", "tab\tkey", "nul\u0000key", "emoji😀", "UPPER", "upper", "-", "$", "#", "@type",
             "_id", "__id", "_ab_chunk", "_ab_gen", "_ab_write", "_ab_hash", "count(*)", "a[0]", "a\"b", "a'b",
             "select * from x", "é", "\ud800key"]


@dataclass
class Case:
    category: str
    line: bytes
    expect: str  # stored | no_text | ignored | fatal
    stream: str | None = None
    record_id: str | None = None
    message: dict[str, Any] | None = None  # as the connector decodes it (for the oracle)
    warnings: tuple[str, ...] = ()
    error: tuple[str, ...] = ()  # substrings of the fatal TRACE message (besides the line number)
    notes: list[str] = field(default_factory=list)


def record(stream: str, data: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1700000000000, **extra}}


def dumps(message: Any, rng: random.Random) -> bytes:
    return json.dumps(message, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")


def decoded(line: bytes) -> dict[str, Any]:
    """The message as the connector sees it: non-UTF-8 replaced, then JSON (lone surrogates, NaN kept)."""
    return json.loads(line.decode("utf-8", "replace"))


class Generator:
    """`soft(n)`: records and other legal messages for one batched run; `fatal(n)`: lines that stop a sync."""

    def __init__(self, seed: int, huge: bool = True) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.next_id = 0
        self.huge = huge

    def _id(self) -> int:
        self.next_id += 1
        return 100_000 + self.next_id

    def _base(self, stream: str | None = None) -> tuple[str, dict[str, Any]]:
        stream = stream or self.rng.choice(STREAMS)
        i = self._id()
        if stream == "tickets":
            return stream, {"id": i, "subject": f"Fuzz case {i}", "status": self.rng.choice(["new", "open"]),
                            "organization_id": self.rng.randint(1, 5),
                            "description": f"Case {i}: the customer cannot export invoice {i * 7}."}
        return stream, {"id": i, "title": f"Fuzz article {i}", "body": f"<p>Article {i}: open <b>Billing</b>.</p>",
                        "html_url": f"https://help.example.com/a/{i}"}

    def _text_key(self, stream: str) -> str:
        return "description" if stream == "tickets" else "body"

    def _case(self, category: str, message: dict[str, Any], expect: str = "stored", line: bytes | None = None,
              warnings: tuple[str, ...] = ()) -> Case:
        line = line if line is not None else dumps(message, self.rng)
        rec = message["record"]
        return Case(category, line, expect, rec["stream"], None, decoded(line), warnings)

    # --- legal records ---------------------------------------------------------------------------

    def odd_unicode(self) -> Case:
        stream, data = self._base()
        data[self._text_key(stream)] = "".join(self.rng.choice(ODD_TEXT) for _ in range(self.rng.randint(1, 12)))
        data["tags"] = [self.rng.choice(ODD_TEXT) for _ in range(3)]
        return self._case("odd unicode and control characters", record(stream, data))

    def lone_surrogate(self) -> Case:
        stream, data = self._base()
        s = self.rng.choice(["\ud800", "\udfff", "\udbff\udbff", "x\udc00y"])
        where = self.rng.choice(["text", "metadata", "key"])
        if where == "text":
            data[self._text_key(stream)] += s
        elif where == "metadata":
            data["note"] = f"broken {s} emoji"
        else:
            data[f"k{s}"] = "value"
        line = json.dumps(record(stream, data), ensure_ascii=True).encode()  # "\\ud800": valid JSON, invalid UTF-8
        return self._case("lone surrogates", record(stream, data), line=line)

    def non_utf8(self) -> Case:
        stream, data = self._base()
        data[self._text_key(stream)] += " MARKER"
        line = dumps(record(stream, data), self.rng).replace(b"MARKER", self.rng.choice(
            [b"\xff\xfe", b"\xc3\x28", b"\xe2\x82", b"caf\xe9", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]))
        return self._case("non-UTF-8 bytes", record(stream, data), line=line)

    def null_text(self) -> Case:
        stream, data = self._base()
        keys = ["subject", "description"] if stream == "tickets" else ["title", "body"]
        style = self.rng.choice(["null", "missing", "empty", "blank", "html-empty"])
        for key in keys:
            if style == "null":
                data[key] = None
            elif style == "missing":
                del data[key]
            elif style == "empty":
                data[key] = ""
            elif style == "blank":
                data[key] = " \t\n "
            else:
                data[key] = "<p> </p><br/>" if key in ("body", "description") else None
        return self._case("nulls where text is expected", record(stream, data), "no_text",
                          warnings=("record with no text",))

    def wrong_types(self) -> Case:
        stream, data = self._base()
        value = self.rng.choice([42, -1, 3.14, 1e308, -0.0, True, False, [1, "a", None], {"k": "v", "n": [1, 2]},
                                 [], {}, [[[]]], "0"])
        data[self._text_key(stream)] = value
        data["organization_id"] = self.rng.choice(["7", None, [1], {"id": 1}, 7.5, True])
        data["status"] = self.rng.choice([1, None, ["open"], {"s": 1}])
        return self._case("mistyped fields", record(stream, data))

    def deep(self) -> Case:
        """Nested containers up to 1000 levels (what orjson accepts is 1024), built as text."""
        stream, data = self._base()
        depth = self.rng.choice([9, 20, 64, 200, 500, 1000])
        opened = "".join('{"level": ' if k % 2 else "[" for k in range(depth))
        closed = "".join("}" if k % 2 else "]" for k in reversed(range(depth)))
        where = self.rng.choice(["custom", self._text_key(stream)])
        data[where] = "__DEEP__"
        line = dumps(record(stream, data), self.rng).replace(b'"__DEEP__"', f'{opened}"bottom"{closed}'.encode())
        return self._case("deep nesting", record(stream, data), line=line, warnings=("nested deeper than 8 levels",))

    def huge_string(self, in_text: bool | None = None) -> Case:
        stream, data = self._base()
        size = 10 * 1024 * 1024 if self.huge else 300_000
        if not (self.rng.random() < 0.5 if in_text is None else in_text):
            data["blob"] = ("0123456789abcdef" * (size // 16 + 1))[:size]
            warnings = ("metadata field 'blob' truncated",)
        else:  # a 10 MB text: hundreds of chunks (its metadata copy is truncated)
            words = "export stalls on quoted newline while the retry button spins forever ".split()
            data[self._text_key(stream)] = " ".join(self.rng.choice(words) for _ in range(size // 7))[:size]
            warnings = (f"metadata field '{self._text_key(stream)}' truncated",)
        return self._case("10 MB strings", record(stream, data), warnings=warnings)

    def bad_names(self) -> Case:
        stream, data = self._base()
        for name in self.rng.sample(BAD_NAMES, self.rng.randint(3, 10)):
            data[name] = self.rng.choice([1, "v", None, [1], {"a": name}])
        return self._case("field names Milvus cannot store", record(stream, data))

    def id_types(self) -> Case:
        stream, data = self._base()
        i = data["id"]
        data["id"] = self.rng.choice([
            i, -i, str(i), f"id-{i}", f"ключ-{i}😀", f"{i}.5", float(i) + 0.25, 2 ** 63 + i, -(2 ** 70) - i,
            [i, "x"], {"a": i}, {"a": {"b": [i]}}, f"{i}" + "x" * 3000, f"quote\"{i}'\\", f"{i}\u0000nul",
            f"\ud800{i}", f"space {i} ",
        ])
        return self._case("ids of every JSON type", record(stream, data))

    def no_id(self) -> Case:
        stream, data = self._base()
        if self.rng.random() < 0.5:
            del data["id"]
        else:
            data["id"] = None
        return self._case("missing or null primary key", record(stream, data), warnings=("primary key",))

    def too_much_metadata(self) -> Case:
        stream, data = self._base()
        for k in range(self.rng.randint(60, 400)):
            data[f"field_{k}"] = "m" * self.rng.randint(500, 1500)
        return self._case("metadata too large", record(stream, data), warnings=("dropped",))

    def non_finite(self) -> Case:
        stream, data = self._base()
        data["score"] = 0.5
        token = self.rng.choice(["NaN", "Infinity", "-Infinity", "1e999"])
        line = dumps(record(stream, data), self.rng).replace(b"0.5", token.encode(), 1)
        return self._case("NaN and Infinity", record(stream, data), line=line, warnings=("non-finite",))

    def big_numbers(self) -> Case:
        stream, data = self._base()
        data["big"] = self.rng.choice([2 ** 64, -(2 ** 63) - 1, 10 ** 30, 2 ** 63 - 1, 1.7976931348623157e308, 5e-324])
        data["nested_big"] = {"n": [2 ** 80, 1]}
        return self._case("numbers beyond 64 bits", record(stream, data))

    def html(self) -> Case:
        _, data = self._base("articles")
        data["body"] = self.rng.choice([
            "<p>unclosed <b>bold <i>italic", "<div>" * 2000 + "deep" + "</div>" * 2000,
            "<script>var x = '</p>';</script><p>visible</p>", "&amp;&lt;&#x1F600;&#0;&#xD800;&bogus; text",
            "<p>" + "&nbsp;" * 5000 + "spaces</p>", "<!-- comment --><![CDATA[ x ]]><p>after</p>",
            "<<<>>> <p/> </ p> <a href='javascript:alert(1)'>link</a>", "<style>p{}</style>",
        ])
        return self._case("odd HTML", record("articles", data))

    def no_separators(self) -> Case:
        stream, data = self._base()
        data[self._text_key(stream)] = "".join(self.rng.choice("abcdefghij0123456789") for _ in range(30_000))
        return self._case("text without separators", record(stream, data))

    def extra_fields(self) -> Case:
        stream, data = self._base()
        message = record(stream, data)
        choice = self.rng.choice(["namespace-null", "unknown-key", "meta"])
        if choice == "namespace-null":
            message["record"]["namespace"] = None
        elif choice == "unknown-key":
            message["unexpected"] = {"x": 1}
            message["record"]["also_unexpected"] = [1]
        else:
            message["record"]["meta"] = {"changes": [{"field": "description", "change": "TRUNCATED",
                                                      "reason": "SOURCE_FIELD_SIZE_LIMITATION"}]}
        return self._case("unexpected message fields", message)

    def other_message(self) -> Case:
        message = self.rng.choice([
            {"type": "LOG", "log": {"level": "INFO", "message": "source says hi"}},
            {"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1.0, "stream_status": {
                "stream_descriptor": {"name": "tickets"}, "status": "RUNNING"}}},
            {"type": "CONTROL", "control": {"type": "CONNECTOR_CONFIG", "emitted_at": 1.0,
                                            "connectorConfig": {"config": {"x": 1}}}},
        ])
        line = dumps(message, self.rng)
        return Case("other message types", line, "ignored", message=decoded(line))

    SOFT: list[tuple[Callable[["Generator"], Case], int]] = [
        (odd_unicode, 12), (lone_surrogate, 6), (non_utf8, 5), (null_text, 6), (wrong_types, 8), (deep, 5),
        (bad_names, 8), (id_types, 10), (no_id, 1), (too_much_metadata, 3), (non_finite, 4), (big_numbers, 4),
        (html, 4), (no_separators, 1), (extra_fields, 4), (other_message, 3),
    ]

    def soft(self, n: int, huge: int = 0) -> list[Case]:
        """n weighted random legal cases, plus `huge` 10 MB strings."""
        makers = [m for m, _ in self.SOFT]
        weights = [w for _, w in self.SOFT]
        cases = [self.rng.choices(makers, weights)[0](self) for _ in range(n)]
        cases += [self.huge_string() for _ in range(huge)]
        self.rng.shuffle(cases)
        return cases

    # --- lines that stop the sync ----------------------------------------------------------------------

    def fatal(self) -> Case:
        stream, data = self._base()
        good = json.dumps(record(stream, data))
        kind = self.rng.choice(["json", "json", "message", "message", "stream", "data", "bytes"])
        if kind == "json":
            line = self.rng.choice([
                good[: self.rng.randint(1, len(good) - 1)], good + ",", good.replace('"', "'"), good + "}",
                "{", "]", "[1, 2", "nul", "tru", "\x00", good.replace(":", "=", 1),
                "{\"type\": \"RECORD\", \"record\": {\"stream\": \"tickets\","
                " \"data\": {\"id\": 1, \"subject\": \"raw\x01control\"}, \"emitted_at\": 1}}",
                "{\"type\": \"RECORD\",}", "{\"a\": 1e99999999999999999999}", "0x1F", "// comment", "{\"a\": .5}",
                "[" * 2000 + "]" * 2000,
            ]).encode("utf-8", "surrogatepass")
            return Case("invalid JSON", line, "fatal", error=("not valid JSON", "not an Airbyte message"))
        if kind == "bytes":
            line = self.rng.choice([b"\xff\xfe{\"type\":\"RECORD\"}", b"\x80\x81\x82", good.encode()[:30] + b"\xff"])
            return Case("invalid JSON", line, "fatal", error=("not valid JSON",))
        if kind == "message":
            message = self.rng.choice([
                {}, [], None, 1, "RECORD", True, {"type": "RECORDS"}, {"type": 1}, {"type": None}, {"record": {}},
                {"type": "RECORD"}, {"type": "RECORD", "record": None}, {"type": "RECORD", "record": "x"},
                {"type": "RECORD", "record": {"stream": "tickets"}},
                {"type": "RECORD", "record": {"data": data, "emitted_at": 1}},
                {"type": "RECORD", "record": {"stream": 5, "data": data, "emitted_at": 1}},
                {"type": "RECORD", "record": {"stream": None, "data": data, "emitted_at": 1}},
                {"type": "RECORD", "record": {"stream": "tickets", "data": data, "emitted_at": "yesterday"}},
                {"type": "RECORD", "record": {"stream": "tickets", "data": data}},
                {"type": "RECORD", "record": {"stream": "tickets", "data": data, "emitted_at": 1.5}},
                {"type": "STATE"}, {"type": "STATE", "state": None}, {"type": "STATE", "state": "cursor"},
                {"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {}}}},
                {"type": "STATE", "state": {"type": "BOGUS", "data": {}}},
                {"type": "record", "record": record(stream, data)["record"]},
            ])
            return Case("not an Airbyte message", json.dumps(message).encode(), "fatal",
                        error=("not an Airbyte message",), message={"raw": message})
        if kind == "stream":
            name = self.rng.choice(["users", "Tickets", "tickets ", "", "articles\u0000", "ticket", "ß" * 300])
            message = record(name, data)
            if self.rng.random() < 0.3:
                message = record(stream, data, namespace=self.rng.choice(["zendesk", "public", ""]))
                name = f"{message['record']['namespace']}_{stream}" if message["record"]["namespace"] else stream
                if not message["record"]["namespace"]:
                    message = record(name + "_x", data)
                    name = name + "_x"
            return Case("record for an unknown stream", json.dumps(message).encode(), "fatal", stream=name,
                        error=("not in the configured catalog",))
        value = self.rng.choice([[1, 2], "text", 5, None, True, [data]])
        return Case("data that is not an object", json.dumps(record(stream, value)).encode(), "fatal", stream=stream,
                    error=("has no JSON object as data", "not an Airbyte message"))
