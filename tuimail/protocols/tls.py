"""The one place a TLS client context is built from the config's tls_ca_file and tls_verify.

Every protocol client (IMAP, POP3, SMTP) takes a ready ``ssl.SSLContext``; the sync layer
builds it here from the account's settings, so the rules are the same for every server.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

from tuimail.errors import TLSError

log = logging.getLogger("tuimail.protocols.tls")


def client_context(ca_file: Path | None, verify: bool) -> ssl.SSLContext:
    """A client context trusting the system store (or only ``ca_file``), TLS 1.2 or newer.

    With ``verify`` False neither the certificate nor the host name is checked, and a warning
    is logged each time such a context is made.
    """
    cafile = str(ca_file.expanduser()) if ca_file is not None else None
    try:
        context = ssl.create_default_context(cafile=cafile)
    except ssl.SSLError as exc:  # a file that is not PEM certificates
        raise TLSError(f"cannot load the CA file {ca_file}: {exc.reason or exc}") from None
    except OSError as exc:
        raise TLSError(f"cannot read the CA file {ca_file}: {exc.strerror or exc}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not verify:
        log.warning("TLS certificate verification is off: the server's identity is not checked")
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
