"""The HTTP server: the event API, alerts and tasks, customers, metrics, voice and risk, and the
web dashboard, over one workspace (`cxlens serve`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from cxlens.api.errors import HANDLERS
from cxlens.api.routes import customers, events, insight, metrics, pages, work
from cxlens.api.server import Server
from cxlens.web.render import STATIC_DIR


def create_app(root: Path) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        server = Server(root)
        server.start()
        app.state.server = server
        try:
            yield
        finally:
            server.stop()

    app = FastAPI(
        title="cxlens",
        summary="Customer intelligence: events in; customers, alerts, tasks and figures out.",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # The interactive docs run from files in the installed package: nothing from a CDN.
    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_path), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="cxlens API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )

    for exc, handler in HANDLERS.items():
        app.add_exception_handler(exc, handler)

    @app.get("/v1/health", operation_id="health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    for module in (events, work, customers, metrics, insight, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
