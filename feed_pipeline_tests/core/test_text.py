"""Plain text from the strings feeds carry (one-line fields, descriptions with their paragraphs, one-line
description text) and the memos that keep it cheap. The safety side (no markup survives) is test_content_safety."""
from __future__ import annotations

import random

import pytest

from feed_pipeline.core import text as core_text
from feed_pipeline.core.text import clean_text, html_to_text, looks_like_html, plain_text, strip_control_chars


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Sales   Executive \n ", "Sales Executive"),
        ("Acme &amp; Sons", "Acme & Sons"),
        ("R&amp;D &lt;Lab&gt;", "R&D"),  # decoded once, then the tag it made is removed
        ("Pay &lt; 50k &amp; bonus &gt; 5%", "Pay < 50k & bonus > 5%"),  # a bare `<` is text, not markup
        ("a\x00b\x0bc", "abc"),
        ("non\u00a0breaking", "non breaking"),
        ("   ", None),
        ("", None),
        (None, None),
        (42, "42"),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


def test_strip_control_chars_keeps_tabs_and_newlines():
    assert strip_control_chars("a\tb\nc\rd\x07\ufffe") == "a\tb\nc\rd"


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>Hello &amp; <b>world</b></p><p>Second</p>", "Hello & world\n\nSecond"),
        ("<ul><li>One</li><li>Two</li></ul>", "One\nTwo"),
        ("Line one<br/>Line two<BR>Three", "Line one\nLine two\nThree"),
        ("<p>Keep</p><script>alert('x')</script><style>p{}</style><!-- note -->", "Keep"),
        ("&lt;p&gt;escaped once&lt;/p&gt;", "escaped once"),
        ("plain   text\n\n\n\nwith gaps", "plain text\n\nwith gaps"),
        ("Caf&eacute; &#39;quoted&#39;", "Café 'quoted'"),
        ("", ""),
        (None, ""),
    ],
)
def test_html_to_text(markup, expected):
    assert html_to_text(markup) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("<p>x</p>", True), ("&lt;b&gt;x&lt;/b&gt;", True), ("a < b and c > d", False), ("plain", False), (None, False)],
)
def test_looks_like_html(text, expected):
    assert looks_like_html(text) is expected


def test_plain_text_is_html_to_text_on_one_line():
    markup = "<p>R&amp;D</p><ul><li>one</li><li>two</li></ul>"
    assert html_to_text(markup) == "R&D\n\none\ntwo"
    assert plain_text(markup) == "R&D one two"
    assert plain_text(None) == ""


def test_clean_text_memo_gives_the_same_answer_twice_and_stays_bounded():
    hostile = ["&lt;script&gt;alert(1)&lt;/script&gt;Engineer", "<b>Nurse</b> &amp; carer", "  A\x00 B  ", "", "   "]
    first = [clean_text(value) for value in hostile]
    assert first == [clean_text(value) for value in hostile] == [core_text._clean_text(v) for v in hostile]
    assert first[0] == "Engineer" and first[1] == "Nurse & carer" and first[3] is None
    for number in range(core_text.MEMO_MAX_ENTRIES + 10):
        clean_text(f"value {number}")
    assert len(core_text._CLEAN_MEMO) <= core_text.MEMO_MAX_ENTRIES
    long_value = "<i>x</i> " * 100  # over the memo's length: cleaned, never kept
    assert clean_text(long_value) == " ".join(["x"] * 100) and long_value not in core_text._CLEAN_MEMO


def test_plain_text_of_text_that_is_plain_already_equals_the_full_conversion():
    """The shortcut for plain text (stored descriptions) must give what html_to_text then collapsing would."""
    alphabet = "ab Z.,;é \t\n\r\x0b\x0c\x1c\x1d\x85\u2028\u00a0\u3000\x00\x07&<>"
    picker = random.Random(7)
    for _ in range(20_000):
        value = "".join(picker.choice(alphabet) for _ in range(picker.randint(0, 30)))
        assert plain_text(value) == " ".join(html_to_text(value).split()), repr(value)
