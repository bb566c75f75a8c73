"""`/docs` (Swagger UI) and `/redoc` served from the installed `fastapi-offline` package, so they work offline.

FastAPI's own pages load Swagger UI and ReDoc from cdn.jsdelivr.net (and ReDoc's fonts from Google): on a
machine without internet both pages stay blank. Here every asset the pages reference is under `ASSETS_URL`.
"""
from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
ASSETS_DIR = files("fastapi_offline") / "static"  # swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}  # the default badge asks validator.swagger.io about the schema


def install_docs(app: FastAPI, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Mount the assets and add the two pages; the app must be built with docs_url=None, redoc_url=None."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS_DIR)), name="docs-assets")
    oauth2_redirect_url = f"{docs_url}/oauth2-redirect"

    def root_and_schema(request: Request, page: str) -> tuple[str, dict[str, str]]:
        """The root path a proxy mounts the app at, and what both pages are given: the schema's URL and a title."""
        root = request.scope.get("root_path", "")
        return root, {"openapi_url": f"{root}{app.openapi_url}", "title": f"{app.title} - {page}"}

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root, schema = root_and_schema(request, "Swagger UI")
        return get_swagger_ui_html(
            **schema, oauth2_redirect_url=f"{root}{oauth2_redirect_url}",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    @app.get(oauth2_redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root, schema = root_and_schema(request, "ReDoc")
        return get_redoc_html(
            **schema, redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png", with_google_fonts=False,
        )
