"""The loopback feed server the sensors probe."""
from feed_pipeline_tests.fakes.feed_server import feed_server  # noqa: F401 - a fixture, used by name
