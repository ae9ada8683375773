"""The one rule for the paperclip: which MIME leaf counts as an attachment.

Every way a message reaches the index (bytes parsed in ``mail.parse``, an IMAP BODYSTRUCTURE
read in ``protocols``) asks this rule, so a message shows ``@`` whichever way it came.
"""

from __future__ import annotations


def counts_as_attachment(content_type: str, disposition: str | None, filename: str | None) -> bool:
    """Whether a leaf is a file for the paperclip: marked ``attachment``, or a named non-text part.

    ``content_type`` is "type/subtype" and ``disposition`` the disposition's type, both in lower
    case; ``filename`` is the part's decoded file name (disposition or Content-Type ``name``),
    None when it has none. An inline image with a name is a file the reader can save; a named
    text part is body text unless marked as an attachment.
    """
    if disposition == "attachment":
        return True
    return bool(filename) and not content_type.startswith("text/")
