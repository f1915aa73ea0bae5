"""The one JSON decoder (`app.core.body`): every limit refuses with `MalformedJSON`, never
with an exception the problem renderer does not know (a 500)."""

import json

import pytest

from app.core.body import MAX_DEPTH, MalformedJSON, decode_json, is_json

HOSTILE = {
    "invalid UTF-8": b'{"a": "\xff\xfe"}',
    "UTF-8 encoded surrogate": b'{"a": "\xed\xa0\x80"}',
    "escaped lone surrogate": b'{"a": "\\ud800"}',
    "escaped lone surrogate in a key": b'{"\\udfff": 1}',
    "nested past the interpreter's recursion limit": b"[" * 100_000 + b"]" * 100_000,
    "nested one level past the limit": b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    "objects nested past the limit": b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1),
    "NaN": b'{"a": NaN}',
    "Infinity": b"[-Infinity]",
    "an integer of 5000 digits": b"[" + b"9" * 5000 + b"]",
    "a byte order mark": b'\xef\xbb\xbf{"a": 1}',
    "UTF-16": '{"a": 1}'.encode("utf-16"),
    "truncated": b'{"a": ',
}


@pytest.mark.parametrize("raw", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_documents_are_malformed_json(raw: bytes):
    """Each is refused as a 400 `core.malformed_json`, the same for bytes and text."""
    with pytest.raises(MalformedJSON) as refused:
        decode_json(raw)
    assert refused.value.status == 400 and refused.value.code == "core.malformed_json"


def test_documents_within_the_limits_are_parsed():
    """Depth exactly at the limit, non-ASCII text, surrogate pairs and big ids pass."""
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert decode_json(deep) == json.loads(deep)
    doc = {"name": "Zoll 🛃 douane", "n": 2**63, "pair": "\U0001f6c3"}
    assert decode_json(json.dumps(doc).encode()) == doc
    assert decode_json(json.dumps(doc, ensure_ascii=False)) == doc


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("application/problem+json", True),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        ("", False),
        (None, False),
    ],
)
def test_only_json_media_types_are_json(content_type: str | None, expected: bool):
    """What the reader accepts as a JSON body; the rest is a 415."""
    assert is_json(content_type) is expected
