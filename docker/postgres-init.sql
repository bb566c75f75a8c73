-- Runs once, when the PostgreSQL volume is first initialised. Dagster's instance storage gets its own
-- database next to feed_pipeline's (POSTGRES_DB): both have tables named `jobs` and `alembic_version`.
CREATE DATABASE dagster;
