"""Send-later times as people type them: "tomorrow 9:00", "mon 8am", "+2h", "in 30 min",
"17:30", or ISO ("2026-12-08 09:00"), in the local time zone; and the time back in words.

The rules where a text could mean two things:

* A day without a time ("tomorrow", "fri", "2026-12-08") means 09:00 that day.
* A time without a day ("17:30", "8am") means its next occurrence: today if it is still to
  come, else tomorrow. A weekday ("mon 8am") likewise means the next such day at that time,
  today included while the time is still to come.
* "+2h" and "in 30 min" count real elapsed time from now (a DST change in between does not
  move them); clock times count on the wall clock.
* Around a DST change, a wall time that happens twice means the first; one that does not
  happen (the clocks jump over it) is read with the offset before the jump, which lands the
  same distance past the jump.
* A time that is already past (an ISO time, "today 8:00" after 8) is an error, not tomorrow.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from tuimail.errors import TuimailError

DEFAULT_HOUR = 9  # a day named without a time

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_RELATIVE = re.compile(r"^(?:\+|in\s+)\s*(\d+)\s*([a-z]+)$")
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class WhenError(TuimailError):
    """The text is not a time we understand, or it is in the past."""


def parse_when(text: str, now: datetime, zone: tzinfo | None = None) -> datetime:
    """The moment ``text`` names, as an aware datetime, relative to ``now`` (aware).

    ``zone`` is the local time zone for wall-clock times (None: the system's).
    """
    words = " ".join(text.strip().lower().split())
    if not words:
        raise WhenError("no time given")
    relative = _RELATIVE.match(words)
    if relative:
        unit = _UNITS.get(relative.group(2))
        if unit is None:
            raise WhenError(f"unknown unit {relative.group(2)!r} (use min, h, d or w)")
        return now + timedelta(seconds=int(relative.group(1)) * unit)
    local_now = _local(now, zone)
    found = _iso(words, now, zone)
    if found is None:
        found = _day_and_clock(words, local_now, zone)
    if found <= now:
        raise WhenError(f"{describe(found, now, zone)} is in the past")
    return found


def describe(moment: datetime, now: datetime, zone: tzinfo | None = None) -> str:
    """``moment`` in words, local time: "Tuesday 8 December 09:00" (with the year if not now's)."""
    local = _local(moment, zone)
    year = "" if local.year == _local(now, zone).year else f" {local.year}"
    return f"{local:%A} {local.day} {local:%B}{year} {local:%H:%M}"


def _local(moment: datetime, zone: tzinfo | None) -> datetime:
    return moment.astimezone(zone) if zone is not None else moment.astimezone()


def _wall(day: date, clock: time, zone: tzinfo | None) -> datetime:
    naive = datetime.combine(day, clock)
    if zone is None:
        return naive.astimezone(UTC)  # the system's rules (mktime) for that day
    # In UTC: a wall time in a fold never compares equal to another zone's (PEP 495).
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _iso(words: str, now: datetime, zone: tzinfo | None) -> datetime | None:
    text = words.upper()
    if _ISO_DAY.match(words):
        text += f"T{DEFAULT_HOUR:02d}:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        return parsed
    return _wall(parsed.date(), parsed.time(), zone)


def _day_and_clock(words: str, local_now: datetime, zone: tzinfo | None) -> datetime:
    day_word, _, rest = words.partition(" ")
    day = _day(day_word, local_now.date())
    if day is None:  # no day named: the whole text is a time
        day_word, rest = "", words
    clock = _clock(rest) if rest else time(DEFAULT_HOUR)
    if day is not None:
        found = _wall(day, clock, zone)
        if day_word not in ("today", "tomorrow") and found <= local_now:  # a weekday
            found = _wall(day + timedelta(days=7), clock, zone)
        return found
    found = _wall(local_now.date(), clock, zone)
    if found <= local_now:
        found = _wall(local_now.date() + timedelta(days=1), clock, zone)
    return found


def _day(word: str, today: date) -> date | None:
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    if len(word) >= 3:
        for number, name in enumerate(_WEEKDAYS):
            if name.startswith(word):  # mon, tues, wednesday
                return today + timedelta(days=(number - today.weekday()) % 7)
    return None


def _clock(text: str) -> time:
    found = _CLOCK.match(text)
    if not found:
        raise WhenError(f"cannot read {text!r} as a time (try 9:00, 8am, +2h or 2026-12-08 09:00)")
    hour, minute, half = int(found.group(1)), int(found.group(2) or 0), found.group(3)
    if half is not None:
        if not 1 <= hour <= 12:
            raise WhenError(f"{text!r}: with am or pm the hour is 1 to 12")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise WhenError(f"{text!r} is not a time of day")
    return time(hour, minute)
