"""The framer must cut exactly the records lxml would see, whatever the chunk boundaries and markup around them."""
from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from feed_pipeline.sources.xml_framing import (
    DocumentBytes,
    DocumentEndedEarly,
    MarkupTooLarge,
    RecordFrame,
    RecordFramer,
    as_utf8,
)

TRICKY = (
    b'<?xml version="1.0"?>\n'
    b'<!DOCTYPE source [ <!ENTITY e "<job>not a record</job>"> <!-- ]> --> ]>\n'
    b"<!-- <job>commented out</job> -->\n"
    b"<source>\n"
    b"  <publisher>P</publisher>\n"
    b'  <job id="1"><title><![CDATA[ has </job> inside ]]></title></job>\n'
    b"  <job><!-- </job> --><title>two</title></job>\n"
    b'  <job attr="a>b"><title>three</title><job><title>nested</title></job></job>\n'
    b"  <job/>\n"
    b"  <jobs><job><title>five</title></job></jobs>\n"
    b"  <JOB><title>six</title></JOB>\n"
    b"  <jobtype>not a record</jobtype>\n"
    b"</source>\n"
)


def frame_all(data: bytes, chunk: int, **kwargs) -> list:
    framer = RecordFramer("job", **kwargs)
    frames = []
    for start in range(0, len(data), chunk):
        frames += framer.feed(data[start:start + chunk])
    return frames + framer.finish()


def records(frames: list) -> list[RecordFrame]:
    return [f for f in frames if isinstance(f, RecordFrame)]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 100_000])
def test_records_are_cut_exactly_whatever_the_chunk_size(chunk):
    found = records(frame_all(TRICKY, chunk))
    titles = []
    for frame in found:
        element = etree.fromstring(frame.data)
        assert element.tag.lower() == "job"
        titles.append(element.findtext("title"))
        assert TRICKY[frame.offset:frame.offset + frame.size] == frame.data
    assert titles == [" has </job> inside ", "two", "three", None, "five", "six"]
    assert [f.position for f in found] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("chunk", [1, 5, 100_000])
def test_document_around_the_records_is_well_formed_once_records_are_removed(chunk):
    frames = frame_all(TRICKY, chunk)
    skeleton = b"".join(f.data for f in frames if isinstance(f, DocumentBytes))
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    root = etree.fromstring(skeleton, parser)
    assert root.tag == "source"
    assert root.findtext("publisher") == "P"
    assert b"commented out" in skeleton  # the comment is document text, not a record


def test_whitespace_between_records_is_not_reported_as_document_text():
    frames = frame_all(b"<source>\n  <job><a/></job>\n  <job><a/></job>\n</source>", 4)
    assert [type(f).__name__ for f in frames] == ["DocumentBytes", "RecordFrame", "RecordFrame", "DocumentBytes"]


def test_case_sensitive_framing_ignores_other_cases():
    found = records(frame_all(b"<s><JOB><t/></JOB><job><t/></job></s>", 3, case_insensitive=False))
    assert [f.data for f in found] == [b"<job><t/></job>"]


def test_stream_ending_inside_a_record_is_reported_with_the_record_number():
    framer = RecordFramer("job")
    framer.feed(b"<source><job><title>ok</title></job><job><title>cut")
    with pytest.raises(DocumentEndedEarly, match="inside record 2"):
        framer.finish()


def test_stream_ending_inside_a_cdata_section_is_truncated():
    framer = RecordFramer("job")
    framer.feed(b"<source><job><description><![CDATA[ </job> and more")
    with pytest.raises(DocumentEndedEarly):
        framer.finish()


@pytest.mark.parametrize("chunk", [1000, 64 * 1024])
def test_oversized_record_keeps_only_a_prefix_and_memory_stays_bounded(chunk):
    big = (b"<source><job><id>big</id><d><![CDATA[" + b"x</job>" * 200_000 + b"]]></d></job>"
           b"<job><id>next</id></job></source>")
    framer = RecordFramer("job", max_record_bytes=10_000, salvage_bytes=500)
    frames = []
    peak = 0
    for start in range(0, len(big), chunk):
        frames += framer.feed(big[start:start + chunk])
        peak = max(peak, len(framer._buf))  # the bound is the point of the test
    frames += framer.finish()
    found = records(frames)
    assert [f.oversized for f in found] == [True, False]
    assert found[0].data.startswith(b"<job><id>big</id>") and len(found[0].data) == 500
    assert found[0].size == len(big) - len(b"<source>") - len(b"<job><id>next</id></job></source>")
    assert etree.fromstring(found[1].data).findtext("id") == "next"
    assert peak <= 10_000 + chunk + 64


def test_oversized_record_whose_cdata_started_before_the_overflow_is_still_cut_right():
    body = b"<job><id>a</id><d><![CDATA[" + b"y" * 5000 + b"</job>" + b"z" * 5000 + b"]]></d></job>"
    data = b"<source>" + body + b"<job><id>b</id></job></source>"
    found = records(frame_all(data, 512, max_record_bytes=2048, salvage_bytes=100))
    assert [f.oversized for f in found] == [True, False]
    assert found[0].size == len(body)


def test_unterminated_comment_outside_records_is_capped():
    framer = RecordFramer("job")
    framer.feed(b"<source><!--")
    with pytest.raises(MarkupTooLarge):
        for _ in range(70):
            framer.feed(b"a" * 65536)


def test_namespaced_record_tags_are_framed():
    found = records(frame_all(b'<s xmlns:j="urn:j"><j:job><j:t>1</j:t></j:job></s>', 2))
    assert [f.data for f in found] == [b"<j:job><j:t>1</j:t></j:job>"]


def test_non_utf8_documents_are_reencoded_and_their_declaration_updated():
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><source><job><t>café</t></job></source>'.encode("latin-1")
    out = b"".join(as_utf8([latin[:10], latin[10:]]))
    assert out.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert "café".encode() in out


def test_utf16_with_bom_is_reencoded():
    text = '<?xml version="1.0" encoding="UTF-16"?><source><job><t>ü</t></job></source>'
    out = b"".join(as_utf8([text.encode("utf-16")]))
    assert b"<t>\xc3\xbc</t>" in out


def test_utf8_bom_is_dropped_and_utf8_passes_through():
    assert b"".join(as_utf8([b"\xef\xbb\xbf<source/>"])) == b"<source/>"


# A record body piece: plain text, CDATA that may hold markup-like text, a comment, or a nested element.
_PIECES = st.one_of(
    st.text(alphabet="abc <>&'\"/", max_size=12).map(lambda t: escape(t)),
    st.sampled_from(["</job>", "<job>", "]]", "<!--", "-->", "<![CDATA["]).map(lambda t: f"<![CDATA[{t}]]>"),
    st.sampled_from(["<job>x</job>", "</job>", "- -", ""]).map(lambda t: f"<!--{t.replace('-', ' ')}-->"),
    st.just("<jobtype>full</jobtype>"),
)


@given(
    bodies=st.lists(st.lists(_PIECES, max_size=5).map("".join), min_size=0, max_size=6),
    chunk=st.integers(min_value=1, max_value=40),
    separator=st.sampled_from(["", "\n  ", "<!-- <job> -->", "<?pi <job>?>"]),
)
@settings(max_examples=100, deadline=None)
def test_framing_agrees_with_lxml_on_generated_documents(bodies, chunk, separator):
    document = ("<source>" + separator + separator.join(f"<job><title>{body}</title></job>" for body in bodies)
                + separator + "</source>").encode()
    expected = [etree.tostring(job, with_tail=False) for job in etree.fromstring(document).iterchildren("job")]
    found = [etree.tostring(etree.fromstring(frame.data)) for frame in records(frame_all(document, chunk))]
    assert found == expected
