"""The mirror's pure half: record building, the diff, the safety valve and the verification."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed_pipeline.core.mirror import (
    XANO_FIELDS,
    MirrorPlan,
    changed_fields,
    check_delete_safety,
    plan_mirror,
    record_hash,
    to_xano_record,
    verify_mirror,
)

FEED = "feed-a"


def job_row(n: int, *, feed_id: str = FEED, **overrides) -> dict:
    """A row of the `jobs` table as the store hands it over."""
    row = {
        "feed_id": feed_id,
        "job_key": f"key-{n}",
        "content_hash": f"hash-{n}",
        "title": f"Engineer {n}",
        "company": "Acme",
        "description": "Builds things.",
        "url": f"https://acme.example/jobs/{n}",
        "locations": ["Berlin, DE"],
        "city": "Berlin",
        "state": None,
        "country": "DE",
        "is_multi_location": False,
        "employment_type": "full_time",
        "salary_min": 50000.0,
        "salary_max": 70000,
        "salary_currency": "EUR",
        "salary_period": "year",
        "is_remote": False,
        "posted_at": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        "expires_at": None,
        "industry": "Software",
        "job_function": "Engineering",
        "ai_title": "Software Engineer",
        "ai_description": "Writes software.",
        "skills": ["python"],
        "tech_stack": ["postgres"],
        "seniority": "mid",
        "remote_policy": "onsite",
        "dedupe_key": f"dedupe-{n}",
        # columns the mirror does not publish
        "route": "approved",
        "routing_confidence": 0.93,
        "member_keys": [],
    }
    row.update(overrides)
    return row


def stored(record: dict, record_id: int, **changes) -> dict:
    """The record as Xano hands it back: with id and created_at."""
    return {"id": record_id, "created_at": 1_700_000_000_000, **record, **changes}


_ids = itertools.count(1)


def stored_all(records: list[dict]) -> list[dict]:
    return [stored(r, next(_ids)) for r in records]


# ---- to_xano_record --------------------------------------------------------------------------------
def test_record_has_exactly_the_published_fields_and_drops_internal_columns():
    record = to_xano_record(job_row(1))
    assert tuple(record) == (*(f for f in XANO_FIELDS if f != "record_hash"), "record_hash")
    assert "route" not in record and "routing_confidence" not in record


def test_record_keeps_the_rows_content_hash():
    assert to_xano_record(job_row(1, content_hash="abc"))["content_hash"] == "abc"


@pytest.mark.parametrize(
    "posted_at, expected_ms",
    [
        (datetime(2024, 5, 1, 12, 0, tzinfo=UTC), 1714564800000),
        (datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))), 1714564800000),
        (datetime(2024, 5, 1, 12, 0), 1714564800000),  # SQLite hands back naive UTC
        ("2024-05-01T12:00:00Z", 1714564800000),
        (date(2024, 5, 1), 1714521600000),
        (1714564800000, 1714564800000),
        (None, None),
    ],
)
def test_timestamps_become_epoch_milliseconds(posted_at, expected_ms):
    assert to_xano_record(job_row(1, posted_at=posted_at))["posted_at"] == expected_ms


def test_values_are_json_native():
    record = to_xano_record(job_row(1, salary_max=70000, locations=("A", "B"), skills=None, is_remote=1))
    assert record["salary_max"] == 70000.0 and isinstance(record["salary_max"], float)
    assert record["locations"] == ["A", "B"]
    assert record["skills"] == []
    assert record["is_remote"] is True


def test_json_list_stored_as_text_is_decoded():
    assert to_xano_record(job_row(1, skills='["go", "sql"]'))["skills"] == ["go", "sql"]


@pytest.mark.parametrize("missing", ["job_key", "feed_id", "content_hash"])
def test_row_without_identity_is_refused_with_a_clear_error(missing):
    with pytest.raises(ValueError, match=f"has no {missing}"):
        to_xano_record(job_row(1, **{missing: ""}))


def test_bad_timestamp_names_the_job_and_field():
    with pytest.raises(ValueError, match=r"job key-1: posted_at='yesterday'"):
        to_xano_record(job_row(1, posted_at="yesterday"))


def test_non_finite_salary_is_refused():
    with pytest.raises(ValueError, match="salary_min"):
        to_xano_record(job_row(1, salary_min=float("nan")))


def test_record_hash_changes_with_any_published_field_but_not_with_internal_columns():
    base = to_xano_record(job_row(1))
    assert to_xano_record(job_row(1, industry="Finance"))["record_hash"] != base["record_hash"]
    assert to_xano_record(job_row(1, routing_confidence=0.2))["record_hash"] == base["record_hash"]
    assert record_hash(base) == base["record_hash"]


# ---- plan_mirror -----------------------------------------------------------------------------------
def test_first_sync_adds_everything():
    desired = [to_xano_record(job_row(n)) for n in range(3)]
    plan = plan_mirror([], desired, FEED)
    assert plan.adds == ["key-0", "key-1", "key-2"]
    assert plan.write_count == 3 and plan.unchanged == 0


def test_nothing_changed_plans_no_writes():
    desired = [to_xano_record(job_row(n)) for n in range(3)]
    plan = plan_mirror(stored_all(desired), desired, FEED)
    assert plan.write_count == 0 and plan.unchanged == 3


def test_xano_normalizing_values_does_not_count_as_a_change():
    desired = [to_xano_record(job_row(1, state=None))]
    existing = [stored(desired[0], 7, state="", salary_max=70000)]  # Xano's defaults for an empty field
    assert plan_mirror(existing, desired, FEED).write_count == 0


def test_changed_job_is_patched_with_only_the_changed_fields_and_hashes():
    old = to_xano_record(job_row(1))
    new = to_xano_record(job_row(1, industry="Finance"))
    plan = plan_mirror([stored(old, 42)], [new], FEED)
    ((record_id, kept),) = plan.updates
    assert record_id == 42
    assert changed_fields(kept, new) == {
        "industry": "Finance",
        "job_key": "key-1",
        "content_hash": new["content_hash"],
        "record_hash": new["record_hash"],
    }
    assert not plan.adds and not plan.deletes


def test_changed_content_hash_alone_triggers_an_update():
    record = to_xano_record(job_row(1))
    plan = plan_mirror([stored(record, 1, content_hash="older")], [record], FEED)
    assert [rid for rid, _ in plan.updates] == [1]


def test_job_no_longer_approved_is_deleted():
    kept, gone = to_xano_record(job_row(1)), to_xano_record(job_row(2))
    plan = plan_mirror([stored(kept, 1), stored(gone, 2)], [kept], FEED)
    assert [r["id"] for r in plan.deletes] == [2]
    assert plan.delete_share == 0.5


def test_other_feeds_and_unkeyed_records_are_never_touched():
    ours = to_xano_record(job_row(1))
    other_feed = to_xano_record(job_row(1, feed_id="feed-b"))
    existing = [
        stored(other_feed, 1),
        {"id": 2, "feed_id": FEED, "title": "typed in by hand"},
        {"id": 3, "feed_id": FEED, "job_key": None},
        {"id": 4, "title": "no feed at all"},
        stored(ours, 5),
    ]
    plan = plan_mirror(existing, [], FEED)
    assert [r["id"] for r in plan.deletes] == [5]
    assert plan.foreign_count == 4 and plan.existing_count == 1


def test_extra_copies_of_a_key_are_removed_keeping_the_exact_one():
    record = to_xano_record(job_row(1))
    existing = [stored(record, 3, record_hash="stale"), stored(record, 5), stored(record, 9)]
    plan = plan_mirror(existing, [record], FEED)
    assert sorted(r["id"] for r in plan.duplicates) == [3, 9]
    assert plan.unchanged == 1 and not plan.updates and not plan.deletes


def test_copies_without_an_exact_one_keep_the_oldest_and_patch_it():
    record = to_xano_record(job_row(1))
    existing = [stored(record, 8, record_hash="x"), stored(record, 4, record_hash="y")]
    plan = plan_mirror(existing, [record], FEED)
    assert [r["id"] for r in plan.duplicates] == [8]
    assert [rid for rid, _ in plan.updates] == [4]


def test_every_copy_of_a_stale_key_is_a_stale_delete():
    record = to_xano_record(job_row(1))
    plan = plan_mirror([stored(record, 1), stored(record, 2)], [], FEED)
    assert [r["id"] for r in plan.deletes] == [1, 2] and not plan.duplicates


def test_desired_record_of_another_feed_is_a_caller_error():
    with pytest.raises(ValueError, match="belongs to feed 'feed-b'"):
        plan_mirror([], [to_xano_record(job_row(1, feed_id="feed-b"))], FEED)


def test_desired_key_twice_is_a_caller_error():
    record = to_xano_record(job_row(1))
    with pytest.raises(ValueError, match="appears twice"):
        plan_mirror([], [record, record], FEED)


def test_desired_record_not_built_by_to_xano_record_is_refused():
    with pytest.raises(ValueError, match="lacks its hashes"):
        plan_mirror([], [{"job_key": "k", "feed_id": FEED}], FEED)


# ---- check_delete_safety ---------------------------------------------------------------------------
def plan_with(deletes: int, existing: int) -> MirrorPlan:
    return MirrorPlan(deletes=[{"id": i} for i in range(deletes)], existing_count=existing)


def test_deletes_up_to_the_share_are_allowed():
    assert check_delete_safety(plan_with(5, 10)) is None


def test_deletes_above_the_share_are_blocked_with_counts():
    reason = check_delete_safety(plan_with(6, 10))
    assert reason is not None and "6 of 10" in reason and "allow_mass_delete" in reason


def test_share_is_configurable():
    assert check_delete_safety(plan_with(6, 10), max_delete_share=0.6) is None
    assert check_delete_safety(plan_with(1, 10), max_delete_share=0.0) is not None


def plan_replacing(deletes: int, existing: int, adds: int) -> MirrorPlan:
    return MirrorPlan(deletes=[{"id": i} for i in range(deletes)], adds=[f"n{i}" for i in range(adds)],
                      existing_count=existing)


def test_a_first_sync_over_a_few_stale_records_passes_while_the_feed_grows():
    assert check_delete_safety(plan_replacing(2, 2, adds=300)) is None


def test_a_small_correction_under_the_floor_passes_even_above_the_share():
    assert check_delete_safety(plan_replacing(8, 12, adds=8)) is None  # 67% of the copy, but 8 records


def test_a_mass_delete_above_both_the_share_and_the_floor_is_blocked_even_when_the_feed_adds_as_many():
    reason = check_delete_safety(plan_replacing(600, 1000, adds=600))
    assert reason is not None and "600 of 1000" in reason and "10-record floor" in reason


def test_a_copy_collapsing_to_nothing_is_blocked_however_small():
    reason = check_delete_safety(plan_replacing(2, 2, adds=0))
    assert reason is not None and "shrink the feed's copy from 2 to 0" in reason


def test_the_floor_is_configurable_and_checked():
    assert check_delete_safety(plan_replacing(8, 12, adds=8), min_mass_delete=5) is not None
    with pytest.raises(ValueError, match="min_mass_delete"):
        check_delete_safety(plan_with(1, 10), min_mass_delete=-1)


def test_incomplete_ingest_blocks_any_delete():
    reason = check_delete_safety(plan_with(1, 100), ingest_complete=False)
    assert reason is not None and "incomplete" in reason


def test_incomplete_ingest_without_deletes_blocks_nothing():
    assert check_delete_safety(plan_with(0, 100), ingest_complete=False) is None


def test_allow_mass_delete_lifts_both_guards():
    assert check_delete_safety(plan_with(10, 10), ingest_complete=False, allow_mass_delete=True) is None


def test_duplicates_never_count_towards_the_share():
    plan = MirrorPlan(duplicates=[{"id": i} for i in range(9)], existing_count=10)
    assert check_delete_safety(plan) is None


def test_explicit_existing_count_overrides_the_plans():
    assert check_delete_safety(plan_with(6, 10), 100) is None


def test_share_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        check_delete_safety(plan_with(1, 10), max_delete_share=50)


# ---- verify_mirror ---------------------------------------------------------------------------------
def test_exact_copy_verifies_clean_despite_foreign_records():
    desired = [to_xano_record(job_row(n)) for n in range(3)]
    existing = [*stored_all(desired), {"id": 99, "title": "foreign"}]
    assert verify_mirror(existing, desired, FEED) == []


def test_verification_names_each_kind_of_difference():
    a, b, c = (to_xano_record(job_row(n)) for n in range(3))
    existing = [stored(a, 1), stored(a, 2), stored(b, 3, record_hash="old"), stored(to_xano_record(job_row(9)), 4)]
    problems = verify_mirror(existing, [a, b, c], FEED)
    assert problems == [
        "job_key key-0 has 2 copies in Xano (ids 1, 2)",
        f"job_key key-1 (id 3): record_hash 'old' != {b['record_hash']!r}",
        "missing in Xano: job_key key-2",
        "stale in Xano (not approved): job_key key-9 (ids 4)",
    ]


# ---- property: applying a plan yields the exact copy, and a replan is empty -----------------------
def apply_plan(existing: list[dict], plan: MirrorPlan, desired: list[dict]) -> list[dict]:
    """What Xano holds after the plan's writes (the pure model of the client's work)."""
    by_key = {r["job_key"]: r for r in desired}
    gone = {r["id"] for r in plan.deletes} | {r["id"] for r in plan.duplicates}
    patches = {rid: changed_fields(kept, by_key[kept["job_key"]]) for rid, kept in plan.updates}
    result = [{**r, **patches.get(r["id"], {})} for r in existing if r["id"] not in gone]
    next_id = max((r["id"] for r in existing), default=0) + 1
    result.extend({"id": next_id + i, **by_key[key]} for i, key in enumerate(plan.adds))
    return result


versions = st.integers(min_value=0, max_value=2)


@settings(max_examples=150, deadline=None)
@given(
    desired_spec=st.dictionaries(st.integers(0, 12), versions, max_size=10),
    existing_spec=st.lists(st.tuples(st.integers(0, 12), versions, st.sampled_from([FEED, "feed-b"])), max_size=14),
    foreign=st.integers(0, 3),
)
def test_applying_any_plan_gives_the_exact_copy_and_leaves_others_alone(desired_spec, existing_spec, foreign):
    desired = [to_xano_record(job_row(n, industry=f"v{v}")) for n, v in desired_spec.items()]
    existing = [
        stored(to_xano_record(job_row(n, feed_id=feed, industry=f"v{v}")), i + 1)
        for i, (n, v, feed) in enumerate(existing_spec)
    ]
    existing += [{"id": 1000 + i, "feed_id": FEED, "title": "manual"} for i in range(foreign)]
    plan = plan_mirror(existing, desired, FEED)
    after = apply_plan(existing, plan, desired)
    assert verify_mirror(after, desired, FEED) == []
    assert plan_mirror(after, desired, FEED).write_count == 0
    untouched = [r for r in existing if r.get("feed_id") != FEED or "job_key" not in r]
    assert all(r in after for r in untouched)


def test_existing_may_be_a_one_pass_stream_of_pages():
    desired = [to_xano_record(job_row(n)) for n in range(3)]
    pages = iter([stored_all(desired[:2]), stored_all(desired[2:])])
    plan = plan_mirror((record for page in pages for record in page), desired, FEED)
    assert plan.unchanged == 3 and plan.write_count == 0


def test_records_not_patched_are_kept_as_identity_and_hashes_only():
    kept, gone = to_xano_record(job_row(1)), to_xano_record(job_row(2))
    plan = plan_mirror([stored(kept, 1), stored(gone, 2)], [kept], FEED)
    (deleted,) = plan.deletes
    assert deleted == {"id": 2, "job_key": "key-2", "feed_id": FEED, "content_hash": "hash-2",
                       "record_hash": gone["record_hash"]}
