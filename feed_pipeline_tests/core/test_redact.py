"""What counts as a credential, and how it is shown: URLs, free text, params, local paths, env references, logs."""
from __future__ import annotations

import logging
import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from feed_pipeline.core.redact import (
    UnsetVariableError,
    display_feed_url,
    is_secret_name,
    redact_params,
    redact_text,
    redact_url,
    resolve_env_refs,
)
from feed_pipeline.redacted_logging import CredentialFilter

SECRET_CHARS = string.ascii_letters + string.digits + "-_.~!$'()*+,:"


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pw@feeds.example.com/a.xml", "https://***@feeds.example.com/a.xml"),
    ("https://token-only@feeds.example.com/a.xml", "https://***@feeds.example.com/a.xml"),
    ("https://h/a?token=t&page=2", "https://h/a?token=***&page=2"),
    ("https://api.adzuna.com/v1/api/jobs/gb/search/1?app_id=i&app_key=k&what=go",
     "https://api.adzuna.com/v1/api/jobs/gb/search/1?app_id=***&app_key=***&what=go"),
    ("https://s3.example.com/f.xml?X-Amz-Credential=c&X-Amz-Signature=s&x=1",
     "https://s3.example.com/f.xml?X-Amz-Credential=***&X-Amz-Signature=***&x=1"),
    ("https://h/cb#access_token=zz&state=1", "https://h/cb#access_token=***&state=1"),
    ("https://h/a?key=${FEED_KEY}", "https://h/a?key=${FEED_KEY}"),
    ("https://h/a?keywords=python&author=ann", "https://h/a?keywords=python&author=ann"),
    ("https://h/plain", "https://h/plain"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


@given(secret=st.text(SECRET_CHARS, min_size=6, max_size=40),
       name=st.sampled_from(["token", "api_key", "app_key", "password", "sig", "access_token", "client_secret"]))
def test_a_secret_value_never_survives_url_or_text_redaction(secret, name):
    url = f"https://user:{secret}@feeds.example.com/x.xml?{name}={secret}&page=1"
    message = "GET {url} failed: connection reset"
    assume(secret not in message.format(url=f"https://user:@feeds.example.com/x.xml?{name}=&page=1"))

    assert secret not in redact_url(url)
    assert secret not in redact_text(message.format(url=url))


def test_free_text_loses_userinfo_pairs_quoted_pairs_and_bearer_tokens():
    text = ('HTTP Request: GET https://api.x.com/s?app_key=k3y "HTTP/1.1 200 OK"; fetching http://bob:hunter2@x.org/; '
            "params {'password': 'pa55', 'what': 'go'}; Authorization: Bearer abcdef123456; password=p4ss")

    shown = redact_text(text)

    for secret in ("k3y", "hunter2", "pa55", "abcdef123456", "p4ss", "bob"):
        assert secret not in shown
    assert "'what': 'go'" in shown and "HTTP/1.1 200 OK" in shown


def test_params_lose_secret_values_at_any_depth_but_keep_references():
    assert redact_params({"app_key": "k", "what": "go", "nested": {"token": "t"}, "key": "${K}", "n": 3}) == \
        {"app_key": "***", "what": "go", "nested": {"token": "***"}, "key": "${K}", "n": 3}


@pytest.mark.parametrize(("url", "shown"), [
    ("/srv/private/feeds/jobs.xml", "jobs.xml"), ("file:///srv/private/feeds/jobs.xml.gz", "jobs.xml.gz"),
    ("feeds/local.xml", "local.xml"), ("https://u:p@h/x?sig=1", "https://***@h/x?sig=***"), (None, None),
])
def test_a_feed_location_is_shown_without_local_paths(url, shown):
    assert display_feed_url(url) == shown


def test_env_references_are_resolved_percent_encoded():
    assert resolve_env_refs("https://${U}:${P}@h/x?key=${K}", {"U": "ann", "P": "p@ss/w", "K": "a&b"}) == \
        "https://ann:p%40ss%2Fw@h/x?key=a%26b"


def test_a_resolved_value_is_hidden_wherever_it_lands_afterwards():
    resolved = resolve_env_refs("https://h/feeds/${PATH_SECRET}/jobs.xml", {"PATH_SECRET": "pAth/S3cret"})

    assert resolved == "https://h/feeds/pAth%2FS3cret/jobs.xml"
    assert redact_text(f"HTTP Request: GET {resolved}") == "HTTP Request: GET https://h/feeds/***/jobs.xml"
    assert redact_text("echo pAth/S3cret") == "echo ***"


def test_an_unset_reference_names_the_variable_and_redacts_the_rest():
    with pytest.raises(UnsetVariableError, match=r"\$\{MISSING\}.*MISSING is not set") as caught:
        resolve_env_refs("https://u:pw@h/x?key=${MISSING}", {})
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize(("name", "secret"), [("token", True), ("API-Key", True), ("x_amz_signature", True),
                                              ("auth_code", True), ("keywords", False), ("author", False),
                                              ("page", False)])
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret


def test_the_log_filter_redacts_the_formatted_message_and_the_traceback():
    try:
        raise RuntimeError("GET https://u:pw@h/x?token=t0k failed")
    except RuntimeError:
        record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: GET %s", ("https://h/?key=k3y",),
                                   exc_info=__import__("sys").exc_info())

    CredentialFilter().filter(record)

    assert record.getMessage() == "HTTP Request: GET https://h/?key=***"
    assert "t0k" not in record.exc_text and "pw" not in record.exc_text and "RuntimeError" in record.exc_text
