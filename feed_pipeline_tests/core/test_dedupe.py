"""Dedupe rules: key normalization, what merges and what stays apart, the merged job, stable keys, pass 2."""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed_pipeline.core.dedupe import (
    DedupeConfig,
    DedupeStats,
    ai_block_key,
    assign_dedupe_keys,
    assign_merged_keys,
    block_key,
    dedupe_key,
    merge_block,
    merge_enriched_block,
    normalize_company,
    normalize_title,
    title_without_locations,
    union_locations,
)
from feed_pipeline.core.enrichment import IndustryResult
from feed_pipeline.core.identity import assign_identity, make_content_hash
from feed_pipeline.core.jobs import JobRecord

CONFIG = DedupeConfig()
_VOCABULARY = [f"w{n}" for n in range(2000)]


def text(seed: int, words: int = 180) -> str:
    """A deterministic pseudo description: two seeds give unrelated texts."""
    rng = random.Random(seed)
    return " ".join(rng.choice(_VOCABULARY) for _ in range(words))


def edited(description: str, seed: int, edits: int = 3) -> str:
    """The description with a few words replaced: the same role, lightly edited."""
    rng = random.Random(seed)
    words = description.split()
    for _ in range(edits):
        words[rng.randrange(len(words))] = rng.choice(_VOCABULARY)
    return " ".join(words)


def posting(source_id: str, *, city: str = "Boston", state: str = "MA", feed_id: str = "feed-a", **fields) -> JobRecord:
    values = {
        "title": "Registered Nurse",
        "company": "Acme Health Inc.",
        "description": f"Join our team in {city}. " + text(1),
        "employment_type": "full_time",
        "locations": [f"{city}, {state}"],
        "city": city,
        "state": state,
        "country": "US",
        "url": f"https://jobs.example.com/{source_id}",
    }
    values.update(fields)
    job = JobRecord(feed_id=feed_id, source="xml", source_id=source_id, **values)
    assign_identity(job)
    return assign_dedupe_keys(job)


# --- normalization ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "Softwareentwickler (m/w/d)",
        "Softwareentwickler (w/m/d)",
        "Softwareentwickler [M/W/X]",
        "Softwareentwickler*in",
        "Softwareentwickler:innen",
        "SoftwareentwicklerIn (all genders)",
        "Softwareentwickler (gn)",
        "Softwareentwickler m/w/d",
    ],
)
def test_normalize_title_drops_gender_marks(variant):
    assert normalize_title(variant) == "softwareentwickler"


def test_normalize_title_drops_french_gender_mark_and_accents():
    assert normalize_title("Développeur Java (H/F)") == "developpeur java"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Senior Java Developer", "Java Developer"),
        ("Lead Java Developer", "Senior Java Developer"),
        ("Software Engineer II", "Software Engineer I"),
        ("Software Engineer (I)", "Software Engineer (II)"),
        ("Backend Engineer", "Frontend Engineer"),
        ("C++ Developer", "C Developer"),
        ("C# Developer", "C Developer"),
        ("C++ Developer", "C# Developer"),
        (".NET Engineer", "NET Engineer"),
        ("Registered Nurse - ICU", "Registered Nurse"),
    ],
)
def test_normalize_title_keeps_what_makes_a_different_role(first, second):
    assert normalize_title(first) != normalize_title(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Sr. Java Developer", "Senior Java Developer"),
        ("Jr Java Developer", "Junior Java Developer"),
        ("Store Mgr", "Store Manager"),
        ("JAVA-Developer", "java developer"),
        ("Research & Development Lead", "Research and Development Lead"),
        ("Backend Engineer (Remote)", "Backend Engineer"),
        ("Backend Engineer - 100% Remote", "Backend Engineer | Hybrid"),
        ("Linkedin Specialist", "LinkedIn Specialist"),
    ],
)
def test_normalize_title_equates_spelling_variants(first, second):
    assert normalize_title(first) == normalize_title(second)


def test_normalize_title_drops_location_segments_only_of_the_postings_own_location():
    terms = frozenset({"boston", "ma"})
    assert normalize_title("Registered Nurse - Boston, MA", terms) == "registered nurse"
    assert normalize_title("Registered Nurse (Boston)", terms) == "registered nurse"
    assert normalize_title("Registered Nurse in Boston", terms) == "registered nurse"
    assert normalize_title("Registered Nurse - Boston, MA") == "registered nurse boston ma"
    assert normalize_title("Registered Nurse - Denver", terms) == "registered nurse denver"


def test_normalize_title_keeps_a_title_made_only_of_noise():
    assert normalize_title("Remote") == "remote"
    assert normalize_title("Boston", frozenset({"boston"})) == "boston"


@pytest.mark.parametrize("title", ["", "   ", None])
def test_normalize_title_rejects_an_empty_title(title):
    with pytest.raises(ValueError, match="title is empty"):
        normalize_title(title)


@pytest.mark.parametrize(
    "variant",
    [
        "Acme",
        "ACME, Inc.",
        "Acme Inc",
        "Acme Incorporated",
        "The Acme Company",
        "Acme L.L.C.",
        "Acme GmbH & Co. KG",
        "Acme Ltd.",
        "Acme Corp",
        "acme s.a.",
    ],
)
def test_normalize_company_drops_legal_forms(variant):
    assert normalize_company(variant) == "acme"


def test_normalize_company_keeps_distinct_names_and_a_name_that_is_only_a_legal_form():
    assert normalize_company("Acme Labs Inc.") == "acme labs"
    assert normalize_company("AG") == "ag"
    assert normalize_company("J.P. Morgan") == normalize_company("JP Morgan")
    assert normalize_company("Société Générale S.A.") == "societe generale"
    assert normalize_company("") == ""


# --- keys -------------------------------------------------------------------------------------------------


def test_block_key_is_shared_by_one_roles_postings_across_locations_and_spellings():
    boston = posting("1", title="Registered Nurse - Boston, MA")
    denver = posting("2", city="Denver", state="CO", title="Registered Nurse (Denver)", company="ACME Health")
    assert boston.block_key == denver.block_key == block_key(boston)


def test_block_key_separates_company_and_seniority_but_not_employment_type():
    base = posting("1")
    assert posting("2", employment_type="contract").block_key == base.block_key
    assert posting("5", employment_type=None).block_key == base.block_key
    assert posting("3", company="Other Health").block_key != base.block_key
    assert posting("4", title="Senior Registered Nurse").block_key != base.block_key


def test_dedupe_key_is_the_same_across_feeds_and_employment_types():
    here = posting("1", feed_id="feed-a")
    there = posting("9", feed_id="feed-b", employment_type="contract", title="Registered Nurse (m/w/d)")
    assert here.dedupe_key == there.dedupe_key == dedupe_key(here)
    assert posting("3", company="Other").dedupe_key != here.dedupe_key


def test_ai_block_key_uses_the_ai_title():
    first = posting("1", title="Nurse, Registered")
    second = posting("2", title="RN")
    assert first.block_key != second.block_key
    assert ai_block_key(first, "Registered Nurse") == ai_block_key(second, "Registered Nurse")
    assert ai_block_key(first, "Registered Nurse") != ai_block_key(first, "Nurse Practitioner")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("similarity_threshold", 85, "similarity_threshold"),
        ("similarity_threshold", 0, "similarity_threshold"),
        ("max_block_chunk", 1, "max_block_chunk"),
        ("probes_per_role", 0, "probes_per_role"),
        ("workers", 0, "workers"),
    ],
)
def test_config_rejects_values_out_of_range(field, value, message):
    with pytest.raises(ValueError, match=message):
        DedupeConfig(**{field: value})


# --- what merges ------------------------------------------------------------------------------------------


def test_one_role_in_three_cities_becomes_one_multi_location_job():
    jobs = [
        posting("b", title="Registered Nurse - Boston, MA", posted_at=datetime(2026, 3, 5, tzinfo=UTC)),
        posting(
            "d",
            city="Denver",
            state="CO",
            title="Registered Nurse - Denver, CO",
            posted_at=datetime(2026, 3, 1, tzinfo=UTC),
            expires_at=datetime(2026, 5, 1, tzinfo=UTC),
        ),
        posting(
            "a",
            city="Austin",
            state="TX",
            title="Registered Nurse - Austin, TX",
            expires_at=datetime(2026, 6, 1, tzinfo=UTC),
        ),
    ]
    [merged] = merge_block(jobs, CONFIG)
    assert merged.locations == ["Austin, TX", "Boston, MA", "Denver, CO"]
    assert merged.is_multi_location
    assert merged.member_keys == sorted(job.job_key for job in jobs)
    assert merged.source_ids == ["a", "b", "d"]
    assert merged.posted_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert merged.expires_at == datetime(2026, 6, 1, tzinfo=UTC)
    assert merged.title == "Registered Nurse"
    assert (merged.city, merged.state, merged.country) == (None, None, "US")
    assert merged.dedupe_key == jobs[0].dedupe_key
    assert merged.content_hash == make_content_hash(merged)


def test_edited_descriptions_of_one_role_merge():
    base = text(7)
    jobs = [
        posting(str(n), city=city, description=edited(base, n)) for n, city in enumerate(["Boston", "Denver", "Austin"])
    ]
    assert len(merge_block(jobs, CONFIG)) == 1


def test_same_title_for_another_team_stays_a_separate_job():
    intro = text(100, words=40)
    payments = posting("1", description=intro + " " + text(200, words=150))
    search = posting("2", city="Denver", description=intro + " " + text(300, words=150))
    assert len(merge_block([payments, search], CONFIG)) == 2


def test_locations_repeat_once_whatever_their_case_or_spacing():
    first = posting("1", locations=["Boston, MA", "denver,  co"])
    second = posting("2", locations=["Denver, CO", "Boston, MA"])
    assert union_locations([first, second]) == union_locations([second, first]) == ["Boston, MA", "Denver, CO"]


def test_merged_job_takes_the_longest_description_and_fills_gaps_from_the_others():
    short = posting(
        "1",
        description="Join our team in Boston. " + text(1),
        salary_min=40.0,
        salary_max=50.0,
        salary_currency="USD",
        salary_period="hour",
    )
    longer = posting(
        "2",
        city="Denver",
        description="Join our team in Denver. " + text(1) + " Parking on site.",
        url=None,
        salary_min=45.0,
        salary_max=60.0,
        salary_currency="USD",
        salary_period="hour",
        is_remote=False,
    )
    [merged] = merge_block([short, longer], CONFIG)
    assert merged.description == longer.description
    assert merged.url == short.url
    assert (merged.salary_min, merged.salary_max) == (40.0, 60.0)
    assert merged.is_remote is False


def test_a_shared_requisition_id_merges_even_different_descriptions():
    first = posting("1", requisition_id="REQ-77", description=text(1))
    second = posting("2", city="Denver", requisition_id=" req-77 ", description=text(2))
    [merged] = merge_block([first, second], CONFIG)
    assert merged.source_ids == ["1", "2"]


def test_different_requisition_ids_never_merge_not_even_through_a_third_posting():
    body = text(5)
    first = posting("1", requisition_id="REQ-1", description=body)
    second = posting("2", city="Denver", requisition_id="REQ-2", description=body)
    bridge = posting("3", city="Austin", description=edited(body, 3))
    merged = merge_block([first, second, bridge], CONFIG)
    assert len(merged) == 2
    assert sorted(len(job.member_keys) for job in merged) == [1, 2]


def test_a_posting_without_employment_type_merges_with_the_same_role_of_a_stated_type():
    body = text(11)
    typed = posting("1", employment_type="full_time", description=body)
    untyped = posting("2", city="Denver", employment_type=None, description=edited(body, 4))
    [merged] = merge_block([typed, untyped], CONFIG)
    assert merged.source_ids == ["1", "2"] and merged.employment_type == "full_time"


def test_postings_of_different_stated_employment_types_never_merge_not_even_through_an_untyped_one():
    body = text(12)
    full_time = posting("1", employment_type="full_time", description=body)
    contract = posting("2", city="Denver", employment_type="contract", description=body)
    untyped = posting("3", city="Austin", employment_type=None, description=edited(body, 5))
    merged = merge_block([full_time, contract, untyped], CONFIG)
    assert sorted(job.employment_type for job in merged) == ["contract", "full_time"]
    assert sorted(len(job.member_keys) for job in merged) == [1, 2]


def test_one_borderline_posting_does_not_chain_two_roles():
    base = text(60, words=200).split()
    role_a, role_b = list(base), list(base)
    for index in range(0, 200, 8):  # each role differs from the base in its own 25 words: 0.875 to it,
        role_a[index] = f"a{index}"  # 0.75 to each other
        role_b[index + 4] = f"b{index}"
    descriptions = [" ".join(role_a), edited(" ".join(role_a), 1, 1), " ".join(role_b), edited(" ".join(role_b), 2, 1)]
    jobs = [posting(str(n), city=f"Town{n}", description=description) for n, description in enumerate(descriptions)]
    jobs.append(posting("bridge", city="Townx", description=" ".join(base)))
    sizes = sorted(len(job.member_keys) for job in merge_block(jobs, CONFIG))
    assert sizes == [2, 3]


def test_an_aggregator_snippet_joins_the_one_role_it_starts_like():
    full = posting("1", description=text(11, words=300))
    snippet = posting("2", city="Denver", description=" ".join(full.description.split()[:70]) + "…")
    assert len(merge_block([full, snippet], CONFIG)) == 1


def test_a_snippet_matching_two_roles_joins_neither():
    intro = text(12, words=80)
    role_a = posting("1", description=intro + " " + text(13, words=220))
    role_b = posting("2", city="Denver", description=intro + " " + text(14, words=220))
    snippet = posting("3", city="Austin", description=" ".join(intro.split()[:70]) + "…")
    merged = merge_block([role_a, role_b, snippet], CONFIG)
    assert sorted(len(job.member_keys) for job in merged) == [1, 1, 1]


def test_snippets_can_be_turned_off():
    full = posting("1", description=text(11, words=300))
    snippet = posting("2", city="Denver", description=" ".join(full.description.split()[:70]))
    assert len(merge_block([full, snippet], DedupeConfig(snippet_min_words=0))) == 2


def test_a_large_block_is_compared_in_windows_and_still_merges_each_role():
    roles = [text(seed) for seed in (21, 22, 23)]
    jobs = [
        posting(f"{role}-{n}", city=f"City{role}x{n}", description=edited(roles[role], role * 100 + n, edits=2))
        for role in range(3)
        for n in range(10)
    ]
    stats = DedupeStats()
    merged = merge_block(jobs, DedupeConfig(max_block_chunk=8), stats=stats)
    assert sorted(len(job.member_keys) for job in merged) == [10, 10, 10]
    assert stats.windowed_blocks == 1


def test_comparisons_in_a_large_block_grow_linearly_not_quadratically():
    jobs = [posting(str(n), city=f"Town{n}", description=text(1000 + n, words=60)) for n in range(300)]
    stats = DedupeStats()
    merged = merge_block(jobs, DedupeConfig(max_block_chunk=20, snippet_min_words=0), stats=stats)
    assert len(merged) == 300
    assert stats.comparisons <= 2 * 300 * (20 // 2)  # two orders, half a chunk back each
    assert stats.largest_block == 300


def test_a_role_with_many_postings_costs_at_most_probes_per_role_scores_per_posting():
    base = text(31)
    jobs = [posting(str(n), city=f"Town{n}", description=edited(base, n, edits=2)) for n in range(60)]
    stats = DedupeStats()
    [merged] = merge_block(jobs, DedupeConfig(probes_per_role=4), stats=stats)
    assert len(merged.member_keys) == 60
    assert stats.comparisons <= 4 * 60  # all pairs would be 1,770


# --- merged keys --------------------------------------------------------------------------------------------


def test_without_history_the_merged_key_is_the_smallest_member_key_and_a_lone_posting_keeps_its_own():
    jobs = [posting("1"), posting("2", city="Denver"), posting("3", company="Other Co", title="Registered Nurse")]
    role = merge_block(jobs[:2], CONFIG)[0]
    assert role.job_key == min(jobs[0].job_key, jobs[1].job_key)
    assert merge_block([jobs[2]], CONFIG)[0].job_key == jobs[2].job_key


def test_a_cluster_keeps_its_key_when_a_smaller_member_joins_or_the_key_owner_leaves():
    assert assign_merged_keys([["b", "c", "a"]], {"b": "b", "c": "b"}) == ["b"]
    assert assign_merged_keys([["c", "d"]], {"b": "b", "c": "b", "d": "b"}) == ["b"]


def test_a_split_cluster_gives_the_old_key_to_the_part_holding_its_owner():
    previous = {"a": "a", "b": "a", "c": "a"}
    assert assign_merged_keys([["b", "c"], ["a"]], previous) == ["b", "a"]


def test_two_former_clusters_merged_keep_the_smaller_of_their_keys():
    assert assign_merged_keys([["a", "b", "c", "d"]], {"a": "a", "b": "a", "c": "c", "d": "c"}) == ["a"]


def test_claimed_keys_stop_two_blocks_from_inheriting_the_same_key():
    previous = {"a": "a", "b": "a"}
    claimed: set[str] = set()
    first_block = assign_merged_keys([["b"]], previous, claimed)
    second_block = assign_merged_keys([["a"]], previous, claimed)
    assert first_block == ["a"]
    assert second_block != first_block
    assert len(second_block[0]) == 32


def test_assign_merged_keys_rejects_a_member_in_two_clusters():
    with pytest.raises(ValueError, match="more than one place"):
        assign_merged_keys([["a", "b"], ["b"]])


def test_merge_block_keeps_the_previous_merged_key():
    jobs = [posting("1"), posting("2", city="Denver"), posting("3", city="Austin")]
    largest = max(job.job_key for job in jobs)
    previous = {job.job_key: largest for job in jobs[1:]}
    assert merge_block(jobs, CONFIG, previous)[0].job_key == largest


# --- order independence ---------------------------------------------------------------------------------


def _block_for_property(plan: list[tuple[int, int, bool]]) -> list[JobRecord]:
    """Postings of up to three roles of one block: (role, edit seed, has requisition) each."""
    jobs = []
    for index, (role, seed, with_req) in enumerate(plan):
        jobs.append(
            posting(
                f"p{index}",
                city=f"Town{index % 4}",
                state="MA",
                description=edited(text(500 + role), seed, edits=seed % 4),
                requisition_id=f"REQ-{role}" if with_req else None,
                locations=[f"Town{index % 4}, MA", "Remote"] if index % 3 == 0 else [f"Town{index % 4}, MA"],
                posted_at=datetime(2026, 1, 1 + seed % 20, tzinfo=UTC),
            )
        )
    return jobs


_PLANS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 50), st.booleans()), min_size=1, max_size=9)


@settings(max_examples=40, deadline=None)
@given(plan=_PLANS, data=st.data())
def test_merging_does_not_depend_on_input_order(plan, data):
    jobs = _block_for_property(plan)
    shuffled = data.draw(st.permutations(jobs))
    expected = [job.to_dict() for job in merge_block(jobs, CONFIG)]
    assert [job.to_dict() for job in merge_block(list(shuffled), CONFIG)] == expected
    members = sorted(key for job in expected for key in job["member_keys"])
    assert members == sorted(job.job_key for job in jobs)


@settings(max_examples=25, deadline=None)
@given(plan=_PLANS, data=st.data())
def test_merged_keys_do_not_depend_on_input_order_with_history(plan, data):
    jobs = _block_for_property(plan)
    previous = {job.job_key: data.draw(st.sampled_from([j.job_key for j in jobs])) for job in jobs[::2]}
    shuffled = data.draw(st.permutations(jobs))
    first = [job.job_key for job in merge_block(jobs, CONFIG, previous)]
    assert [job.job_key for job in merge_block(list(shuffled), CONFIG, previous)] == first
    assert len(set(first)) == len(first)


# --- bad input --------------------------------------------------------------------------------------------


def test_merge_block_leaves_its_input_untouched():
    jobs = [posting("1"), posting("2", city="Denver")]
    before = copy.deepcopy([job.to_dict() for job in jobs])
    merge_block(jobs, CONFIG)
    assert [job.to_dict() for job in jobs] == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda jobs: setattr(jobs[1], "block_key", "other"), "block keys"),
        (lambda jobs: setattr(jobs[1], "feed_id", "feed-b"), "mixes feeds"),
        (lambda jobs: setattr(jobs[1], "rejection_reason", "closed"), "rejected"),
        (lambda jobs: setattr(jobs[1], "job_key", jobs[0].job_key), "appears twice"),
        (lambda jobs: setattr(jobs[1], "job_key", ""), "assign_identity"),
    ],
)
def test_merge_block_rejects_a_malformed_block(change, message):
    jobs = [posting("1"), posting("2", city="Denver")]
    change(jobs)
    with pytest.raises(ValueError, match=message):
        merge_block(jobs, CONFIG)


def test_merge_block_names_an_item_that_is_not_a_job():
    with pytest.raises(TypeError, match="item 1 is a dict"):
        merge_block([posting("1"), {"title": "Registered Nurse"}], CONFIG)


def test_merge_block_of_nothing_is_nothing():
    assert merge_block([], CONFIG) == []


# --- statistics -------------------------------------------------------------------------------------------


def test_stats_accumulate_across_blocks():
    stats = DedupeStats()
    role = [posting("1"), posting("2", city="Denver"), posting("3", city="Austin")]
    alone = [posting("9", company="Other Co")]
    merge_block(role, CONFIG, stats=stats)
    merge_block(alone, CONFIG, stats=stats)
    meta = stats.as_metadata()
    assert meta["input_jobs"] == 4 and meta["output_jobs"] == 2
    assert meta["duplicate_rate"] == 0.5
    assert meta["merged_groups"] == 1 and meta["largest_group"] == 3
    assert meta["blocks"] == 2 and meta["largest_block"] == 3 and meta["largest_block_key"] == role[0].block_key
    assert meta["multi_location_jobs"] == 1 and meta["total_locations"] == 4
    assert meta["location_counts"]["1"] == 1 and meta["location_counts"]["2-5"] == 1
    json.dumps(meta)


def test_stats_absorbed_block_by_block_equal_stats_accumulated_in_one_and_survive_json():
    blocks = [[posting("1"), posting("2", city="Denver"), posting("3", city="Austin")],
              [posting("9", company="Other Co")], [posting("7", company="Third Co", city="Reno")]]
    whole, absorbed = DedupeStats(), DedupeStats()
    for block in blocks:
        merge_block(block, CONFIG, stats=whole)
        one = DedupeStats()
        merge_block(block, CONFIG, stats=one)
        absorbed.absorb(one)
    assert absorbed == whole
    kept = DedupeStats()
    for block in blocks:
        one = DedupeStats()
        merge_block(block, CONFIG, stats=one)
        kept.absorb(DedupeStats.reused(json.loads(json.dumps(one.figures()))))
    assert kept.as_metadata() == {**whole.as_metadata(), "comparisons": 0, "reused_blocks": 3}


def test_stats_count_groups_of_pass_two_by_deduped_inputs():
    stats = DedupeStats()
    inputs = [posting("1"), posting("2", city="Denver")]
    merged = merge_block(inputs, CONFIG)
    stats.add_block(inputs, merged)
    assert (stats.merged_groups, stats.largest_group) == (1, 2)


# --- pass 2 -----------------------------------------------------------------------------------------------


def _result(job: JobRecord, confidence: float, industry: str = "healthcare") -> IndustryResult:
    return IndustryResult(
        job_key=job.job_key,
        industry=industry,
        confidence=confidence,
        ai_title="Registered Nurse",
        ai_description="Cares for patients.",
    )


def test_pass_two_merges_titles_that_differ_only_in_wording_and_keeps_the_best_supported_result():
    base = text(40)
    first = merge_block([posting("1", title="Nurse, Registered", description=edited(base, 1))], CONFIG)[0]
    second = merge_block(
        [
            posting("2", city="Denver", title="RN", description=edited(base, 2)),
            posting("3", city="Austin", title="RN", description=edited(base, 3)),
        ],
        CONFIG,
    )[0]
    assert first.block_key != second.block_key
    [(merged, result, keys)] = merge_enriched_block(
        [(first, _result(first, 0.8)), (second, _result(second, 0.9))], CONFIG
    )
    assert keys == sorted([first.job_key, second.job_key])
    assert merged.job_key == min(keys) == result.job_key
    assert result.confidence == 0.9
    assert merged.member_keys == sorted([*first.member_keys, *second.member_keys])
    assert merged.locations == ["Austin, MA", "Boston, MA", "Denver, MA"]


def test_pass_two_breaks_confidence_ties_by_members_then_key():
    base = text(41)
    single = merge_block([posting("1", description=edited(base, 1))], CONFIG)[0]
    double = merge_block(
        [
            posting("2", city="Denver", description=edited(base, 2)),
            posting("3", city="Austin", description=edited(base, 3)),
        ],
        CONFIG,
    )[0]
    [(_, result, _)] = merge_enriched_block(
        [(single, _result(single, 0.7, "a")), (double, _result(double, 0.7, "b"))], CONFIG
    )
    assert result.industry == "b"


def test_pass_two_leaves_a_job_that_matches_nothing_under_its_own_key():
    job = merge_block([posting("1")], CONFIG)[0]
    other = merge_block([posting("2", city="Denver", description=text(99))], CONFIG)[0]
    out = merge_enriched_block([(job, _result(job, 0.9)), (other, _result(other, 0.9))], CONFIG)
    assert sorted(keys for _, _, keys in out) == sorted([[job.job_key], [other.job_key]])
    assert {merged.job_key for merged, _, _ in out} == {job.job_key, other.job_key}


def test_pass_two_without_singletons_gives_only_the_merges_and_the_same_ones():
    base = text(42)
    alone = merge_block([posting("1", description=text(98))], CONFIG)[0]
    pair = [merge_block([posting(key, city=city, description=edited(base, n))], CONFIG)[0]
            for n, (key, city) in enumerate([("2", "Denver"), ("3", "Austin")])]
    items = [(job, _result(job, 0.9)) for job in [alone, *pair]]
    everything = merge_enriched_block(items, CONFIG)
    assert merge_enriched_block(items, CONFIG, singletons=False) == [t for t in everything if len(t[2]) > 1]
    assert len(everything) == 2
    with pytest.raises(ValueError, match="singletons"):
        merge_enriched_block(items, CONFIG, singletons=False, stats=DedupeStats())


def test_pass_two_rejects_a_result_of_another_job_and_mixed_ai_blocks():
    job = merge_block([posting("1")], CONFIG)[0]
    other = merge_block([posting("2", city="Denver")], CONFIG)[0]
    with pytest.raises(ValueError, match="pairs job"):
        merge_enriched_block([(job, _result(other, 0.9))], CONFIG)
    mismatched = IndustryResult(
        job_key=other.job_key, industry="x", confidence=0.5, ai_title="Nurse Practitioner", ai_description=""
    )
    with pytest.raises(ValueError, match="ai_block_key"):
        merge_enriched_block([(job, _result(job, 0.9)), (other, mismatched)], CONFIG)


def test_title_without_locations_keeps_titles_that_are_not_about_a_place():
    terms = frozenset({"boston", "ma"})
    assert title_without_locations("Registered Nurse - Boston, MA", terms) == "Registered Nurse"
    assert title_without_locations("Boston - Registered Nurse", terms) == "Registered Nurse"
    assert title_without_locations("Registered Nurse (Boston)", terms) == "Registered Nurse"
    assert title_without_locations("Registered Nurse - ICU", terms) == "Registered Nurse - ICU"
    assert title_without_locations("Boston", terms) == "Boston"
