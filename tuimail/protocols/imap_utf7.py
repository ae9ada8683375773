"""Modified UTF-7 (RFC 3501 section 5.1.3), the encoding of IMAP folder names.

Printable ASCII stands for itself except "&", which becomes "&-"; any other run of characters
is UTF-16BE in base64 (with "," for "/" and no padding) between "&" and "-".
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final

_PLAIN: Final = re.compile(r"[\x20-\x25\x27-\x7e]+")  # printable ASCII but "&"
_SHIFTED: Final = re.compile(r"&([A-Za-z0-9+,]*)-")


def encode_mailbox(name: str) -> str:
    """Encode a folder name for the wire."""
    out: list[str] = []
    pos = 0
    for match in _PLAIN.finditer(name):
        if match.start() > pos:
            out.append(_shift(name[pos : match.start()]))
        out.append(match.group())
        pos = match.end()
    if pos < len(name):
        out.append(_shift(name[pos:]))
    return "".join(out)


def _shift(chunk: str) -> str:
    # "&" alone is written "&-"; everything else goes through UTF-16 and base64.
    parts: list[str] = []
    for run in re.split("(&+)", chunk):
        if not run:
            continue
        if run[0] == "&":
            parts.append("&-" * len(run))
        else:
            # Lone surrogates cannot be encoded anyway; surrogatepass keeps them lossless.
            utf16 = run.encode("utf-16-be", "surrogatepass")
            encoded = base64.b64encode(utf16).rstrip(b"=").replace(b"/", b",")
            parts.append("&" + encoded.decode("ascii") + "-")
    return "".join(parts)


def decode_mailbox(raw: str) -> str:
    """Decode a folder name from the wire; ValueError if it is not valid modified UTF-7."""
    out: list[str] = []
    pos = 0
    for match in _SHIFTED.finditer(raw):
        out.append(_plain(raw[pos : match.start()]))
        payload = match.group(1)
        if not payload:
            out.append("&")
        else:
            padded = payload.replace(",", "/") + "=" * (-len(payload) % 4)
            try:
                utf16 = base64.b64decode(padded, validate=True)
                out.append(utf16.decode("utf-16-be", "surrogatepass"))
            except (binascii.Error, UnicodeDecodeError) as error:
                raise ValueError(f"bad modified UTF-7 in folder name {raw!r}") from error
        pos = match.end()
    out.append(_plain(raw[pos:]))
    decoded = "".join(out)
    # Only one spelling is valid (no encoded ASCII, no split runs, zero padding bits);
    # accepting others would let two different wire names show as the same folder.
    if encode_mailbox(decoded) != raw:
        raise ValueError(f"folder name {raw!r} is not in canonical modified UTF-7")
    return decoded


def _plain(text: str) -> str:
    if text and _PLAIN.fullmatch(text) is None:  # "&", controls or 8-bit outside a shift
        raise ValueError(f"bad modified UTF-7 in folder name {text!r}")
    return text
