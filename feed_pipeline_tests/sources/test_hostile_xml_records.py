"""Markup written as real XML elements (not CDATA) inside a feed's fields is cleaned like any other: a
`<script>` element in a title is dropped with its content, never read as the title's text."""
from __future__ import annotations

from feed_pipeline.sources.base import FeedSpec
from feed_pipeline.sources.registry import open_feed

FEED = b"""<?xml version="1.0"?>
<source><job>
  <referencenumber>1</referencenumber>
  <title><script>alert(1)</script>Backend Engineer<img src="x" onerror="alert(2)"/></title>
  <company><svg onload="alert(3)"><text>svg</text></svg>Acme</company>
  <url>https://jobs.example/1</url>
  <description><p>Build APIs</p><iframe src="javascript:alert(4)">frame</iframe>
    <form><input name="q"/></form></description>
</job></source>
"""


def test_script_and_svg_elements_inside_fields_are_dropped_with_their_content(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    reader = open_feed(FeedSpec(id="f", kind="xml", url=str(path), params={}))
    try:
        [job] = list(reader)
    finally:
        reader.close()
    assert (job.title, job.company, job.description) == ("Backend Engineer", "Acme", "Build APIs")
    assert job.description_html == "<p>Build APIs</p>"
    assert job.rejection_reason is None
