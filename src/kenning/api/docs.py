"""The API's documentation pages, Swagger UI at /docs and ReDoc at /redoc, built from the
package's own copies of their scripts (static/vendor/, see its README): they work offline
and load nothing from a CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
VENDOR_URL = "/static/vendor"


def install(app: FastAPI) -> None:
    """Serve the vendored files and the two pages (create the app with docs_url and
    redoc_url None, so that FastAPI's CDN pages are not served as well)."""
    app.mount(VENDOR_URL, StaticFiles(directory=VENDOR), name="vendor")
    title = f"{app.title} API"

    def base(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = base(request)
        return get_swagger_ui_html(
            openapi_url=root + app.openapi_url if app.openapi_url else "",
            title=title,
            swagger_js_url=f"{root}{VENDOR_URL}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{VENDOR_URL}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}{VENDOR_URL}/swagger-ui/favicon-32x32.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = base(request)
        return get_redoc_html(
            openapi_url=root + app.openapi_url if app.openapi_url else "",
            title=title,
            redoc_js_url=f"{root}{VENDOR_URL}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}{VENDOR_URL}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
