"""Packaging for feed_pipeline: runtime pins are compatible ranges, dev tools live in the `dev` extra."""
from setuptools import find_packages, setup

setup(
    name="feed_pipeline",
    version="0.1.0",
    description="Dagster pipeline: job feeds -> dedupe -> Gemini enrichment -> routing -> Xano mirror",
    python_requires=">=3.11",
    packages=find_packages(exclude=["feed_pipeline_tests*", "bench*"]),
    include_package_data=True,
    package_data={
        "feed_pipeline": ["data/*", "data/**/*", "store/migrations/*", "store/migrations/**/*", "store/alembic.ini",
                          "automation/dagster_local.yaml"]
    },
    install_requires=[
        "dagster~=1.13.0",
        "dagster-webserver~=1.13.0",
        "dagster-postgres~=0.29.0",
        "sqlalchemy>=2.0,<2.2",
        "alembic>=1.13,<2",
        "psycopg2-binary>=2.9,<3",  # dagster-postgres
        "psycopg[binary]>=3.2,<4",  # SQLAlchemy 2.1 default PostgreSQL driver
        "lxml>=5,<7",
        "httpx>=0.27,<1",
        "google-genai>=1.30,<4",
        "rapidfuzz>=3.9,<4",
        "matplotlib>=3.8,<4",  # evaluate / calibrate plots (Agg backend, no display)
        "pydantic>=2.7,<3",
        "tenacity>=8.2,<10",
        "click>=8.1,<9",
        "fastapi>=0.115,<1",
        "uvicorn>=0.30,<1",
        "fastapi-offline>=1.7,<2",  # Swagger UI and ReDoc assets served locally: /docs works without internet
        "orjson>=3.10,<4",  # JSON columns: every stage reads and writes its rows' JSON through it
        "nh3>=0.2.17,<1",  # description_html allowlist sanitizer
        "pycountry>=24.6,<27",  # ISO 3166 countries and US/Canadian subdivisions: a location text's parts (core/places.py)
        # The semantic offline classifier: static embeddings shipped inside the wordllama wheel (no torch,
        # nothing downloaded at run time), read with safetensors + tokenizers.
        "wordllama>=0.4,<0.5",
        "safetensors>=0.4,<1",
        "tokenizers>=0.19,<1",
        "numpy>=2,<3",
        "threadpoolctl>=3.5,<4",  # the offline classifier's BLAS on one thread (its processes are the parallelism)
    ],
    extras_require={
        "dev": [
            "pytest>=8,<10",
            "pytest-xdist>=3.6,<4",
            "hypothesis>=6.100,<7",
            "schemathesis>=3.30,<5",
            "ruff>=0.6,<1",
            "psutil>=5.9,<8",
            "scikit-learn>=1.5,<2",  # bench_classification's TF-IDF alternative; scipy fits the calibration
        ]
    },
    entry_points={"console_scripts": ["feed-pipeline=feed_pipeline.cli:main"]},
)
