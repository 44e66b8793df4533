// The analysts' page: ranking (paged by the API), unit detail, model card and map.
// Views are chosen by the URL hash: #/ranking, #/map, #/model, #/unit/<code>.
// All data is written with textContent (wijkradarFormat.cell); charts are <img> of SVG.
(function () {
  "use strict";
  var PAGE_SIZE = 50;
  var fmt = wijkradarFormat;
  var $ = function (id) { return document.getElementById(id); };
  var state = {
    year: null, gemeente: "all", query: "", sort: "rank", page: 0, total: 0, boundaries: false
  };
  var runsByYear = {};
  var seq = 0;  // only the newest ranking request may draw the table
  var table = $("ranking-table");
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var views = ["view-ranking", "view-map", "view-detail", "view-model"];

  function api(path, params) {
    var url = new URL(path, window.location.origin);
    Object.keys(params || {}).forEach(function (k) {
      var v = params[k];
      if (v !== null && v !== undefined && v !== "" && v !== "all") { url.searchParams.set(k, v); }
    });
    return url.pathname + url.search;
  }

  async function getJSON(path, params) {
    var response = await fetch(api(path, params), { headers: { Accept: "application/json" } });
    var body = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      var error = new Error(typeof body.detail === "string" ? body.detail : response.statusText);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function showError(message) {
    $("page-error").textContent = message || "";
    $("page-error").hidden = !message;
  }

  function show(id) {
    views.forEach(function (v) { $(v).hidden = v !== id; });
    ["ranking", "map", "model"].forEach(function (t) {
      $("tab-" + t).classList.toggle("active", id === "view-" + t);
    });
  }

  function filterParams() {
    return { as_of: state.year, gemeente: state.gemeente, q: state.query.trim() };
  }

  // --- ranking -----------------------------------------------------------------------------

  function changeText(row) {
    if (row.previous_rank === null) { return row.new_in_top10 === null ? null : "new"; }
    if (row.rank_change === 0) { return "0"; }
    return (row.rank_change > 0 ? "\u25b2" : "\u25bc") + Math.abs(row.rank_change);
  }

  function rankingRow(r) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-unit-code", r.unit_code);
    var rank = fmt.cell(tr, r.rank, "num");
    if (r.new_in_top10) {
      tr.classList.add("is-new-top10");
      var badge = document.createElement("span");
      badge.className = "new-top10";
      badge.title = "new in the top 10 % since the previous run";
      badge.textContent = "new in top 10 %";
      rank.appendChild(badge);
    }
    fmt.cell(tr, changeText(r), "num change");
    fmt.cell(tr, r.unit_code);
    var name = fmt.cell(tr, null);
    var link = document.createElement("a");
    link.className = "unit-link";
    link.href = "#/unit/" + encodeURIComponent(r.unit_code);
    link.textContent = r.unit_name || r.unit_code;
    name.replaceChildren(link);
    fmt.cell(tr, r.gemeente_name);
    fmt.riskCell(tr, r.risk);
    fmt.cell(tr, r.rank_in_gemeente, "num");
    fmt.cell(tr, r.top_drivers, "drivers");
    return tr;
  }

  async function loadRanking() {
    var mine = ++seq;
    table.setAttribute("data-state", "loading");
    var params = filterParams();
    params.sort = state.sort;
    params.limit = PAGE_SIZE;
    params.offset = state.page * PAGE_SIZE;
    var page;
    try {
      page = await getJSON("/api/rankings", params);
    } catch (e) {
      if (mine === seq) { showError(e.message); table.setAttribute("data-state", "error"); }
      return;
    }
    if (mine !== seq) { return; }
    showError("");
    state.total = page.total;
    var fragment = document.createDocumentFragment();
    page.rows.forEach(function (r) { fragment.appendChild(rankingRow(r)); });
    table.tBodies[0].replaceChildren(fragment);
    var pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
    $("page-info").textContent = fmt.pageInfo(page.offset, page.rows.length, page.total,
      page.n_units, state.page + 1, pages);
    $("prev-page").disabled = state.page === 0;
    $("next-page").disabled = state.page >= pages - 1;
    var key = state.sort.replace(/^-/, "");
    fmt.markSorted(headers, key, state.sort.charAt(0) === "-" ? -1 : 1);
    table.setAttribute("data-total", String(page.total));
    table.setAttribute("data-state", "ready");
  }

  function download(kind) {
    var params = filterParams();
    params.sort = state.sort;
    var a = document.createElement("a");
    a.href = api("/api/export." + kind, params);
    a.download = "";
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  // --- detail ------------------------------------------------------------------------------

  function number(value) {
    if (value === null || value === undefined) { return fmt.DASH; }
    var abs = Math.abs(value);
    if (abs >= 1000) { return fmt.number(Math.round(value)); }
    return Number(value.toPrecision(3)).toString();
  }

  // A number the Dutch way, as the Dutch drivers write it (serving.dutch.format_nl): about
  // three significant digits, at most three decimals, decimal comma and thousands dot, a tie
  // rounded to even.
  function numberNl(value) {
    if (value === null || value === undefined) { return fmt.DASH; }
    if (value === 0) { return "0"; }
    var magnitude = Math.floor(Math.log10(Math.abs(value)));
    var decimals = Math.min(Math.max(2 - magnitude, 0), 3);
    var text = new Intl.NumberFormat("nl-NL", {
      maximumFractionDigits: decimals, roundingMode: "halfEven"
    }).format(value);
    return text === "-0" ? "0" : text;
  }

  function contextRows(context) {
    var rows = document.createDocumentFragment();
    context.forEach(function (c) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-feature", c.feature);
      var label = fmt.cell(tr, c.label_nl + " (" + c.unit_nl + ")");
      label.title = c.label;
      fmt.cell(tr, numberNl(c.value), "num");
      fmt.cell(tr, numberNl(c.gemeente_median), "num");
      fmt.cell(tr, numberNl(c.national_median), "num");
      rows.appendChild(tr);
    });
    $("detail-context-table").tBodies[0].replaceChildren(rows);
    $("detail-context").hidden = context.length === 0;
  }

  function setImage(figureId, src) {
    var img = $(figureId).querySelector("img");
    img.removeAttribute("src");
    img.src = src;
  }

  async function showDetail(code) {
    show("view-detail");
    var detail = $("view-detail");
    detail.setAttribute("data-state", "loading");
    var u;
    try {
      u = await getJSON("/api/units/" + encodeURIComponent(code), { as_of: state.year });
    } catch (e) {
      showError(e.message);
      detail.setAttribute("data-state", "error");
      return;
    }
    showError("");
    detail.setAttribute("data-unit-code", u.unit_code);
    $("detail-title").textContent = (u.unit_name || u.unit_code) + " (" + u.unit_code + "), " +
      (u.gemeente_name || "");
    $("detail-risk").textContent = fmt.risk(u.risk);
    $("detail-rank").textContent = fmt.number(u.rank) + " of " + fmt.number(u.n_units) +
      (u.in_top10 ? " (top 10 %)" : "");
    $("detail-rank-gemeente").textContent = fmt.number(u.rank_in_gemeente) + " of " +
      fmt.number(u.n_in_gemeente);
    $("detail-change").textContent = u.previous_rank === null ? "no previous rank" :
      "rank " + fmt.number(u.previous_rank) + " \u2192 " + fmt.number(u.rank) +
      (u.new_in_top10 ? ", new in the top 10 %" : "");
    $("detail-run").textContent = u.run_id;
    $("detail-panel-warning").hidden = u.panel_matches_run;
    var drivers = document.createDocumentFragment();
    (u.top_drivers ? u.top_drivers.split("; ") : []).forEach(function (text, i) {
      var li = document.createElement("li");
      li.textContent = text;
      li.setAttribute("data-feature", u.top_driver_features[i] || "");
      drivers.appendChild(li);
    });
    $("detail-drivers").replaceChildren(drivers);
    var rows = document.createDocumentFragment();
    u.drivers.forEach(function (d) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-feature", d.feature);
      fmt.cell(tr, d.label);
      fmt.cell(tr, number(d.value), "num");
      fmt.cell(tr, number(d.gemeente_median), "num");
      fmt.cell(tr, number(d.national_median), "num");
      fmt.cell(tr, (d.contribution >= 0 ? "+" : "") + d.contribution.toFixed(3),
        "num " + (d.contribution > 0 ? "up" : "down"));
      rows.appendChild(tr);
    });
    $("detail-features").tBodies[0].replaceChildren(rows);
    contextRows(u.context || []);
    var base = "/api/units/" + encodeURIComponent(u.unit_code);
    setImage("detail-waterfall", api(base + "/waterfall.svg", { as_of: state.year }));
    setImage("detail-lbm-history", api(base + "/history.svg", { as_of: state.year, kind: "lbm" }));
    setImage("detail-risk-history", api(base + "/history.svg", { as_of: state.year, kind: "risk" }));
    detail.setAttribute("data-state", "ready");
  }

  // --- model -------------------------------------------------------------------------------

  async function showModel() {
    show("view-model");
    var view = $("view-model");
    view.setAttribute("data-state", "loading");
    var info = await getJSON("/api/model", { as_of: state.year })
      .catch(function (e) { showError(e.message); });
    if (!info) { return; }
    $("model-message").textContent = info.message || "";
    $("model-message").hidden = !info.message;
    var c = info.model;
    var champion = info.champion;
    $("model-version").textContent = c ? c.name + " v" + c.version + (c.is_champion
      ? " (the champion)" : champion ? " (the champion is now v" + champion.version + ")"
      : "") : fmt.DASH;
    $("model-run").firstElementChild.textContent = c ? c.run_id : "";
    $("model-created").textContent = c && c.created ? c.created : fmt.DASH;
    var published = document.createDocumentFragment();
    info.published_with.forEach(function (p) {
      var li = document.createElement("li");
      li.textContent = p.as_of_year + ": scored with v" + (p.model_version || "?") +
        " (run " + p.run_id + ")";
      published.appendChild(li);
    });
    $("model-published").replaceChildren(published);
    var head = document.createElement("tr");
    var body = document.createDocumentFragment();
    if (info.validation) {
      info.validation.headers.forEach(function (h, i) {
        var th = document.createElement("th");
        th.textContent = h;
        if (i > 1) { th.className = "num"; }
        head.appendChild(th);
      });
      info.validation.rows.forEach(function (cells, r) {
        var tr = document.createElement("tr");
        if (info.validation.primary[r]) { tr.className = "primary"; }
        cells.forEach(function (cell, i) { fmt.cell(tr, cell, i > 1 ? "num" : ""); });
        body.appendChild(tr);
      });
    }
    $("validation-table").tHead.replaceChildren(head);
    $("validation-table").tBodies[0].replaceChildren(body);
    $("model-card").textContent = info.model_card || "No model card was logged with this model.";
    $("pr-plot").hidden = !info.available;  // the PR curves live in the MLflow store
    if (info.available) { setImage("pr-plot", api("/api/charts/pr.svg", { as_of: state.year })); }
    setImage("shap-summary", api("/api/charts/shap-summary.svg", { as_of: state.year }));
    view.setAttribute("data-state", "ready");
  }

  // --- map ---------------------------------------------------------------------------------

  async function showMap() {
    show("view-map");
    var view = $("view-map");
    view.setAttribute("data-state", "loading");
    wijkradarMap.legend($("map-legend"));
    if (!state.boundaries) {  // no request that can only fail
      $("map-missing").hidden = false;
      view.setAttribute("data-state", "empty");
      return;
    }
    var data;
    try {
      data = await getJSON("/api/map", { as_of: state.year, gemeente: state.gemeente });
    } catch (e) {
      $("map-missing").hidden = e.status !== 404;
      if (e.status !== 404) { showError(e.message); }
      $("map").replaceChildren();
      view.setAttribute("data-state", "empty");
      return;
    }
    $("map-missing").hidden = true;
    wijkradarMap.draw($("map"), data, function (code) {
      window.location.hash = "#/unit/" + encodeURIComponent(code);
    });
    view.setAttribute("data-state", "ready");
  }

  // --- routing and setup -------------------------------------------------------------------

  function route() {
    var hash = window.location.hash || "#/ranking";
    var unit = /^#\/unit\/([^/?#]+)$/.exec(hash);
    if (unit) { return showDetail(decodeURIComponent(unit[1])); }
    if (hash === "#/map") { return showMap(); }
    if (hash === "#/model") { return showModel(); }
    show("view-ranking");
    return loadRanking();
  }

  function runInfo(year) {
    var runs = runsByYear[year] ? runsByYear[year].runs : [];
    var latest = latestRun(year);
    if (!latest) { return ""; }
    var previous = runs[runs.indexOf(latest) - 1];
    return "run " + latest.run_id + " (" + latest.model_name + " v" + latest.model_version +
      ", " + latest.created + ")" + (previous ? " \u00b7 compared with run " +
      previous.run_id : " \u00b7 no previous run to compare with");
  }

  function latestRun(year) {
    var runs = runsByYear[year] ? runsByYear[year].runs : [];
    return runs.filter(function (r) { return r.latest; })[0] || null;
  }

  async function loadYear(year) {
    state.year = year;
    $("year-label").textContent = year;
    $("run-info").textContent = runInfo(year);
    var latest = latestRun(year);
    var known = latest && latest.knowledge_line ? latest.knowledge_line : "";
    $("knowledge-info").textContent = known;  // Dutch, from the run's manifest
    $("knowledge-info").hidden = !known;
    var list = await getJSON("/api/gemeenten", { as_of: year });
    var select = $("gemeente-filter");
    var keep = state.gemeente;
    var options = [new Option("all", "all")];
    list.gemeenten.forEach(function (g) {
      options.push(new Option(g.gemeente_name || g.gemeente_code, g.gemeente_code));
    });
    select.replaceChildren.apply(select, options);
    state.gemeente = list.gemeenten.some(function (g) { return g.gemeente_code === keep; })
      ? keep : "all";
    select.value = state.gemeente;
    state.page = 0;
  }

  function refresh() {
    state.page = 0;
    if (!$("view-ranking").hidden) { loadRanking(); }
    if (!$("view-map").hidden) { showMap(); }
  }

  var timer = null;
  $("search").addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { state.query = $("search").value; refresh(); }, 200);
  });
  $("gemeente-filter").addEventListener("change", function () {
    state.gemeente = $("gemeente-filter").value;
    refresh();
  });
  $("year-select").addEventListener("change", async function () {
    await loadYear(Number($("year-select").value));
    route();
  });
  $("prev-page").addEventListener("click", function () { state.page -= 1; loadRanking(); });
  $("next-page").addEventListener("click", function () { state.page += 1; loadRanking(); });
  $("download-csv").addEventListener("click", function () { download("csv"); });
  $("download-xlsx").addEventListener("click", function () { download("xlsx"); });
  headers.forEach(function (th) {
    th.addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      var current = state.sort.replace(/^-/, "");
      if (key === current) {
        state.sort = state.sort.charAt(0) === "-" ? key : "-" + key;
      } else {
        state.sort = th.getAttribute("data-first") === "desc" ? "-" + key : key;
      }
      state.page = 0;
      loadRanking();
    });
  });
  window.addEventListener("hashchange", route);

  (async function start() {
    try {
      state.boundaries = (await getJSON("/api/health")).boundaries;
      var runs = await getJSON("/api/runs");
      var select = $("year-select");
      runs.years.forEach(function (y) { runsByYear[y.as_of_year] = y; });
      var years = runs.years.map(function (y) { return y.as_of_year; }).reverse();
      years.forEach(function (y) { select.appendChild(new Option(String(y), String(y))); });
      if (!years.length) { throw new Error("No published scoring run yet."); }
      await loadYear(years[0]);
    } catch (e) {
      showError(e.message);
      return;
    }
    document.body.setAttribute("data-ready", "true");
    route();
  }());
}());
