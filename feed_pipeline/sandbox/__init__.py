"""Local stand-in for Xano (same wire format), used by `make run`, the embedded XanoResource default and tests."""
from feed_pipeline.sandbox.faults import SandboxFaults
from feed_pipeline.sandbox.server import (
    DEFAULT_API_PREFIX,
    DEFAULT_SANDBOX_DB,
    LoggedRequest,
    XanoSandbox,
    running_sandbox,
    serve_forever,
)

__all__ = [
    "DEFAULT_API_PREFIX",
    "DEFAULT_SANDBOX_DB",
    "LoggedRequest",
    "SandboxFaults",
    "XanoSandbox",
    "running_sandbox",
    "serve_forever",
]
