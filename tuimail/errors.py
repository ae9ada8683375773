"""The exceptions every layer raises, each carrying one line a user can read.

The CLI and the UI show ``str(error)`` as a single line and write the trace to the log;
nothing else in the program should format an error for people.
"""

from __future__ import annotations


class TuimailError(Exception):
    """Base class: ``str(err)`` is a complete, one-line, user-readable message."""


class ConfigError(TuimailError):
    """The config file is missing, unreadable or invalid."""


class SecretError(TuimailError):
    """A password or token could not be obtained (command failed, keyring empty)."""


class ProtocolError(TuimailError):
    """The server said something we cannot accept, or broke the protocol."""


class ConnectionLost(ProtocolError):
    """The connection dropped or timed out; the operation may be retried later."""


class AuthError(ProtocolError):
    """The server refused our credentials."""


class TLSError(ProtocolError):
    """TLS could not be established (certificate, handshake, STARTTLS refused)."""


class StoreError(TuimailError):
    """The local store cannot be opened or written (locked, full disk, corrupt)."""


class MessageNotFound(TuimailError):
    """A message or folder the user named does not exist."""


class NotAllowed(TuimailError):
    """The change cannot be made as asked (a name taken, a folder not empty, a special folder)."""
