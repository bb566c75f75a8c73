"""Cut a streamed XML document into its records before parsing, so one bad record cannot take the feed down.

lxml parses a whole document as one unit: the first malformed byte, stray control character or oversized
text node ends the parse for every record after it. The framer scans the byte stream instead (C-speed
`re`/`bytes.find`, a few calls per record), cutting out each `<job>...</job>` element, while respecting
CDATA sections, comments, processing instructions and the DOCTYPE, so markup inside them never fools it.
The DOCTYPE itself is dropped: no parser downstream ever sees a DTD, its entities or external references.
Each record is then parsed on its own by lxml (`xml_feed`), and the document around the records (the
root, header elements, the end of the document) goes through one incremental lxml parser to prove the
document is well formed and complete.

Memory stays bounded: the buffer holds at most one record plus one chunk. A record longer than
`max_record_bytes` is not buffered: its first `salvage_bytes` are kept (to read its id and title for the
rejection row) and the rest is scanned and dropped.
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024
DEFAULT_SALVAGE_BYTES = 64 * 1024
# Markup outside records (comments, DOCTYPE, header elements) never needs more than this in one piece.
MAX_MARKUP_BYTES = 4 * 1024 * 1024
_TAIL_KEEP = 64  # bytes kept back at a chunk's end when a construct may start there


class DocumentEndedEarly(Exception):
    """The byte stream stopped inside a record or inside markup: the document is truncated."""


class MarkupTooLarge(Exception):
    """A comment, DOCTYPE or other construct outside the records is larger than MAX_MARKUP_BYTES."""


@dataclass(frozen=True, slots=True)
class RecordFrame:
    """One record's bytes, from `<job` to `</job>`; for an oversized record, only its first bytes."""

    data: bytes
    position: int  # 1-based ordinal in the feed
    offset: int  # byte offset of `<job` in the (decoded, UTF-8) document
    size: int  # the record's full size in bytes
    oversized: bool = False


@dataclass(frozen=True, slots=True)
class DocumentBytes:
    """Document text between records (header, footer, markup), never whitespace only."""

    data: bytes
    offset: int


Frame = RecordFrame | DocumentBytes


class RecordFramer:
    """Incremental splitter: `feed()` chunks, get frames back in document order; `finish()` at end of input."""

    def __init__(self, record_tag: str, *, case_insensitive: bool = True,
                 max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES, salvage_bytes: int = DEFAULT_SALVAGE_BYTES):
        name = re.escape(record_tag.encode("ascii"))
        flags = re.IGNORECASE if case_insensitive else 0
        prefix = rb"(?:[A-Za-z_][\w.\-]*:)?"
        self._outside = re.compile(
            rb"<(?:(!--)|(!\[CDATA\[)|(!DOCTYPE)|(\?)|(" + prefix + name + rb")(?=[\s/>]))", flags)
        self._inside = re.compile(
            rb"<(?:(!\[CDATA\[)|(!--)|(/" + prefix + name + rb"\s*>)|(" + prefix + name + rb")(?=[\s/>]))", flags)
        self._flags = flags
        self._end_tags: dict[bytes, re.Pattern[bytes]] = {}  # exact start-tag name -> its end tag
        self._nested_start = re.compile(rb"<" + prefix + name + rb"[\s/>]", flags)
        self._start_tag_end = re.compile(rb"""(?:[^>"']|"[^"]*"|'[^']*')*>""")
        self.max_record_bytes = max_record_bytes
        self.salvage_bytes = salvage_bytes
        self._buf = b""
        self._base = 0  # absolute offset of self._buf[0]
        self._pos = 0  # scan position in self._buf
        self._doc_from = 0  # start of document bytes not yet emitted (outside a record)
        self._in_record = False
        self._awaiting_start_tag_end = False
        self._depth = 0
        self._record_start = 0  # index in self._buf (valid while the record is buffered)
        self._body_start = 0  # index just after the record's start tag
        self._record_name = b""
        self._careful = False  # scanning this record construct by construct (comments, nesting, overflow)
        self._record_offset = 0  # absolute
        self._salvage: bytes | None = None  # set once a record overflowed
        self._section_end: re.Pattern[bytes] | None = None  # inside CDATA/comment/PI/DOCTYPE: its terminator
        self._section_start = 0
        self.records = 0
        self.doctypes_dropped = 0

    # -- helpers

    def _emit_document(self, frames: list[Frame], end: int) -> None:
        if end > self._doc_from:
            data = self._buf[self._doc_from:end]
            if not data.isspace():
                frames.append(DocumentBytes(data, self._base + self._doc_from))
        self._doc_from = end

    def _finish_record(self, frames: list[Frame], end: int) -> None:
        self.records += 1
        size = self._base + end - self._record_offset
        if self._salvage is not None or size > self.max_record_bytes:
            data = self._salvage if self._salvage is not None else \
                self._buf[self._record_start:self._record_start + self.salvage_bytes]
            frames.append(RecordFrame(data, self.records, self._record_offset, size, oversized=True))
        else:
            frames.append(RecordFrame(self._buf[self._record_start:end], self.records, self._record_offset, size))
        self._in_record = False
        self._careful = False
        self._salvage = None
        self._depth = 0
        self._pos = self._doc_from = end

    def _enter_section(self, terminator: re.Pattern[bytes], start: int) -> None:
        self._section_end = terminator
        self._section_start = start

    # -- scanning

    def _scan(self, frames: list[Frame]) -> None:
        buf = self._buf
        while True:
            if self._section_end is not None:
                if self._section_end is _DOCTYPE_END:  # anchored: its own text may hold `>` (entity values)
                    match = _DOCTYPE_END.match(buf, self._section_start + len(b"<!DOCTYPE"))
                else:
                    match = self._section_end.search(buf, self._pos)
                if match is None:
                    if self._section_end is not _DOCTYPE_END:
                        self._pos = max(self._pos, len(buf) - _TAIL_KEEP)
                    if not self._in_record and len(buf) - self._section_start > MAX_MARKUP_BYTES:
                        raise MarkupTooLarge(f"markup at byte {self._base + self._section_start:,} runs over "
                                             f"{MAX_MARKUP_BYTES:,} bytes without ending")
                    return
                if self._section_end is _DOCTYPE_END and not self._in_record:
                    # The DTD is never handed on: nothing downstream may process declarations or entities.
                    self._emit_document(frames, self._section_start)
                    self._doc_from = match.end()
                    self.doctypes_dropped += 1
                self._section_end = None
                self._pos = match.end()
                continue
            if self._awaiting_start_tag_end:
                match = self._start_tag_end.match(buf, self._pos)
                if match is None:
                    return
                self._awaiting_start_tag_end = False
                self._pos = self._body_start = match.end()
                if buf[match.end() - 2:match.end() - 1] == b"/":  # <job ... /> : an empty record
                    self._finish_record(frames, match.end())
                continue
            if self._in_record and not self._careful:
                # Fast path: jump to the next end tag, then check with C-speed finds that it is not inside a
                # CDATA section; records holding comments or nested record tags get the careful scan.
                end_tag = self._end_tags.get(self._record_name)
                if end_tag is None:
                    end_tag = re.compile(rb"</" + re.escape(self._record_name) + rb"\s*>", self._flags)
                    self._end_tags[self._record_name] = end_tag
                match = end_tag.search(buf, self._pos)
                if match is None:
                    self._pos = max(self._pos, len(buf) - _TAIL_KEEP)
                    return
                stop = match.start()
                opener = buf.rfind(b"<![CDATA[", self._body_start, stop)
                if opener != -1 and buf.find(b"]]>", opener, stop) == -1:
                    self._enter_section(_CDATA_END, opener)
                    self._pos = opener + 9
                    continue
                if buf.find(b"<!--", self._body_start, stop) != -1 or \
                        self._nested_start.search(buf, self._body_start, stop) is not None:
                    self._careful = True
                    self._pos = self._body_start
                    continue
                self._finish_record(frames, match.end())
                continue
            if self._in_record:
                match = self._inside.search(buf, self._pos)
                if match is None:
                    self._pos = max(self._pos, len(buf) - _TAIL_KEEP)
                    return
                if match.group(1):
                    self._enter_section(_CDATA_END, match.start())
                    self._pos = match.end()
                elif match.group(2):
                    self._enter_section(_COMMENT_END, match.start())
                    self._pos = match.end()
                elif match.group(3):
                    self._depth -= 1
                    self._pos = match.end()
                    if self._depth == 0:
                        self._finish_record(frames, match.end())
                else:
                    end = self._start_tag_end.match(buf, match.end())
                    if end is None:
                        self._pos = match.start()
                        return
                    if buf[end.end() - 2:end.end() - 1] != b"/":
                        self._depth += 1
                    self._pos = end.end()
                continue
            match = self._outside.search(buf, self._pos)
            if match is None:
                last_lt = buf.rfind(b"<", self._pos)
                self._pos = last_lt if last_lt != -1 and len(buf) - last_lt < _TAIL_KEEP else len(buf)
                self._emit_document(frames, self._pos)
                return
            if match.group(5):
                self._emit_document(frames, match.start())
                self._in_record = True
                self._depth = 1
                self._record_start = match.start()
                self._record_offset = self._base + match.start()
                self._record_name = match.group(5)
                self._awaiting_start_tag_end = True
                self._pos = match.end()
                continue
            if match.group(1):
                self._enter_section(_COMMENT_END, match.start())
            elif match.group(2):
                self._enter_section(_CDATA_END, match.start())
            elif match.group(4):
                self._enter_section(_PI_END, match.start())
            else:
                self._enter_section(_DOCTYPE_END, match.start())
            self._pos = match.end()

    def _compact(self, frames: list[Frame]) -> None:
        """Drop bytes already emitted; while an oversized record streams past, keep only its salvage prefix."""
        if self._in_record:
            size = len(self._buf) - self._record_start
            if self._awaiting_start_tag_end and size > self.max_record_bytes:
                raise MarkupTooLarge(f"the start tag of record {self.records + 1} at byte {self._record_offset:,} "
                                     f"runs over {self.max_record_bytes:,} bytes")
            if self._salvage is None and size > self.max_record_bytes and not self._careful:
                # Before dropping bytes, rescan the record construct by construct: once its start is gone,
                # only the careful scan knows whether an end tag ahead sits inside a CDATA section.
                self._careful = True
                self._section_end = None
                self._depth = 1
                self._pos = self._body_start
                self._scan(frames)
                if not self._in_record:
                    return self._compact(frames)
            if self._salvage is None and size > self.max_record_bytes:
                self._salvage = self._buf[self._record_start:self._record_start + self.salvage_bytes]
            keep = self._record_start if self._salvage is None else min(self._pos, self._section_start_or(self._pos))
        else:
            keep = min(self._doc_from, self._pos, self._section_start_or(self._pos))
        if keep > 0:
            self._buf = self._buf[keep:]
            self._base += keep
            self._pos -= keep
            self._doc_from = max(0, self._doc_from - keep)
            self._record_start = max(0, self._record_start - keep)
            self._body_start = max(0, self._body_start - keep)
            self._section_start = max(0, self._section_start - keep)

    def _section_start_or(self, default: int) -> int:
        # Outside records an unfinished section is re-emitted as document bytes, so it must stay buffered.
        return self._section_start if self._section_end is not None and not self._in_record else default

    # -- public

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        if not data:
            return frames
        self._buf = self._buf + data if self._buf else data
        self._scan(frames)
        self._compact(frames)
        return frames

    def finish(self) -> list[Frame]:
        """Frames left at end of input; raises DocumentEndedEarly when the input stopped inside a record."""
        frames: list[Frame] = []
        if self._in_record:
            raise DocumentEndedEarly(
                f"the document ends inside record {self.records + 1} (which starts at byte {self._record_offset:,})")
        if self._section_end is not None:
            raise DocumentEndedEarly(f"the document ends inside markup starting at byte "
                                     f"{self._base + self._section_start:,}")
        self._emit_document(frames, len(self._buf))
        return frames

    @property
    def bytes_scanned(self) -> int:
        return self._base + self._pos


_CDATA_END = re.compile(rb"\]\]>")
_COMMENT_END = re.compile(rb"-->")
_PI_END = re.compile(rb"\?>")
# End of a DOCTYPE: no internal subset (`>`), or one in brackets (quoted strings and comments may hold `]>`).
_DOCTYPE_END = re.compile(
    rb"""(?:[^\[>"']|"[^"]*"|'[^']*')*(?:\[(?:[^\]"'<]|"[^"]*"|'[^']*'|<!--.*?-->|<(?!!--))*\]\s*)?>""", re.DOTALL)


# --------------------------------------------------------------------------------------------------- encoding

_XML_DECLARATION = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._\-]+)["'][^>]*\?>""")
_UTF8_NAMES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


def _declared_encoding(head: bytes) -> tuple[str, int]:
    """(encoding, BOM length) from a BOM or the XML declaration; UTF-8 when neither says."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            return name, len(bom) if name == "utf-8" else 0
    if head.startswith(b"<\x00?\x00"):
        return "utf-16-le", 0
    if head.startswith(b"\x00<\x00?"):
        return "utf-16-be", 0
    match = _XML_DECLARATION.match(head)
    return (match[1].decode("ascii").lower() if match else "utf-8"), 0


def as_utf8(chunks: Iterable[bytes], *, on_encoding=None) -> Iterator[bytes]:
    """The document re-encoded as UTF-8 whatever it declared (BOM or `<?xml encoding=...?>`), so the framer and
    lxml see one encoding. UTF-8 input passes through untouched (invalid bytes are repaired per record later).
    `on_encoding(name)` is told the encoding found. Raises LookupError for an encoding Python does not know."""
    iterator = iter(chunks)
    head = b""
    for chunk in iterator:
        head += chunk
        if len(head) >= 1024 or b"?>" in head[:1024]:
            break
    encoding, bom = _declared_encoding(head)
    if on_encoding is not None:
        on_encoding(encoding)
    if encoding in _UTF8_NAMES:
        if head[bom:]:
            yield head[bom:]
        yield from iterator
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    first = decoder.decode(head).lstrip("\ufeff").encode("utf-8")
    first = _XML_DECLARATION.sub(lambda m: m[0].replace(m[1], b"UTF-8"), first, count=1)
    if first:
        yield first
    for chunk in iterator:
        text = decoder.decode(chunk)
        if text:
            yield text.encode("utf-8")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8")
