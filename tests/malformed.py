"""A corpus of malformed Kafka message values, each with the dead-letter reason the tick contract gives it.

The expected reasons are written here from the contract table (market_pipeline/schema.py, the README),
rule by rule, before running anything: they are never captured from the decoder. Rules apply in the
table's order, so a value breaking two rules expects the earlier one. Where a case's reason depends on
the order, the comment says which rule comes first.

`EDGE_VALID` lists unusual spellings the contract accepts (they must land as rows, unchanged in meaning).

Both lists are built from one valid tick (the simulator's, see tests/ticks.py) and `now`, the broker
time the messages will get (give or take the production's duration): time-relative cases (in the
future beyond the skew, or just inside it) are placed relative to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from market_pipeline.schema import MAX_MESSAGE_BYTES, MAX_NESTING


@dataclass(frozen=True)
class Case:
    kind: str
    value: bytes | None
    reason: str | None  # None: a valid tick (EDGE_VALID)


def dumps(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


REQUIRED = (
    "schema_version",
    "event_type",
    "symbol",
    "event_time",
    "seq",
    "exchange",
    "price",
    "bid",
    "bid_size",
    "ask",
    "ask_size",
)


def malformed(base: dict, now: datetime) -> list[Case]:
    """Malformed values and their reasons. `base` is a valid trade (size present), event time before `now`."""
    assert base["event_type"] == "trade" and base["size"] is not None
    good = dumps(base)
    quote = {**base, "event_type": "quote", "size": None}

    def tick(**changes: object) -> bytes:
        return dumps({**base, **changes})

    def without(*names: str) -> bytes:
        return dumps({k: v for k, v in base.items() if k not in names})

    def raw_field(name: str, literal: str) -> bytes:
        """The tick with one field's value spelled as the raw JSON text `literal`."""
        marker = '"@@"'
        return dumps({**base, name: "@@"}).replace(marker.encode(), literal.encode())

    cases: list[Case] = []

    def add(kind: str, value: bytes | None, reason: str) -> None:
        cases.append(Case(kind, value, reason))

    # -- message level, in the table's order ----------------------------------------------------------
    add("tombstone (no value)", None, "null_value")
    add("oversized: a tick padded past the limit", good[:-1] + b" " * MAX_MESSAGE_BYTES + b"}", "oversized")
    add("oversized: 100 KiB of x", b"x" * 100 * 1024, "oversized")
    add("oversized: null padded past the limit", b"null" + b" " * MAX_MESSAGE_BYTES, "oversized")
    add("empty value", b"", "empty_message")
    add("only spaces", b"    ", "empty_message")
    add("only JSON whitespace", b" \t\r\n \n", "empty_message")
    add("latin-1 byte in a symbol", good.replace(base["symbol"].encode(), b"\xc4PL"), "not_utf8")
    add("UTF-16 with a BOM", json.dumps(base).encode("utf-16"), "not_utf8")
    add("overlong UTF-8 for '/'", good.replace(dumps(base["exchange"]), b'"\xc0\xaf"'), "not_utf8")
    add("UTF-8-encoded surrogate", b'{"symbol":"\xed\xa0\x80"}', "not_utf8")
    add("truncated multi-byte sequence at the end", good + b"\xe2\x82", "not_utf8")
    add("binary garbage", bytes(range(256)), "not_utf8")
    # Depth is measured before parsing, so deep text is too_deep even when it is also invalid JSON.
    add("2000 nested arrays", b"[" * 2000 + b"]" * 2000, "too_deep")
    add("500 nested objects", b'{"a":' * 500 + b"1" + b"}" * 500, "too_deep")
    add("a tick with a 1,900-deep extra field", good[:-1] + b',"x":' + b"[" * 1900 + b"]" * 1900 + b"}", "too_deep")
    add(f"depth {MAX_NESTING + 1}", b'{"a":' + b"[" * MAX_NESTING + b"1" + b"]" * MAX_NESTING + b"}", "too_deep")
    add("3000 unclosed brackets", b"[" * 3000, "too_deep")
    add("UTF-8 BOM before a valid tick", b"\xef\xbb\xbf" + good, "invalid_json")
    add("UTF-16 without a BOM (NUL bytes)", json.dumps(base).encode("utf-16-le"), "invalid_json")
    add("truncated tick", good[: len(good) // 2], "invalid_json")
    add("a lone {", b"{", "invalid_json")
    add("a lone }", b"}", "invalid_json")
    add("trailing comma", good[:-1] + b",}", "invalid_json")
    add("single-quoted strings", good.replace(b'"', b"'"), "invalid_json")
    add("comment", b"/* tick */" + good, "invalid_json")
    add("two ticks in one value", good + good, "invalid_json")
    add("two ticks on two lines", good + b"\n" + good, "invalid_json")
    add("tick then garbage", good + b" x", "invalid_json")
    add("nullx", b"nullx", "invalid_json")
    add("null,null", b"null,null", "invalid_json")
    add("NULL in capitals", b"NULL", "invalid_json")
    add("NaN price", raw_field("price", "NaN"), "invalid_json")
    add("Infinity price", raw_field("price", "Infinity"), "invalid_json")
    add("-Infinity bid", raw_field("bid", "-Infinity"), "invalid_json")
    add("unquoted key", good.replace(b'"seq"', b"seq"), "invalid_json")
    add("raw control character in a string", good.replace(base["symbol"].encode(), b"AA\x01PL"), "invalid_json")
    add("raw line break in a string", good.replace(base["symbol"].encode(), b"AA\nPL"), "invalid_json")
    add("hexadecimal number", raw_field("seq", "0x10"), "invalid_json")
    add("leading zero", raw_field("seq", "0123"), "invalid_json")
    add("leading plus", raw_field("seq", "+5"), "invalid_json")
    add("number ending in a dot", raw_field("price", "1."), "invalid_json")
    add("a NUL byte", b"\x00", "invalid_json")
    add("the JSON literal null", b"null", "not_an_object")
    add("null with a leading space", b" null", "not_an_object")
    add("null with a trailing space", b"null ", "not_an_object")
    add("null between line breaks", b"\nnull\n", "not_an_object")
    add("true", b"true", "not_an_object")
    add("a number", b"-1.5e3", "not_an_object")
    add("a string", b'"AAPL"', "not_an_object")
    add("an empty array", b"[]", "not_an_object")
    add("an array of a tick", b"[" + good + b"]", "not_an_object")
    add(
        f"depth {MAX_NESTING} inside an extra field",
        good[:-1] + b',"x":' + b"[" * (MAX_NESTING - 1) + b"1" + b"]" * (MAX_NESTING - 1) + b"}",
        "unexpected_field:x",
    )
    add("brackets inside a string do not nest", b'{"a":"' + b"[" * 40 + b'"}', "unexpected_field:a")

    # -- field rules ------------------------------------------------------------------------------------
    add("empty object", b"{}", "missing_field:schema_version")
    add("extra field", tick(venue="XNAS"), "unexpected_field:venue")
    add("extra null field", tick(venue=None), "unexpected_field:venue")
    add("two extra fields: the first in the document", dumps({"zz": 1, **base, "aa": 2}), "unexpected_field:zz")
    add(
        "field name in another case",
        dumps({**{k: v for k, v in base.items() if k != "symbol"}, "Symbol": "AAPL"}),
        "unexpected_field:Symbol",
    )
    add("field name with a trailing space", dumps({**base, "seq ": 1}), "unexpected_field:seq ")
    add("duplicate field, another value", good[:-1] + b',"seq":1}', "duplicate_field:seq")
    add(
        "duplicate field, same value",
        good[:-1] + b',"symbol":' + json.dumps(base["symbol"]).encode() + b"}",
        "duplicate_field:symbol",
    )
    # unexpected_field comes before duplicate_field and missing_field
    add("unknown and duplicate", good[:-1] + b',"seq":1,"venue":1}', "unexpected_field:venue")
    for name in REQUIRED:
        add(f"missing {name}", without(name), f"missing_field:{name}")
    for name in REQUIRED:
        add(f"null {name}", tick(**{name: None}), f"null_field:{name}")
    add(
        "missing and null: missing_field first",
        dumps({**{k: v for k, v in base.items() if k != "ask"}, "seq": None}),
        "missing_field:ask",
    )
    wrong_types = [
        ("schema_version", '"1"'),
        ("schema_version", "1.0"),
        ("schema_version", "true"),
        ("schema_version", "2147483648"),
        ("event_type", "1"),
        ("symbol", "123"),
        ("symbol", '["AAPL"]'),
        ("symbol", '{"s":"AAPL"}'),
        ("event_time", "1764081000000"),
        ("seq", "1.5"),
        ("seq", "1e3"),
        ("seq", '"12"'),
        ("seq", "9223372036854775808"),
        ("seq", "false"),
        ("exchange", "5"),
        ("price", '"189.10"'),
        ("price", "true"),
        ("price", "[1]"),
        ("size", "1.5"),
        ("size", '"100"'),
        ("bid_size", "1e3"),
        ("ask_size", "-1.0"),
        ("ask", '"x"'),
    ]
    for name, literal in wrong_types:
        add(f"{name} = {literal}", raw_field(name, literal), f"wrong_type:{name}")
    add("schema version 2", tick(schema_version=2), "unsupported:schema_version")
    add("schema version 0", tick(schema_version=0), "unsupported:schema_version")
    add("schema version -1", tick(schema_version=-1), "unsupported:schema_version")
    add("event type cancel", tick(event_type="cancel"), "unknown:event_type")
    add("event type in capitals", tick(event_type="TRADE"), "unknown:event_type")
    add("empty event type", tick(event_type=""), "unknown:event_type")
    for label, symbol in [
        ("empty", ""),
        ("whitespace only", "   "),
        ("lowercase", "aapl"),
        ("trailing space", "AAPL "),
        ("unicode letter", "ÄPPL"),
        ("escaped tab", "AA\tPL"),
        ("escaped NUL", "AAPL\u0000"),
        ("3,000 characters", "X" * 3000),
        ("17 characters", "A" * 17),
        ("leading dot", ".AAPL"),
        ("lone surrogate escape", "\ud800"),
    ]:
        add(f"symbol: {label}", tick(symbol=symbol), "invalid:symbol")
    for label, exchange in [
        ("lowercase", "xnas"),
        ("one character", "X"),
        ("11 characters", "XNASXNASXNA"),
        ("unicode", "BÖRSE"),
        ("empty", ""),
    ]:
        add(f"exchange: {label}", tick(exchange=exchange), "invalid:exchange")
    event = datetime.fromisoformat(base["event_time"].replace("Z", "+00:00"))
    day = event.strftime("%Y-%m-%d")
    for label, text in [
        ("no zone", event.strftime("%Y-%m-%dT%H:%M:%S")),
        ("date only", day),
        ("space instead of T", event.strftime("%Y-%m-%d %H:%M:%SZ")),
        ("seven fraction digits", event.strftime("%Y-%m-%dT%H:%M:%S.1234567Z")),
        ("empty fraction", event.strftime("%Y-%m-%dT%H:%M:%S.Z")),
        ("offset without a colon", event.strftime("%Y-%m-%dT%H:%M:%S+0100")),
        ("month 13", event.strftime("%Y-13-%dT%H:%M:%SZ")),
        ("February 30", event.strftime("%Y-02-30T%H:%M:%SZ")),
        ("hour 24", f"{day}T24:00:00Z"),
        ("leap second", f"{day}T23:59:60Z"),
        ("a word", "yesterday"),
        ("empty", ""),
        ("epoch seconds as text", "1764081000"),
    ]:
        add(f"event_time: {label}", tick(event_time=text), "invalid_timestamp:event_time")
    add("event_time in year 1", tick(event_time="0001-01-01T00:00:00Z"), "too_old:event_time")
    add("event_time at the epoch", tick(event_time="1970-01-01T00:00:00Z"), "too_old:event_time")
    add("event_time just before the floor", tick(event_time="1989-12-31T23:59:59.999999Z"), "too_old:event_time")
    add("event_time in 2100", tick(event_time="2100-01-01T00:00:00Z"), "in_future:event_time")
    add("event_time in 9999", tick(event_time="9999-12-31T23:59:59Z"), "in_future:event_time")
    add("event_time an hour ahead", tick(event_time=iso(now + timedelta(hours=1))), "in_future:event_time")
    add(
        "event_time 10 minutes ahead (beyond the 5-minute skew)",
        tick(event_time=iso(now + timedelta(minutes=10))),
        "in_future:event_time",
    )
    local = (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S-05:00")  # UTC wall time labelled New York
    add("UTC time labelled UTC-05:00", tick(event_time=local), "in_future:event_time")
    add("negative seq", tick(seq=-1), "out_of_range:seq")
    add("price 0", tick(price=0.0), "out_of_range:price")
    add("negative price", tick(price=-1.0), "out_of_range:price")
    add("price 1e300", tick(price=1e300), "out_of_range:price")
    add("price 1e400 (overflows to infinity)", raw_field("price", "1e400"), "out_of_range:price")
    add("price just above the maximum", tick(price=10_000_000.01), "out_of_range:price")
    add("bid 0", tick(bid=0.0), "out_of_range:bid")
    add("ask -0.0", tick(ask=-0.0), "out_of_range:ask")
    add("bid above ask", tick(bid=base["ask"] + 1.0), "bid_above_ask:bid")
    add("trade of size 0", tick(size=0), "out_of_range:size")
    add("trade of negative size", tick(size=-5), "out_of_range:size")
    add("trade size above the maximum", tick(size=1_000_000_001), "out_of_range:size")
    add("trade without size", without("size"), "missing_field:size")
    add("trade with a null size", tick(size=None), "missing_field:size")
    add("quote with a size", dumps({**quote, "size": 100}), "not_allowed:size")
    add("negative bid size", tick(bid_size=-1), "out_of_range:bid_size")
    add("ask size above the maximum", tick(ask_size=1_000_000_001), "out_of_range:ask_size")
    kinds = [c.kind for c in cases]
    assert len(set(kinds)) == len(kinds), "kinds must be unique"
    return cases


def edge_valid(base: dict, now: datetime) -> list[Case]:
    """Unusual spellings the contract accepts. `base` is a valid trade; each case changes one thing."""
    event = datetime.fromisoformat(base["event_time"].replace("Z", "+00:00"))
    good = dumps(base)
    padded = good[:-1] + b" " * (MAX_MESSAGE_BYTES - len(good)) + b"}"
    assert len(padded) == MAX_MESSAGE_BYTES
    quote = {**base, "event_type": "quote"}
    symbol = base["symbol"]
    cases = [
        Case("exactly the size limit", padded, None),
        Case("pretty-printed over several lines", json.dumps(base, indent=2).encode(), None),
        Case("CRLF line breaks", json.dumps(base, indent=1).replace("\n", "\r\n").encode(), None),
        Case("fields in reverse order", dumps(dict(reversed(list(base.items())))), None),
        Case("quote without a size field", dumps({k: v for k, v in quote.items() if k != "size"}), None),
        Case("quote with a null size", dumps({**quote, "size": None}), None),
        Case(
            "unicode escape in the symbol",
            good.replace(dumps(symbol), f'"\\u{ord(symbol[0]):04x}{symbol[1:]}"'.encode()),
            None,
        ),
        Case(
            "offset +05:30",
            dumps(
                {**base, "event_time": (event + timedelta(hours=5, minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.%f+05:30")}
            ),
            None,
        ),
        Case("offset -00:00", dumps({**base, "event_time": event.strftime("%Y-%m-%dT%H:%M:%S.%f-00:00")}), None),
        Case("no fraction", dumps({**base, "event_time": event.strftime("%Y-%m-%dT%H:%M:%SZ")}), None),
        Case(
            "milliseconds",
            dumps({**base, "event_time": event.strftime("%Y-%m-%dT%H:%M:%S.") + f"{event.microsecond // 1000:03d}Z"}),
            None,
        ),
        Case("lowercase t and z", dumps({**base, "event_time": event.strftime("%Y-%m-%dt%H:%M:%S.%fz")}), None),
        Case(
            "one minute ahead of the broker (inside the skew)",
            dumps({**base, "event_time": iso(now + timedelta(minutes=1))}),
            None,
        ),
        Case("exactly the floor", dumps({**base, "event_time": "1990-01-01T00:00:00Z"}), None),
        Case("integer price", dumps({**base, "price": int(base["price"]) or 1}), None),
        Case("seq 0", dumps({**base, "seq": 0}), None),
        Case("bid equal to ask", dumps({**base, "bid": base["ask"]}), None),
        Case("bid size 0", dumps({**base, "bid_size": 0}), None),
        Case("symbol BRK.B", dumps({**base, "symbol": "BRK.B"}), None),
        Case("symbol ^GSPC", dumps({**base, "symbol": "^GSPC"}), None),
        Case("symbol 000001.SS", dumps({**base, "symbol": "000001.SS"}), None),
        Case("symbol EURUSD=X", dumps({**base, "symbol": "EURUSD=X"}), None),
        Case("symbol BF-B", dumps({**base, "symbol": "BF-B"}), None),
        Case("16-character symbol", dumps({**base, "symbol": "A" * 16}), None),
        Case("tabs between tokens", good.replace(b",", b",\t"), None),
    ]
    assert len({c.kind for c in cases}) == len(cases)
    return cases
