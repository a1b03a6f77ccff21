"""The HTTP server: the event API, alerts and tasks, customers, metrics, voice and risk, and the
web dashboard, over one workspace (`cxlens serve`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from cxlens.api.errors import HANDLERS
from cxlens.api.routes import customers, events, insight, metrics, work
from cxlens.api.server import Server


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
    )
    for exc, handler in HANDLERS.items():
        app.add_exception_handler(exc, handler)

    @app.get("/v1/health", operation_id="health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    for module in (events, work, customers, metrics, insight):
        app.include_router(module.router)
    return app
