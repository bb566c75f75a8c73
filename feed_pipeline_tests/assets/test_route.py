"""routed_jobs publishes a pass 2 job exactly as pass 2 built it."""
from feed_pipeline.core.dedupe import merge_block, merge_enriched_block
from feed_pipeline.pipeline.route import _merged_job
from feed_pipeline_tests.core.test_dedupe import CONFIG, _result, edited, posting, text


def test_a_pass2_job_is_rebuilt_with_pass2s_fields_and_content_hash():
    base = text(40)
    short = merge_block([posting("1", title="Nurse, Registered", description=edited(base, 1)[:400])], CONFIG)[0]
    longer = merge_block([posting("2", city="Denver", title="RN", description=edited(base, 2))], CONFIG)[0]
    [(merged, _, _)] = merge_enriched_block([(short, _result(short, 0.8)), (longer, _result(longer, 0.9))], CONFIG)

    members = sorted([short, longer], key=lambda j: j.job_key)
    published = _merged_job(members, {"job_key": merged.job_key})

    assert published.content_hash == merged.content_hash
    assert published.description == longer.description  # the richer posting's text, whichever key is smaller
    assert published.member_keys == merged.member_keys == sorted([*short.member_keys, *longer.member_keys])


def test_a_job_pass2_did_not_merge_is_published_as_deduped():
    job = merge_block([posting("1")], CONFIG)[0]
    assert _merged_job([job], {"job_key": job.job_key}) is job
