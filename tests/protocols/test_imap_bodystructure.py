"""The paperclip from BODYSTRUCTURE, in the shapes real servers send it.

Each structure is read through both paths of ``parse_header_fetch`` (the regex fast path and the
generic tokenizer), and the verdict must be what ``mail.parse`` says of the message's bytes:
the same message must not show ``@`` over IMAP and lose it over POP3.
"""

from __future__ import annotations

import pytest

from tuimail.protocols.imap_headers import parse_header_fetch

_ENVELOPE = b'(NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL)'
_TEXT = b'("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
_TEXT_NO_EXT = b'("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1)'


def fast_response(structure: bytes, item: bytes = b"BODYSTRUCTURE") -> bytes:
    """The item order Dovecot sends, which the regex path reads."""
    return (
        b'* 1 FETCH (UID 7 FLAGS () INTERNALDATE "01-Feb-2026 10:00:00 +0000" RFC822.SIZE 99 '
        b"ENVELOPE " + _ENVELOPE + b" " + item + b" " + structure + b" "
        b"BODY[HEADER.FIELDS (REFERENCES)] {2}\r\n\r\n)"
    )


def generic_response(structure: bytes, item: bytes = b"BODYSTRUCTURE") -> bytes:
    """Header fields first, as some servers order them: only the generic path reads this."""
    return (
        b"* 1 FETCH (BODY[HEADER.FIELDS (REFERENCES)] {2}\r\n\r\n ENVELOPE " + _ENVELOPE + b" "
        b"" + item + b" " + structure + b' RFC822.SIZE 99 INTERNALDATE "01-Feb-2026 10:00:00 '
        b'+0000" FLAGS () UID 7)'
    )


def verdicts(structure: bytes, item: bytes = b"BODYSTRUCTURE") -> set[bool]:
    results = set()
    for response in (fast_response(structure, item), generic_response(structure, item)):
        record = parse_header_fetch(response)
        assert record is not None
        assert record.has_attachments == record.envelope.has_attachments
        results.add(record.has_attachments)
    return results


ATTACHED = {
    # Dovecot and Courier: a PDF named only in its Content-Type, no Content-Disposition.
    "dovecot name only": b"(" + _TEXT + b'("application" "pdf" ("name" "report.pdf") NIL NIL '
    b'"base64" 8 NIL NIL NIL NIL) "mixed" ("boundary" "B") NIL NIL NIL)',
    "courier name only": b'(("text" "plain" NIL NIL NIL "8bit" 2 0 NIL NIL NIL)("application" '
    b'"pdf" ("name" "report.pdf") NIL NIL "base64" 8 NIL NIL NIL) "mixed" ("boundary" "B") '
    b"NIL NIL)",
    # pymap (the demo's server) sends the disposition as the header's text, not a list.
    "pymap disposition string": b"(" + _TEXT + b'("application" "pdf" ("name" "report.pdf") '
    b'NIL NIL "base64" 1107 NIL "attachment; filename=\\"report.pdf\\"" NIL NIL) "mixed" '
    b'("boundary" "b11x4") NIL NIL NIL)',
    "pymap string, no name parameter": b"(" + _TEXT + b'("application" "octet-stream" NIL NIL '
    b'NIL "base64" 10 NIL "attachment" NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)',
    # The usual list form, Exchange's extra disposition parameters, upper case everywhere.
    "disposition list": b"(" + _TEXT + b'("application" "pdf" NIL NIL NIL "base64" 8 NIL '
    b'("attachment" ("filename" "r.pdf")) NIL NIL) "mixed" ("boundary" "x") NIL NIL NIL)',
    "exchange": b"(" + _TEXT + b'("APPLICATION" "PDF" ("NAME" "r.pdf") NIL NIL "BASE64" 8 NIL '
    b'("ATTACHMENT" ("FILENAME" "r.pdf" "SIZE" "8" "CREATION-DATE" "Mon, 02 Mar 2026 10:00:00 '
    b'GMT")) NIL NIL) "MIXED" ("BOUNDARY" "x") NIL NIL NIL)',
    "attachment without a filename": b"(" + _TEXT + b'("application" "zip" NIL NIL NIL "base64" '
    b'8 NIL ("attachment" NIL) NIL NIL) "mixed" ("boundary" "x") NIL NIL NIL)',
    "text part marked attachment": b"(" + _TEXT + b'("text" "csv" ("name" "a.csv") NIL NIL "7bit"'
    b' 8 1 NIL ("attachment" ("filename" "a.csv")) NIL NIL) "mixed" ("boundary" "x") NIL NIL '
    b"NIL)",
    # An image shown inline but named: a file the reader can save (as parse.py decides).
    "inline with a filename": b'(("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 15 0 NIL '
    b'NIL NIL NIL)("image" "png" NIL "<a>" NIL "7bit" 2 NIL ("inline" ("filename" "a.png")) '
    b'NIL NIL) "related" ("boundary" "B") NIL NIL NIL)',
    "rfc 2231 filename": b"(" + _TEXT + b'("application" "octet-stream" NIL NIL NIL "7bit" 2 '
    b'NIL ("inline" ("filename*" "utf-8\'\'%C3%A9t%C3%A9.bin")) NIL NIL) "mixed" '
    b'("boundary" "B") NIL NIL NIL)',
    "encoded-word name": b"(" + _TEXT + b'("application" "octet-stream" ("name" '
    b'"=?utf-8?q?=C3=A9t=C3=A9.bin?=") NIL NIL "7bit" 2 NIL NIL NIL NIL) "mixed" '
    b'("boundary" "B") NIL NIL NIL)',
    # Deep inside alternative inside mixed inside mixed.
    "nested": b"((" + _TEXT + b"(" + _TEXT + b'("application" "pdf" ("name" "r.pdf") NIL NIL '
    b'"base64" 8 NIL NIL NIL NIL) "mixed" ("boundary" "c") NIL NIL NIL) "mixed" ("boundary" '
    b'"b") NIL NIL NIL)("text" "html" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL) "alternative" '
    b'("boundary" "a") NIL NIL NIL)',
    "a whole message that is one named file": b'("application" "pdf" ("name" "r.pdf") NIL NIL '
    b'"base64" 8 NIL NIL NIL NIL)',
    "attached message": b"(" + _TEXT + b'("message" "rfc822" NIL NIL NIL "7bit" 163 '
    b'("Mon, 02 Mar 2026 10:00:00 +0000" NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" '
    b'NIL NIL NIL "7bit" 2 1 NIL NIL NIL NIL) 8 NIL ("attachment" ("filename" "fw.eml")) NIL '
    b'NIL) "mixed" ("boundary" "B") NIL NIL NIL)',
}

NOT_ATTACHED = {
    "plain text": _TEXT,
    "alternative": b"(" + _TEXT + b'("text" "html" ("charset" "utf-8") NIL NIL "7bit" 20 1 NIL '
    b'NIL NIL NIL) "alternative" ("boundary" "a") NIL NIL NIL)',
    # A related HTML body's images without names are part of the body, not files.
    "related inline image": b'(("text" "html" NIL NIL NIL "7bit" 15 0 NIL NIL NIL NIL)("image" '
    b'"png" NIL "<a>" NIL "base64" 2 NIL ("inline" NIL) NIL NIL) "related" ("boundary" "B") '
    b"NIL NIL NIL)",
    # parse.py counts a named text part only when it is marked as an attachment.
    "named text part": b"(" + _TEXT + b'("text" "plain" ("name" "notes.txt") NIL NIL "7bit" 4 1'
    b' NIL NIL NIL NIL) "mixed" ("boundary" "x") NIL NIL NIL)',
    "empty name": b"(" + _TEXT + b'("application" "pdf" ("name" "") NIL NIL "base64" 8 NIL NIL '
    b'NIL NIL) "mixed" ("boundary" "x") NIL NIL NIL)',
    # A forwarded message's own attachments belong to it, as parse.py sees them.
    "attachment inside an attached message": b"(" + _TEXT + b'("message" "rfc822" NIL NIL NIL '
    b'"7bit" 163 ("Mon, 02 Mar 2026 10:00:00 +0000" "s" NIL NIL NIL NIL NIL NIL NIL NIL) '
    b'("application" "pdf" ("name" "in.pdf") NIL NIL "7bit" 2 NIL ("attachment" NIL) NIL NIL) '
    b'8 NIL NIL NIL NIL) "mixed" ("boundary" "B") NIL NIL NIL)',
    # The word in a file name or a boundary is not a disposition.
    "the word attachment in a parameter": b"(" + _TEXT + b'("image" "png" ("x" "attachment") '
    b'NIL NIL "base64" 2 NIL ("inline" NIL) NIL NIL) "mixed" ("boundary" "attachment") NIL NIL'
    b" NIL)",
}


@pytest.mark.parametrize("structure", ATTACHED.values(), ids=ATTACHED.keys())
def test_every_server_shape_of_an_attachment_shows_the_paperclip(structure: bytes) -> None:
    assert verdicts(structure) == {True}


@pytest.mark.parametrize("structure", NOT_ATTACHED.values(), ids=NOT_ATTACHED.keys())
def test_body_parts_without_a_file_show_no_paperclip(structure: bytes) -> None:
    assert verdicts(structure) == {False}


def test_a_named_part_is_an_attachment_without_extension_data() -> None:
    # BODY instead of BODYSTRUCTURE: no disposition at all, only the Content-Type name.
    structure = b"(" + _TEXT_NO_EXT + b'("application" "pdf" ("name" "r.pdf") NIL NIL "base64" '
    structure += b'8) "mixed")'
    assert verdicts(structure, b"BODY") == {True}
