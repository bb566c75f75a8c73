"""The mirror never creates a second record for a job_key, even when another writer (a second run of the feed)
adds the same jobs between this sync's listing and its adds."""
from __future__ import annotations

from collections import Counter

from feed_pipeline.core.mirror import MirrorPlan
from feed_pipeline.resources.xano import XanoClient
from feed_pipeline_tests.resources.test_xano import TOKEN, client, jobs, resource_for, sandbox  # noqa: F401


class RacedClient(XanoClient):
    """Plans like any client, then lets `rival` sync the same feed before the writes begin (the race window)."""

    def __init__(self, settings, rival: XanoClient, rival_jobs: list[dict]):
        super().__init__(settings)
        self._rival, self._rival_jobs = rival, rival_jobs

    def plan_feed(self, feed_id: str, desired) -> MirrorPlan:
        plan = super().plan_feed(feed_id, desired)
        if self._rival is not None:
            rival, self._rival = self._rival, None
            rival.sync_feed(feed_id, self._rival_jobs)
        return plan


def test_jobs_added_by_a_racing_run_after_the_listing_are_not_added_twice(sandbox, client):  # noqa: F811
    desired = jobs(6)
    settings = resource_for(sandbox, page_size=4)
    with RacedClient(settings, rival=client, rival_jobs=desired[:4]) as raced:
        outcome = raced.sync_feed("feed-a", desired)

    keys = Counter(r["job_key"] for r in sandbox.records() if r.get("feed_id") == "feed-a")
    assert keys == Counter({r["job_key"]: 1 for r in desired})
    assert (outcome.added, outcome.already_present) == (2, 4)


def test_a_sync_with_nothing_to_add_lists_the_table_only_once(sandbox, client):  # noqa: F811
    client.sync_feed("feed-a", jobs(3))
    outcome = client.sync_feed("feed-a", jobs(3))
    assert outcome.list_calls == 1 and outcome.already_present == 0
