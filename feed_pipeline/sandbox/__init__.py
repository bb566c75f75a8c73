"""Local stand-in for Xano (same wire format), used by `make run`, XanoSandboxResource and tests."""
from feed_pipeline.sandbox.faults import SandboxFaults
from feed_pipeline.sandbox.server import (
    DEFAULT_API_PREFIX,
    LoggedRequest,
    XanoSandbox,
    default_sandbox_db,
    running_sandbox,
    serve_forever,
)

__all__ = [
    "DEFAULT_API_PREFIX",
    "LoggedRequest",
    "SandboxFaults",
    "XanoSandbox",
    "default_sandbox_db",
    "running_sandbox",
    "serve_forever",
]
