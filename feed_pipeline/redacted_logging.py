"""One logging filter that redacts credentials from every log record, whichever handler writes it.

httpx logs each request's full URL at INFO ("HTTP Request: GET https://api.adzuna.com/...?app_id=..&app_key=..")
and Dagster copies Python log records into its event log; a filter on one handler or one logger would miss
records that reach other handlers. `install_log_redaction()` therefore applies `CredentialFilter` where
every record is born (the log record factory), so every handler, present or added later (Dagster's, the
CLI's stderr, uvicorn's), sees the redacted text. The CLI, the API and the Dagster code location call it.
"""
from __future__ import annotations

import logging
import threading

from feed_pipeline.core.redact import redact_text

_installed = False
_lock = threading.Lock()


class CredentialFilter(logging.Filter):
    """Rewrites a record's message (and its formatted traceback) with credentials replaced by `***`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it at emit time, as without the filter
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact_text(text)
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


CREDENTIAL_FILTER = CredentialFilter()


def install_log_redaction() -> None:
    """Redact every record created from now on in this process (idempotent), and every record that reaches a
    handler already attached to the root logger."""
    global _installed
    with _lock:
        if _installed:
            return
        make_record = logging.getLogRecordFactory()

        def redacting_record(*args, **kwargs) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            CREDENTIAL_FILTER.filter(record)
            return record

        logging.setLogRecordFactory(redacting_record)
        for handler in logging.getLogger().handlers:
            if CREDENTIAL_FILTER not in handler.filters:
                handler.addFilter(CREDENTIAL_FILTER)
        _installed = True
