"""LIST and UIDL bodies: the one-scan split of the usual shape reads what the line loop reads."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuimail.protocols import pop3
from tuimail.protocols.pop3 import MalformedLine, listing_fields

NEVER = re.compile(rb"(?!)")  # no body is "plain": every line goes through the line loop
SHAPES = [(pop3._PLAIN_LIST, pop3._LIST_LINE), (pop3._PLAIN_UIDL, pop3._UIDL_LINE)]

NUMBER = st.integers(0, 10**16).map(lambda n: str(n).encode())
WORD = st.one_of(
    NUMBER,
    st.binary(min_size=1, max_size=12).filter(lambda w: not w.isspace()),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1).map(str.encode),
)
BLANKS = st.sampled_from([b" ", b"  ", b"\t", b" \t", b""])
ENDING = st.sampled_from([b"\r\n", b"\n", b"\r", b" \r\n"])
LINE = st.tuples(NUMBER, BLANKS, WORD, ENDING).map(b"".join)
PLAIN_LINE = st.tuples(NUMBER, st.just(b" "), NUMBER, st.just(b"\r\n")).map(b"".join)
BODY = st.one_of(
    st.lists(PLAIN_LINE, max_size=20).map(b"".join),
    st.lists(st.one_of(PLAIN_LINE, LINE), max_size=20).map(b"".join),
)


def line_by_line(body: bytes, line_shape: re.Pattern[bytes]) -> object:
    try:
        return listing_fields(body, NEVER, line_shape)
    except MalformedLine as error:
        return ("malformed", error.line)


@pytest.mark.parametrize(("plain", "line_shape"), SHAPES)
@given(body=BODY)
def test_the_one_scan_split_reads_what_the_line_loop_reads(
    plain: re.Pattern[bytes], line_shape: re.Pattern[bytes], body: bytes
) -> None:
    try:
        fields: object = listing_fields(body, plain, line_shape)
    except MalformedLine as error:
        fields = ("malformed", error.line)
    assert fields == line_by_line(body, line_shape)


@pytest.mark.parametrize("plain", [pop3._PLAIN_LIST, pop3._PLAIN_UIDL])
def test_a_plain_body_is_split_without_matching_each_line(plain: re.Pattern[bytes]) -> None:
    body = b"".join(b"%d %d\r\n" % (n, 1000 + n) for n in range(1, 501))
    numbers, values = listing_fields(body, plain, NEVER)  # NEVER would reject any line
    assert numbers == [b"%d" % n for n in range(1, 501)]
    assert values == [b"%d" % (1000 + n) for n in range(1, 501)]
    assert listing_fields(b"", plain, NEVER) == ([], [])


def test_a_malformed_line_is_named() -> None:
    with pytest.raises(MalformedLine) as caught:
        listing_fields(b"1 100\r\nbogus\r\n", pop3._PLAIN_LIST, pop3._LIST_LINE)
    assert caught.value.line == b"bogus"
