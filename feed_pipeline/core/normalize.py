"""Turn the messy strings job feeds carry into clean values: text, HTML, dates, employment type, salary, remote.

Pure functions, no I/O. Every parser returns None (never raises) for text it cannot read, so one odd field
never costs a record; the caller decides what a missing value means. Parsers whose inputs repeat a lot across
a feed (dates, employment types, salaries) are memoized: a million-job feed has a few thousand distinct values.

What comes out is safe to publish as is: plain text holds no markup, `description_html` only what the nh3
allowlist keeps, URLs are http(s) (see the plain-text rule below and `vet_url`).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote

import nh3

from feed_pipeline.core.jobs import EmploymentType, JobRecord, RejectionReason

# --------------------------------------------------------------------------------------------------- text
#
# The plain-text rule. Every text field we publish (title, company, description, locations, tags, extra
# values...) is plain text: HTML entities decoded once, then every tag removed, and the result checked
# again so decoding can never bring markup back (`&lt;script&gt;` in a CDATA description becomes a
# `<script>` element, which is then dropped with its content). Nothing is re-escaped: consumers escape plain
# text as they render it. Markup is whatever a browser's tokenizer would open a tag for: `<` followed by a
# letter, `/`, `!` or `?`. `description_html` is the one field that keeps markup, and only what the nh3
# allowlist in `sanitize_html` lets through.

# C0 controls other than tab/newline/carriage return, plus the two XML non-characters.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_TAG_START = re.compile(r"<[A-Za-z/!?]")
# A tag as a browser reads it: up to the first `>` outside quotes, or to the end of the text when unclosed
# (every branch can match, so the expression never backtracks and stays linear on hostile input).
_TAG = re.compile(r"<[A-Za-z/!?](?:\"[^\"]*(?:\"|\Z)|'[^']*(?:'|\Z)|[^'\">])*(?:>|\Z)")
# Elements whose content is code or embedded documents, never text: dropped with their content, in plain
# text and in `description_html` alike. One without its end tag only loses the tag: a description that
# mentions `<svg>` in passing keeps the rest of its text.
_CODE_ELEMENTS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "applet", "svg", "math",
                  "xmp", "noembed", "noframes")
_CODE_OPEN = re.compile(rf"<({'|'.join(_CODE_ELEMENTS)})\b", re.IGNORECASE)
_CODE_CLOSE = {name: re.compile(rf"</{name}\b[^>]*>", re.IGNORECASE) for name in _CODE_ELEMENTS}
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# Removing a tag can join two halves into a new one (`<scr<b>ipt>`); after this many rounds the `<` go.
_MAX_MARKUP_ROUNDS = 4


def strip_control_chars(text: str) -> str:
    """Remove characters XML and databases reject (NUL, C0 controls, U+FFFE/U+FFFF); keep tab and newlines."""
    return _CONTROL_CHARS.sub("", text) if _CONTROL_CHARS.search(text) else text


def _drop_code_elements(text: str) -> str:
    """The text without its code elements (start tag to end tag). Linear: each element name's end tag is
    looked for once past the last one found, and never again once it is known to be missing."""
    pieces: list[str] = []
    kept_from = 0
    unclosed: set[str] = set()
    for opening in _CODE_OPEN.finditer(text):
        name = opening[1].lower()
        if opening.start() < kept_from or name in unclosed:
            continue
        closing = _CODE_CLOSE[name].search(text, opening.end())
        if closing is None:
            unclosed.add(name)
            continue
        pieces.append(text[kept_from:opening.start()])
        kept_from = closing.end()
    if not pieces:
        return text
    pieces.append(text[kept_from:])
    return "".join(pieces)


def _drop_code_and_comments(text: str) -> str:
    if "<!--" in text:
        text = _HTML_COMMENT.sub("", text)
    return _drop_code_elements(text)


def strip_markup(text: str) -> str:
    """The text with every tag removed (script, style and similar elements with their content), repeated
    until no tag is left, so the result holds no markup whatever the input. No entity is decoded here."""
    rounds = 0
    while _TAG_START.search(text):
        if rounds == _MAX_MARKUP_ROUNDS:
            return _TAG_START.sub(lambda m: m[0][1:], text)
        text = _TAG.sub("", _drop_code_and_comments(text))
        rounds += 1
    return text


def has_markup(text: str | None) -> bool:
    """True when the text would open a tag in a browser (what the plain-text fields must never hold)."""
    return bool(text) and _TAG_START.search(text) is not None


def clean_text(value: object) -> str | None:
    """One-line plain text: control characters removed, HTML entities decoded once (feeds write `&amp;`
    inside CDATA), tags removed after decoding (so none survives), whitespace collapsed.

    None for None or for text that is empty once trimmed. Short values are memoized: a feed repeats its
    companies, cities, categories and salary texts on record after record.
    """
    if value is None:
        return None
    text = value if value.__class__ is str else str(value)
    if len(text) > _MEMO_MAX_CHARS:
        return _clean_text(text)
    cleaned = _CLEAN_MEMO.get(text, _MISSING)
    if cleaned is _MISSING:
        if len(_CLEAN_MEMO) >= _MEMO_MAX_ENTRIES:
            _CLEAN_MEMO.clear()
        cleaned = _CLEAN_MEMO[text] = _clean_text(text)
    return cleaned


def _clean_text(text: str) -> str | None:
    if _CONTROL_CHARS.search(text):
        text = _CONTROL_CHARS.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = strip_markup(text)
    text = " ".join(text.split())
    return text or None


# Memo of short values (clean_text, published_extra): bounded, emptied when full, so memory stays flat on a
# feed of unique values (about 4 MB at most).
_MEMO_MAX_CHARS = 128
_MEMO_MAX_ENTRIES = 16_384
_MISSING = object()
_CLEAN_MEMO: dict[str, str | None] = {}


# --------------------------------------------------------------------------------------------------- URLs

PUBLISHED_URL_SCHEMES = frozenset({"http", "https"})
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# What a browser ignores when it reads a URL: tabs and newlines anywhere (WHATWG URL parser), so
# `java\tscript:` is `javascript:`; C0 controls and spaces around it are trimmed.
_URL_IGNORED = re.compile(r"[\t\n\r]")
# `http(s)://`, optional userinfo, a host (name, IPv4 or [IPv6]), an optional numeric port, then the path.
_HTTP_URL = re.compile(r"https?://(?:[^/?#@]*@)?(?:\[[0-9A-Fa-f:.]+\]|[^/?#:@\[\]\\]+)(?::\d{0,5})?(?:[/?#]|\Z)",
                       re.IGNORECASE)
_URL_SPACE = re.compile(r"\s")
_URL_TRIM = "".join(chr(c) for c in range(0x21)) + "\u00a0\ufeff"
# A link written without its scheme, as real feeds do: `//host/path` or `www.host.tld/path`, `host.tld/path`.
_SCHEMELESS_HOST = re.compile(r"(?://)?(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?:[/?#]|\Z)")
_SCRIPT_SCHEME = re.compile(r"(?:java|vb|live|ecma)script:|data:|mocha:", re.IGNORECASE)


def _url_text(value: object) -> str:
    """The URL as a browser would read it: entities decoded once, controls, tabs and newlines removed,
    trimmed, inner spaces percent-encoded."""
    text = value if value.__class__ is str else str(value)
    if "&" in text:
        text = html.unescape(text)
    text = _URL_IGNORED.sub("", _CONTROL_CHARS.sub("", text)).strip(_URL_TRIM)
    text = text.replace(" ", "%20")
    return _URL_SPACE.sub(lambda m: quote(m[0]), text) if _URL_SPACE.search(text) else text


def vet_url(value: object) -> tuple[str | None, str | None]:
    """(url, problem): an absolute http or https URL as published, or None and why it is refused.

    A link that names a host but not its scheme (`www.example.com/job`, `//example.com/job`) is completed
    with https, as a browser's address bar would; a relative path (`/jobs/1`) has no host and is refused.

    (None, None) for no value. The scheme is read after the browser's own clean-up (entities, tabs and
    newlines, surrounding controls) and case-folded, so `JaVaScRiPt:`, `java&#09;script:`, `\\tjavascript:`,
    `data:` and `vbscript:` are all refused. The problem names the field's scheme, never the value, so it
    can be shown anywhere.
    """
    if value is None:
        return None, None
    text = _url_text(value)
    if not text:
        return None, None
    match = _URL_SCHEME.match(text)
    if match is None and _SCHEMELESS_HOST.match(text):
        text = "https:" + text if text.startswith("//") else "https://" + text  # a host without its scheme
        match = _URL_SCHEME.match(text)
    if match is None:
        return None, "is not an absolute http(s) URL"
    scheme = match[1].lower()
    if scheme not in PUBLISHED_URL_SCHEMES:
        return None, f"has the scheme {scheme!r}; only http and https are published"
    if _HTTP_URL.match(text) is None or '"' in text or "<" in text or ">" in text:
        return None, "is not a well-formed http(s) URL"
    return text, None


def clean_url(value: object) -> str | None:
    """An http(s) URL as published (`&amp;` from CDATA decoded, no whitespace), None when empty or refused."""
    return vet_url(value)[0]


def is_script_url(value: object) -> bool:
    """True for text a browser would run or render as a document if it were a link (`javascript:`,
    `vbscript:`, `data:`...), however it is cased, spaced or entity-encoded."""
    if value is None:
        return False
    return _SCRIPT_SCHEME.match(_url_text(value)) is not None


# --------------------------------------------------------------------------------------------------- HTML

# Elements that end a paragraph (blank line after) and elements that only end a line.
_PARAGRAPH_TAG = re.compile(
    r"</?(?:p|div|ul|ol|h[1-6]|table|section|article|header|footer|blockquote|pre|hr)\b[^<>]*>", re.IGNORECASE)
_LINE_TAG = re.compile(r"<(?:br|li|tr|dt|dd)\b[^<>]*>", re.IGNORECASE)  # opening tags only
_LOOKS_LIKE_MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")


def looks_like_html(text: str | None) -> bool:
    """True when the text holds markup (raw, or escaped once as feeds often do outside CDATA)."""
    if not text:
        return False
    if "<" in text and _LOOKS_LIKE_MARKUP.search(text):
        return True
    return "&lt;" in text and _LOOKS_LIKE_MARKUP.search(html.unescape(text)) is not None


def _markup_layer(text: str) -> str:
    """The HTML a description carries: control characters removed, and HTML that was escaped once more than
    it should be (`&lt;p&gt;` in a CDATA section) decoded once."""
    text = strip_control_chars(text)
    if "&lt;" in text and not _TAG_START.search(text):
        text = html.unescape(text)
    return text


def _tidy_lines(text: str) -> str:
    """Spaces collapsed within lines, lines trimmed, runs of blank lines reduced to one."""
    out: list[str] = []
    blank = False
    for line in text.split("\n"):
        line = " ".join(line.split())
        if line:
            if blank and out:
                out.append("")
            out.append(line)
            blank = False
        else:
            blank = True
    return "\n".join(out)


def html_to_text(markup: str | None) -> str:
    """Readable plain text from an HTML description: paragraphs separated by a blank line, list items and
    `<br>` on their own lines, tags, comments and scripts gone, entities decoded, spaces collapsed.

    The result holds no markup (see the plain-text rule above), whatever the input.
    """
    if not markup:
        return ""
    return _layer_to_text(_markup_layer(markup))


def _layer_to_text(text: str) -> str:
    """html_to_text after `_markup_layer` (which job_from_fields shares with sanitize_html)."""
    if "<" in text:
        text = _drop_code_and_comments(text)
        text = _PARAGRAPH_TAG.sub("\n\n", text)
        text = _LINE_TAG.sub("\n", text)
        text = _TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:  # what decoding or the removals above joined into a tag goes too
        text = strip_markup(text)
    return _tidy_lines(text)


# The allowlist for `description_html`: formatting only. Links keep http, https and mailto targets and get
# rel="nofollow noopener"; relative links are dropped (they would point at whoever renders the job).
# Everything else (script, style, iframe, form, svg, img, event handlers, style attributes) is removed;
# script-like elements lose their content too.
SAFE_HTML_TAGS = frozenset(
    "p br hr div span ul ol li dl dt dd strong b em i u s small sub sup code pre blockquote "
    "h1 h2 h3 h4 h5 h6 a table thead tbody tfoot tr th td caption".split()
)
SAFE_HTML_ATTRIBUTES = {"*": {"title", "lang"}, "a": {"href"}, "th": {"colspan", "rowspan"},
                        "td": {"colspan", "rowspan"}, "ol": {"start"}}
SAFE_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_DROPPED_WITH_CONTENT = frozenset(_CODE_ELEMENTS) | {"form", "textarea", "select", "button", "title", "head"}
_SANITIZER = nh3.Cleaner(tags=set(SAFE_HTML_TAGS), clean_content_tags=set(_DROPPED_WITH_CONTENT),
                         attributes={k: set(v) for k, v in SAFE_HTML_ATTRIBUTES.items()}, strip_comments=True,
                         link_rel="nofollow noopener", url_schemes=set(SAFE_LINK_SCHEMES), url_relative="deny")


# Markup escaped inside the text of sanitized HTML (`&lt;img onerror=...&gt;` beside real tags).
_ESCAPED_TAG_START = re.compile(r"&lt;(?=[A-Za-z/!?])")


def sanitize_html(markup: str | None) -> str | None:
    """`description_html` as published: the description's HTML through the nh3 allowlist above; None when
    nothing but whitespace is left.

    As in the plain-text fields, markup escaped inside the text (a feed mixing real tags with escaped ones)
    is decoded once and sanitized too, rather than shown as the literal text of a tag.
    """
    if not markup:
        return None
    return _sanitize_layer(_markup_layer(markup))


def _sanitize_layer(layer: str) -> str | None:
    """sanitize_html after `_markup_layer`."""
    cleaned = _SANITIZER.clean(layer)
    rounds = 0
    while _ESCAPED_TAG_START.search(cleaned):
        if rounds == _MAX_MARKUP_ROUNDS:
            cleaned = _ESCAPED_TAG_START.sub("", cleaned)
            break
        cleaned = _SANITIZER.clean(html.unescape(cleaned))
        rounds += 1
    cleaned = cleaned.strip()
    return cleaned or None


# --------------------------------------------------------------------------------------------------- dates

DATE_ORDERS = ("dmy", "mdy")

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
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), start=1)}
_ZONE_HOURS = {"UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
               "MDT": -6, "PST": -8, "PDT": -7}


def _rfc822(match: re.Match[str]) -> datetime | None:
    month = _MONTHS.get(match[2].lower())
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


def _numeric_date(match: re.Match[str], order: str) -> datetime | None:
    first, second, year = int(match[1]), int(match[2]), int(match[3])
    if order == "mdy":
        day, month = second, first
    else:
        day, month = first, second
    if month > 12 and day <= 12:  # unambiguous the other way round: 12/31/2024 in a dmy feed
        day, month = month, day
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
def parse_date(value: str | None, order: str = "dmy") -> datetime | None:
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
    for fmt in _WORDY_FORMATS:
        try:
            return _as_utc(datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None


# --------------------------------------------------------------------------------------------------- employment

_EMPLOYMENT_WORDS: dict[str, EmploymentType] = {
    "fulltime": EmploymentType.FULL_TIME,
    "full": EmploymentType.FULL_TIME,
    "ft": EmploymentType.FULL_TIME,
    "permanent": EmploymentType.FULL_TIME,
    "perm": EmploymentType.FULL_TIME,
    "regular": EmploymentType.FULL_TIME,
    "parttime": EmploymentType.PART_TIME,
    "part": EmploymentType.PART_TIME,
    "pt": EmploymentType.PART_TIME,
    "contract": EmploymentType.CONTRACT,
    "contractor": EmploymentType.CONTRACT,
    "contracttohire": EmploymentType.CONTRACT,
    "freelance": EmploymentType.CONTRACT,
    "freelancer": EmploymentType.CONTRACT,
    "fixedterm": EmploymentType.CONTRACT,
    "temporary": EmploymentType.TEMPORARY,
    "temp": EmploymentType.TEMPORARY,
    "seasonal": EmploymentType.TEMPORARY,
    "interim": EmploymentType.TEMPORARY,
    "internship": EmploymentType.INTERNSHIP,
    "intern": EmploymentType.INTERNSHIP,
    "apprenticeship": EmploymentType.INTERNSHIP,
    "apprentice": EmploymentType.INTERNSHIP,
    "trainee": EmploymentType.INTERNSHIP,
    "volunteer": EmploymentType.VOLUNTEER,
    "volunteering": EmploymentType.VOLUNTEER,
    "unpaid": EmploymentType.VOLUNTEER,
}
# Fragments recognised inside longer phrases ("Full-Time Permanent", "Contract-to-hire (6 months)").
_EMPLOYMENT_FRAGMENTS = (
    ("fulltime", EmploymentType.FULL_TIME),
    ("parttime", EmploymentType.PART_TIME),
    ("intern", EmploymentType.INTERNSHIP),
    ("apprentic", EmploymentType.INTERNSHIP),
    ("contract", EmploymentType.CONTRACT),
    ("freelanc", EmploymentType.CONTRACT),
    ("temporar", EmploymentType.TEMPORARY),
    ("volunteer", EmploymentType.VOLUNTEER),
    ("permanent", EmploymentType.FULL_TIME),
)
_LIST_SEPARATORS = re.compile(r"[,;/|]|\band\b|\bor\b", re.IGNORECASE)
_NOT_LETTERS = re.compile(r"[^a-z]+")


@lru_cache(maxsize=4096)
def parse_employment_type(value: str | None) -> str | None:
    """One EmploymentType value for `fulltime`, `Full-time`, `FULL_TIME`, `permanent`, `contractor`, ...

    A list ("fulltime, parttime") gives its first recognised entry; unknown non-empty text gives `other`.
    """
    if not value or not value.strip():
        return None
    for part in _LIST_SEPARATORS.split(value):
        key = _NOT_LETTERS.sub("", part.lower())
        if not key:
            continue
        if key in _EMPLOYMENT_WORDS:
            return _EMPLOYMENT_WORDS[key].value
        for fragment, kind in _EMPLOYMENT_FRAGMENTS:
            if fragment in key:
                return kind.value
    return EmploymentType.OTHER.value


# --------------------------------------------------------------------------------------------------- salary

SALARY_PERIODS = ("year", "month", "week", "day", "hour")


@dataclass(frozen=True, slots=True)
class Salary:
    minimum: float | None
    maximum: float | None
    currency: str | None
    period: str | None  # one of SALARY_PERIODS


_CURRENCY_SYMBOLS = (  # longest first: "CA$" before "$"
    ("US$", "USD"), ("CA$", "CAD"), ("C$", "CAD"), ("AU$", "AUD"), ("A$", "AUD"), ("NZ$", "NZD"),
    ("HK$", "HKD"), ("S$", "SGD"), ("R$", "BRL"), ("$", "USD"), ("£", "GBP"), ("€", "EUR"), ("¥", "JPY"),
    ("₹", "INR"), ("₩", "KRW"), ("₽", "RUB"), ("₺", "TRY"), ("₪", "ILS"), ("₱", "PHP"), ("zł", "PLN"),
)
CURRENCY_CODES = frozenset(
    "USD EUR GBP CAD AUD NZD CHF JPY CNY INR SGD HKD SEK NOK DKK PLN CZK HUF RON BGN ZAR BRL MXN ARS CLP COP "
    "PEN AED SAR QAR ILS TRY RUB UAH KRW TWD THB MYR IDR PHP VND NGN KES EGP PKR BDT".split()
)
_CURRENCY_CODE = re.compile(r"\b(" + "|".join(sorted(CURRENCY_CODES)) + r")\b", re.IGNORECASE)
_PERIOD_PATTERNS = (
    ("hour", re.compile(r"\b(hour|hourly|hr|hrs|ph)\b|/\s*h\b|p/h", re.IGNORECASE)),
    ("day", re.compile(r"\b(day|daily|diem|pd)\b|/\s*d\b", re.IGNORECASE)),
    ("week", re.compile(r"\b(week|weekly|wk|pw)\b", re.IGNORECASE)),
    ("month", re.compile(r"\b(month|monthly|mo|mth|pcm|pm)\b", re.IGNORECASE)),
    ("year", re.compile(r"\b(year|yearly|annum|annual|annually|yr|pa|p\.a)\b|/\s*y\b", re.IGNORECASE)),
)
# A number: grouped thousands (`20,000`, `20.000`, `20 000`) or plain, optional decimals, optional `k`.
_AMOUNT = re.compile(
    r"(?<![\w.])(\d{1,3}(?:([,. \u00a0\u202f'])\d{3})(?:\2\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
    r"\s*([kK])?(?![\w])"
)
_RANGE_JOINER = re.compile(r"^\s*(?:-|–|—|to|bis|à|a)\s*(?:[A-Za-z]{3}\s*)?[^\d\s]{0,3}\s*$", re.IGNORECASE)


def _amount_value(number: str, thousands_sep: str | None, kilo: str | None) -> float:
    if thousands_sep:
        integer_part, decimals = number, ""
        tail = number[-3:]
        if len(number) > 3 and tail[0] in ".," and tail[0] != thousands_sep:
            integer_part, decimals = number[:-3], "." + number[-2:]
        elif len(number) > 2 and number[-2] in ".," and number[-2] != thousands_sep:
            integer_part, decimals = number[:-2], "." + number[-1:]
        value = float(integer_part.replace(thousands_sep, "") + decimals)
    else:
        value = float(number.replace(",", "."))
    return value * 1000 if kilo else value


def _currency_of(text: str) -> str | None:
    for symbol, code in _CURRENCY_SYMBOLS:
        if symbol in text:
            return code
    match = _CURRENCY_CODE.search(text)
    return match[1].upper() if match else None


def _period_of(text: str) -> str | None:
    for period, pattern in _PERIOD_PATTERNS:
        if pattern.search(text):
            return period
    return None


@lru_cache(maxsize=8192)
def parse_salary(value: str | None) -> Salary | None:
    """Minimum, maximum, currency and period from salary text, or None when it names no amount.

    `$50K per year` -> 50000/50000 USD year; `£20,000 - £25,000 per annum` -> 20000/25000 GBP year;
    `€30-35k` -> 30000/35000 EUR; `$15.50/hr` -> hour; `Up to $60,000` -> max only; `From £25k` -> min only.
    A `k` on the upper bound applies to a bare lower bound (`30-35k`). Period is None when the text states none.
    """
    if not value or not any(ch.isdigit() for ch in value):
        return None
    text = value.strip()
    amounts = [(m.start(), m.end(), _amount_value(m[1], m[2], m[3]), bool(m[3])) for m in _AMOUNT.finditer(text)]
    if not amounts:
        return None
    low = amounts[0]
    high = None
    if len(amounts) > 1 and _RANGE_JOINER.match(text[low[1]:amounts[1][0]]):
        high = amounts[1]
    minimum = low[2]
    maximum = high[2] if high else low[2]
    if high and high[3] and not low[3] and minimum < 1000 <= maximum:
        minimum *= 1000
    lowered = text.lower()
    if high is None:
        if re.search(r"\b(up to|max(imum)?|under|less than)\b", lowered):
            minimum = None
        elif re.search(r"\b(from|min(imum)?|starting|at least|over|\+)", lowered) or text.rstrip().endswith("+"):
            maximum = None
    if minimum is not None and maximum is not None and minimum > maximum:
        minimum, maximum = maximum, minimum
    if (minimum is not None and minimum <= 0) and (maximum is None or maximum <= 0):
        return None
    return Salary(minimum, maximum, _currency_of(text), _period_of(text))


def parse_salary_period(value: str | None) -> str | None:
    """One of SALARY_PERIODS for `annual`, `per hour`, `monthly`, `yearly`, ... (None when unknown)."""
    if not value or not value.strip():
        return None
    text = value.strip().lower()
    if text in SALARY_PERIODS:
        return text
    return _period_of(text)


def parse_amount(value: object) -> float | None:
    """A single amount (`52000`, `52,000.00`, `52k`) as a float; None when there is none or it is not positive."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if value > 0 else None
    match = _AMOUNT.search(str(value))
    if not match:
        return None
    amount = _amount_value(match[1], match[2], match[3])
    return amount if amount > 0 else None


def parse_currency(value: object) -> str | None:
    """An ISO 4217 code from a code or a symbol (`usd`, `£`, `CA$`); None when unknown."""
    if value is None:
        return None
    text = str(value).strip()
    if text.upper() in CURRENCY_CODES:
        return text.upper()
    return _currency_of(text) if text else None


# --------------------------------------------------------------------------------------------------- remote

_REMOTE_FALSE = re.compile(r"\b(no|false|0|none|on[- ]?site|in[- ]office|office[- ]based|not remote|hybrid)\b",
                           re.IGNORECASE)
_REMOTE_TRUE = re.compile(
    r"\b(yes|true|1|remote|fully remote|100% remote|work from home|wfh|telecommute|telework|anywhere|"
    r"temporarily remote|covid-19)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=2048)
def parse_remote(value: str | None) -> bool | None:
    """True for a fully remote flag (`Fully remote`, `yes`, `true`, `WFH`, Indeed's `COVID-19`), False for
    on-site and hybrid (a hybrid job still needs an office; the raw text stays in the record's `extra`),
    None when the text says nothing."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if _REMOTE_FALSE.search(text):
        return False
    if _REMOTE_TRUE.search(text):
        return True
    return None


_REMOTE_LOCATION = re.compile(r"^\s*(remote|anywhere|work from home|wfh)\b", re.IGNORECASE)


def location_says_remote(location: str | None) -> bool:
    """True when a location is itself a remote marker (`Remote`, `Remote - US`, `Anywhere`)."""
    return bool(location) and _REMOTE_LOCATION.match(location) is not None


# --------------------------------------------------------------------------------------------------- status

_NOT_LETTERS_ANY_CASE = re.compile(r"[\W_]+")


def is_closed_status(value: str | None) -> bool:
    """True for an ATS status of CLOSED in any case or spacing (`closed`, ` Closed `, `C L O S E D`)."""
    if not value:
        return False
    return _NOT_LETTERS_ANY_CASE.sub("", value).lower() == "closed"


# --------------------------------------------------------------------------------------------------- records

# The names a source maps its own tags or keys onto; `job_from_fields` reads exactly these.
FIELD_NAMES = (
    "id", "title", "company", "description", "url", "location", "city", "state", "country", "postal_code",
    "date", "expires", "employment_type", "contract_type", "contract_time", "salary", "salary_min",
    "salary_max", "salary_currency", "salary_period", "remote", "requisition_id", "category", "status", "tags",
)
# Fields that are one short line; anything longer than SHORT_FIELD_MAX_CHARS there is not a real value.
SHORT_FIELDS = frozenset(FIELD_NAMES) - {"description", "tags"}


@dataclass(frozen=True, slots=True)
class FieldLimits:
    """Size caps: a value above them makes the record `invalid` (it is not read, so it costs no time)."""

    max_field_chars: int = 500_000
    max_short_field_chars: int = 8_192


DEFAULT_LIMITS = FieldLimits()


def _oversized(fields: dict[str, object], limits: FieldLimits) -> list[str]:
    problems = []
    lowest = min(limits.max_short_field_chars, limits.max_field_chars)
    for name, value in fields.items():
        if not isinstance(value, str) or len(value) <= lowest:  # the common case, decided in one test
            continue
        cap = limits.max_short_field_chars if name in SHORT_FIELDS else limits.max_field_chars
        if len(value) > cap:
            problems.append(f"field {name!r} is {len(value):,} characters (limit {cap:,})")
    return problems


def _employment(fields: dict[str, object]) -> str | None:
    stated = parse_employment_type(clean_text(fields.get("employment_type")))
    contract_type = parse_employment_type(clean_text(fields.get("contract_type")))
    contract_time = parse_employment_type(clean_text(fields.get("contract_time")))
    if stated and stated != EmploymentType.OTHER.value:
        return stated
    # Adzuna style: contract_type says permanent/contract, contract_time says full/part time.
    if contract_type in (EmploymentType.CONTRACT.value, EmploymentType.TEMPORARY.value,
                         EmploymentType.INTERNSHIP.value):
        return contract_type
    return contract_time or contract_type or stated


def _locations(city: str | None, state: str | None, country: str | None, location: str | None) -> list[str]:
    """One display location: city, state, country when given in parts, else the feed's own location text."""
    if city or state or (country and not location):
        parts: list[str] = []
        for part in (city, state, country):
            if part and part not in parts:
                parts.append(part)
        return [", ".join(parts)]
    return [location] if location else []


# An extra value under a name like these is a link (RemoteOK `apply_url`/`logo`, JSearch `employer_logo`, a
# feed's `companyurl`): it is published only as an http(s) URL.
_URL_KEY = re.compile(r"(?:url|uri|link|href|logo|image|img|src|website|homepage)$", re.IGNORECASE)
EXTRA_VALUE_MAX_CHARS = 2_000


def _description_parts(raw: str) -> tuple[str, str | None]:
    """(plain text, sanitized HTML or None) of a description, the markup layer worked out once for both.

    Memoized for descriptions up to _DESCRIPTION_MEMO_CHARS: a posting listed in several locations repeats its
    description, and this is the costliest step of a record (about 30 us).
    """
    memoized = len(raw) <= _DESCRIPTION_MEMO_CHARS
    if memoized:
        parts = _DESCRIPTION_MEMO.get(raw)
        if parts is not None:
            return parts
    layer = _markup_layer(raw)
    parts = (_layer_to_text(layer) if layer else "",
             _sanitize_layer(layer) if layer and looks_like_html(raw) else None)
    if memoized:
        if len(_DESCRIPTION_MEMO) >= _DESCRIPTION_MEMO_ENTRIES:
            _DESCRIPTION_MEMO.clear()
        _DESCRIPTION_MEMO[raw] = parts
    return parts


# At most 512 descriptions of up to 8,192 characters, with their two outputs: a few MB whatever the feed.
_DESCRIPTION_MEMO_CHARS = 8_192
_DESCRIPTION_MEMO_ENTRIES = 512
_DESCRIPTION_MEMO: dict[str, tuple[str, str | None]] = {}


def published_extra(extra: dict[str, object]) -> dict[str, object]:
    """The source-specific values a record keeps, held to the plain-text and URL rules of the named fields.

    Text is cleaned (`clean_text`) and cut at EXTRA_VALUE_MAX_CHARS; a value under a link-like name must be an
    http(s) URL; a value that is a script or data URL under any name is dropped, as are empty values.
    Other values (numbers, booleans) are kept as given.
    """
    kept: dict[str, object] = {}
    for key, value in extra.items():
        if value is None:
            continue
        if isinstance(value, str):
            if len(value) <= _MEMO_MAX_CHARS:  # feeds repeat their extra values (source name, education...)
                memo_key = (key, value)
                published = _EXTRA_MEMO.get(memo_key, _MISSING)
                if published is _MISSING:
                    if len(_EXTRA_MEMO) >= _MEMO_MAX_ENTRIES:
                        _EXTRA_MEMO.clear()
                    published = _EXTRA_MEMO[memo_key] = _published_text(key, value)
                value = published
            else:
                value = _published_text(key, value)
            if value is None:
                continue
        kept[key] = value
    return kept


_EXTRA_MEMO: dict[tuple[str, str], str | None] = {}


def _published_text(key: str, value: str) -> str | None:
    """One text value of `extra` as published (see published_extra), None when it is dropped."""
    if is_script_url(value):
        return None
    if _URL_KEY.search(key):
        url = clean_url(value)
        return None if url is not None and len(url) > EXTRA_VALUE_MAX_CHARS else url
    text = clean_text(value)
    return text[:EXTRA_VALUE_MAX_CHARS] if text else None


def job_from_fields(
    feed_id: str,
    source: str,
    fields: dict[str, object],
    *,
    now: datetime,
    date_order: str = "dmy",
    limits: FieldLimits = DEFAULT_LIMITS,
    extra: dict[str, object] | None = None,
) -> JobRecord:
    """A normalized JobRecord from a source's values under the FIELD_NAMES keys, with its rejection decided.

    Rejections, in this order: `invalid` for an oversized field; `invalid` for an apply URL that is not
    http(s) (`javascript:`, `data:`, ...: it is not kept); `closed` for a CLOSED status; `expired` for an
    expiry before `now`; `invalid` for a missing title or neither id nor url. (A closure notice often
    carries only an id and a status: it is still a closure.) Identity is the caller's job
    (core.identity.assign_identity), since only the caller knows a fallback for records without one.

    Every text field comes out as plain text and `description_html` through the allowlist sanitizer (see
    the plain-text rule at the top of the text section); `extra` goes through `published_extra`.
    """
    oversized = _oversized(fields, limits)
    if oversized:
        fields = {k: v for k, v in fields.items()
                  if not (isinstance(v, str) and len(v) > (limits.max_short_field_chars if k in SHORT_FIELDS
                                                           else limits.max_field_chars))}
    raw_description = fields.get("description")
    raw_description = raw_description if isinstance(raw_description, str) else clean_text(raw_description)
    description, description_html = _description_parts(raw_description) if raw_description else ("", None)
    url, url_problem = vet_url(fields.get("url"))
    city, state, country = (clean_text(fields.get(k)) for k in ("city", "state", "country"))
    location = clean_text(fields.get("location"))
    remote_text = clean_text(fields.get("remote"))
    is_remote = parse_remote(remote_text)
    if is_remote is None and (location_says_remote(location) or location_says_remote(city)):
        is_remote = True

    salary = parse_salary(clean_text(fields.get("salary")))
    salary_min = parse_amount(fields.get("salary_min"))
    salary_max = parse_amount(fields.get("salary_max"))
    currency = parse_currency(fields.get("salary_currency"))
    period = parse_salary_period(clean_text(fields.get("salary_period")))
    if salary is not None:
        salary_min = salary_min if salary_min is not None else salary.minimum
        salary_max = salary_max if salary_max is not None else salary.maximum
        currency = currency or salary.currency
        period = period or salary.period

    record_extra: dict[str, object] = published_extra(extra) if extra else {}
    date_text = clean_text(fields.get("date"))
    posted_at = parse_date(date_text, date_order)
    if date_text and posted_at is None:
        record_extra["unparsed_date"] = date_text
    expires_text = clean_text(fields.get("expires"))
    expires_at = parse_date(expires_text, date_order)
    if expires_text and expires_at is None:
        record_extra["unparsed_expiry"] = expires_text
    if remote_text:
        record_extra.setdefault("remote_type", remote_text)
    tags_value = fields.get("tags")
    if isinstance(tags_value, list | tuple):
        tags = [t for t in (clean_text(v) for v in tags_value) if t]
    else:
        tags = [t for t in (clean_text(v) for v in str(tags_value or "").split(",")) if t]

    job = JobRecord(
        feed_id=feed_id,
        source=source,
        source_id=clean_text(fields.get("id")),
        title=clean_text(fields.get("title")) or "",
        company=clean_text(fields.get("company")) or "",
        description=description,
        description_html=description_html,
        url=url,
        locations=_locations(city, state, country, location),
        city=city,
        state=state,
        country=country,
        postal_code=clean_text(fields.get("postal_code")),
        employment_type=_employment(fields),
        salary_min=salary_min,
        salary_max=salary_max,
        salary_currency=currency,
        salary_period=period,
        is_remote=is_remote,
        posted_at=posted_at,
        expires_at=expires_at,
        requisition_id=clean_text(fields.get("requisition_id")),
        category=clean_text(fields.get("category")),
        status=clean_text(fields.get("status")),
        tags=tags,
        extra=record_extra,
    )
    reason, detail = rejection_of(job, now)
    if url_problem:
        reason, detail = RejectionReason.INVALID.value, f"url {url_problem}"
    if oversized:
        reason, detail = RejectionReason.INVALID.value, "; ".join(oversized)
    job.rejection_reason, job.rejection_detail = reason, detail
    return job


def rejection_of(job: JobRecord, now: datetime) -> tuple[str | None, str | None]:
    """(reason, detail) for a record that must not be published, (None, None) for one that may."""
    if is_closed_status(job.status):
        return RejectionReason.CLOSED.value, f"status is {job.status!r}"
    if job.expires_at is not None and job.expires_at < now:
        return RejectionReason.EXPIRED.value, f"expired at {job.expires_at.isoformat()}"
    if not job.title:
        return RejectionReason.INVALID.value, "missing title"
    if not job.source_id and not job.url:
        return RejectionReason.INVALID.value, "no id and no url: the job cannot be identified"
    return None, None
