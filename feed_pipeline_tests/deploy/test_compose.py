"""docker-compose.yml validates with a real compose client, describes the deployment DESIGN.md names, and agrees with
the Dockerfile, the image's workspace and .dockerignore. (No Docker engine here: nothing is built or started.)"""
from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess

import pytest
import yaml

from feed_pipeline_tests.deploy.conftest import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
DAGSTER_SERVICES = ("code", "webserver", "daemon", "api")
DAGSTER_PG_VARS = ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB")


def compose_command() -> list[str] | None:
    """Debian's docker-compose (1.29, validates offline), else the `docker compose` plugin, else None."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


@pytest.fixture(scope="module")
def compose() -> list[str]:
    command = compose_command()
    if command is None:
        pytest.skip("no compose client installed (docker-compose or the docker compose plugin); "
                    "on Debian: apt-get install -y docker-compose")
    return command


def run_compose(compose: list[str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*compose, "-f", str(COMPOSE_FILE), *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture(scope="module")
def config(compose) -> dict:
    """The resolved file, with .env.example's values and the `local` profile enabled (so it validates with them)."""
    result = run_compose(compose, "--env-file", str(ENV_EXAMPLE), "--profile", "local", "config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_file_validates_without_an_env_file(compose):
    result = run_compose(compose, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_services_are_postgres_code_location_webserver_daemon_api_and_a_local_xano_sandbox(config):
    assert set(config["services"]) == {"postgres", *DAGSTER_SERVICES, "xano-sandbox"}
    profiled = {name for name, service in config["services"].items() if service.get("profiles")}
    assert profiled == {"xano-sandbox"} and config["services"]["xano-sandbox"]["profiles"] == ["local"]


def test_postgres_is_health_checked_and_everything_waits_for_it(config):
    services = config["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    for name in DAGSTER_SERVICES:
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy", name
    for name in ("webserver", "daemon"):
        assert services[name]["depends_on"]["code"]["condition"] == "service_healthy", name


def test_commands_run_the_code_location_over_grpc_the_webserver_the_daemon_and_the_api(config):
    command = {name: " ".join(service["command"]) for name, service in config["services"].items()
               if name != "postgres"}
    assert command["code"].startswith("dagster code-server start -h 0.0.0.0 -p 4000 -m feed_pipeline.definitions")
    assert command["webserver"].startswith("dagster-webserver -h 0.0.0.0 -p 3000 -w ")
    assert command["daemon"].startswith("dagster-daemon run -w ")
    assert command["api"].startswith("feed-pipeline api --host 0.0.0.0")
    assert command["xano-sandbox"].startswith("feed-pipeline xano-sandbox --host 0.0.0.0")


def test_dagster_processes_share_the_instance_settings_and_a_database_of_their_own(config):
    services = config["services"]
    for name in DAGSTER_SERVICES:
        env = services[name]["environment"]
        assert all(env.get(var) for var in DAGSTER_PG_VARS), (name, env)
        assert env["DAGSTER_HOME"] == "/opt/dagster/dagster_home"
        assert env["FEED_PIPELINE_DATABASE_URL"].endswith("@postgres:5432/feed_pipeline")
        assert env["DAGSTER_PG_DB"] != "feed_pipeline", "Dagster's tables would collide with ours"
    assert services["api"]["environment"]["DAGSTER_GRAPHQL_URL"] == "http://webserver:3000/graphql"


def test_the_image_workspace_points_at_the_code_service(config):
    workspace = yaml.safe_load((REPO_ROOT / "docker" / "workspace.yaml").read_text())
    [entry] = workspace["load_from"]
    server = entry["grpc_server"]
    code_command = config["services"]["code"]["command"]
    assert (server["host"], str(server["port"])) == ("code", code_command[code_command.index("-p") + 1])
    assert server["location_name"] == code_command[code_command.index("--location-name") + 1]


def test_every_file_the_dockerfile_copies_exists_and_is_sent_to_the_builder():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    ignored = [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    sources = []
    for match in re.finditer(r"^COPY\s+(?!--from)(.+)$", dockerfile, flags=re.MULTILINE):
        sources += match.group(1).split()[:-1]
    assert sources, "the Dockerfile copies nothing?"
    for source in sources:
        assert (REPO_ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
        assert not any(fnmatch.fnmatch(source, pattern) or source.startswith(pattern.rstrip("/") + "/")
                       for pattern in ignored), f"{source} is excluded by .dockerignore"
