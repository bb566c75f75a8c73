"""One JSON error shape for every failure: `{"error": code, "message": what and what to do, "details": ...}`."""
from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    error: str
    message: str
    details: Any | None = None


class ApiError(Exception):
    """An answer other than success, raised anywhere below a route."""

    def __init__(self, status_code: int, error: str, message: str, details: Any | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message
        self.details = details
        self.headers = headers


def not_found(what: str, message: str) -> ApiError:
    return ApiError(404, f"{what}_not_found", message)


def database_unavailable(exc: Exception) -> ApiError:
    return ApiError(503, "database_unavailable",
                    "the database did not answer; check FEED_PIPELINE_DATABASE_URL and that the server is up",
                    details=type(exc).__name__)


def error_response(status_code: int, error: str, message: str, details: Any | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=error, message=message, details=jsonable_encoder(details))
    return JSONResponse(body.model_dump(), status_code=status_code, headers=headers)


def _message(error: dict[str, Any]) -> str:
    from feed_pipeline.api.models import NO_NUL_MESSAGE, NO_NUL_PATTERN

    if error.get("type") == "string_pattern_mismatch" and (error.get("ctx") or {}).get("pattern") == NO_NUL_PATTERN:
        return NO_NUL_MESSAGE
    return error.get("msg", "")


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(e.get("loc", ())), "msg": _message(e), "type": e.get("type", "")} for e in exc.errors()]


def _describe(details: list[dict[str, Any]]) -> str:
    parts = []
    for d in details[:5]:
        where = ".".join(str(p) for p in d["loc"] if p not in ("query", "path", "body")) or "request"
        parts.append(f"{where}: {d['msg']}")
    return "invalid request: " + "; ".join(parts) + " (see /docs for the parameters)"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status_code, exc.error, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        return error_response(422, "invalid_request", _describe(details), details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = str(exc.detail) if exc.status_code != 404 else "no such endpoint; see /docs for the API"
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(sa.exc.OperationalError)
    @app.exception_handler(sa.exc.InterfaceError)
    async def database_down(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("database error: %s", exc)
        error = database_unavailable(exc)
        return error_response(error.status_code, error.error, error.message, error.details)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "the server failed on this request; the log has the cause",
                              details=type(exc).__name__)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "A parameter or the body is invalid; `details` names it."},
    503: {"model": ErrorBody, "description": "The database did not answer."},
}
NOT_FOUND = {404: {"model": ErrorBody, "description": "No such resource."}}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong Bearer token."},
    403: {"model": ErrorBody, "description": "Operator endpoints are off: FEED_PIPELINE_API_TOKEN is not set."},
}
OPERATOR_ERRORS = WRITE_ERRORS
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "With FEED_PIPELINE_PUBLIC_JOBS=false: missing or wrong Bearer token."},
    403: {"model": ErrorBody, "description": "With FEED_PIPELINE_PUBLIC_JOBS=false and no token configured."},
}
