"""Which attachments can run code when handed to the desktop's opener.

``xdg-open`` goes by the file's name and type: a ``.desktop`` file may start any command, a
script may run in its interpreter, an HTML page or SVG image runs its scripts in a browser, an
Office file with macros runs them. Opening such a file from a stranger's mail is running their
program, so the interface asks first. The lists err on the side of asking.
"""

from __future__ import annotations

from typing import Final

# Extensions (lower case, without the dot) of files an opener may execute or interpret.
RISKY_EXTENSIONS: Final = frozenset(
    {
        # desktop launchers and shortcuts
        "desktop", "lnk", "url", "scf", "inf", "reg",
        # shell and system scripts
        "sh", "bash", "zsh", "csh", "ksh", "fish", "command", "tool", "run", "bin",
        "bat", "cmd", "com", "ps1", "psm1", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta",
        "msc", "cpl", "scr", "pif", "gadget",
        # programs and installers
        "exe", "msi", "msp", "dll", "appimage", "flatpakref", "snap", "deb", "rpm", "apk",
        "pkg", "dmg", "app", "elf", "so", "out", "jar", "jnlp", "class",
        # interpreted languages
        "py", "pyw", "pyc", "pyz", "pl", "pm", "rb", "php", "lua", "tcl", "r", "applescript",
        "scpt", "el",
        # documents that run scripts or macros
        "html", "htm", "xhtml", "shtml", "mht", "mhtml", "svg", "svgz", "xml", "xsl",
        "docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppam", "sldm",
    }
)  # fmt: skip

RISKY_TYPES: Final = frozenset(
    {
        "application/x-executable",
        "application/x-elf",
        "application/x-sharedlib",
        "application/x-pie-executable",
        "application/x-sh",
        "application/x-shellscript",
        "application/x-csh",
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/x-ms-installer",
        "application/x-msi",
        "application/x-dosexec",
        "application/vnd.microsoft.portable-executable",
        "application/x-desktop",
        "application/x-ms-shortcut",
        "application/java-archive",
        "application/x-java-archive",
        "application/x-java-jnlp-file",
        "application/javascript",
        "application/x-javascript",
        "text/javascript",
        "application/hta",
        "application/x-python",
        "application/x-python-code",
        "text/x-python",
        "application/x-perl",
        "text/x-perl",
        "application/x-ruby",
        "text/x-ruby",
        "application/x-php",
        "application/x-bat",
        "application/x-appimage",
        "application/vnd.debian.binary-package",
        "application/x-rpm",
        "application/x-redhat-package-manager",
        "application/vnd.android.package-archive",
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "application/vnd.ms-word.document.macroenabled.12",
        "application/vnd.ms-excel.sheet.macroenabled.12",
        "application/vnd.ms-powerpoint.presentation.macroenabled.12",
    }
)


def code_risk(filename: str, content_type: str) -> str | None:
    """Why opening this attachment may run code ("a .desktop file"), or None when it does not.

    Both the name and the declared type count: the opener may go by either.
    """
    name = filename.strip().rstrip(". ").lower()  # Windows ignores trailing dots and spaces
    _, dot, extension = name.rpartition(".")
    if dot and extension in RISKY_EXTENSIONS:
        return f"a .{extension} file"
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in RISKY_TYPES:
        return f"a file of type {kind}"
    return None
