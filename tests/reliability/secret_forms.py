"""Every form in which a secret may cross a wire or land in a file, for leak searches."""

from __future__ import annotations

import base64


def encodings(secret: str, *usernames: str) -> set[bytes]:
    """A secret raw, quoted as IMAP quotes it, and inside any base64 blob (SASL PLAIN, LOGIN,
    XOAUTH2, OAUTHBEARER) whatever comes before or after it in the blob."""
    raw = secret.encode()
    found = {raw, secret.replace("\\", "\\\\").replace('"', '\\"').encode()}
    for offset in range(3):  # the three alignments a base64 encoder can meet it at
        encoded = base64.b64encode(b"\0" * offset + raw)
        found.add(encoded[(offset * 4 + 2) // 3 + 1 : -4])  # the part no neighbour changes
    for user in usernames:
        found.add(base64.b64encode(f"\0{user}\0{secret}".encode()))
    return {form for form in found if len(form) >= 8}
