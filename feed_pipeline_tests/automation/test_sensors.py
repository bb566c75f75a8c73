"""The feed-registry and feed-update sensors, evaluated tick by tick with `evaluate_tick` against a real instance,
a real feeds table and loopback feed servers."""
from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime

import dagster as dg
import pytest

from feed_pipeline.automation import sensors
from feed_pipeline.automation.feed_versions import FileStamp
from feed_pipeline.definitions import build_definitions, build_resources
from feed_pipeline.partitions import feeds_partitions
from feed_pipeline.resources.database import DatabaseResource, engine_for
from feed_pipeline.sources.feed_bytes import file_validators
from feed_pipeline.sources.http_fetch import RetrySettings
from feed_pipeline.store import feeds as feed_store
from feed_pipeline.store import reports
from feed_pipeline_tests.fakes.feed_server import LAST_MODIFIED, Route, closed_port_url, content_etag

FEED_V1 = b"<source><job><referencenumber>1</referencenumber><title>Backend engineer</title></job></source>"
FEED_V2 = FEED_V1.replace(b"</source>", b"<job><referencenumber>2</referencenumber><title>SRE</title></job></source>")
FAST_FETCH = {"retry": RetrySettings(attempts=1), "connect_timeout": 2.0, "read_timeout": 5.0}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document(server, path: str, body: bytes, *, etag: bool = True, last_modified: bool = False, **options) -> Route:
    """Publish `body` at `path` with a content ETag and/or a Last-Modified, as the feed hosts of these tests do."""
    server.add(path, body, etag=content_etag(body) if etag else None,
               last_modified=LAST_MODIFIED if last_modified else None, **options)
    return server.routes[path]


@pytest.fixture
def engine(sqlite_url):
    return engine_for(sqlite_url)


@pytest.fixture(scope="module")
def shared_instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def instance(shared_instance):
    """One instance per module (creating one costs most of a test's time); every test starts with no partitions."""
    yield shared_instance
    for key in shared_instance.get_dynamic_partitions(feeds_partitions.name):
        shared_instance.delete_dynamic_partition(feeds_partitions.name, key)


def definitions_with(sensor: dg.SensorDefinition, sqlite_url: str) -> dg.Definitions:
    """The project's Definitions on this test's database, plus `sensor` when it is a test-sized variant."""
    base = build_definitions(resources=build_resources({"FEED_PIPELINE_DATABASE_URL": sqlite_url,
                                                                 "FEED_PIPELINE_XANO_SANDBOX": "1"}))
    if any(s.name == sensor.name for s in base.sensors or []):
        return base
    return dg.Definitions.merge(base, dg.Definitions(sensors=[sensor]))


def tick(sensor: dg.SensorDefinition, instance, sqlite_url: str, cursor: str | None = None):
    """One evaluation as the daemon runs it: partitioned run requests are validated against the repository."""
    with dg.build_sensor_context(instance_ref=instance.get_ref(), cursor=cursor,
                                 definitions=definitions_with(sensor, sqlite_url),
                                 resources={"database": DatabaseResource(url=sqlite_url)}) as context:
        return sensor.evaluate_tick(context)


def apply_partition_requests(instance, result) -> None:
    """What the sensor daemon does with a tick's dynamic partition requests."""
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


def partition_keys(instance) -> list[str]:
    return sorted(instance.get_dynamic_partitions(feeds_partitions.name))


def requested(result) -> dict[str, str]:
    """partition key -> run key of the tick's run requests."""
    return {r.partition_key: r.run_key for r in result.run_requests or []}


def ingested(engine, feed_id: str, *, etag=None, last_modified=None, content_hash=None) -> None:
    """The state a complete ingest leaves: the version it read, and a finished run."""
    feed_store.save_fetch_state(engine, feed_id, etag=etag, last_modified=last_modified, content_hash=content_hash)


# ------------------------------------------------------------------------------------------- plain decisions


@pytest.mark.parametrize(
    ("active", "existing", "max_new", "add", "remove", "waiting"),
    [
        ({"a", "b"}, set(), 10, ["a", "b"], [], 0),
        ({"a", "b"}, {"a", "b"}, 10, [], [], 0),
        ({"a"}, {"a", "gone"}, 10, [], ["gone"], 0),
        ({"c", "a", "b"}, set(), 2, ["a", "b"], [], 1),
        (set(), {"x"}, 5, [], ["x"], 0),
    ],
)
def test_plan_partition_changes_reconciles_partitions_with_active_feeds(active, existing, max_new, add, remove,
                                                                        waiting):
    changes = sensors.plan_partition_changes(active, existing, max_new=max_new)
    assert (changes.add, changes.remove, changes.waiting) == (add, remove, waiting)


@pytest.mark.parametrize(
    ("after", "size", "expected"),
    [(None, 2, ["a", "b"]), ("a", 2, ["b", "c"]), ("b", 2, ["c", "a"]), ("c", 5, ["a", "b", "c"]),
     ("zzz", 1, ["a"]), ("0", 3, ["a", "b", "c"])],
)
def test_next_batch_resumes_after_the_last_probed_feed_and_wraps(after, size, expected):
    assert sensors.next_batch(["a", "b", "c"], after, size) == expected


def test_version_run_key_is_readable_and_bounded():
    assert sensors.version_run_key("acme", 'etag:"abc"') == 'acme@etag:"abc"'
    long_key = sensors.version_run_key("acme", "etag:" + "x" * 500)
    assert len(long_key) <= sensors.MAX_RUN_KEY_CHARS and long_key.startswith("acme@sha256-of-version:")
    assert long_key == sensors.version_run_key("acme", "etag:" + "x" * 500)


def test_update_cursor_round_trips_and_survives_garbage():
    cursor = sensors.UpdateCursor(after="b", files={"a": FileStamp(123, 45, "f" * 64)})
    assert sensors.UpdateCursor.parse(cursor.dump()) == cursor
    assert sensors.UpdateCursor.parse("not json") == sensors.UpdateCursor(files={})
    assert sensors.UpdateCursor.parse(json.dumps({"files": {"a": [1]}})) == sensors.UpdateCursor(files={})


# ------------------------------------------------------------------------------------------- registry sensor


def test_registry_adds_a_partition_and_requests_a_first_run_for_a_new_feed(engine, instance, sqlite_url):
    feed_store.upsert_feed(engine, "acme", url="https://acme.example/feed.xml")
    result = tick(sensors.feed_registry_sensor, instance, sqlite_url)

    [add] = result.dynamic_partitions_requests
    assert isinstance(add, dg.AddDynamicPartitionsRequest)
    assert (add.partitions_def_name, list(add.partition_keys)) == ("feeds", ["acme"])
    assert requested(result) == {"acme": "acme:first-run-after:never"}
    assert result.run_requests[0].tags[sensors.TRIGGER_TAG] == "new_feed"

    apply_partition_requests(instance, result)
    again = tick(sensors.feed_registry_sensor, instance, sqlite_url)
    assert not again.run_requests and not again.dynamic_partitions_requests
    assert "all registered" in again.skip_message


def test_registry_tags_the_first_run_of_an_api_feed_with_the_apis_it_calls(engine, instance, sqlite_url):
    feed_store.upsert_feed(engine, "remote", url=None, kind="remoteok")
    result = tick(sensors.feed_registry_sensor, instance, sqlite_url)
    [run] = result.run_requests
    ours = {k: v for k, v in run.tags.items() if k.startswith("feed_pipeline/")}
    assert ours == {sensors.TRIGGER_TAG: "new_feed", "feed_pipeline/api_source_remoteok": "true"}


def test_registry_removes_partitions_of_disabled_and_deleted_feeds(engine, instance, sqlite_url):
    feed_store.upsert_feed(engine, "keep", url="/feeds/keep.xml")
    feed_store.upsert_feed(engine, "off", url="/feeds/off.xml")
    instance.add_dynamic_partitions("feeds", ["keep", "off", "orphan"])
    feed_store.set_feed_active(engine, "off", False)

    result = tick(sensors.feed_registry_sensor, instance, sqlite_url)
    [delete] = result.dynamic_partitions_requests
    assert isinstance(delete, dg.DeleteDynamicPartitionsRequest)
    assert sorted(delete.partition_keys) == ["off", "orphan"]
    assert not result.run_requests
    apply_partition_requests(instance, result)
    assert partition_keys(instance) == ["keep"]


def test_registry_requests_a_bounded_number_of_first_runs_per_tick(engine, instance, sqlite_url):
    for i in range(5):
        feed_store.upsert_feed(engine, f"feed{i}", url=f"/feeds/{i}.xml")
    sensor = sensors.build_feed_registry_sensor(name="registry_small", max_new_feeds_per_tick=2)

    ticks = []
    for _ in range(4):
        result = tick(sensor, instance, sqlite_url)
        apply_partition_requests(instance, result)
        ticks.append(sorted(requested(result)))
    assert ticks == [["feed0", "feed1"], ["feed2", "feed3"], ["feed4"], []]
    assert partition_keys(instance) == [f"feed{i}" for i in range(5)]


def test_registry_requests_a_new_first_run_when_a_feed_that_ran_is_enabled_again(engine, instance, sqlite_url):
    feed_store.upsert_feed(engine, "acme", url="/feeds/acme.xml")
    first = tick(sensors.feed_registry_sensor, instance, sqlite_url)
    apply_partition_requests(instance, first)
    reports.record_run_outcome(engine, "run-1", "acme", reports.SUCCESS,
                               finished_at=datetime(2024, 5, 1, tzinfo=UTC))
    feed_store.set_feed_active(engine, "acme", False)
    apply_partition_requests(instance, tick(sensors.feed_registry_sensor, instance, sqlite_url))
    assert partition_keys(instance) == []

    feed_store.set_feed_active(engine, "acme", True)
    again = tick(sensors.feed_registry_sensor, instance, sqlite_url)
    assert requested(again) == {"acme": "acme:first-run-after:2024-05-01T00:00:00+00:00"}
    assert requested(again)["acme"] != requested(first)["acme"]


# ------------------------------------------------------------------------------------------- update sensor


@pytest.fixture
def update_sensor():
    return sensors.build_feed_update_sensor(name="update_fast", fetcher_options=FAST_FETCH)


def register(engine, instance, feed_id: str, url: str) -> None:
    feed_store.upsert_feed(engine, feed_id, url=url)
    instance.add_dynamic_partitions("feeds", [feed_id])


def test_update_leaves_a_feed_awaiting_its_first_run_to_the_registry(engine, instance, sqlite_url, feed_server,
                                                                     update_sensor):
    document(feed_server, "/new.xml", FEED_V1)
    register(engine, instance, "new", feed_server.url("/new.xml"))

    result = tick(update_sensor, instance, sqlite_url)
    assert not result.run_requests
    assert feed_server.requests == []


def test_update_skips_an_unchanged_feed_with_a_conditional_probe(engine, instance, sqlite_url, feed_server,
                                                                 update_sensor):
    doc = document(feed_server, "/acme.xml", FEED_V1)
    register(engine, instance, "acme", feed_server.url("/acme.xml"))
    ingested(engine, "acme", etag=doc.etag, content_hash=sha256(FEED_V1))

    result = tick(update_sensor, instance, sqlite_url)
    assert not result.run_requests
    assert "none changed" in result.skip_message
    assert [(r.method, r.if_none_match) for r in feed_server.requests] == [("HEAD", doc.etag)]
    assert feed_server.full_downloads("/acme.xml") == 0


def test_update_requests_one_run_per_new_version_of_a_changed_feed(engine, instance, sqlite_url, feed_server,
                                                                   update_sensor):
    doc = document(feed_server, "/acme.xml", FEED_V1)
    register(engine, instance, "acme", feed_server.url("/acme.xml"))
    ingested(engine, "acme", etag=doc.etag, content_hash=sha256(FEED_V1))
    doc.publish(FEED_V2)

    first = tick(update_sensor, instance, sqlite_url)
    [run] = first.run_requests
    assert (run.partition_key, run.run_key) == ("acme", f"acme@etag:{doc.etag}")
    assert run.tags[sensors.TRIGGER_TAG] == "feed_changed"
    # Until the run has ingested it, the same version yields the same run key: Dagster launches it once.
    second = tick(update_sensor, instance, sqlite_url, cursor=first.cursor)
    assert requested(second) == {"acme": run.run_key}

    ingested(engine, "acme", etag=doc.etag, content_hash=sha256(FEED_V2))
    assert not tick(update_sensor, instance, sqlite_url, cursor=second.cursor).run_requests
    assert feed_server.full_downloads("/acme.xml") == 0


def test_update_uses_last_modified_when_the_server_sends_no_etag(engine, instance, sqlite_url, feed_server,
                                                                 update_sensor):
    doc = document(feed_server, "/lm.xml", FEED_V1, etag=False, last_modified=True)
    register(engine, instance, "lm", feed_server.url("/lm.xml"))
    ingested(engine, "lm", last_modified=doc.last_modified, content_hash=sha256(FEED_V1))

    assert not tick(update_sensor, instance, sqlite_url).run_requests
    doc.publish(FEED_V2)
    assert requested(tick(update_sensor, instance, sqlite_url)) == {"lm": f"lm@last-modified:{doc.last_modified}"}


def test_update_hashes_the_body_when_the_server_gives_no_validators(engine, instance, sqlite_url, feed_server,
                                                                    update_sensor):
    doc = document(feed_server, "/bare.xml", FEED_V1, etag=False)
    register(engine, instance, "bare", feed_server.url("/bare.xml"))
    ingested(engine, "bare", content_hash=sha256(FEED_V1))

    assert not tick(update_sensor, instance, sqlite_url).run_requests
    doc.publish(FEED_V2)
    assert requested(tick(update_sensor, instance, sqlite_url)) == {"bare": f"bare@sha256:{sha256(FEED_V2)}"}
    assert feed_server.full_downloads("/bare.xml") == 2


def test_update_logs_and_skips_unreachable_feeds_and_still_checks_the_others(engine, instance, sqlite_url, feed_server,
                                                                             update_sensor, capfd):
    document(feed_server, "/down.xml", FEED_V1, error_status=503)
    document(feed_server, "/gone.xml", FEED_V1, error_status=404)
    doc = document(feed_server, "/ok.xml", FEED_V2)
    for feed_id, url in [("a_refused", closed_port_url()), ("b_down", feed_server.url("/down.xml")),
                         ("c_gone", feed_server.url("/gone.xml")), ("d_ok", feed_server.url("/ok.xml")),
                         ("e_bad_url", "http://[not-a-host/feed.xml")]:
        register(engine, instance, feed_id, url)
        ingested(engine, feed_id, etag='"old"', content_hash=sha256(FEED_V1))

    result = tick(update_sensor, instance, sqlite_url)
    assert requested(result) == {"d_ok": f"d_ok@etag:{doc.etag}"}
    warnings = "\n".join(line for line in capfd.readouterr().err.splitlines() if " - WARNING - skipped:" in line)
    for feed_id in ("a_refused", "b_down", "c_gone", "e_bad_url"):
        assert f"feed '{feed_id}'" in warnings


def test_update_checks_local_files_by_size_mtime_then_content(engine, instance, sqlite_url, tmp_path, update_sensor):
    path = tmp_path / "local.xml"
    path.write_bytes(FEED_V1)
    register(engine, instance, "local", f"file://{path}")
    etag, last_modified = file_validators(path)
    ingested(engine, "local", etag=etag, last_modified=last_modified, content_hash=sha256(FEED_V1))

    unchanged = tick(update_sensor, instance, sqlite_url)
    assert not unchanged.run_requests

    # Touched, same bytes: hashed once, no run; the stamp in the cursor spares the hash next time.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    touched = tick(update_sensor, instance, sqlite_url, cursor=unchanged.cursor)
    assert not touched.run_requests
    stamp = sensors.UpdateCursor.parse(touched.cursor).files["local"]
    assert stamp.sha256 == sha256(FEED_V1) and stamp.mtime_ns == path.stat().st_mtime_ns

    path.write_bytes(FEED_V2)
    changed = tick(update_sensor, instance, sqlite_url, cursor=touched.cursor)
    assert requested(changed) == {"local": f"local@sha256:{sha256(FEED_V2)}"}


def test_update_skips_a_missing_local_file(engine, instance, sqlite_url, tmp_path, update_sensor, capfd):
    register(engine, instance, "missing", str(tmp_path / "nope.xml"))
    ingested(engine, "missing", etag='"1-1"', content_hash=sha256(FEED_V1))
    result = tick(update_sensor, instance, sqlite_url)
    assert not result.run_requests
    assert "nope.xml does not exist" in capfd.readouterr().err


def test_update_ignores_disabled_feeds_api_feeds_and_feeds_without_a_partition(engine, instance, sqlite_url,
                                                                               feed_server, update_sensor):
    document(feed_server, "/x.xml", FEED_V2)
    register(engine, instance, "disabled", feed_server.url("/x.xml"))
    ingested(engine, "disabled", etag='"old"')
    feed_store.set_feed_active(engine, "disabled", False)
    feed_store.upsert_feed(engine, "unregistered", url=feed_server.url("/x.xml"))
    ingested(engine, "unregistered", etag='"old"')
    feed_store.upsert_feed(engine, "remote", url=None, kind="remoteok")
    instance.add_dynamic_partitions("feeds", ["remote"])

    result = tick(update_sensor, instance, sqlite_url)
    assert not result.run_requests
    assert feed_server.requests == []


def test_update_probes_a_bounded_batch_per_tick_round_robin(engine, instance, sqlite_url, feed_server):
    sensor = sensors.build_feed_update_sensor(name="update_small", max_probes_per_tick=2, fetcher_options=FAST_FETCH)
    for feed_id in ("a", "b", "c"):
        doc = document(feed_server, f"/{feed_id}.xml", FEED_V1)
        register(engine, instance, feed_id, feed_server.url(f"/{feed_id}.xml"))
        ingested(engine, feed_id, etag=doc.etag)

    cursor = None
    probed = []
    for _ in range(2):
        feed_server.requests.clear()
        result = tick(sensor, instance, sqlite_url, cursor=cursor)
        cursor = result.cursor
        probed.append(sorted(r.path for r in feed_server.requests))
    assert probed == [["/a.xml", "/b.xml"], ["/a.xml", "/c.xml"]]


def test_update_leaves_feeds_not_checked_within_the_tick_budget_for_the_next_tick(engine, instance, sqlite_url,
                                                                                  feed_server, capfd):
    sensor = sensors.build_feed_update_sensor(name="update_budget", tick_budget_s=1.0, fetcher_options=FAST_FETCH)
    docs = {}
    for feed_id, delay in (("a_fast", 0.0), ("b_slow", 3.0), ("c_fast", 0.0)):
        docs[feed_id] = document(feed_server, f"/{feed_id}.xml", FEED_V2, delay_s=delay)
        register(engine, instance, feed_id, feed_server.url(f"/{feed_id}.xml"))
        ingested(engine, feed_id, etag='"old"')

    result = tick(sensor, instance, sqlite_url)

    assert requested(result) == {f: f"{f}@etag:{docs[f].etag}" for f in ("a_fast", "c_fast")}
    assert sensors.UpdateCursor.parse(result.cursor).after == "a_fast", "the next tick starts with the late feed"
    assert "feed 'b_slow' was not checked within" in capfd.readouterr().err
