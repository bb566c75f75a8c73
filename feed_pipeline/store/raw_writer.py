"""`python -m feed_pipeline.store.raw_writer`: the process that writes a large feed's raw_jobs rows while its
parent keeps parsing (see stages.replace_raw_jobs). Reads pickled batches on stdin; trusted input only: it is
started by, and reads from, the ingest process itself."""
from __future__ import annotations

import sys

from feed_pipeline.store.stages import write_raw_from_pipe

if __name__ == "__main__":
    write_raw_from_pipe(sys.stdin.buffer, sys.stdout.buffer)
