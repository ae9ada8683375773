"""Conversation threads by Jamie Zawinski's algorithm (https://www.jwz.org/doc/threading.html).

Messages are linked through References and In-Reply-To; missing parents become placeholders
that are pruned away; threads whose roots share a subject are joined when one of them is a
reply. Two departures from the letter of the algorithm keep it linear for any input: links are
made first and loops broken afterwards in one pass (instead of walking up the tree before every
link), and every walk is iterative, so a ten-thousand-deep thread is no harder than a flat one.
"""

from __future__ import annotations

import math
import re
from operator import attrgetter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class ThreadInput:
    """What threading needs to know about one message; ``key`` is the caller's own id."""

    key: int
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    date: datetime | None


@dataclass(frozen=True, slots=True)
class ThreadRow:
    """One line of the threaded index, in display order.

    ``guides`` has bit ``d`` set (for 1 <= d < depth) when the ancestor at depth ``d`` has a
    later sibling, i.e. when column ``d`` of the tree drawing needs a vertical line.
    """

    key: int
    depth: int  # 0 for the first message of a thread
    thread_id: int  # the key of the thread's first row
    is_last_child: bool  # no later sibling follows (always True at depth 0)
    has_children: bool
    guides: int = 0

    def has_guide(self, depth: int) -> bool:
        """Whether the tree line of the ancestor at ``depth`` continues past this row."""
        return bool(self.guides >> depth & 1)


_SUBJECT_PREFIX = re.compile(
    r"(?:\s*+(?:\[[^\]]{0,100}+\]|(?:re|fwd?|aw|sv|wg|antw|vs|vl|tr|rif|odp|res)"
    r"\s*+(?:\[\d{1,4}+\]|\(\d{1,4}+\))?\s*+[:：]))++",
    re.IGNORECASE,
)
_LIST_TAG = re.compile(r"\[[^\]]*+\]")


def normalize_subject(subject: str) -> str:
    """A subject without reply and forward prefixes (Re:, Fwd:, AW:, SV:, ...) or [list] tags."""
    prefix = _SUBJECT_PREFIX.match(subject)
    rest = subject[prefix.end() :] if prefix else subject
    return " ".join(rest.split())


def is_reply_subject(subject: str) -> bool:
    """Whether a subject starts, after any [list] tags, with a reply or forward prefix."""
    prefix = _SUBJECT_PREFIX.match(subject)
    if prefix is None:
        return False
    without_tags = _LIST_TAG.sub("", prefix.group())
    return ":" in without_tags or "：" in without_tags


class _Container:
    """A node of the thread tree: a message, or a placeholder for a parent we never saw."""

    __slots__ = ("children", "message", "order", "parent", "real_parent", "state", "top")

    def __init__(self) -> None:
        self.message: ThreadInput | None = None
        self.parent: _Container | None = None
        self.real_parent: _Container | None = None  # nearest ancestor holding a message
        self.top: _Container | None = None  # root of the tree after links are final
        self.children: list[_Container] = []
        self.order: tuple[float, int] = (-math.inf, 0)  # (timestamp, key): display order
        self.state = 0  # walk marks: 0 unseen, 1 on the current path, 2 done


def thread_messages(messages: Iterable[ThreadInput]) -> list[ThreadRow]:
    """Thread messages into display rows: newest thread first, replies oldest first."""
    containers, real = _link(messages)
    _break_loops(containers)
    _resolve_real_parents(containers)
    units: dict[_Container, list[_Container]] = {}
    for node in real:
        if node.real_parent is None:
            assert node.top is not None
            units.setdefault(node.top, []).append(node)
        else:
            node.real_parent.children.append(node)
    roots = _group_by_subject([_by_date(members) for members in units.values()])
    threads = [_rows(members) for members in roots]
    threads.sort(key=lambda thread: (thread[0], thread[1][0].key), reverse=True)
    return [row for _, rows in threads for row in rows]


def _link(messages: Iterable[ThreadInput]) -> tuple[list[_Container], list[_Container]]:
    """Steps 1 and 2: a container per message id, parents from References and In-Reply-To."""
    by_id: dict[str, _Container] = {}
    containers: list[_Container] = []
    real: list[_Container] = []

    def container_for(message_id: str) -> _Container:
        found = by_id.get(message_id)
        if found is None:
            found = by_id[message_id] = _Container()
            containers.append(found)
        return found

    for message in messages:
        own_id = _normalize_id(message.message_id)
        node = by_id.get(own_id) if own_id else None
        if node is None or node.message is not None:  # new, or a duplicate id: keep both
            node = _Container()
            containers.append(node)
            if own_id and own_id not in by_id:
                by_id[own_id] = node
        node.message = message
        node.order = (_timestamp(message.date), message.key)
        real.append(node)
        parent = None
        for reference in _parent_ids(message, own_id):
            ancestor = container_for(reference)
            if parent is not None and ancestor.parent is None and ancestor is not parent:
                ancestor.parent = parent  # keep links made earlier; references can lie
            parent = ancestor
        # The message's own references are the best word on its parent, so they win.
        node.parent = parent if parent is not node else None
    return containers, real


def _parent_ids(message: ThreadInput, own_id: str | None) -> list[str]:
    ids = [i for i in map(_normalize_id, message.references) if i is not None and i != own_id]
    in_reply_to = _normalize_id(message.in_reply_to)
    if in_reply_to and in_reply_to != own_id and in_reply_to not in ids:
        ids.append(in_reply_to)  # References missing or cut short: In-Reply-To is the parent
    return ids


def _break_loops(containers: list[_Container]) -> None:
    """Cut one link of every cycle that lying References made, in one linear pass."""
    for start in containers:
        path: list[_Container] = []
        node: _Container | None = start
        while node is not None and node.state == 0:
            node.state = 1
            path.append(node)
            node = node.parent
        if node is not None and node.state == 1:
            path[-1].parent = None
        for seen in path:
            seen.state = 2


def _resolve_real_parents(containers: list[_Container]) -> None:
    """Find each node's nearest real ancestor and its root, skipping placeholders (step 4)."""
    for start in containers:
        path: list[_Container] = []
        node: _Container | None = start
        while node is not None and node.top is None:
            path.append(node)
            node = node.parent
        if node is None:
            above = path.pop()
            above.top = above
        else:
            above = node
        for below in reversed(path):
            below.top = above.top
            below.real_parent = above if above.message is not None else above.real_parent
            above = below


def _group_by_subject(units: list[list[_Container]]) -> list[list[_Container]]:
    """Step 5: join root sets that share a subject when one of them is a reply.

    A unit of several members stands for a placeholder root. Unlike JWZ we never join two
    threads that are both originals, so unrelated mails called "Hello" stay apart.
    """
    keys = [_subject_key(unit) for unit in units]
    replies = [_is_reply_unit(unit) for unit in units]
    table: dict[str, int] = {}
    for i, key in enumerate(keys):
        j = table.get(key)
        if key and (j is None or _prefer(units[i], replies[i], units[j], replies[j])):
            table[key] = i
    merged = [False] * len(units)
    for i, key in enumerate(keys):
        j = table.get(key)
        if not key or j is None or j == i or not (replies[i] or replies[j]):
            continue
        unit, target = units[i], units[j]
        if len(target) > 1 or replies[j] == replies[i]:
            target.extend(unit)  # siblings under the (possibly new) placeholder root
        else:  # "Re: x" goes under "x"
            for member in unit:
                member.real_parent = target[0]
                target[0].children.append(member)
        merged[i] = True
    return [_by_date(unit) for unit, gone in zip(units, merged, strict=True) if not gone]


def _prefer(unit: list[_Container], reply: bool, held: list[_Container], held_reply: bool) -> bool:
    """Whether ``unit`` should represent its subject instead of the ``held`` one."""
    if len(unit) > 1 and len(held) == 1:
        return True
    return len(held) == 1 and held_reply and not reply


def _subject_key(unit: list[_Container]) -> str:
    message = unit[0].message
    return normalize_subject(message.subject).casefold() if message else ""


def _is_reply_unit(unit: list[_Container]) -> bool:
    message = unit[0].message
    return len(unit) > 1 or (message is not None and is_reply_subject(message.subject))


def _rows(members: list[_Container]) -> tuple[float, list[ThreadRow]]:
    """One thread's rows in display order and its newest timestamp.

    Under a placeholder root the oldest member stands in as the root, the others as replies.
    """
    root = members[0]
    thread_id = _key(root)
    if len(members) == 1 and not root.children:  # most threads are one message
        return root.order[0], [ThreadRow(thread_id, 0, thread_id, True, False)]
    root.children.extend(members[1:])
    newest = -math.inf
    rows: list[ThreadRow] = []
    stack: list[tuple[_Container, int, int, bool]] = [(root, 0, 0, True)]
    while stack:
        node, depth, guides, is_last = stack.pop()
        newest = max(newest, node.order[0])
        children = node.children
        if len(children) > 1:
            children.sort(key=_ORDER)
        rows.append(ThreadRow(_key(node), depth, thread_id, is_last, bool(children), guides))
        if depth > 0 and not is_last:
            guides |= 1 << depth
        last = len(children) - 1
        stack.extend((children[i], depth + 1, guides, i == last) for i in range(last, -1, -1))
    return newest, rows


_ORDER = attrgetter("order")


def _by_date(nodes: list[_Container]) -> list[_Container]:
    return sorted(nodes, key=_ORDER)


def _key(node: _Container) -> int:
    assert node.message is not None
    return node.message.key


def _normalize_id(message_id: str | None) -> str | None:
    """Ids compare as ``<id>``; brackets and spaces that some software gets wrong are mended."""
    if not message_id:
        return None
    if message_id[0] == "<" and message_id[-1] == ">" and len(message_id) > 2:
        return message_id  # the common, well-formed case
    stripped = message_id.strip().strip("<>").strip()
    return f"<{stripped}>" if stripped else None


def _timestamp(date: datetime | None) -> float:
    if date is None:
        return -math.inf
    if date.tzinfo is None:  # callers should pass aware datetimes; read naive ones as UTC
        date = date.replace(tzinfo=UTC)
    try:
        return date.timestamp()
    except (OverflowError, ValueError, OSError):
        return -math.inf
