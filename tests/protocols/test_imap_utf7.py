"""Modified UTF-7 folder names (RFC 3501 5.1.3): known spellings and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuimail.protocols.imap_utf7 import decode_mailbox, encode_mailbox

KNOWN = [
    ("INBOX", "INBOX"),
    ("Entwürfe", "Entw&APw-rfe"),
    ("Tom & Jerry", "Tom &- Jerry"),
    ("日本語", "&ZeVnLIqe-"),
    ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
    ("😀", "&2D3eAA-"),
    ("", ""),
]


@pytest.mark.parametrize(("name", "wire"), KNOWN)
def test_known_names_encode_to_their_rfc_spelling(name: str, wire: str) -> None:
    assert encode_mailbox(name) == wire
    assert decode_mailbox(wire) == name


@pytest.mark.parametrize(
    "wire",
    [
        "&AGE-",  # encodes the printable "a": not canonical
        "&Jjo",  # shift never closed
        "&AOQ-&AOQ-",  # two shifts that should have been one
        "a\x01b",  # a control character outside a shift
        "caf\u00e9",  # raw 8-bit instead of a shift
        "&*-",  # not base64
    ],
)
def test_invalid_spellings_are_refused(wire: str) -> None:
    with pytest.raises(ValueError):
        decode_mailbox(wire)


@given(st.text())
def test_any_name_survives_a_round_trip(name: str) -> None:
    wire = encode_mailbox(name)
    assert decode_mailbox(wire) == name


@given(st.text())
def test_encoded_names_are_printable_ascii(name: str) -> None:
    wire = encode_mailbox(name)
    assert all(0x20 <= ord(ch) <= 0x7E for ch in wire)
