"""The analysts' workplace: a read-only web API and the page at ``/`` that uses it.

``create_app(workspace)`` builds the FastAPI app; ``serve`` runs it with uvicorn, bound to
127.0.0.1 unless told otherwise. Every route only reads: published runs (``scores/``), the
panel, ``boundaries/units.geojson`` and the MLflow registry. Codes in paths are checked
against a strict pattern before any lookup, and lookups go to in-memory tables only.

At the HTTP edges: only the hosts 127.0.0.1, localhost and the configured host are answered
(``TrustedHostMiddleware``, against DNS rebinding: another ``Host`` gets 400); HEAD is
answered wherever GET is; large responses are gzipped; every asset the page and ``/docs``
load (d3, topojson-client, Swagger UI: ``serving/web/vendor``) is served by the app itself,
so both work offline and under a content-security policy of 'self'.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import wijkradar
from serving import apimap, apiunit
from serving import apimodel as modelviews
from serving import apimodels as m
from serving import apiviews as views
from serving.apistore import NotFound, Store
from serving.report import HORIZON_PHRASE, jinja_env, package_text
from wijkradar.catalog import Workspace

MAX_LIMIT = m.MAX_LIMIT
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
ASSETS = {  # served at /static/<name>: (package path, media type)
    "page.js": ("web/page.js", "text/javascript"),
    "texts.js": ("web/texts.js", "text/javascript"),
    "map.js": ("web/map.js", "text/javascript"),
    "docs.js": ("web/docs.js", "text/javascript"),
    "page.css": ("web/page.css", "text/css"),
    "report.css": ("templates/report.css", "text/css"),
    "format.js": ("templates/format.js", "text/javascript"),
}
VENDOR = {  # serving/web/vendor/<name>, each beside its licence (see vendor/README.md)
    "d3.min.js": "text/javascript",
    "topojson-client.min.js": "text/javascript",
    "swagger-ui-bundle.js": "text/javascript",  # for /docs (Swagger UI 5: OpenAPI 3.1)
    "swagger-ui.css": "text/css",
}
# The page's columns: key (a RankingRow field), whether it sorts, its first sort direction and
# its CSS class; the labels are in texts.js (Dutch and English).
PAGE_COLUMNS: tuple[dict[str, str], ...] = (
    {"key": "rank", "sort": "asc", "cls": "num"},
    {"key": "rank_change", "sort": "desc", "cls": "num"},
    {"key": "unit_name", "sort": "asc", "cls": ""},
    {"key": "gemeente_name", "sort": "asc", "cls": ""},
    {"key": "risk", "sort": "desc", "cls": "num"},
    {"key": "relative", "sort": "", "cls": "num"},
    {"key": "band", "sort": "", "cls": ""},
    {"key": "rank_in_gemeente", "sort": "asc", "cls": "num"},
    {"key": "top_drivers", "sort": "", "cls": ""},
)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
# Swagger UI sets element styles from its script (React): allowed for /docs only.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
_CHART_LOCK = threading.Lock()  # matplotlib's rc_context is process-global


def create_app(
    workspace: Path,
    config: Path | None = None,
    host: str = "127.0.0.1",
    allowed_hosts: Sequence[str] = (),
) -> FastAPI:
    """The app for ``workspace``; ``config`` (default WORKSPACE/wijkradar.toml) gives the
    MLflow tracking settings. Requests are answered for the hosts 127.0.0.1, localhost,
    ``host`` (the interface ``serve`` binds to) and ``allowed_hosts``; any other ``Host``
    header gets 400. Nothing is loaded until a request needs it."""
    for key, value in (
        ("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false"),
        ("MLFLOW_DISABLE_TELEMETRY", "true"),
        ("MLFLOW_LOGGING_LEVEL", "ERROR"),
    ):
        os.environ.setdefault(key, value)
    ws = Workspace(Path(workspace).resolve())
    store = Store(ws)
    app = FastAPI(
        title="wijkradar",
        version=wijkradar.__version__,
        description=f"Read-only: the {HORIZON_PHRASE}, per unit, with its SHAP drivers.",
        docs_url=None,
        redoc_url=None,
    )
    _add_page_routes(app)
    config_path = config or ws.config
    _add_ranking_routes(app, store)
    _add_export_routes(app, store)
    _add_unit_routes(app, store)
    _add_summary_routes(app, store, config_path)
    app.add_middleware(GZipMiddleware, minimum_size=2048, compresslevel=5)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=trusted_hosts(host, allowed_hosts))
    app.add_middleware(HeadAsGet)  # outermost: HEAD is GET without the body, everywhere
    return app


def trusted_hosts(host: str, extra: Sequence[str] = ()) -> list[str]:
    """The Host header values answered: this machine's names, the configured interface
    (unless it is a wildcard such as 0.0.0.0) and ``extra``."""
    names = [*LOCAL_HOSTS, *extra]
    if host and host not in ("0.0.0.0", "::", ""):
        names.append(host)
    return list(dict.fromkeys(names))


class HeadAsGet:
    """Answers HEAD wherever GET is answered: the GET response's status and headers, no
    body (FastAPI's routes list GET only, so HEAD would be 405)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


def _add_page_routes(app: FastAPI) -> None:
    """The page, its assets, /docs, the 404 of ``NotFound`` and the security headers."""
    env = jinja_env()
    template = env.get_template("web/page.html")
    pages = {
        lang: template.render(lang=lang, columns=PAGE_COLUMNS, version=wijkradar.__version__)
        for lang in ("nl", "en")
    }
    docs = env.get_template("web/docs.html").render(openapi_url=app.openapi_url)
    assets = {name: (package_text(path), kind) for name, (path, kind) in ASSETS.items()}
    assets.update({name: (_vendor(name), kind) for name, kind in VENDOR.items()})

    @app.exception_handler(NotFound)
    def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if response.headers.get("content-type", "").startswith("text/html"):
            docs_page = request.url.path == "/docs"
            response.headers["Content-Security-Policy"] = DOCS_CSP if docs_page else CSP
        return response

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(lang: str = "nl") -> HTMLResponse:
        return HTMLResponse(pages.get(lang, pages["nl"]))

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(docs)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        found = assets.get(name)
        if found is None:
            raise HTTPException(404, f"No asset {name!r}.")
        text, kind = found
        return Response(text, media_type=kind, headers={"Cache-Control": "no-cache"})


def _vendor(name: str) -> str:
    return resources.files("serving").joinpath("web", "vendor", name).read_text("utf-8")


def serve(
    workspace: Path, config: Path | None = None, host: str = "127.0.0.1", port: int = 8000
) -> None:
    """Run the app with uvicorn until interrupted (local only by default)."""
    import uvicorn

    app = create_app(workspace, config, host=host)
    uvicorn.run(app, host=host, port=port, log_level="info")



# --- the data ---------------------------------------------------------------------------------

_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": m.Problem}}
_SVG: dict[str, Any] = {"content": {"image/svg+xml": {}}, "description": "An SVG chart."}
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AsOf = Annotated[int | None, Query(ge=1900, le=2200, description="As-of year (default newest).")]
GemeenteQ = Annotated[str | None, Query(pattern=m.GEMEENTE_CODE_PATTERN)]
SearchQ = Annotated[str | None, Query(max_length=100, description="Part of a code or name.")]
SortQ = Annotated[m.SortKey, Query()]
LangQ = Annotated[m.LangKey, Query(description="The language of the texts: nl (default), en.")]
Code = Annotated[str, PathParam(pattern=m.UNIT_CODE_PATTERN, description="A unit code.")]


def _add_ranking_routes(app: FastAPI, store: Store) -> None:
    """Health, the runs and the ranking pages."""

    @app.get("/api/health", response_model=m.Health)
    def health() -> m.Health:
        return m.Health(
            version=wijkradar.__version__,
            scored_years=store.years(),
            panel=store.ws.panel.is_file(),
            boundaries=store.boundaries_path.is_file(),
        )

    @app.get("/api/runs", response_model=m.RunsResponse)
    def runs(lang: LangQ = m.LangKey.nl) -> m.RunsResponse:
        return views.runs_response(store, lang.value)

    @app.get("/api/rankings", response_model=m.RankingPage, responses=_ERRORS)
    def rankings(
        as_of: AsOf = None,
        gemeente: GemeenteQ = None,
        q: SearchQ = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        sort: SortQ = m.SortKey.rank,
        lang: LangQ = m.LangKey.nl,
    ) -> m.RankingPage:
        view = views.filtered_view(store, as_of, gemeente)
        positions = view.select(gemeente, q, sort.value)
        page = positions[offset : offset + limit]
        total = len(positions)
        return views.ranking_page(store, view, page, total, offset, limit, sort, lang.value)


def _add_export_routes(app: FastAPI, store: Store) -> None:
    """The filtered ranking as CSV (Dutch: ';' and a decimal comma) and as Excel."""

    @app.get("/api/export.csv", responses={200: {"content": {"text/csv": {}}}, **_ERRORS})
    def export_csv(
        as_of: AsOf = None,
        gemeente: GemeenteQ = None,
        q: SearchQ = None,
        sort: SortQ = m.SortKey.rank,
        lang: LangQ = m.LangKey.nl,
    ) -> Response:
        body, name = views.export_csv(store, as_of, gemeente, q, sort.value, lang.value)
        return _download(body, f"{name}.csv", "text/csv; charset=utf-8")

    @app.get("/api/export.xlsx", responses={200: {"content": {_XLSX: {}}}, **_ERRORS})
    def export_xlsx(
        as_of: AsOf = None,
        gemeente: GemeenteQ = None,
        q: SearchQ = None,
        sort: SortQ = m.SortKey.rank,
        lang: LangQ = m.LangKey.nl,
    ) -> Response:
        body, name = views.export_xlsx(store, as_of, gemeente, q, sort.value, lang.value)
        return _download(body, f"{name}.xlsx", _XLSX)


def _add_unit_routes(app: FastAPI, store: Store) -> None:
    """One unit: its explanation, its waterfall and its history."""

    @app.get("/api/units/{code}", response_model=m.UnitDetail, responses=_ERRORS)
    def unit(code: Code, as_of: AsOf = None, lang: LangQ = m.LangKey.nl) -> m.UnitDetail:
        return apiunit.unit_detail(store, views.unit_view(store, code, as_of), code, lang.value)

    @app.get("/api/units/{code}/waterfall.svg", responses={200: _SVG, **_ERRORS})
    def waterfall(code: Code, as_of: AsOf = None, lang: LangQ = m.LangKey.nl) -> Response:
        view = views.unit_view(store, code, as_of)
        panel = store.file_key(store.ws.panel)
        key = ("waterfall", view.run.path, view.run.mtime_ns, code, panel, lang)
        return _chart(store, key, lambda: apiunit.waterfall_svg(store, view, code, lang.value))

    @app.get("/api/units/{code}/history.svg", responses={200: _SVG, **_ERRORS})
    def history(
        code: Code,
        as_of: AsOf = None,
        kind: Annotated[str, Query(pattern="^(lbm|risk)$")] = "risk",
        lang: LangQ = m.LangKey.nl,
    ) -> Response:
        view = views.unit_view(store, code, as_of)
        key = ("history", kind, code, store.runs_key(), store.file_key(store.ws.panel), lang)
        return _chart(store, key, lambda: apiunit.history_svg(store, view, code, kind, lang.value))


def _add_summary_routes(app: FastAPI, store: Store, config_path: Path) -> None:
    """The gemeenten, the model, the charts of a run and the map."""

    @app.get("/api/gemeenten", response_model=m.GemeentenResponse, responses=_ERRORS)
    def gemeenten(as_of: AsOf = None) -> m.GemeentenResponse:
        view = store.view(as_of)
        summary = views.gemeente_summary(view)
        return m.GemeentenResponse(
            as_of_year=view.run.year, run_id=view.run.run_id, gemeenten=summary
        )

    @app.get("/api/model", response_model=m.ModelInfo, responses=_ERRORS)
    def model(as_of: AsOf = None, lang: LangQ = m.LangKey.nl) -> m.ModelInfo:
        """The champion; with ``as_of``, the model that scored that year's latest run."""
        return modelviews.model_info(store, config_path, as_of, lang.value)

    @app.get("/api/charts/pr.svg", responses={200: _SVG, **_ERRORS})
    def pr_chart(as_of: AsOf = None) -> Response:
        run_id = store.view(as_of).run.manifest.model_run_id
        return _chart(store, ("pr", run_id), lambda: modelviews.pr_svg(store, config_path, run_id))

    @app.get("/api/charts/shap-summary.svg", responses={200: _SVG, **_ERRORS})
    def shap_summary(as_of: AsOf = None, lang: LangQ = m.LangKey.nl) -> Response:
        view = store.view(as_of)
        panel = store.file_key(store.ws.panel)
        key = ("shap-summary", view.run.path, view.run.mtime_ns, panel, lang)
        return _chart(store, key, lambda: modelviews.shap_summary_svg(store, view, lang.value))

    @app.get("/api/map", response_model=m.MapResponse, responses=_ERRORS)
    def map_(
        as_of: AsOf = None, gemeente: GemeenteQ = None, lang: LangQ = m.LangKey.nl
    ) -> Response:
        view = views.filtered_view(store, as_of, gemeente)
        if store.boundaries() is None:
            raise NotFound("This workspace has no boundaries/units.geojson, so there is no map.")
        boundaries = store.file_key(store.boundaries_path)
        key = ("map", view.run.path, view.run.mtime_ns, boundaries, gemeente, lang)
        body = store.charts.get(key, lambda: apimap.map_response(store, view, gemeente, lang.value))
        return Response(body, media_type="application/json")


def _chart(store: Store, key: tuple[Any, ...], make: Any) -> Response:
    """A chart's SVG, drawn once per key (under the chart lock)."""
    return Response(store.charts.get(key, lambda: _locked(make)), media_type="image/svg+xml")


def _locked(make: Any) -> str:
    with _CHART_LOCK:
        return str(make())


def _download(body: bytes, filename: str, media_type: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
