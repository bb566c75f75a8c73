"""The CLI's runner adds a feed's partition once, even when another process adds it at the same moment."""
from __future__ import annotations

import dagster as dg

from feed_pipeline.automation.runner import ensure_partition
from feed_pipeline.partitions import feeds_partitions


def test_a_partition_added_by_another_process_between_check_and_insert_is_success(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        real_has = instance.has_dynamic_partition
        checks = []

        def has_after_the_other_process_added_it(name, key):
            checks.append(key)
            if len(checks) == 1:  # our check sees nothing; the other process inserts right after
                instance.add_dynamic_partitions(name, [key])
                return False
            return real_has(name, key)

        instance.has_dynamic_partition = has_after_the_other_process_added_it
        ensure_partition(instance, "gated")
        assert instance.get_dynamic_partitions(feeds_partitions.name) == ["gated"]


def test_a_partition_is_added_once(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        ensure_partition(instance, "a")
        ensure_partition(instance, "a")
        assert instance.get_dynamic_partitions(feeds_partitions.name) == ["a"]
