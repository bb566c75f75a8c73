"""Credentials in feed URLs stay in the registry: one place decides what is secret and how it is shown.

A feed URL may carry a credential in its userinfo (`https://user:password@host/...`) or in a query
parameter with a secret-looking name (`?token=...`, `app_key=...`). Everything that shows a URL or a
message that may contain one (API answers, logs, errors, Dagster events, CLI echoes) passes it through
`redact_url` / `redact_text` first. A URL may instead reference an environment variable, `${NAME}`,
resolved only when the request is sent (`resolve_env_refs`): the registry then never holds the secret.

No I/O and no logging setup (feed_pipeline/redacted_logging.py installs the log filter). One piece of process
state: the values substituted for references are remembered, so `redact_text` hides them wherever they land.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any
from urllib.parse import quote, unquote, unquote_plus, urlsplit

REDACTED = "***"

# Parameter names that are secrets themselves; `is_secret_name` also catches the usual suffixes.
SECRET_NAMES = frozenset({
    "token", "key", "apikey", "api_key", "app_key", "app_id", "password", "passwd", "pwd", "pass", "secret",
    "client_secret", "signature", "sig", "access_token", "refresh_token", "id_token", "auth", "authorization",
    "session", "sessionid", "credential", "credentials", "private_key",
})
SECRET_SUFFIXES = ("_token", "_secret", "_password", "_key", "_sig", "_signature", "_credential")

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""`${NAME}` in a feed URL: the value of environment variable NAME, substituted at fetch time."""

# Over-redact rather than leak: a value runs to the next `&`, blank, `"`, `<`, `>` or `#` (quotes, commas and
# brackets are legal inside URL values, so a repr's closing quote may be swallowed too).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^/\s?#@\"<>]+)@")
_PARAM = re.compile(r"(?<![\w.\-])([A-Za-z][\w.\-]*)=([^&\s\"<>#]+)")
_QUOTED_PAIR = re.compile(r"""(['"])([A-Za-z][\w.\-]*)\1(\s*:\s*)(['"])(.*?)\4""")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{6,}")

MIN_REMEMBERED_CHARS = 6  # shorter referenced values (a country code) would blank out ordinary words
_remembered: set[str] = set()
_remembered_lock = threading.Lock()


def remember_secret(value: str) -> None:
    """A value substituted for a `${NAME}` reference may sit where no name marks it as secret (a path segment):
    once remembered, `redact_text` hides it, plainly or percent-encoded, in this process's logs and errors."""
    if len(value) >= MIN_REMEMBERED_CHARS:
        with _remembered_lock:
            _remembered.update({value, quote(value, safe="-._~")})


def is_secret_name(name: str) -> bool:
    """Whether a parameter or field named `name` holds a credential (case, `-` and `_` ignored)."""
    normalized = name.strip().lower().replace("-", "_")
    return normalized in SECRET_NAMES or normalized.endswith(SECRET_SUFFIXES) or normalized.startswith("auth_")


def _is_env_ref(value: str) -> bool:
    return ENV_REF.fullmatch(unquote(value)) is not None


def _redact_pairs(query: str) -> str:
    """`a=1&token=x` -> `a=1&token=***`, keeping every other byte of the query as it was."""
    pieces = []
    for piece in query.split("&"):
        name, sep, value = piece.partition("=")
        if sep and value and is_secret_name(unquote_plus(name)) and not _is_env_ref(value):
            piece = f"{name}={REDACTED}"
        pieces.append(piece)
    return "&".join(pieces)


def redact_url(url: str) -> str:
    """The URL with its userinfo and secret-looking query (and fragment) values replaced by `***`.

    `${NAME}` references stay visible: they name a variable, not a secret.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query = _redact_pairs(parts.query) if parts.query else ""
    fragment = _redact_pairs(parts.fragment) if "=" in parts.fragment else parts.fragment
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    rebuilt = f"{parts.scheme}:" if parts.scheme else ""
    if netloc or parts.scheme in ("http", "https", "file"):
        rebuilt += f"//{netloc}"
    rebuilt += parts.path
    if query or "?" in url:
        rebuilt += f"?{query}"
    if fragment or "#" in url:
        rebuilt += f"#{fragment}"
    return rebuilt


def _redact_param(match: re.Match) -> str:
    name, value = match.group(1), match.group(2)
    if is_secret_name(name) and value != REDACTED and not _is_env_ref(value):
        return f"{name}={REDACTED}"
    return match.group(0)


def _redact_quoted(match: re.Match) -> str:
    quote_a, name, colon, quote_b, value = match.groups()
    if is_secret_name(name) and value and value != REDACTED and not _is_env_ref(value):
        return f"{quote_a}{name}{quote_a}{colon}{quote_b}{REDACTED}{quote_b}"
    return match.group(0)


def redact_text(text: str) -> str:
    """Free text (a log line, an error) with every credential found in it replaced by `***`: URL userinfo,
    `name=value` pairs with a secret-looking name, `'name': 'value'` pairs (a dict's repr or JSON) and
    `Bearer`/`Basic` credentials."""
    if not text:
        return text
    for secret in sorted(_remembered, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _PARAM.sub(_redact_param, text)
    text = _QUOTED_PAIR.sub(_redact_quoted, text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def redact_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A feed's params for display: secret-named values replaced, text values redacted, nested maps too."""
    shown: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, Mapping):
            shown[name] = redact_params(value)
        elif is_secret_name(str(name)) and value not in (None, "") and not (
                isinstance(value, str) and _is_env_ref(value)):
            shown[name] = REDACTED
        elif isinstance(value, str):
            shown[name] = redact_text(value)
        elif isinstance(value, list):
            shown[name] = [redact_text(v) if isinstance(v, str) else v for v in value]
        else:
            shown[name] = value
    return shown


def display_feed_url(url: str | None) -> str | None:
    """How a feed's location is shown outside the machine: an http(s) URL redacted, a local file by its name
    only (an absolute path says how the server is laid out)."""
    if url is None:
        return None
    text = url.strip()
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return "<unparseable url>"
    if scheme == "file":
        return PurePath(unquote(urlsplit(text).path)).name
    if scheme == "" or len(scheme) == 1:  # a local path (a one-letter scheme is a Windows drive)
        return PurePath(text.replace("\\", "/")).name
    return redact_url(text)


class UnsetVariableError(ValueError):
    """A URL references `${NAME}` and NAME is not set where the fetch runs."""

    def __init__(self, name: str, url: str):
        super().__init__(f"{redact_url(url)} references ${{{name}}} but the environment variable {name} is not set "
                         f"where the fetch runs; set it there (the registry keeps only the reference)")
        self.name = name


def resolve_env_refs(url: str, env: Mapping[str, str]) -> str:
    """`url` with each `${NAME}` replaced by env[NAME], percent-encoded: a secret holding `&`, `/` or `@` cannot
    change the URL's shape."""

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in env:
            raise UnsetVariableError(name, url)
        remember_secret(env[name])
        return quote(env[name], safe="-._~")

    return ENV_REF.sub(substitute, url)


def has_env_refs(url: str | None) -> bool:
    return bool(url) and ENV_REF.search(url) is not None
