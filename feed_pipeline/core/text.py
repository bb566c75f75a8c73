"""Plain text and published HTML from the strings job feeds carry: the one place HTML becomes text.

Pure functions, no I/O. `clean_text` makes a one-line field (title, company, a tag), `html_to_text` a readable
description with its paragraphs, `plain_text` that description on one line (what the classifiers read), and
`sanitize_html` the only HTML that is published. All follow the plain-text rule below.
"""
from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

import nh3

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
    if len(text) > MEMO_MAX_CHARS:
        return _clean_text(text)
    cleaned = _CLEAN_MEMO.get(text, MISSING)
    return _CLEAN_MEMO.keep(text, _clean_text(text)) if cleaned is MISSING else cleaned


def _clean_text(text: str) -> str | None:
    text = strip_control_chars(text)
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = strip_markup(text)
    text = " ".join(text.split())
    return text or None


class BoundedMemo(dict):
    """A memo emptied when it reaches `max_entries`, so memory stays flat on a feed of unique values."""

    __slots__ = ("max_entries",)

    def __init__(self, max_entries: int):
        super().__init__()
        self.max_entries = max_entries

    def keep(self, key: Any, value: Any) -> Any:
        """Remember `value` under `key` and return it."""
        if len(self) >= self.max_entries:
            self.clear()
        self[key] = value
        return value


# Short values (clean_text, normalize.published_extra) are memoized: about 4 MB at most per memo.
MEMO_MAX_CHARS = 128
MEMO_MAX_ENTRIES = 16_384
MISSING = object()  # what a memo's `get` answers for a value it has not seen (None is a value)
_CLEAN_MEMO = BoundedMemo(MEMO_MAX_ENTRIES)


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


@lru_cache(maxsize=1024)
def plain_text(markup: str | None) -> str:
    """`html_to_text` on one line: what the classifiers, titles and summaries read.

    Text that is plain already (a stored description: no tag, entity or control character) only has its spaces
    collapsed, which is all html_to_text would do to it. The classifiers read each description of a batch about
    four times, so the last 1,024 answers are kept (a batch is a few hundred postings).
    """
    if markup and "<" not in markup and "&" not in markup and _CONTROL_CHARS.search(markup) is None:
        return " ".join(markup.split())
    return " ".join(html_to_text(markup).split())


def _layer_to_text(text: str) -> str:
    """html_to_text after `_markup_layer` (which description_parts shares with sanitize_html)."""
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


def description_parts(raw: str) -> tuple[str, str | None]:
    """(html_to_text, sanitize_html or None when the text holds no HTML) of a description, the markup layer
    worked out once for both.

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
    return _DESCRIPTION_MEMO.keep(raw, parts) if memoized else parts


# At most 512 descriptions of up to 8,192 characters, with their two outputs: a few MB whatever the feed.
_DESCRIPTION_MEMO_CHARS = 8_192
_DESCRIPTION_MEMO = BoundedMemo(512)

