"""The `xml` source: stream an XML job feed into normalized JobRecords, in bounded memory, safely.

Pipeline, all streaming: body bytes (feed_bytes: HTTP with conditional GET and resume, or a file) ->
gunzip when the bytes are gzip -> UTF-8 (xml_framing.as_utf8) -> RecordFramer cuts records out -> each
record parsed by lxml on its own -> profile mapping (xml_profiles) -> core.normalize.job_from_fields ->
identity. The document around the records goes through one incremental lxml parser that proves it well
formed and complete.

Safety: every lxml parser here has entity resolution, DTD loading and network access off (XXE and entity
bombs do nothing; an entity reference in a record is kept as literal text). Records and fields are capped
(params `max_record_bytes`, `max_field_chars`); a record over a cap is rejected `invalid` on its own.
Control characters, invalid UTF-8 and HTML entities in a record are repaired before it is given up on.

Completeness: a record is yielded only once it is whole. A document that ends early, breaks between
records, or whose connection fails for good ends iteration with `outcome.complete = False` and the reason;
an ingest that could not produce a single record that way raises FeedError instead (nothing to keep).
A dropped connection is resumed without yielding a record twice (see http_fetch).
"""
from __future__ import annotations

import hashlib
import html.entities
import json
import logging
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

import httpx
from lxml import etree

from feed_pipeline.core.coverage import COVERAGE_FIELDS
from feed_pipeline.core.identity import assign_identity, make_content_hash, make_fallback_job_key
from feed_pipeline.core.jobs import JobRecord, RejectionReason, UnchangedPosting
from feed_pipeline.core.normalize import DEFAULT_LIMITS, FieldLimits, job_from_fields
from feed_pipeline.core.versions import PIPELINE_LOGIC_VERSION
from feed_pipeline.sources.base import FeedConfigError, FeedError, FeedSpec, IngestOutcome, OneShotReader
from feed_pipeline.sources.feed_bytes import FeedBody, cap_bytes, locate, max_feed_bytes, open_body
from feed_pipeline.sources.http_fetch import GZIP_MAGIC, FetchError, HttpFetcher, decompress_stream, describe_error
from feed_pipeline.sources.xml_framing import (
    DEFAULT_MAX_RECORD_BYTES,
    DEFAULT_SALVAGE_BYTES,
    DocumentBytes,
    DocumentEndedEarly,
    MarkupTooLarge,
    RecordFrame,
    RecordFramer,
    as_utf8,
)
from feed_pipeline.sources.xml_profiles import (
    JOB_FIELD_TAGS,
    FieldMapper,
    XmlProfile,
    detect_profile,
    profile_from_params,
    unmapped_known_keys,
)

log = logging.getLogger(__name__)

SOURCE_NAME = "xml"


def _hardened_parser(**kwargs) -> etree.XMLParser:
    """No entity expansion, no DTD, no network, libxml2's size limits on: the only parser settings used here."""
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True, strip_cdata=True, **kwargs)


_STRICT = _hardened_parser()
_RECOVER = _hardened_parser(recover=True)

# --------------------------------------------------------------------------------------------------- repairs

_BAD_BYTES = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f]"
    rb"|&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]|[dD][89a-fA-F][0-9a-fA-F]{2}|[fF]{2}[fF][eEfF])"
    rb"|0*(?:[0-8]|1[1-2]|1[4-9]|2[0-9]|3[01]));"
)
_ENTITY_REF = re.compile(rb"&([A-Za-z][A-Za-z0-9]{0,31});")
_BARE_AMPERSAND = re.compile(rb"&(?!#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9._-]*;)")
_XML_ENTITIES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


def _entity_to_reference(match: re.Match[bytes]) -> bytes:
    name = match[1]
    if name in _XML_ENTITIES:
        return match[0]
    codepoint = html.entities.name2codepoint.get(name.decode("ascii"))
    if codepoint is not None:
        return b"&#%d;" % codepoint
    return b"&amp;" + name + b";"  # never resolved: kept as the literal text "&name;"


def repair_record(data: bytes) -> bytes:
    """The record with what XML forbids but feeds carry made legal: invalid UTF-8 replaced (U+FFFD), control
    characters and references to them dropped, HTML entities (`&nbsp;`) turned into character references,
    unknown entities (`&xxe;`) and bare `&` turned into literal text."""
    text = data.decode("utf-8", "replace").encode("utf-8")
    text = _BAD_BYTES.sub(b"", text)
    text = _BARE_AMPERSAND.sub(b"&amp;", text)
    return _ENTITY_REF.sub(_entity_to_reference, text)


# --------------------------------------------------------------------------------------------------- elements

_HTML_TAGS = frozenset(
    "p br div span ul ol li b i u em strong a h1 h2 h3 h4 h5 h6 table tr td th tbody thead img hr font "
    "blockquote pre code sup sub small big center section article "
    # Elements whose content is code: kept as markup so normalization drops them whole, never as field text.
    "script style iframe svg math form object embed noscript template textarea button select".split()
)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2] if tag[0] == "{" else tag.rpartition(":")[2]


def _inner_markup(element: etree._Element) -> str:
    parts = [element.text or ""]
    parts.extend(etree.tostring(child, encoding="unicode", with_tail=True) for child in element)
    return "".join(parts)


def flatten_record(element: etree._Element, lowercase: bool) -> dict[str, str | None]:
    """The record as key -> text: child tags, `parent/child` one level down, `@attr` and `child/@attr`.

    A child holding HTML elements (a description not wrapped in CDATA) gives its inner markup; one holding
    data elements (`<location><city/>...`) gives their texts joined by ", ". The first of repeated tags wins.
    (Hot path: `items()` instead of `.attrib`, which builds a proxy object per call.)
    """
    flat: dict[str, str | None] = {}
    for name, value in element.items():
        key = "@" + _local(name)
        flat[key.lower() if lowercase else key] = value
    for child in element:
        tag = child.tag
        if tag.__class__ is not str:
            continue
        if tag[0] == "{":
            tag = tag.rpartition("}")[2]
        if lowercase:
            tag = tag.lower()
        if tag in flat:
            continue
        if len(child):
            first = child[0].tag
            if isinstance(first, str) and _local(first).lower() in _HTML_TAGS:
                flat[tag] = _inner_markup(child)
            else:
                texts = []
                for grandchild in child:
                    if not isinstance(grandchild.tag, str):
                        continue
                    sub = _local(grandchild.tag)
                    sub = sub.lower() if lowercase else sub
                    value = "".join(grandchild.itertext())
                    flat.setdefault(f"{tag}/{sub}", value)
                    if value.strip():
                        texts.append(value.strip())
                flat[tag] = ", ".join(texts)
        else:
            flat[tag] = child.text
        attributes = child.items()
        if attributes:
            for name, value in attributes:
                sub = _local(name)
                flat.setdefault(f"{tag}/@{sub.lower() if lowercase else sub}", value)
    return flat


class _DocumentShape:
    """lxml parser target for the document around the records: no tree, just depth, root and namespaces, and which
    elements below the root hold job fields (what the records are, in a document where none was found)."""

    _MAX_CHILD_TAGS = 64
    _MAX_RECORD_LIKE = 256

    def __init__(self) -> None:
        self.depth = 0
        self.root: str | None = None
        self.root_closed = False
        self.namespaces: dict[str, str] = {}
        self._open: list[tuple[str, set[str]]] = []  # each open element and its child tags (capped)
        # (depth, parent, tag) -> how many such elements held three or more tags a job profile reads (a feed's
        # header, `<publisher><name/><url/></publisher>`, holds fewer)
        self.record_like: Counter[tuple[int, str, str]] = Counter()

    def start(self, tag, attrib, nsmap=None) -> None:
        name = _local(tag)
        if self.depth == 0 and self.root is None:
            self.root = name
        if self._open and len(children := self._open[-1][1]) < self._MAX_CHILD_TAGS:
            children.add(name.lower())
        self._open.append((name, set()))
        self.depth += 1

    def end(self, tag) -> None:
        self.depth -= 1
        name, children = self._open.pop()
        if self._open and len(children & JOB_FIELD_TAGS) >= 3:
            key = (self.depth, self._open[-1][0], name)
            if key in self.record_like or len(self.record_like) < self._MAX_RECORD_LIKE:
                self.record_like[key] += 1
        if self.depth == 0:
            self.root_closed = True

    def start_ns(self, prefix, uri) -> None:
        if prefix:
            self.namespaces[prefix] = uri

    def data(self, data) -> None:
        pass

    def close(self) -> None:
        return None

    def records_elsewhere(self, record_tag: str) -> str | None:
        """Why a document without one `record_tag` record is not an empty feed: the elements that look like its
        records (the most frequent, then the deepest), and the param that reads them; None when there are none."""
        if not self.record_like:
            return None
        (_, parent, name), count = max(self.record_like.items(), key=lambda item: (item[1], item[0][0]))
        plural = "s" if count != 1 else ""
        return (f"no <{record_tag}> record in the document, but it holds {count:,} <{name}> element{plural} "
                f"inside <{parent}> with job fields (title, url, description...): if those are the jobs, set the "
                f"feed's params.record_tag to {name!r} (CLI: feeds add ... --param record_tag={name})")


# --------------------------------------------------------------------------------------------------- reader


def _int_param(spec: FeedSpec, name: str, default: int, minimum: int) -> int:
    value = spec.params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FeedConfigError(f"feed {spec.id!r}: params.{name} must be an integer >= {minimum:,}; got {value!r}")
    return value


class XmlFeedReader(OneShotReader):
    """FeedReader for XML feeds (`kind = "xml"`). Iterate once; `outcome` is final when iteration ends.

    Feed params: `profile` / `record_tag` / `fields` / `date_order` / `case_sensitive` (see xml_profiles),
    `max_record_bytes` (default 4 MiB), `max_field_chars` (default 500,000), `max_short_field_chars`
    (default 8,192), `max_feed_bytes` (default FEED_PIPELINE_MAX_FEED_BYTES or 2 GiB, see feed_bytes).

    Each cleanly parsed record's JobRecord carries `source_digest`, a digest of its bytes and of everything its
    normalization depends on but the clock. Given `known`, a loader of digest -> stored posting for this `now`
    (store.stages.known_raw_postings), called once if the document is read at all, a record whose digest is there
    is not parsed again: the reader yields that UnchangedPosting instead. The first record is always parsed (it may
    choose the profile).
    """

    def __init__(self, spec: FeedSpec, *, force: bool = False, fetcher: HttpFetcher | None = None,
                 now: datetime | None = None, known: Callable[[], Mapping[str, UnchangedPosting]] | None = None):
        if not isinstance(spec.params, dict):
            raise FeedConfigError(f"feed {spec.id!r}: params must be an object; got {type(spec.params).__name__}")
        try:
            self._profile: XmlProfile | None = profile_from_params(spec.params)
        except ValueError as exc:
            raise FeedConfigError(f"feed {spec.id!r}: {exc}") from exc
        self.spec = spec
        self.force = force
        self.now = now or datetime.now(UTC)
        self.max_record_bytes = _int_param(spec, "max_record_bytes", DEFAULT_MAX_RECORD_BYTES, 1024)
        self.max_feed_bytes = max_feed_bytes(spec)
        self.limits = FieldLimits(
            max_field_chars=_int_param(spec, "max_field_chars", DEFAULT_LIMITS.max_field_chars, 100),
            max_short_field_chars=_int_param(spec, "max_short_field_chars", DEFAULT_LIMITS.max_short_field_chars, 100),
        )
        self.outcome = IngestOutcome(profile=self._profile.name if self._profile else None)
        self._own_fetcher = fetcher is None
        self._fetcher = fetcher
        self._body: FeedBody | None = None
        self._started = False
        self._mapper: FieldMapper | None = FieldMapper(self._profile) if self._profile else None
        self._shape = _DocumentShape()
        self._document = _hardened_parser(target=self._shape)
        self._rejections: Counter[str] = Counter()
        self._repaired = 0
        self._encoding: str | None = None
        self._gzip = False
        self._load_known = known
        self._known: Mapping[str, UnchangedPosting] = {}
        self._unread = 0
        self._digest_salt: bytes | None = None

    # -- FeedReader

    def _close_resources(self) -> None:
        if self._body is not None:
            self._body.close()

    # -- pipeline

    def _records(self) -> Iterator[JobRecord | UnchangedPosting]:
        started = time.perf_counter()
        try:
            if self._fetcher is None and locate(self.spec).transport == "http":
                self._fetcher = HttpFetcher()  # only when needed: an httpx client costs an SSL context
            self._body = open_body(self.spec, force=self.force, fetcher=self._fetcher)
            outcome = self.outcome
            outcome.etag, outcome.last_modified = self._body.etag, self._body.last_modified
            if self._body.unchanged:
                outcome.unchanged = True
                outcome.content_hash = self._body.content_hash
                return
            if self._load_known is not None:  # only now: an unchanged document needs none of it
                self._known = self._load_known()
            yield from self._parse(self._body)
            if outcome.complete:
                outcome.content_hash = self._body.content_hash
            if not outcome.complete and outcome.records_seen == 0:
                raise FeedError(f"feed {self.spec.id!r} ({self._body.location}): no record could be read: "
                                f"{outcome.error}")
        finally:
            self._finish_stats(time.perf_counter() - started)

    def _finish_stats(self, duration: float) -> None:
        outcome = self.outcome
        if self._body is not None:
            outcome.bytes_read = self._body.bytes_read
        stats = outcome.stats
        stats["duration_s"] = round(duration, 3)
        stats["records_per_s"] = round(outcome.records_seen / duration, 1) if duration > 0 else 0.0
        for reason in (RejectionReason.CLOSED, RejectionReason.EXPIRED, RejectionReason.INVALID):
            stats[f"rejected_{reason.value}"] = self._rejections[reason.value]
        stats["accepted"] = outcome.records_seen - sum(self._rejections.values())
        stats["repaired_records"] = self._repaired  # of the records parsed (an unchanged one is not)
        if self._load_known is not None:
            stats["unchanged_records"] = self._unread
        stats["gzip"] = self._gzip
        if self._encoding:
            stats["encoding"] = self._encoding
        if self._body is not None:
            stats["transport"] = self._body.transport
            stats["restarts"] = self._body.restarts
            stats["spooled"] = self._body.spooled
        stats["profile"] = outcome.profile or ""

    def _decoded_chunks(self, body: FeedBody) -> Iterator[bytes]:
        chunks = body.chunks()
        first = b""
        for chunk in chunks:
            first += chunk
            if len(first) >= len(GZIP_MAGIC):  # enough to recognise gzip, however the transport split it
                break
        if not first:
            return

        def rest() -> Iterator[bytes]:
            yield first
            yield from chunks

        stream: Iterator[bytes] = cap_bytes(rest(), feed_id=self.spec.id, location=body.location,
                                            limit=self.max_feed_bytes, layer="body")
        if first.startswith(GZIP_MAGIC):
            self._gzip = True
            stream = cap_bytes(decompress_stream(stream, "gzip", source=body.location), feed_id=self.spec.id,
                               location=body.location, limit=self.max_feed_bytes, layer="unpacked")
        yield from as_utf8(stream, on_encoding=self._set_encoding)

    def _set_encoding(self, name: str) -> None:
        self._encoding = name

    def _parse(self, body: FeedBody) -> Iterator[JobRecord | UnchangedPosting]:
        outcome = self.outcome
        tag = self._profile.record_tag if self._profile else "job"
        insensitive = self._profile.case_insensitive if self._profile else True
        framer = RecordFramer(tag, case_insensitive=insensitive, max_record_bytes=self.max_record_bytes,
                              salvage_bytes=min(DEFAULT_SALVAGE_BYTES, self.max_record_bytes))
        decoded = 0
        try:
            for chunk in self._decoded_chunks(body):
                decoded += len(chunk)
                for frame in framer.feed(chunk):
                    job = self._handle(frame)
                    if job is not None:
                        yield job
                    elif not outcome.complete:
                        return
            for frame in framer.finish():
                self._handle(frame)
                if not outcome.complete:
                    return
            if decoded == 0:
                outcome.mark_incomplete("the document is empty")
                return
            self._document.close()
            if outcome.records_seen == 0:
                if self._shape.root and self._shape.root.lower() == "html":
                    outcome.mark_incomplete("the document is an HTML page, not a job feed")
                elif elsewhere := self._shape.records_elsewhere(tag):
                    outcome.mark_incomplete(elsewhere)  # not an empty feed: nothing may be marked removed
        except DocumentEndedEarly as exc:
            outcome.mark_incomplete(f"truncated: {exc}")
        except MarkupTooLarge as exc:
            outcome.mark_incomplete(str(exc))
        except etree.XMLSyntaxError as exc:
            outcome.mark_incomplete(f"the document is not well formed after record {framer.records:,}: {exc}")
        except (FetchError, httpx.HTTPError) as exc:
            outcome.mark_incomplete(f"reading {body.location} failed after record {framer.records:,}: "
                                    f"{describe_error(exc)}")
        except LookupError as exc:
            outcome.mark_incomplete(f"the document declares an unknown encoding: {exc}")
        except zlib.error as exc:
            outcome.mark_incomplete(f"the gzip data is corrupt after record {framer.records:,}: {exc}")
        except OSError as exc:
            outcome.mark_incomplete(f"reading {body.location} failed after record {framer.records:,}: "
                                    f"{describe_error(exc)}")
        finally:
            outcome.stats["decoded_bytes"] = decoded

    def _handle(self, frame: DocumentBytes | RecordFrame) -> JobRecord | UnchangedPosting | None:
        """Feed document bytes to the document parser, or turn a record frame into a JobRecord."""
        if isinstance(frame, DocumentBytes):
            try:
                self._document.feed(repair_record(frame.data))
            except etree.XMLSyntaxError as exc:
                self.outcome.mark_incomplete(
                    f"the document is not well formed near byte {frame.offset:,} (after record "
                    f"{self.outcome.records_seen:,}): {exc}")
            return None
        shape = self._shape
        if shape.root is None or shape.root_closed:
            where = "after the end of the document" if shape.root_closed else "outside any root element"
            self.outcome.mark_incomplete(f"record {frame.position:,} at byte {frame.offset:,} is {where}")
            return None
        source_digest = self._source_digest(frame)  # None until the first record chose the profile
        job = self._known.get(source_digest) if source_digest is not None else None
        if job is not None:
            self._unread += 1
        else:
            job = self._job_from_frame(frame, source_digest)
        self.outcome.records_seen += 1
        if job.rejection_reason:
            self._rejections[job.rejection_reason] += 1
        return job

    def _source_digest(self, frame: RecordFrame) -> str | None:
        """The record's bytes under everything that decides what they normalize to (the code's logic version,
        the feed's params, its profile, the field limits, the document's namespaces); None for an oversized
        record and before the profile is known."""
        if frame.oversized or self._profile is None:
            return None
        if self._digest_salt is None:
            self._digest_salt = json.dumps(
                [PIPELINE_LOGIC_VERSION, SOURCE_NAME, self.spec.id, self.spec.params, self._profile.name,
                 [self.limits.max_field_chars, self.limits.max_short_field_chars], list(COVERAGE_FIELDS)],
                sort_keys=True, default=str).encode()
        hashed = hashlib.blake2b(self._digest_salt, digest_size=16)
        if self._shape.namespaces:
            hashed.update(repr(sorted(self._shape.namespaces.items())).encode())
        hashed.update(b"\x00")
        hashed.update(frame.data)
        return hashed.hexdigest()

    # -- one record

    def _parse_record(self, frame: RecordFrame) -> tuple[etree._Element | None, str | None]:
        """(element, problem): strict parse, then after repairs, then lxml's recover mode to salvage fields."""
        data = frame.data
        namespaces = self._shape.namespaces
        if frame.oversized:
            return self._recover(data, namespaces), None
        try:
            return self._strict(data, namespaces), None
        except etree.XMLSyntaxError as first:
            repaired = repair_record(data)
            try:
                element = self._strict(repaired, namespaces)
                self._repaired += 1
                return element, None
            except etree.XMLSyntaxError:
                return self._recover(repaired, namespaces), f"malformed XML: {first}"

    @staticmethod
    def _wrap(data: bytes, namespaces: dict[str, str]) -> bytes:
        declarations = b" ".join(b'xmlns:%s="%s"' % (prefix.encode(), uri.encode().replace(b'"', b"&quot;"))
                                 for prefix, uri in namespaces.items())
        return b"<_r " + declarations + b">" + data + b"</_r>"

    def _strict(self, data: bytes, namespaces: dict[str, str]) -> etree._Element:
        if namespaces:
            return etree.fromstring(self._wrap(data, namespaces), _STRICT)[0]
        return etree.fromstring(data, _STRICT)

    def _recover(self, data: bytes, namespaces: dict[str, str]) -> etree._Element | None:
        try:
            root = etree.fromstring(self._wrap(data, namespaces) if namespaces else data, _RECOVER)
        except etree.XMLSyntaxError:
            return None
        if root is not None and namespaces:
            return root[0] if len(root) else None
        return root

    def _choose_profile(self, flat: dict[str, str | None]) -> FieldMapper:
        profile = detect_profile(self._shape.root, set(flat))
        self._profile = profile
        self._mapper = FieldMapper(profile)
        self.outcome.profile = profile.name
        log.info("feed %s: detected profile %s", self.spec.id, profile.name)
        lost = sorted(unmapped_known_keys(profile, set(flat)))
        if lost:  # tags another family reads but this one leaves in `extra`: worth a look at params.fields
            self.outcome.stats["unmapped_known_tags"] = lost
            log.warning("feed %s: profile %s leaves %s unmapped (kept in extra); map them with params.fields",
                        self.spec.id, profile.name, ", ".join(lost))
        return self._mapper

    def _job_from_frame(self, frame: RecordFrame, source_digest: str | None = None) -> JobRecord:
        element, problem = self._parse_record(frame)
        if element is None:
            flat: dict[str, str | None] = {}
        else:
            lowercase = self._profile.case_insensitive if self._profile else True
            flat = flatten_record(element, lowercase)
        mapper = self._mapper or self._choose_profile(flat)
        fields, unmapped = mapper.map(flat)
        extra = {key: value for key, value in unmapped.items() if value}  # cleaned by job_from_fields
        assert self._profile is not None
        job = job_from_fields(self.spec.id, SOURCE_NAME, fields, now=self.now, date_order=self._profile.date_order,
                              limits=self.limits, extra=extra)
        if frame.oversized:
            job.rejection_reason = RejectionReason.INVALID.value
            job.rejection_detail = (f"record {frame.position:,} at byte {frame.offset:,} is {frame.size:,} bytes, "
                                    f"over the {self.max_record_bytes:,} byte limit (params.max_record_bytes); "
                                    f"fields read from its first {len(frame.data):,} bytes")
        elif problem is not None:
            job.rejection_reason = RejectionReason.INVALID.value
            job.rejection_detail = f"record {frame.position:,} at byte {frame.offset:,}: {problem}"
        try:
            assign_identity(job)
        except ValueError:
            job.job_key = make_fallback_job_key(self.spec.id, frame.position, frame.data)
            job.content_hash = make_content_hash(job)
            if job.rejection_reason is None:  # cannot happen: rejection_of requires id or url
                job.rejection_reason = RejectionReason.INVALID.value
                job.rejection_detail = "no id and no url: the job cannot be identified"
            return job  # its key and detail name its place in the document: never taken as unchanged
        if problem is None:  # a broken record's detail names its place too
            job.source_digest = source_digest or self._source_digest(frame)
        return job
