"""How each XML feed family names its fields: the built-in profiles, per-feed mappings, and profile detection.

A profile maps the pipeline's field names (core.normalize.FIELD_NAMES) onto a feed's keys. A key is a child
tag of the record (`title`), a nested path (`location/city`), a record attribute (`@id`), or a child's
attribute (`salary/@currency`). Several candidate keys per field are tried in order; the first non-empty
one wins. Keys the profile does not map are kept in the record's `extra`.

A feed picks its profile in its params:
    {"profile": "adzuna"}                                   a built-in one
    {"record_tag": "vacancy", "fields": {"title": "jobTitle", "id": "@ref", "city": "address/city"},
     "date_order": "mdy", "case_sensitive": false}          a mapping of its own (over the Indeed profile,
                                                            or over the one named by "profile")
With neither, the profile is detected from the first record: every built-in profile is scored on how many of
the record's keys it maps (so on what it would lose), not on a few signature tags, and the feed's own id
key is always kept (see detect_profile). Indeed wins when nothing stands out.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from feed_pipeline.core.dates import DATE_ORDERS, DEFAULT_DATE_ORDER
from feed_pipeline.core.normalize import FIELD_NAMES

_KEY_PATTERN = re.compile(r"^(?:@[\w.:-]+|[\w.:-]+(?:/[\w.:-]+)*(?:/@[\w.:-]+)?)$")
_TAG_PATTERN = re.compile(r"^[A-Za-z_][\w.-]*$")


@dataclass(frozen=True)
class XmlProfile:
    """One feed family's layout. `fields` maps each pipeline field to its candidate keys, best first."""

    name: str
    fields: Mapping[str, tuple[str, ...]]
    record_tag: str = "job"
    date_order: str = DEFAULT_DATE_ORDER
    case_insensitive: bool = True
    signature: frozenset[str] = field(default_factory=frozenset)  # keys typical of this family (tie-breaker)
    roots: tuple[str, ...] = ("source",)

    def key_index(self) -> dict[str, tuple[tuple[str, int], ...]]:
        """key -> ((field, rank), ...): the inverse mapping, for one pass over a record's keys."""
        index: dict[str, tuple[tuple[str, int], ...]] = {}
        for name, keys in self.fields.items():
            for rank, key in enumerate(keys):
                key = key.lower() if self.case_insensitive else key
                index[key] = (*index.get(key, ()), (name, rank))
        return index


def _profile(name: str, fields: dict[str, tuple[str, ...]], **kwargs) -> XmlProfile:
    return XmlProfile(name=name, fields=MappingProxyType(fields), **kwargs)


_INDEED_FIELDS = {
    "id": ("referencenumber", "reference", "jobid", "job_id", "id", "@id"),
    "title": ("title", "jobtitle"),
    "company": ("company", "companyname", "employer"),
    "description": ("description", "body"),
    "url": ("url", "link", "applyurl"),
    "location": ("location",),
    "city": ("city",),
    "state": ("state", "region"),
    "country": ("country",),
    "postal_code": ("postalcode", "postal_code", "zip", "zipcode"),
    "date": ("date", "dateposted", "pubdate"),
    "expires": ("expirationdate", "expiration_date", "expirydate"),
    "employment_type": ("jobtype", "employmenttype", "type"),
    "salary": ("salary",),
    # Not in Indeed's spec, but published Indeed-style feeds add them (REFERENCE.md, "XML job feeds").
    "salary_min": ("salary_min",),
    "salary_max": ("salary_max",),
    "salary_currency": ("salary_currency",),
    "salary_period": ("salary_schedule", "salary_period"),
    "remote": ("remotetype", "remote_type", "remote"),
    "requisition_id": ("requisitionid",),
    "category": ("category",),
    "status": ("status",),
}

INDEED = _profile(
    "indeed", _INDEED_FIELDS,
    signature=frozenset({"requisitionid", "expirationdate", "remotetype", "sourcename"}),
)
TALENT = _profile(
    "talent",
    {**_INDEED_FIELDS, "date": ("dateposted", "date", "pubdate"),
     "expires": ("expiration_date", "expirationdate", "expirydate")},
    signature=frozenset({"dateposted", "expiration_date"}),
)
ZIPRECRUITER = _profile(
    "ziprecruiter",
    {**_INDEED_FIELDS, "date": ("date", "posted_date", "dateposted"),
     "salary": ("salary", "compensation")},
    signature=frozenset({"posted_date", "compensation"}),
)
ADZUNA = _profile(
    "adzuna",
    {
        "id": ("id", "@id"),
        "title": ("title",),
        "company": ("company",),
        "description": ("description",),
        "url": ("url",),
        "location": ("location",),
        "country": ("country",),
        "date": ("date", "created"),
        "expires": ("expiry_date", "expires"),
        "contract_type": ("contract_type",),
        "contract_time": ("contract_time",),
        "salary": ("salary",),
        "salary_min": ("salary_min",),
        "salary_max": ("salary_max",),
        "salary_currency": ("salary_currency",),
        "salary_period": ("salary_frequency",),
        "category": ("category",),
        "status": ("status",),
    },
    signature=frozenset({"contract_time", "contract_type", "salary_min", "salary_max", "salary_currency",
                         "salary_frequency"}),
    roots=("jobs",),
)
CAREERJET = _profile(
    "careerjet",
    {
        "id": ("id", "reference", "@id"),
        "title": ("title",),
        "company": ("company",),
        "description": ("description",),
        "url": ("url", "apply_url"),
        "location": ("location",),
        "city": ("location/city", "city"),
        "state": ("location/region", "location/state", "region"),
        "country": ("location/country", "country"),
        "postal_code": ("location/postcode", "location/postalcode"),
        "date": ("date", "pubdate"),
        "expires": ("expirydate", "expiration_date"),
        "employment_type": ("contract_period", "jobtype"),
        "contract_type": ("contract_type",),
        "salary": ("salary",),
        "category": ("category",),
        "status": ("status",),
    },
    signature=frozenset({"location/city", "location/region", "location/country", "apply_url", "contract_period"}),
    roots=("jobs", "source"),
)
JOBRAPIDO = _profile(
    "jobrapido",
    {
        "id": ("reference_id", "id", "@id"),
        "title": ("title",),
        "company": ("company",),
        "description": ("description",),
        "url": ("url", "link"),
        "location": ("location",),
        "city": ("city",),
        "state": ("region", "state"),
        "country": ("country",),
        "postal_code": ("zipcode", "postalcode"),
        "date": ("publishdate", "date"),
        "expires": ("expirydate",),
        "employment_type": ("jobtype", "contract"),
        "salary": ("salary",),
        "category": ("category",),
        "status": ("status",),
    },
    signature=frozenset({"reference_id", "publishdate", "expirydate"}),
    roots=("jobs", "source"),
)
JOOBLE = _profile(
    "jooble",
    {
        "id": ("@id", "id"),
        "title": ("name", "title"),
        "company": ("company",),
        "description": ("description",),
        "url": ("link", "url"),
        "location": ("region", "location"),
        "date": ("pubdate", "updated"),
        "expires": ("expire",),
        "employment_type": ("jobtype",),
        "salary": ("salary",),
        "category": ("category",),
        "status": ("status",),
    },
    signature=frozenset({"@id", "pubdate", "link", "name", "region", "expire", "updated"}),
    roots=("jobs",),
)

# Detection order: on a tie the earlier profile wins, so Indeed is the default.
BUILTIN_PROFILES: Mapping[str, XmlProfile] = MappingProxyType(
    {p.name: p for p in (INDEED, TALENT, ZIPRECRUITER, ADZUNA, CAREERJET, JOBRAPIDO, JOOBLE)}
)
AUTO = "auto"


@dataclass(frozen=True)
class ProfileFit:
    """How well one profile reads one record: what it maps, and what another profile would map but it loses."""

    profile: XmlProfile
    fields: frozenset[str]  # pipeline fields the record fills through this profile
    mapped: frozenset[str]  # the record's keys this profile maps
    lost: frozenset[str]  # the record's keys some other built-in profile maps and this one does not
    signature_hits: int
    root_match: bool

    @property
    def rank(self) -> tuple[int, int, int, bool]:
        """Sort key, best last: fields filled, then keys mapped, then family signature, then root tag."""
        return (len(self.fields), len(self.mapped), self.signature_hits, self.root_match)


def _mapped_keys(profile: XmlProfile) -> dict[str, frozenset[str]]:
    return {key: frozenset(name for name, _ in hits) for key, hits in profile.key_index().items()}


_BUILTIN_KEYS = {name: _mapped_keys(profile) for name, profile in BUILTIN_PROFILES.items()}
_ANY_PROFILE_KEYS = frozenset(key for keys in _BUILTIN_KEYS.values() for key in keys)
# The plain child tags some built-in profile reads (no attribute, no path): what a job record's children look like.
JOB_FIELD_TAGS = frozenset(key for key in _ANY_PROFILE_KEYS if "/" not in key and not key.startswith("@"))
# Every key some built-in profile reads as the record's own id, in the order they are preferred.
ID_KEYS: tuple[str, ...] = tuple(dict.fromkeys(
    key.lower() for profile in BUILTIN_PROFILES.values() for key in profile.fields["id"]))


def score_profiles(root_tag: str | None, record_keys: set[str]) -> list[ProfileFit]:
    """Every built-in profile's fit to one record (keys as flatten_record gives them), best first.

    Ties keep the BUILTIN_PROFILES order, so Indeed wins when nothing stands out.
    """
    root = (root_tag or "").lower()
    keys = {key.lower() for key in record_keys}
    known = keys & _ANY_PROFILE_KEYS
    fits = []
    for name, profile in BUILTIN_PROFILES.items():
        index = _BUILTIN_KEYS[name]
        mapped = frozenset(keys & index.keys())
        fields = frozenset(field_name for key in mapped for field_name in index[key])
        fits.append(ProfileFit(profile=profile, fields=fields, mapped=mapped, lost=frozenset(known - mapped),
                               signature_hits=len(profile.signature & keys), root_match=root in profile.roots))
    order = {name: position for position, name in enumerate(BUILTIN_PROFILES)}
    return sorted(fits, key=lambda fit: (tuple(-part for part in fit.rank), order[fit.profile.name]))


def keep_own_id(profile: XmlProfile, record_keys: set[str]) -> XmlProfile:
    """The profile, reading the record's own id key when it has one the profile does not map.

    Identity falls back to a hash of the URL without an id, which breaks when a tracking parameter changes:
    a feed's own id (referencenumber, id, reference_id...) must never be lost to a profile choice.
    """
    keys = {key.lower() for key in record_keys}
    own = profile.fields["id"]
    if keys & {key.lower() for key in own}:
        return profile
    present = tuple(key for key in ID_KEYS if key in keys)
    if not present:
        return profile
    fields = dict(profile.fields)
    fields["id"] = (*present, *own)
    return dataclasses.replace(profile, fields=MappingProxyType(fields))


def unmapped_known_keys(profile: XmlProfile, record_keys: set[str]) -> frozenset[str]:
    """The record's keys that some built-in profile reads as a field but `profile` leaves in `extra`."""
    keys = {key.lower() for key in record_keys} & _ANY_PROFILE_KEYS
    return frozenset(keys - profile.key_index().keys())


def detect_profile(root_tag: str | None, record_keys: set[str]) -> XmlProfile:
    """The built-in profile that maps the most of the first record (score_profiles), keeping its own id."""
    best = score_profiles(root_tag, record_keys)[0]
    if not best.mapped:
        return keep_own_id(INDEED, record_keys)
    return keep_own_id(best.profile, record_keys)


def _as_keys(feed_field: str, value: object) -> tuple[str, ...]:
    keys = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list | tuple) else None
    if not keys or not all(isinstance(k, str) and _KEY_PATTERN.match(k) for k in keys):
        raise ValueError(
            f"params.fields.{feed_field} must be a key or a list of keys like 'title', 'location/city', '@id', "
            f"'salary/@currency'; got {value!r}")
    return keys


def profile_from_params(params: Mapping[str, object]) -> XmlProfile | None:
    """The profile a feed's params ask for; None means "detect from the first record".

    Raises ValueError naming the offending param and the accepted values.
    """
    name = params.get("profile")
    if name is not None and (not isinstance(name, str) or (name.lower() not in BUILTIN_PROFILES and name != AUTO)):
        raise ValueError(f"params.profile {name!r} is not a known profile; use one of "
                         f"{', '.join([*BUILTIN_PROFILES, AUTO])} or give params.record_tag and params.fields")
    record_tag = params.get("record_tag")
    mapping = params.get("fields")
    date_order = params.get("date_order")
    case_sensitive = params.get("case_sensitive")
    if record_tag is not None and (not isinstance(record_tag, str) or not _TAG_PATTERN.match(record_tag)):
        raise ValueError(f"params.record_tag must be an XML element name like 'job'; got {record_tag!r}")
    if mapping is not None and not isinstance(mapping, Mapping):
        raise ValueError(f"params.fields must be an object of field -> key(s); got {type(mapping).__name__}")
    if date_order is not None and date_order not in DATE_ORDERS:
        raise ValueError(f"params.date_order must be one of {', '.join(DATE_ORDERS)}; got {date_order!r}")
    if case_sensitive is not None and not isinstance(case_sensitive, bool):
        raise ValueError(f"params.case_sensitive must be true or false; got {case_sensitive!r}")
    custom = record_tag is not None or mapping is not None or date_order is not None or case_sensitive is not None
    if not custom:
        return None if name in (None, AUTO) else BUILTIN_PROFILES[name.lower()]
    base = BUILTIN_PROFILES[name.lower()] if name not in (None, AUTO) else INDEED
    fields = dict(base.fields)
    for feed_field, value in (mapping or {}).items():
        if feed_field not in FIELD_NAMES:
            raise ValueError(f"params.fields has unknown field {feed_field!r}; the fields are {', '.join(FIELD_NAMES)}")
        fields[feed_field] = _as_keys(feed_field, value)
    return XmlProfile(
        name=f"custom({base.name})" if mapping or record_tag else base.name,
        fields=MappingProxyType(fields),
        record_tag=record_tag or base.record_tag,
        date_order=date_order or base.date_order,
        case_insensitive=not case_sensitive if case_sensitive is not None else base.case_insensitive,
        signature=base.signature,
        roots=base.roots,
    )


def feed_date_order(params: Mapping[str, object]) -> str:
    """The day/month order of a feed's numeric dates, as its profile reads them (params.profile and
    params.date_order); a detected profile is a built-in one, and all of those use DEFAULT_DATE_ORDER.
    The classifiers read the dates in its postings' text in the same order."""
    profile = profile_from_params(params)
    return profile.date_order if profile is not None else DEFAULT_DATE_ORDER


class FieldMapper:
    """Applies a profile to a record's flattened keys: (pipeline fields, extra) in one pass."""

    def __init__(self, profile: XmlProfile):
        self.profile = profile
        self._index = profile.key_index()

    def map(self, flat: Mapping[str, str | None]) -> tuple[dict[str, object], dict[str, object]]:
        fields: dict[str, object] = {}
        ranks: dict[str, int] = {}
        extra: dict[str, object] = {}
        index = self._index
        for key, value in flat.items():
            if not value or value.isspace():
                continue
            hits = index.get(key)
            if hits is None:
                extra[key] = value
                continue
            for name, rank in hits:
                if name not in ranks or rank < ranks[name]:
                    fields[name] = value
                    ranks[name] = rank
        return fields, extra
