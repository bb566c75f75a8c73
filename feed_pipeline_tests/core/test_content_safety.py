"""What we publish cannot run script: plain-text fields hold no markup, `description_html` only passes the
allowlist, URL fields are http(s) only. Checked on the classic filter-evasion vectors (OWASP XSS cheat sheet)
and, with hypothesis, on texts built from their pieces."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed_pipeline.core.enrichment import IndustryResult
from feed_pipeline.core.normalize import clean_url, is_script_url, job_from_fields, published_extra, vet_url
from feed_pipeline.core.text import (
    SAFE_HTML_ATTRIBUTES,
    SAFE_HTML_TAGS,
    clean_text,
    has_markup,
    html_to_text,
    sanitize_html,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

# The OWASP XSS filter-evasion cheat sheet, as raw markup and as feeds escape it.
XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
    "<ScRiPt>alert(String.fromCharCode(88,83,83))</sCrIpT>",
    "<script>alert(1)",  # never closed
    "<scr<script>ipt>alert(1)</script>",
    "<<SCRIPT>alert('XSS');//<</SCRIPT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)",  # never closed
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;"
    "&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58"
    "&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"  JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<BODY ONLOAD=alert('XSS')>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<IFRAME SRC=# onmouseover=\"alert(document.cookie)\"></IFRAME>",
    "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    "<input onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>",
    "<div style=\"background-image: url(javascript:alert('XSS'))\">x</div>",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"http://xss.example/scriptlet.html\"></OBJECT>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIj48L3N2Zz4=\">",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<a href=\"http://x.example\" onclick=\"alert(1)\">x</a>",
    "<p title=\"</p><script>alert(1)</script>\">x</p>",
    "<scr\x00ipt>alert(1)</scr\x00ipt>",
    "<\x00script>alert(1)</script>",
    "<img src=x one\x00rror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<template><script>alert(1)</script></template>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
]
ESCAPED_VECTORS = [v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for v in XSS_VECTORS]

SCRIPT_URLS = [
    "javascript:alert(1)",
    "javascript:alert(1)//https://jobs.example/1",
    "JaVaScRiPt:alert(1)",
    "\tjavascript:alert(1)",
    " \x00 javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java&#09;script:alert(1)",
    "&#106;avascript:alert(1)",
    "javascript&colon;alert(1)",
    "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    "livescript:alert(1)",
]
OTHER_REFUSED_URLS = [
    "file:///etc/passwd",
    "ftp://files.example/job.pdf",
    "/jobs/1",  # a path without a host
    "mailto:jobs@example.com",  # a mailto link is fine in description_html, not as the apply URL
    "https://",
    "https:alert(1)",
    "https://jobs.example/1\"onmouseover=\"alert(1)",
    "https://jobs.example/<script>",
    "http://jobs.example:notaport/",
]
# Live elements that run or embed code (text that merely names a scheme is inert and may stay).
_SCRIPT_MARKERS = re.compile(r"<\s*/?\s*(script|iframe|svg|form|object|embed|math|style|img|input)", re.IGNORECASE)


class _Tags(HTMLParser):
    """Python's own HTML tokenizer: the tags and attributes a browser would see in a string."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))


def tags_in(markup: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    return parser.tags


def assert_plain(text: str | None) -> None:
    if text is None:
        return
    assert not has_markup(text), text
    assert tags_in(text) == [], text


def assert_safe_html(markup: str | None) -> None:
    if markup is None:
        return
    for tag, attrs in tags_in(markup):
        assert tag in SAFE_HTML_TAGS, markup
        allowed = SAFE_HTML_ATTRIBUTES["*"] | SAFE_HTML_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        for name, value in attrs:
            assert name in allowed and not name.startswith("on"), markup
            if name == "href":
                assert re.match(r"(https?|mailto):", value or ""), markup
            if name == "rel":
                assert value == "nofollow noopener", markup
    assert not _SCRIPT_MARKERS.search(markup), markup


# --------------------------------------------------------------------------------------------------- vectors


@pytest.mark.parametrize("vector", XSS_VECTORS + ESCAPED_VECTORS)
def test_plain_text_fields_hold_no_markup_for_any_owasp_vector(vector):
    assert_plain(clean_text(f"Engineer {vector} Acme"))
    assert_plain(html_to_text(f"<p>Engineer</p>{vector}<p>Acme</p>"))
    assert_plain(html_to_text(f"Engineer {vector} Acme"))


@pytest.mark.parametrize("vector", XSS_VECTORS + ESCAPED_VECTORS)
def test_description_html_keeps_only_allowlisted_markup_for_any_owasp_vector(vector):
    assert_safe_html(sanitize_html(f"<p>Engineer</p>{vector}<p>Acme</p>"))


def test_script_and_style_content_is_dropped_not_turned_into_text():
    assert clean_text("Dev <script>alert(1)</script><style>p{color:red}</style> Ops") == "Dev Ops"
    assert html_to_text("&lt;p&gt;Hi&lt;/p&gt;&lt;script&gt;steal()&lt;/script&gt;") == "Hi"
    assert html_to_text("<p>Hi</p><SCRIPT type=x>steal()</script ><p>Bye</p>") == "Hi\n\nBye"


def test_a_code_element_without_its_end_tag_loses_only_the_tag():
    # A posting that mentions `<svg>` in passing keeps the rest of its text (and still holds no markup).
    assert html_to_text("<p>Know &lt;svg&gt; and &lt;canvas&gt; well.</p><p>Remote.</p>") == "Know and well.\n\nRemote."
    assert clean_text("Frontend &lt;script&gt; wizard") == "Frontend wizard"


def test_escaped_markup_in_cdata_is_decoded_once_then_its_tags_removed():
    # What the issue saw: `&lt;img src=x onerror=...&gt;` in a CDATA description became live markup.
    assert html_to_text("Build &lt;img src=x onerror=alert(1)&gt;things") == "Build things"
    assert clean_text("&lt;img src=x onerror=alert(1)&gt;Senior Engineer") == "Senior Engineer"
    # Decoding once leaves literal entity text, which is not markup and is not decoded again into some.
    assert clean_text("Tom &amp;lt;b&amp;gt; Jerry") == "Tom &lt;b&gt; Jerry"


def test_markup_rejoined_by_removing_a_tag_is_removed_too():
    assert_plain(clean_text("<scr<b>ipt>alert(1)</script>Engineer"))  # `<scr<b>` is one tag, as for a browser
    assert_plain(clean_text("<<b>img src=x onerror=alert(1)>Engineer"))


def test_description_html_links_are_http_https_or_mailto_with_nofollow_noopener():
    html = sanitize_html('<p><a href="https://jobs.example/1" onclick="x()">apply</a> '
                         '<a href="mailto:hr@example.com">mail</a> <a href="javascript:alert(1)">bad</a> '
                         '<a href="/relative">rel</a></p>')
    assert html == ('<p><a href="https://jobs.example/1" rel="nofollow noopener">apply</a> '
                    '<a href="mailto:hr@example.com" rel="nofollow noopener">mail</a> '
                    '<a rel="nofollow noopener">bad</a> <a rel="nofollow noopener">rel</a></p>')


def test_description_html_keeps_formatting_and_drops_dangerous_elements_with_their_content():
    html = sanitize_html("<h2>Role</h2><ul><li><strong>Go</strong> &amp; <em>SQL</em></li></ul>"
                         "<iframe src=x>frame</iframe><form><input name=q>form</form><svg><text>svg</text></svg>"
                         "<img src=x onerror=alert(1)><p style=\"color:red\">end</p>")
    assert html == "<h2>Role</h2><ul><li><strong>Go</strong> &amp; <em>SQL</em></li></ul><p>end</p>"


def test_description_html_of_only_script_is_none():
    assert sanitize_html("<script>alert(1)</script>") is None
    assert sanitize_html("&lt;script&gt;alert(1)&lt;/script&gt;") is None


# --------------------------------------------------------------------------------------------------- URLs


@pytest.mark.parametrize("url", SCRIPT_URLS)
def test_script_and_data_urls_are_refused_however_they_are_written(url):
    published, problem = vet_url(url)
    assert published is None and "scheme" in problem
    assert is_script_url(url)


@pytest.mark.parametrize("url", OTHER_REFUSED_URLS)
def test_urls_that_are_not_absolute_http_or_https_are_refused(url):
    published, problem = vet_url(url)
    assert published is None and problem


@pytest.mark.parametrize(("raw", "expected"), [
    ("www.example.com/job?id=1", "https://www.example.com/job?id=1"),
    ("//jobs.example.org/apply/7", "https://jobs.example.org/apply/7"),
    ("careers.example.co.uk", "https://careers.example.co.uk"),
])
def test_a_link_that_names_its_host_but_not_its_scheme_is_completed_with_https(raw, expected):
    assert vet_url(raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" https://x.example/j?id=1&amp;src=feed ", "https://x.example/j?id=1&src=feed"),
        ("HTTPS://X.example/Job", "HTTPS://X.example/Job"),
        ("http://x.example/a b", "http://x.example/a%20b"),
        ("\thttps://x.example/\n1", "https://x.example/1"),
    ],
)
def test_http_and_https_urls_are_published_trimmed(raw, expected):
    assert vet_url(raw) == (expected, None)


def test_no_url_is_no_problem():
    assert vet_url(None) == (None, None) and vet_url("  ") == (None, None)


# --------------------------------------------------------------------------------------------------- records


def test_a_job_whose_apply_url_is_a_script_is_rejected_invalid_with_the_reason():
    job = job_from_fields("f", "xml", {"id": "1", "title": "Engineer", "url": "javascript:alert(1)//https://x.example"},
                          now=NOW)
    assert job.url is None and job.rejection_reason == "invalid"
    assert job.rejection_detail == "url has the scheme 'javascript'; only http and https are published"


def test_every_text_field_of_a_hostile_record_is_plain_and_unsafe_extra_urls_are_dropped():
    job = job_from_fields(
        "f", "xml",
        {"id": "<b>1</b>", "title": "<img src=x onerror=alert(1)>Engineer", "company": "<script>x()</script>Acme",
         "description": "&lt;p&gt;Build&lt;/p&gt;&lt;iframe src=javascript:alert(1)&gt;&lt;/iframe&gt;",
         "url": "https://x.example/1", "city": "<img src=x onerror=alert(1)>Austin", "category": "<i>Eng</i>",
         "tags": ["<b>go</b>", "<script>x</script>"]},
        now=NOW,
        extra={"logo": "javascript:alert(1)", "companyurl": "data:text/html,x", "apply_url": "https://x.example/a",
               "notes": "<form action=x><input></form>fine", "trap": " JaVaScRiPt:alert(1)", "paid": True})
    assert (job.source_id, job.title, job.company, job.city, job.category) == ("1", "Engineer", "Acme", "Austin",
                                                                               "Eng")
    assert job.description == "Build" and job.description_html == "<p>Build</p>" and job.tags == ["go"]
    assert job.extra == {"apply_url": "https://x.example/a", "notes": "fine", "paid": True}
    assert job.rejection_reason is None


def test_published_extra_cuts_long_text_and_drops_empty_values():
    kept = published_extra({"a": "x" * 5000, "b": "  ", "c": None, "d": 3})
    assert len(kept["a"]) == 2000 and kept == {"a": kept["a"], "d": 3}


# --------------------------------------------------------------------------------------------------- properties

_PIECES = st.sampled_from([
    "<", ">", "/", "\"", "'", "=", "&", ";", "#", "lt", "gt", "&lt;", "&gt;", "&amp;", "&#60;", "&#x3c;", "&#",
    "script", "SCRIPT", "ScRiPt", "img", "svg", "iframe", "form", "style", "a", "p", "b", " ", "\t", "\n", "\x00",
    "src=x", "href=", "onerror=alert(1)", "onload=", "javascript:", "JaVaScRiPt:", "vbscript:", "data:", "<!--",
    "-->", "<!", "<?", "</", "alert(1)", "http://x.example", "https:", "//", "CDATA[", "]]>", "\u00a0", "é",
    *XSS_VECTORS[:12],
])
_HOSTILE = st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=30).map("".join)
_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_HOSTILE)
def test_property_clean_text_never_returns_markup(text):
    assert_plain(clean_text(text))


@_SETTINGS
@given(_HOSTILE)
def test_property_html_to_text_never_returns_markup(text):
    assert_plain(html_to_text(text))


@_SETTINGS
@given(_HOSTILE)
def test_property_sanitize_html_returns_only_allowlisted_tags_attributes_and_links(text):
    assert_safe_html(sanitize_html(text))


@_SETTINGS
@given(st.one_of(_HOSTILE, st.sampled_from(SCRIPT_URLS + OTHER_REFUSED_URLS),
                st.text().map(lambda tail: f"https://x.example/{tail}")))
def test_property_clean_url_returns_only_absolute_http_or_https_urls(text):
    url = clean_url(text)
    if url is not None:
        assert re.match(r"https?://[^\s<>\"]+$", url, re.IGNORECASE), url
        assert not is_script_url(url)


@_SETTINGS
@given(st.sampled_from(["javascript", "vbscript", "data", "livescript"]),
       st.lists(st.sampled_from(["", " ", "\t", "\n", "\r", "\x00", "\x01", "&#09;", "&Tab;", "&NewLine;"]),
                min_size=1, max_size=8),
       st.booleans(), st.text(max_size=20))
def test_property_script_schemes_are_refused_whatever_case_and_whitespace(scheme, fillers, upper, tail):
    # Spread the fillers through the scheme name and swap the case of every other letter.
    letters = [c.upper() if (upper and i % 2) else c for i, c in enumerate(scheme)]
    spread = "".join(letter + (fillers[i] if i < len(fillers) else "") for i, letter in enumerate(letters))
    url = f"{fillers[0]}{spread}:{tail}"
    assert clean_url(url) is None


def test_ai_answers_are_published_as_plain_text_even_when_the_model_echoes_markup():
    result = IndustryResult(job_key="k", industry="Technology", confidence=0.9,
                            ai_title="<script>alert(1)</script>Backend Engineer",
                            ai_description="Builds &lt;img src=x onerror=alert(1)&gt;APIs.",
                            skills=("<b>Go</b>", "<svg onload=alert(1)>"), tech_stack=("<i>AWS</i>",))
    assert (result.ai_title, result.ai_description) == ("Backend Engineer", "Builds APIs.")
    assert (result.skills, result.tech_stack) == (("Go",), ("AWS",))
    assert IndustryResult(job_key="k", industry="x", confidence=0.5, ai_title="<Engineer>",
                          ai_description="").ai_title == "Engineer"  # never empty: pass 2 needs a title
