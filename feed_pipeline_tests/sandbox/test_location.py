"""The sandbox keeps its records beside the configured state, whatever folder a command is started from."""
from __future__ import annotations

import httpx

from feed_pipeline.resources.xano import XanoSandboxResource
from feed_pipeline.sandbox import XanoSandbox, default_sandbox_db


def test_the_sandbox_file_sits_beside_a_sqlite_database(tmp_path):
    db = tmp_path / "state" / "pipeline.sqlite"

    assert default_sandbox_db({"FEED_PIPELINE_DATABASE_URL": f"sqlite:///{db}"}) == tmp_path / "state" / \
        "xano_sandbox.sqlite"


def test_with_another_database_the_sandbox_file_is_in_the_state_dir(tmp_path):
    env = {"FEED_PIPELINE_DATABASE_URL": "postgresql://postgres@127.0.0.1/x", "FEED_PIPELINE_STATE_DIR": str(tmp_path)}

    assert default_sandbox_db(env) == tmp_path / "xano_sandbox.sqlite"


def test_the_default_is_absolute_and_does_not_follow_a_later_change_of_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("FEED_PIPELINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("FEED_PIPELINE_STATE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)

    path = default_sandbox_db()

    assert path.is_absolute() and path == tmp_path / ".feed_pipeline" / "xano_sandbox.sqlite"


def test_records_mirrored_from_one_folder_are_served_from_another(tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("FEED_PIPELINE_DATABASE_URL", f"sqlite:///{state / 'pipeline.sqlite'}")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    with XanoSandboxResource().open_client() as client:
        client.create_record({"job_key": "k1", "feed_id": "f"})

    monkeypatch.chdir(tmp_path / "b")
    with XanoSandbox() as sandbox:
        listed = httpx.get(f"{sandbox.base_url}/job", timeout=5).json()

    assert [r["job_key"] for r in listed] == ["k1"]
    assert (state / "xano_sandbox.sqlite").exists()
    assert not (tmp_path / "a" / ".feed_pipeline").exists() and not (tmp_path / "b" / ".feed_pipeline").exists()
