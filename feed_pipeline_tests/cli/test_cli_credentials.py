"""`feeds add`, `feeds list` and `-v run` never print a feed's credentials: the URL's userinfo and secret query
values are redacted on stdout and in the logs on stderr (httpx's request lines included), and a `${NAME}`
reference is stored as written and resolved only when the feed is fetched."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from feed_pipeline_tests.api.test_runs import small_feed
from feed_pipeline_tests.fakes.feed_server import feed_server  # noqa: F401 - a fixture, used by name

ISOLATED_PREFIXES = ("FEED_PIPELINE_", "XANO_", "GEMINI_", "DAGSTER_")
SECRETS = ("Hunter2Pass", "Tok3nValue", "EnvS3cret")


def cli(workdir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "feed_pipeline.cli", *args], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stderr[-3000:]}"
    return result


def test_feed_credentials_never_reach_the_terminal(tmp_path, feed_server):  # noqa: F811
    feed_url = feed_server.add("/jobs.xml", Path(small_feed(tmp_path / "small.xml")).read_bytes())
    leaky = feed_url.replace("http://", "http://reader:Hunter2Pass@") + "?token=Tok3nValue&page=1"
    env = {k: v for k, v in os.environ.items() if not k.startswith(ISOLATED_PREFIXES)}
    env.update(FEED_PIPELINE_DATABASE_URL=f"sqlite:///{tmp_path / 'pipeline.sqlite'}", FEED_PIPELINE_XANO_SANDBOX="1",
               DAGSTER_HOME=str(tmp_path / "dagster_home"), FEED_PIPELINE_ALLOW_PRIVATE_URLS="1",
               FEED_TOKEN="EnvS3cret")

    added = cli(tmp_path, env, "feeds", "add", "leaky", "--url", leaky)
    referenced = cli(tmp_path, env, "feeds", "add", "byref", "--url", feed_url + "?key=${FEED_TOKEN}")
    listed = cli(tmp_path, env, "feeds", "list")
    run = cli(tmp_path, env, "-v", "run", "leaky", "byref")

    for result in (added, referenced, listed, run):
        for secret in SECRETS:
            assert secret not in result.stdout and secret not in result.stderr, (result.args, secret)
    assert json.loads(added.stdout)["url"] == feed_url.replace("http://", "http://***@") + "?token=***&page=1"
    assert json.loads(referenced.stdout)["url"] == feed_url + "?key=${FEED_TOKEN}"
    assert "HTTP Request: GET http://***@127.0.0.1" in run.stderr, "-v shows httpx's request lines, redacted"
    assert [json.loads(line)["status"] for line in run.stdout.splitlines()] == ["success", "success"]
    assert [r.headers.get("Authorization", "")[:6] for r in feed_server.requests_for("/jobs.xml")][:1] == ["Basic "], \
        "the userinfo still authenticates the fetch"
