"""Dates as job feeds and job texts write them: one month table and one day/month rule for both.

A feed writes numeric dates day first or month first (its profile's `date_order`); the same order reads the
feed's date fields (`parse_date`) and the dates its postings' text names ("apply by 03/04/2027",
`parse_loose_date`), so the two never disagree. Pure functions, no I/O; None (never an error) for what cannot
be read.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache

DATE_ORDERS = ("dmy", "mdy")
# A feed's order unless its profile or params say otherwise (every built-in XML profile, every job API).
DEFAULT_DATE_ORDER = "dmy"
# The order a posting's text is read in when its feed's order is not passed along: US, month first.
TEXT_DATE_ORDER = "mdy"
MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                      "dec"), start=1)}

_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([aApP][mM])?)?"
    r"\s*(?:(?:UTC|GMT|Z)|([+-]\d{2}:?\d{2}))?$"
)
_YEAR_FIRST_SLASH = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_ISO_START = re.compile(r"^\d{4}-?\d{2}-?\d{2}")
_TRAILING_UTC = re.compile(r"\s*(?:UTC|GMT|Z)$", re.IGNORECASE)
_EPOCH = re.compile(r"^\d{9,13}$")
_WORDY_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%d-%b-%Y")
_MIN_YEAR, _MAX_YEAR = 1990, 2200
# RFC-822 as feeds write it (`Thu, 31 Jul 2014 07:27:14 PDT`), read without email.utils' general machinery.
_RFC822 = re.compile(
    r"^(?:[A-Za-z]{3},?\s+)?(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s*(?:([+-])(\d{2}):?(\d{2})|(UTC|UT|GMT|Z|[ECMP][SD]T))?$"
)
_ZONE_HOURS = {"UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
               "MDT": -6, "PST": -8, "PDT": -7}


def _rfc822(match: re.Match[str]) -> datetime | None:
    month = MONTHS.get(match[2].lower())
    if month is None:
        return None
    try:
        moment = datetime(int(match[3]), month, int(match[1]), int(match[4]), int(match[5]), int(match[6] or 0))
    except ValueError:
        return None
    if match[7]:
        minutes = int(match[8]) * 60 + int(match[9])
        moment -= timedelta(minutes=minutes if match[7] == "+" else -minutes)
    elif match[10]:
        moment -= timedelta(hours=_ZONE_HOURS[match[10]])
    return _as_utc(moment)


def _as_utc(moment: datetime) -> datetime | None:
    """Aware UTC; a naive time is taken to be UTC already (feeds that omit the zone mean the server's, unknown)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment if _MIN_YEAR <= moment.year <= _MAX_YEAR else None


def day_and_month(first: int, second: int, order: str) -> tuple[int, int]:
    """(day, month) of a numeric date whose first two numbers are `first`, `second`, written in `order`
    ("dmy" or "mdy"); read the other way round when only that reading is a date (12/31/2024 in a dmy feed)."""
    day, month = (second, first) if order == "mdy" else (first, second)
    if month > 12 and day <= 12:
        day, month = month, day
    return day, month


def _numeric_date(match: re.Match[str], order: str) -> datetime | None:
    day, month = day_and_month(int(match[1]), int(match[2]), order)
    year = int(match[3])
    hour = int(match[4] or 0)
    minute = int(match[5] or 0)
    second_of_minute = int(match[6] or 0)
    meridiem = (match[7] or "").lower()
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    try:
        moment = datetime(year, month, day, hour, minute, second_of_minute)
    except ValueError:
        return None
    if match[8]:
        offset = match[8].replace(":", "")
        try:
            moment = datetime.strptime(f"{moment:%Y-%m-%dT%H:%M:%S}{offset}", "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            return None
    return _as_utc(moment)


@lru_cache(maxsize=8192)
def parse_date(value: str | None, order: str = DEFAULT_DATE_ORDER) -> datetime | None:
    """A feed date as aware UTC, or None when unreadable.

    Reads RFC-822 (`Thu, 31 Jul 2014 07:27:14 PDT`), ISO 8601 (`2024-05-01T09:00:00Z`, `2024-05-01`),
    `DD/MM/YYYY`, `DD.MM.YYYY`, `DD-MM-YYYY` (or month first when `order="mdy"`, and either way when only one
    reading is a real date), `YYYY/MM/DD`, `May 1, 2024`, and Unix epochs in seconds or milliseconds.
    A date without a time is midnight UTC; a time without a zone is taken as UTC.
    """
    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    if _ISO_START.match(text):
        iso = _TRAILING_UTC.sub("+00:00", text) if not text.endswith("Z") else text
        try:
            return _as_utc(datetime.fromisoformat(iso))
        except ValueError:
            pass
    match = _RFC822.match(text)
    if match:
        return _rfc822(match)
    match = _NUMERIC_DATE.match(text)
    if match:
        return _numeric_date(match, order)
    match = _YEAR_FIRST_SLASH.match(text)
    if match:
        try:
            return _as_utc(datetime(int(match[1]), int(match[2]), int(match[3])))
        except ValueError:
            return None
    if _EPOCH.match(text):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        return _as_utc(datetime.fromtimestamp(seconds, UTC))
    if "," in text or ":" in text:
        try:
            return _as_utc(parsedate_to_datetime(text))
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    text = _ORDINAL.sub(r"\1", text)  # "November 28th, 2026"
    for fmt in _WORDY_FORMATS:
        try:
            return _as_utc(datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None


_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b", re.IGNORECASE)
_RELATIVE_TODAY = re.compile(r"^(?:posted\s+)?(?:today|just posted|just now|new)$", re.IGNORECASE)
_RELATIVE_YESTERDAY = re.compile(r"^(?:posted\s+)?yesterday$", re.IGNORECASE)
_RELATIVE_AGO = re.compile(
    r"^(?:posted\s+)?(?:(?P<n>\d{1,3})|an?|one)\s+(?P<unit>minute|min|hour|hr|day|week|month)s?\s+ago$", re.IGNORECASE)
_UNITS = {"minute": timedelta(minutes=1), "min": timedelta(minutes=1), "hour": timedelta(hours=1),
          "hr": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}


def parse_relative_date(value: str | None, now: datetime) -> datetime | None:
    """The day a relative posting date names, seen at `now` (the ingest's clock): `today`, `Just posted`,
    `yesterday`, `3 days ago`, `Posted 2 weeks ago`, `5 hours ago`; midnight UTC of that day (a month is 30 days).
    None for anything else, including a bound such as `30+ days ago`, which names no day."""
    if not value:
        return None
    text = " ".join(value.split())
    if _RELATIVE_TODAY.match(text):
        back = timedelta(0)
    elif _RELATIVE_YESTERDAY.match(text):
        back = _UNITS["day"]
    elif match := _RELATIVE_AGO.match(text):
        back = (int(match["n"]) if match["n"] else 1) * _UNITS[match["unit"].lower()]
    else:
        return None
    return (now.astimezone(UTC) - back).replace(hour=0, minute=0, second=0, microsecond=0)


# Dates inside free text ("apply by 03/04/2027", "March 5th, 2027", "5 March 2027", "2027-03-05"): this century's.
_ISO_IN_TEXT = re.compile(r"\b(?P<y>20\d\d)-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")
_NUMERIC_IN_TEXT = re.compile(r"\b(?P<first>\d{1,2})/(?P<second>\d{1,2})/(?P<y>20\d\d)\b")
_MONTH_FIRST_IN_TEXT = re.compile(
    r"\b(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(st|nd|rd|th)?,?\s+(?P<y>20\d\d)\b")
_DAY_FIRST_IN_TEXT = re.compile(r"\b(?P<d>\d{1,2})(st|nd|rd|th)?\s+(?P<mon>[A-Za-z]{3,9})\.?,?\s+(?P<y>20\d\d)\b")


def parse_loose_date(text: str, order: str = TEXT_DATE_ORDER) -> date | None:
    """The first date written in `text`: ISO, numeric (DD/MM/YYYY or MM/DD/YYYY as `order` says, like the
    feed's own dates), "March 5, 2027" or "5 March 2027"."""
    for pattern in (_ISO_IN_TEXT, _NUMERIC_IN_TEXT, _MONTH_FIRST_IN_TEXT, _DAY_FIRST_IN_TEXT):
        match = pattern.search(text)
        if not match:
            continue
        parts = match.groupdict()
        if pattern is _NUMERIC_IN_TEXT:
            day, month = day_and_month(int(parts["first"]), int(parts["second"]), order)
        else:
            day = int(parts["d"])
            month = int(parts["m"]) if "m" in parts else MONTHS.get(parts["mon"][:3].lower())
        if not month:
            continue
        try:
            return date(int(parts["y"]), month, day)
        except ValueError:
            continue
    return None
