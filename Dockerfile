# One image for every long-running process of the deployment (docker-compose.yml picks the command):
# the code location (gRPC), dagster-webserver, dagster-daemon, the REST API and the Xano sandbox.
# Build: docker build -t feed-pipeline:local .   (no build tools needed: every dependency ships manylinux wheels)
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    APP_HOME=/opt/dagster/app

RUN groupadd --system dagster && useradd --system --gid dagster --home-dir /opt/dagster --shell /usr/sbin/nologin dagster \
    && mkdir -p "$DAGSTER_HOME/storage" "$APP_HOME/.feed_pipeline" \
    && chown -R dagster:dagster /opt/dagster

WORKDIR $APP_HOME

# Dependencies first, in their own layer: it is rebuilt only when setup.py changes, not on every code edit.
COPY setup.py ./
RUN mkdir feed_pipeline && touch feed_pipeline/__init__.py \
    && pip install . && pip uninstall --yes feed_pipeline && rm -rf feed_pipeline build *.egg-info

# The package itself (data files and migrations included by setup.py's package_data).
COPY feed_pipeline ./feed_pipeline
RUN pip install --no-deps . && rm -rf build *.egg-info && python -c "import feed_pipeline.definitions"

# The production instance (PostgreSQL storage, run queue, pools, retries: read from DAGSTER_PG_* at runtime) and
# the workspace that points the webserver and the daemon at the code location's gRPC server. (The repo's root
# dagster.yaml is the local SQLite instance for `make dev`; it stays out of the image.)
COPY docker/dagster.yaml docker/workspace.yaml $DAGSTER_HOME/

USER dagster
EXPOSE 3000 4000 8000 8787

# The code location; docker-compose.yml overrides the command for the other services.
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "feed_pipeline.definitions", \
     "--location-name", "feed_pipeline"]
