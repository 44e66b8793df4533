"""The analysts' workplace: a read-only web API and the page at ``/`` that uses it.

``create_app(workspace)`` builds the FastAPI app; ``serve`` runs it with uvicorn, bound to
127.0.0.1 unless told otherwise. Every route only reads: published runs (``scores/``), the
panel, ``boundaries/units.geojson`` and the MLflow registry. Codes in paths are checked
against a strict pattern before any lookup, and lookups go to in-memory tables only.
"""

from __future__ import annotations

import io
import os
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response

import wijkradar
from serving import apimodels as m
from serving import apiviews as views
from serving.apistore import NotFound, RankingView, Run, Store
from serving.exports import knowledge_line_nl, knowledge_notes_nl, write_xlsx
from serving.report import HORIZON_PHRASE, TABLE_HEADERS, jinja_env, package_text
from wijkradar.catalog import Workspace, plain

MAX_LIMIT = 500
ASSETS = {  # served at /static/<name>: (package path, media type)
    "page.js": ("web/page.js", "text/javascript"),
    "map.js": ("web/map.js", "text/javascript"),
    "page.css": ("web/page.css", "text/css"),
    "report.css": ("templates/report.css", "text/css"),
    "format.js": ("templates/format.js", "text/javascript"),
}
PAGE_HEADERS = (
    *TABLE_HEADERS[:1],
    {"key": "rank_change", "label": "Δ rank", "type": "number", "first": "desc", "cls": "num"},
    *TABLE_HEADERS[1:],
)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": m.Problem}}
_CHART_LOCK = threading.Lock()  # matplotlib's rc_context is process-global

AsOf = Annotated[int | None, Query(ge=1900, le=2200, description="As-of year (default newest).")]
GemeenteQ = Annotated[str | None, Query(pattern=m.GEMEENTE_CODE_PATTERN)]
SearchQ = Annotated[str | None, Query(max_length=100, description="Part of a code or name.")]
SortQ = Annotated[m.SortKey, Query()]
Code = Annotated[str, PathParam(pattern=m.UNIT_CODE_PATTERN, description="A unit code.")]


def create_app(workspace: Path, config: Path | None = None) -> FastAPI:
    """The app for ``workspace``; ``config`` (default WORKSPACE/wijkradar.toml) gives the
    MLflow tracking settings. Nothing is loaded until a request needs it."""
    for key, value in (
        ("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false"),
        ("MLFLOW_DISABLE_TELEMETRY", "true"),
        ("MLFLOW_LOGGING_LEVEL", "ERROR"),
    ):
        os.environ.setdefault(key, value)
    ws = Workspace(Path(workspace).resolve())
    store = Store(ws)
    config_path = config or ws.config
    app = FastAPI(
        title="wijkradar",
        version=wijkradar.__version__,
        description=f"Read-only: the {HORIZON_PHRASE}, per unit, with its SHAP drivers.",
    )
    page = (
        jinja_env()
        .get_template("web/page.html")
        .render(horizon=HORIZON_PHRASE, table_headers=PAGE_HEADERS, version=wijkradar.__version__)
    )
    assets = {name: (package_text(path), kind) for name, (path, kind) in ASSETS.items()}

    _add_page_routes(app, page, assets)
    _add_ranking_routes(app, store)
    _add_export_routes(app, store)
    _add_unit_routes(app, store)
    _add_summary_routes(app, store, config_path)
    return app


def _add_page_routes(app: FastAPI, page: str, assets: dict[str, tuple[str, str]]) -> None:
    """The page, its assets, the 404 of ``NotFound`` and the security headers."""

    @app.exception_handler(NotFound)
    def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers["Content-Security-Policy"] = CSP
        return response

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in assets:
            raise HTTPException(404, f"No asset {name!r}.")
        text, kind = assets[name]
        return Response(text, media_type=kind, headers={"Cache-Control": "no-cache"})


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
    def runs() -> m.RunsResponse:
        years = []
        for year in store.years():
            found = [_run_summary(r) for r in store.runs(year)]
            latest = [r.run_id for r in found if r.latest]
            if latest:
                years.append(m.YearRuns(as_of_year=year, latest_run_id=latest[0], runs=found))
        return m.RunsResponse(years=years)

    @app.get("/api/rankings", response_model=m.RankingPage, responses=_ERRORS)
    def rankings(
        as_of: AsOf = None,
        gemeente: GemeenteQ = None,
        q: SearchQ = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        sort: SortQ = m.SortKey.rank,
    ) -> m.RankingPage:
        view = _filtered_view(store, as_of, gemeente)
        positions = view.select(gemeente, q, sort.value)
        page_rows = [view.records[i] for i in positions[offset : offset + limit]]
        return m.RankingPage(
            as_of_year=view.run.year,
            run_id=view.run.run_id,
            previous_run_id=view.previous_run_id,
            n_units=len(view.records),
            total=len(positions),
            top10_rank=view.top10_rank,
            offset=offset,
            limit=limit,
            sort=sort,
            rows=[m.RankingRow.model_validate(r) for r in page_rows],
        )


def _add_export_routes(app: FastAPI, store: Store) -> None:
    """The filtered ranking as CSV and as Excel."""

    @app.get("/api/export.csv", responses={200: {"content": {"text/csv": {}}}, **_ERRORS})
    def export_csv(
        as_of: AsOf = None,
        gemeente: GemeenteQ = None,
        q: SearchQ = None,
        sort: SortQ = m.SortKey.rank,
    ) -> Response:
        frame, name = _export(store, as_of, gemeente, q, sort)
        text = frame.to_csv(index=False, lineterminator="\n")
        return _download(text.encode("utf-8"), f"{name}.csv", "text/csv; charset=utf-8")

    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    @app.get("/api/export.xlsx", responses={200: {"content": {xlsx: {}}}, **_ERRORS})
    def export_xlsx(
        as_of: AsOf = None,
        gemeente: GemeenteQ = None,
        q: SearchQ = None,
        sort: SortQ = m.SortKey.rank,
    ) -> Response:
        frame, name = _export(store, as_of, gemeente, q, sort)
        man = store.view(as_of).run.manifest
        notes = knowledge_notes_nl(man.knowledge_date, man.sources)
        return _download(_xlsx_bytes(frame, notes), f"{name}.xlsx", xlsx)


def _add_unit_routes(app: FastAPI, store: Store) -> None:
    """One unit: its explanation, its waterfall and its history."""

    @app.get("/api/units/{code}", response_model=m.UnitDetail, responses=_ERRORS)
    def unit(code: Code, as_of: AsOf = None) -> m.UnitDetail:
        return views.unit_detail(store, _unit_view(store, code, as_of), code)

    @app.get("/api/units/{code}/waterfall.svg", responses={200: _SVG, **_ERRORS})
    def waterfall(code: Code, as_of: AsOf = None) -> Response:
        view = _unit_view(store, code, as_of)
        key = ("waterfall", view.run.path, view.run.mtime_ns, code, store.file_key(store.ws.panel))
        return _chart(store, key, lambda: views.waterfall_svg(store, view, code))

    @app.get("/api/units/{code}/history.svg", responses={200: _SVG, **_ERRORS})
    def history(
        code: Code,
        as_of: AsOf = None,
        kind: Annotated[str, Query(pattern="^(lbm|risk)$")] = "risk",
    ) -> Response:
        view = _unit_view(store, code, as_of)
        key = ("history", kind, code, store.runs_key(), store.file_key(store.ws.panel))
        return _chart(store, key, lambda: views.history_svg(store, view, code, kind))


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
    def model(as_of: AsOf = None) -> m.ModelInfo:
        """The champion; with ``as_of``, the model that scored that year's latest run."""
        return views.model_info(store, config_path, as_of)

    @app.get("/api/charts/pr.svg", responses={200: _SVG, **_ERRORS})
    def pr_chart(as_of: AsOf = None) -> Response:
        view = store.view(as_of)
        run_id = view.run.manifest.model_run_id
        return _chart(store, ("pr", run_id), lambda: views.pr_svg(store, config_path, run_id))

    @app.get("/api/charts/shap-summary.svg", responses={200: _SVG, **_ERRORS})
    def shap_summary(as_of: AsOf = None) -> Response:
        view = store.view(as_of)
        key = ("shap-summary", view.run.path, view.run.mtime_ns, store.file_key(store.ws.panel))
        return _chart(store, key, lambda: views.shap_summary_svg(store, view))

    @app.get("/api/map", response_model=m.MapResponse, responses=_ERRORS)
    def map_(as_of: AsOf = None, gemeente: GemeenteQ = None) -> Response:
        view = _filtered_view(store, as_of, gemeente)
        geometries = store.boundaries()
        if geometries is None:
            raise NotFound("This workspace has no boundaries/units.geojson, so there is no map.")
        boundaries = store.file_key(store.boundaries_path)
        key = ("map", view.run.path, view.run.mtime_ns, boundaries, gemeente)
        body = store.charts.get(key, lambda: views.map_json(view, geometries, gemeente))
        return Response(body, media_type="application/json")


def serve(
    workspace: Path, config: Path | None = None, host: str = "127.0.0.1", port: int = 8000
) -> None:
    """Run the app with uvicorn until interrupted (local only by default)."""
    import uvicorn

    uvicorn.run(create_app(workspace, config), host=host, port=port, log_level="info")


# ---------------------------------------------------------------------------------------------

_SVG: dict[str, Any] = {"content": {"image/svg+xml": {}}, "description": "An SVG chart."}


def _chart(store: Store, key: tuple[Any, ...], make: Any) -> Response:
    """A chart's SVG, drawn once per key (under the chart lock)."""
    return _svg(store.charts.get(key, lambda: _locked(make)))


def _svg(text: str) -> Response:
    return Response(text, media_type="image/svg+xml")


def _locked(make: Any) -> str:
    with _CHART_LOCK:
        return str(make())


def _run_summary(run: Run) -> m.RunSummary:
    man = run.manifest
    return m.RunSummary(
        run_id=run.run_id,
        as_of_year=run.year,
        created=run.created,
        model_name=man.model_name,
        model_version=man.model_version,
        model_run_id=man.model_run_id,
        panel_fingerprint=man.panel_fingerprint,
        row_count=man.row_count,
        additivity_max_error=plain(man.additivity_max_error),
        latest=run.latest,
        knowledge_date=man.knowledge_date,
        sources=[m.SourceUse(**asdict(use)) for use in man.sources],
        knowledge_line=knowledge_line_nl(man.knowledge_date, man.sources),
    )


def _filtered_view(store: Store, as_of: int | None, gemeente: str | None) -> RankingView:
    view = store.view(as_of)
    if gemeente and not (view.gemeente_codes == gemeente).any():
        raise NotFound(f"No gemeente {gemeente} in the ranking of {view.run.year}.")
    return view


def _unit_view(store: Store, code: str, as_of: int | None) -> RankingView:
    view = store.view(as_of)
    if code not in view.position:
        raise NotFound(f"No unit {code} in the ranking of {view.run.year}.")
    return view


def _export(
    store: Store, as_of: int | None, gemeente: str | None, q: str | None, sort: m.SortKey
) -> tuple[pd.DataFrame, str]:
    view = _filtered_view(store, as_of, gemeente)
    frame = view.export_frame(view.select(gemeente, q, sort.value))
    for column in ("unit_name", "gemeente_name", "top_drivers"):
        frame[column] = frame[column].map(_no_formula)
    return frame, f"wijkradar-{view.run.year}" + (f"-{gemeente}" if gemeente else "")


def _no_formula(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _xlsx_bytes(frame: pd.DataFrame, notes: list[str]) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(frame, buffer, "ranking", notes=notes)
    return buffer.getvalue()


def _download(body: bytes, filename: str, media_type: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
