"""Attachments that can run code are told apart from documents by name and declared type."""

from __future__ import annotations

import pytest

from tuimail.mail.attachment_risk import code_risk


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("invoice.desktop", "application/octet-stream"),
        ("INVOICE.DESKTOP", "text/plain"),
        ("run-me.sh", "text/plain"),
        ("setup.exe", "application/octet-stream"),
        ("report.pdf.exe", "application/pdf"),
        ("update.bat.", "application/octet-stream"),  # Windows drops the trailing dot
        ("tool.jar", "application/zip"),
        ("script.py", "text/plain"),
        ("page.html", "text/plain"),
        ("logo.svg", "image/png"),
        ("budget.xlsm", "application/octet-stream"),
        ("App.AppImage", "application/octet-stream"),
        ("readme", "application/x-sh"),
        ("readme", "application/x-desktop"),
        ("readme", "TEXT/HTML; charset=utf-8"),
        ("readme", "image/svg+xml"),
        ("readme", "application/x-msdownload"),
    ],
)
def test_files_that_can_run_code_are_named_as_risky(filename: str, content_type: str) -> None:
    assert code_risk(filename, content_type) is not None


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("report.pdf", "application/pdf"),
        ("photo.jpeg", "image/jpeg"),
        ("notes.txt", "text/plain"),
        ("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("archive.tar.gz", "application/gzip"),
        ("desktop", "application/octet-stream"),  # a name, not an extension
        ("shell.pdf", "application/pdf"),
    ],
)
def test_documents_and_pictures_are_not_risky(filename: str, content_type: str) -> None:
    assert code_risk(filename, content_type) is None


def test_the_reason_names_what_was_seen() -> None:
    assert code_risk("a.desktop", "text/plain") == "a .desktop file"
    assert code_risk("a", "application/x-sh") == "a file of type application/x-sh"
