"""vCard files for address completion: names and every address, whatever the version."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tuimail.mail.vcard import Contact, parse_vcards

CARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Zoë Öberg\r\nN:Öberg;Zoë;;;\r\n"
    "EMAIL;TYPE=work:zoe@work.example\r\nitem1.EMAIL;TYPE=home:zoe@home.\r\n example\r\n"
    "TEL:+1 555\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\nVERSION:4.0\nN:Doe;John;;;\nEMAIL:mailto:john@doe.example\nEND:VCARD\n"
    "BEGIN:VCARD\nVERSION:2.1\nFN;ENCODING=QUOTED-PRINTABLE;CHARSET=utf-8:Ren=C3=A9 M\n"
    "EMAIL;INTERNET:rene@example.fr\nEND:VCARD\n"
    "BEGIN:VCARD\nFN:Smith\\, Anna\nEMAIL:not an address\nEMAIL:anna@smith.example\nEND:VCARD\n"
)


def test_every_address_of_every_card_under_its_name() -> None:
    assert parse_vcards(CARDS) == [
        Contact("Zoë Öberg", "zoe@work.example"),
        Contact("Zoë Öberg", "zoe@home.example"),  # a folded line, a grouped property
        Contact("John Doe", "john@doe.example"),  # no FN: from N; mailto: dropped
        Contact("René M", "rene@example.fr"),  # vCard 2.1 quoted-printable
        Contact("Smith, Anna", "anna@smith.example"),  # escaped comma; junk EMAIL skipped
    ]


def test_control_characters_in_a_card_never_reach_the_screen() -> None:
    [contact] = parse_vcards("BEGIN:VCARD\nFN:Eve\x1b[31m\nEMAIL:eve@x.example\nEND:VCARD\n")
    assert "\x1b" not in contact.name


@given(st.text())
def test_any_text_parses_without_raising(text: str) -> None:
    parse_vcards(text)
