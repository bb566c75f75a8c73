"""Stable identities: `job_key` names a posting across runs, `content_hash` says whether the AI must look again."""
from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit, urlunsplit

from feed_pipeline.core.jobs import JobRecord

TRACKING_PARAMS = frozenset(
    {"source", "src", "ref", "referrer", "gclid", "fbclid", "msclkid", "mc_cid", "mc_eid", "trk", "tracking",
     "campaign", "affid", "aff_id", "publisher", "from", "sid", "clickid", "_hsenc", "_hsmi", "igshid"}
)


def _is_tracking(pair: str) -> bool:
    key = pair.split("=", 1)[0].lower()
    return key.startswith("utm_") or key in TRACKING_PARAMS


# An http(s) URL without brackets in its host: urlsplit's answer is these four groups (when the URL is ASCII
# without tabs or newlines, which urlsplit would remove).
_SIMPLE_HTTP_URL = re.compile(r"(https?)://([^/?#\[\]]+)(?=[/?#]|\Z)([^?#]*)(?:\?([^#]*))?(?:#.*)?",
                              re.IGNORECASE | re.DOTALL)
_URLSPLIT_REMOVES = re.compile(r"[\t\r\n]")


def canonical_url(url: str | None) -> str | None:
    """The URL without tracking parameters, fragment, or case noise in scheme and host.

    Query pairs are compared as written (no percent-decoding round trip): cheap, and stable for one source.
    """
    if not url:
        return None
    url = url.strip()
    simple = _SIMPLE_HTTP_URL.fullmatch(url) if url.isascii() and not _URLSPLIT_REMOVES.search(url) else None
    if simple is not None:  # what urlsplit/urlunsplit would give, without their generality (hot at ingest)
        scheme, netloc, path, query = simple.groups()
        query = "&".join(sorted(p for p in query.split("&") if p and not _is_tracking(p))) if query else ""
        canon = f"{scheme.lower()}://{netloc.lower()}{path.rstrip('/') or '/'}"
        return f"{canon}?{query}" if query else canon
    parts = urlsplit(url)
    query = "&".join(sorted(p for p in parts.query.split("&") if p and not _is_tracking(p))) if parts.query else ""
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def digest(*parts: str) -> str:
    """The key of `parts` (32 hex characters of their SHA-256): every stable key of the pipeline is one."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def make_job_key(feed_id: str, source_id: str | None, url: str | None) -> str:
    """Hash of the feed and the source's own id, or of the canonical URL when the source gives no id."""
    if source_id and source_id.strip():
        return digest(feed_id, "id", source_id.strip())
    canon = canonical_url(url)
    if not canon:
        raise ValueError("a job needs a source id or a url to have an identity")
    return digest(feed_id, "url", canon)


def make_content_hash(job: JobRecord) -> str:
    """Hash of what the AI sees and what the mirror publishes; unchanged hash means no new AI call.

    Fields are fed to SHA-256 with separators (no JSON round trip: this runs once per posting at ingest).
    """
    hasher = hashlib.sha256()
    salary = f"{job.salary_min!r}|{job.salary_max!r}|{job.salary_currency}|{job.salary_period}|{job.is_remote!r}"
    for part in (
        job.title,
        job.company,
        job.description,
        job.employment_type or "",
        "\x1e".join(sorted(job.locations)),
        salary,
        canonical_url(job.url) or "",
        "\x1e".join(sorted(job.tags)),
    ):
        hasher.update(part.encode("utf-8", "surrogatepass"))
        hasher.update(b"\x1f")
    return hasher.hexdigest()[:32]


def assign_identity(job: JobRecord) -> JobRecord:
    """Fill `job_key` and `content_hash` in place and return the job."""
    job.job_key = make_job_key(job.feed_id, job.source_id, job.url)
    job.content_hash = make_content_hash(job)
    return job


def make_fallback_job_key(feed_id: str, position: int, raw: bytes) -> str:
    """A key for a record with neither id nor url (always rejected as invalid): its position in the feed and a
    hash of its raw bytes, so the row can be stored and looked at; it is not stable across feed versions."""
    return digest(feed_id, "position", str(position), hashlib.sha256(raw).hexdigest())
