"""tuimail-config(5): the man page made from the config models, a key per field with its type,
default and docstring, so the page and what the config accepts cannot drift apart."""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from tuimail import config, keytable
from tuimail.commands import roff

# Checked by the tests: it must load as a valid config.
EXAMPLE = """\
[accounts.work]
email = "ann@example.com"
display_name = "Ann Example"

[accounts.work.imap]
host = "imap.example.com"
password_command = "pass show mail/work"

[accounts.work.smtp]
host = "smtp.example.com"
security = "starttls"
password_command = "pass show mail/work"

[accounts.home]
email = "ann@example.org"
offline = "full"
sendmail_command = "msmtp -a home"

[accounts.home.pop3]
host = "pop.example.org"
leave_on_server = false

[ui]
theme = "light"
threads = true

[ui.keys]
delete = "d,delete"
"""

_VERSION = f"tuimail {version('tuimail')}"
_DESCRIPTION = (
    "tuimail reads its settings from one TOML file, ~/.config/tuimail/config.toml, or the "
    "file named by --config or TUIMAIL_CONFIG. Every command refuses a file with an unknown "
    "key or a wrong value, in one line that names the file and the key. "
    "`tuimail account add` writes an account for you and `tuimail doctor` checks its servers.",
    "Each section below is one TOML table; NAME stands for an account's name, which the "
    "command line uses as ACCOUNT/FOLDER. A key not set takes its default.",
)


def page() -> str:
    """The roff source of tuimail-config(5)."""
    lines = [
        roff.macro("TH", "TUIMAIL-CONFIG", "5", "", _VERSION, "File Formats"),
        ".SH NAME",
        "tuimail\\-config \\- the tuimail configuration file",
        ".SH SYNOPSIS",
        "\\fI~/.config/tuimail/config.toml\\fR",
        ".SH DESCRIPTION",
    ]
    lines += roff.text_lines(_DESCRIPTION[0])
    for paragraph in _DESCRIPTION[1:]:
        lines += [".PP", *roff.text_lines(paragraph)]
    lines.append(".SH KEYS")
    for name, field in config.Config.model_fields.items():
        lines += _field_sections(name, field, _docstrings(config.Config).get(name, ""))
    lines += [".SH EXAMPLE", *roff.verbatim(EXAMPLE.splitlines())]
    lines += [".SH SEE ALSO", ".BR tuimail (1)"]
    return "\n".join(lines) + "\n"


def _field_sections(table: str, field: FieldInfo, doc: str) -> list[str]:
    nested = _nested(field.annotation)
    if nested is None:
        return []
    model, kind = nested
    header = _header(table, kind)
    lines = [roff.macro("SS", header), *roff.text_lines(doc)]
    if model.__doc__:
        lines += [".PP", *roff.text_lines(inspect.cleandoc(model.__doc__))]
    docs = _docstrings(model)
    for name, sub in model.model_fields.items():
        if not _is_table(sub):
            lines += [".TP", f"\\fB{roff.escape(name)}\\fR ({roff.escape(_describe(sub))})"]
            lines += roff.text_lines(docs.get(name, ""))
    if header == "[ui.keys]":
        lines += _key_ids()
    for name, sub in model.model_fields.items():
        if _is_table(sub):
            lines += _field_sections(f"{header.strip('[]')}.{name}", sub, docs.get(name, ""))
    return lines


def _header(table: str, kind: str) -> str:
    if kind == "named":
        return f"[{table}.NAME]"
    return f"[[{table}]]" if kind == "array" else f"[{table}]"


def _key_ids() -> list[str]:
    lines = [
        ".PP",
        *roff.text_lines(
            "Each key of [ui.keys] is a binding id, its value one key or several, comma-"
            "separated, in Textual's names (ctrl+r, question_mark, pagedown). "
            "The ids and their default keys:"
        ),
        ".PD 0",
    ]
    for entry in keytable.ACTIONS:
        lines += [".TP", f'\\fB{roff.escape(entry.id)}\\fR = "{roff.escape(entry.keys)}"']
        lines += roff.text_lines(entry.description)
    return [*lines, ".PD"]


def _is_table(field: FieldInfo) -> bool:
    # [ui.keys] is a table of its own in the file, though its values are plain strings.
    return _nested(field.annotation) is not None


def _nested(annotation: Any) -> tuple[type[BaseModel], str] | None:
    """The model a field holds and how: a ``table``, ``named`` tables or an ``array``."""
    origin, args = get_origin(annotation), get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, "table"
    if origin in (Union, types.UnionType):
        present = [arg for arg in args if arg is not type(None)]
        return _nested(present[0]) if len(present) == 1 else None
    if origin is dict:
        if args[1] is str:  # a table of strings: [ui.keys]
            return _StringTable, "table"
        inner = _nested(args[1])
        return (inner[0], "named") if inner else None
    if origin is tuple:
        inner = _nested(args[0])
        return (inner[0], "array") if inner else None
    return None


class _StringTable(BaseModel):
    pass  # keys of the user's choosing, each with a string: [ui.keys]


def _describe(field: FieldInfo) -> str:
    """``type, default ...`` for one key."""
    words = [_type_name(field.annotation)]
    words += [_limit(item) for item in field.metadata if _limit(item)]
    if field.is_required():
        words.append("required")
    elif field.default_factory is not None:
        words.append("empty by default")
    elif field.default is None:
        words.append("not set by default")
    else:
        words.append(f"default {_toml(field.default)}")
    return ", ".join(words)


def _type_name(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " | ".join(_toml(arg) for arg in args)
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in args if arg is not type(None))
    if origin is Annotated:
        return _type_name(args[0])
    names = {bool: "boolean", int: "integer", float: "number", str: "string", Path: "path"}
    if annotation is SecretStr:
        return "string"
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _limit(item: object) -> str:
    if isinstance(item, annotated_types.Ge):
        return f"at least {item.ge}"
    if isinstance(item, annotated_types.Gt):
        return f"more than {item.gt}"
    if isinstance(item, annotated_types.Le):
        return f"at most {item.le}"
    return ""


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _docstrings(model: type[BaseModel]) -> dict[str, str]:
    """The docstring under each field, read from the source of the model and its bases."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or cls is BaseModel:
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0]
        assert isinstance(body, ast.ClassDef)
        for statement, following in zip(body.body, body.body[1:], strict=False):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs
