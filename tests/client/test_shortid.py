"""Ids typed short (issue 12, item 3): what a table shows can be typed back, and a prefix
that fits several items or none is refused by name."""

import uuid

import pytest
from cordon_client.exceptions import UnknownIdError
from cordon_client.groups import shortid

A = uuid.UUID("5f0c1a2b-0000-4000-8000-000000000001")
B = uuid.UUID("5f0c1a2c-0000-4000-8000-000000000002")
C = uuid.UUID("9a9a9a9a-0000-4000-8000-000000000003")
NAMES = {A: "jane.officer", B: "john.officer", C: ""}


def test_short_prefix_is_unique_among_the_listed_ids_and_matches_back():
    """Each shown prefix resolves to its own id, and no shorter than six digits."""
    shown = {i: shortid.short(i, NAMES) for i in NAMES}
    assert shown == {A: "5f0c1a2b", B: "5f0c1a2c", C: "9a9a9a"}
    for full, typed in shown.items():
        assert shortid.match(typed, NAMES, what="user") == full


def test_full_id_hyphens_and_names_resolve():
    """The full id, a hyphenated prefix and a name (case-folded) all work."""
    assert shortid.match(str(B), NAMES, what="user") == B
    assert shortid.match("5f0c1a2c-00", NAMES, what="user") == B
    assert shortid.match("Jane.Officer", NAMES, what="user") == A


def test_ambiguous_and_unknown_prefixes_are_refused_in_one_line():
    """A prefix matching two ids lists both; one matching none says so."""
    with pytest.raises(UnknownIdError, match=r"'5f0c' matches 2 users \(5f0c1a2b, 5f0c1a2c\)"):
        shortid.match("5f0c", NAMES, what="user")
    with pytest.raises(UnknownIdError, match="no user matches 'zz'"):
        shortid.match("zz", NAMES, what="user")


def test_seq_numbers_are_read_with_or_without_hash():
    """`23` and `#23` are seqs; an id prefix is not."""
    assert shortid.parse_seq("23") == 23 and shortid.parse_seq("#23") == 23
    assert shortid.parse_seq("5f0c") is None
