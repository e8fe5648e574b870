"""`/docs`: Swagger UI from the service itself (the swagger-ui-py package), no CDN and no inline script.

FastAPI's own `/docs` and `/redoc` load their scripts from a CDN and start them inline: create_api turns them
off, and this page loads Swagger UI's files and its start-up script from the service.
"""

from __future__ import annotations

import html
from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"

# Relative addresses: right under a root path too (/docs -> /docs/assets/..., /openapi.json)
_PAGE = """<!doctype html>
<html lang="fr">
  <head>
    <meta charset="utf-8">
    <title>{title} — documentation de l'API</title>
    <link rel="stylesheet" href="docs/assets/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="docs/assets/swagger-ui-bundle.js"></script>
    <script src="docs/start.js"></script>
  </body>
</html>
"""
_START = """window.ui = SwaggerUIBundle({
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null, // else each view loads a badge from validator.swagger.io
});
"""


def serve_docs(app: FastAPI) -> None:
    """Swagger UI at /docs, its files at /docs/assets."""
    page = _PAGE.format(title=html.escape(app.title))

    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    async def start() -> Response:
        return Response(_START, media_type="text/javascript")

    app.add_api_route(DOCS_PATH, docs, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{DOCS_PATH}/start.js", start, methods=["GET"], include_in_schema=False)
    app.mount(f"{DOCS_PATH}/assets", StaticFiles(directory=str(files("swagger_ui") / "static")), name="swagger-ui")
