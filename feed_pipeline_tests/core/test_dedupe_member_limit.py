"""A role posted thousands of times cannot become one enormous job: past `DedupeConfig.max_members` postings
the group is split into several jobs, in job-key order, and the split is counted."""
from __future__ import annotations

import random

import pytest

from feed_pipeline.core.dedupe import DedupeConfig, DedupeStats, merge_block, merge_enriched_block, split_large_groups
from feed_pipeline.core.enrichment import IndustryResult
from feed_pipeline_tests.core.test_dedupe import posting, text


def identical_postings(count: int) -> list:
    """`count` postings of one role, word for word the same (the issue's 200,000 identical postings, smaller)."""
    description = text(7)
    return [posting(f"p{i:05d}", city=f"Town{i}", description=description) for i in range(count)]


def test_a_group_over_the_limit_is_split_into_jobs_of_at_most_max_members_and_counted():
    stats = DedupeStats()
    merged = merge_block(identical_postings(25), DedupeConfig(max_members=10), stats=stats)
    assert sorted(len(job.member_keys) for job in merged) == [5, 10, 10]
    assert len({key for job in merged for key in job.member_keys}) == 25  # every posting in exactly one job
    assert (stats.split_groups, stats.split_jobs) == (1, 3)
    assert stats.as_metadata()["split_groups"] == 1 and stats.as_metadata()["split_jobs"] == 3


def test_the_split_does_not_depend_on_arrival_order():
    postings = identical_postings(23)
    config = DedupeConfig(max_members=10)
    first = [(job.job_key, job.member_keys) for job in merge_block(postings, config)]
    shuffled = postings[:]
    random.Random(3).shuffle(shuffled)
    assert [(job.job_key, job.member_keys) for job in merge_block(shuffled, config)] == first


def test_a_group_within_the_limit_stays_one_job_and_counts_no_split():
    stats = DedupeStats()
    merged = merge_block(identical_postings(10), DedupeConfig(max_members=10), stats=stats)
    assert len(merged) == 1 and len(merged[0].member_keys) == 10
    assert (stats.split_groups, stats.split_jobs) == (0, 0)


def test_the_default_limit_is_500_and_must_be_positive():
    assert DedupeConfig().max_members == 500
    with pytest.raises(ValueError, match="max_members must be at least 1"):
        DedupeConfig(max_members=0)


def test_pass_two_counts_raw_postings_not_jobs_against_the_limit():
    config = DedupeConfig(max_members=10)
    postings = identical_postings(24)
    # Three pass 1 jobs of 8 postings each (different blocks in real life; here merged with a limit of 8).
    parts = merge_block(postings, DedupeConfig(max_members=8))
    assert [len(job.member_keys) for job in parts] == [8, 8, 8]
    items = [(job, IndustryResult(job_key=job.job_key, industry="healthcare", confidence=0.9,
                                  ai_title="Registered Nurse", ai_description="Cares.")) for job in parts]
    stats = DedupeStats()
    out = merge_enriched_block(items, config, stats=stats)
    assert [len(merged.member_keys) for merged, _, _ in out] == [8, 8, 8]  # 16 would pass the limit of 10
    assert (stats.split_groups, stats.split_jobs) == (1, 3)


def test_split_large_groups_keeps_order_and_leaves_an_oversized_single_job_whole():
    jobs = identical_postings(3)
    jobs[1].member_keys = [f"k{i}" for i in range(12)]
    groups, split = split_large_groups([[0, 1, 2]], jobs, 10)
    assert groups == [[0], [1], [2]] and split == 1
