// The analysts' page: ranking (paged by the API), unit detail (the fact sheet, printable on
// one A4), model and map. Views are chosen by the URL hash: #/ranking, #/map, #/model,
// #/unit/<code>. Texts: texts.js; data is written with textContent only (the model card is
// HTML the server rendered from Markdown with raw HTML escaped). Every view says when it is
// loading, empty or failed (data-state="loading|ready|empty|error").
(function () {
  "use strict";
  var PAGE_SIZE = 50;
  var T = wijkradarTexts;
  var t = T.t;
  var lang = T.lang;
  var fmt = wijkradarFormat;
  var $ = function (id) { return document.getElementById(id); };
  var state = {
    year: null, gemeente: "all", query: "", sort: "rank", page: 0, total: 0, boundaries: false,
    colouring: "band"
  };
  var runsByYear = {};
  var seq = { ranking: 0, map: 0, detail: 0 };
  var table = $("ranking-table");
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var views = ["view-ranking", "view-map", "view-detail", "view-model"];
  var drawnMap = null;

  fmt.setLang(lang);
  T.apply(document);

  function api(path, params) {
    var url = new URL(path, window.location.origin);
    Object.keys(params || {}).forEach(function (k) {
      var v = params[k];
      if (v !== null && v !== undefined && v !== "" && v !== "all") { url.searchParams.set(k, v); }
    });
    if (lang !== "nl") { url.searchParams.set("lang", lang); }
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
    $("page-error").textContent = message ? t("error", { message: message }) : "";
    $("page-error").hidden = !message;
  }

  function status(id, key) { $(id).textContent = key ? t(key) : ""; $(id).hidden = !key; }

  function show(id) {
    views.forEach(function (v) { $(v).hidden = v !== id; });
    ["ranking", "map", "model"].forEach(function (tab) {
      $("tab-" + tab).classList.toggle("active", id === "view-" + tab);
    });
  }

  function filterParams() {
    return { as_of: state.year, gemeente: state.gemeente, q: state.query.trim() };
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function swatch(colour) {
    var s = el("span", null, "swatch");
    s.style.background = colour;
    return s;
  }

  // --- ranking -----------------------------------------------------------------------------

  function changeText(row) {
    if (row.previous_rank === null) { return row.new_in_top10 === null ? null : t("change_new"); }
    if (row.rank_change === 0) { return "0"; }
    return (row.rank_change > 0 ? "\u25b2" : "\u25bc") + Math.abs(row.rank_change);
  }

  function bandCell(tr, row, bands) {
    var td = fmt.cell(tr, row.band_label, "band");
    var band = bands.filter(function (b) { return b.key === row.band; })[0];
    if (band) { td.insertBefore(swatch(band.colour), td.firstChild); }
    td.setAttribute("data-band", row.band || "");
    return td;
  }

  function rankingRow(r, bands) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-unit-code", r.unit_code);
    var rank = fmt.cell(tr, fmt.number(r.rank), "num");
    if (r.new_in_top10) {
      tr.classList.add("is-new-top10");
      var badge = el("span", t("new_top10"), "new-top10");
      badge.title = t("new_top10_title");
      rank.appendChild(badge);
    }
    fmt.cell(tr, changeText(r), "num change");
    var name = fmt.cell(tr, null);
    var link = el("a", r.unit_name || r.unit_code, "unit-link");
    link.href = "#/unit/" + encodeURIComponent(r.unit_code);
    name.replaceChildren(link);
    if (r.unit_name && r.unit_name.indexOf(r.unit_code) < 0) {
      name.appendChild(el("span", " " + r.unit_code, "code"));
    }
    fmt.cell(tr, r.gemeente_name);
    fmt.riskCell(tr, r.risk);
    fmt.cell(tr, r.relative === null ? null : r.relative_text, "num relative");
    bandCell(tr, r, bands);
    fmt.cell(tr, r.rank_in_gemeente === null ? null : fmt.number(r.rank_in_gemeente), "num");
    fmt.cell(tr, r.top_drivers, "drivers");
    return tr;
  }

  function bandLegend(target, bands) {
    var fragment = document.createDocumentFragment();
    bands.forEach(function (b) {
      var item = el("span", null, "legend-item");
      item.setAttribute("role", "listitem");
      item.appendChild(swatch(b.colour));
      item.appendChild(document.createTextNode(b.description));
      fragment.appendChild(item);
    });
    target.replaceChildren(fragment);
  }

  async function loadRanking() {
    var mine = ++seq.ranking;
    table.setAttribute("data-state", "loading");
    status("ranking-status", "loading");
    var params = filterParams();
    params.sort = state.sort;
    params.limit = PAGE_SIZE;
    params.offset = state.page * PAGE_SIZE;
    var page;
    try {
      page = await getJSON("/api/rankings", params);
    } catch (e) {
      if (mine === seq.ranking) {
        showError(e.message); status("ranking-status", null);
        table.setAttribute("data-state", "error");
      }
      return;
    }
    if (mine !== seq.ranking) { return; }
    showError("");
    state.total = page.total;
    $("context-line").textContent = page.context_line;
    $("base-rate").textContent = page.base_rate_text;
    bandLegend($("band-legend"), page.bands);
    var fragment = document.createDocumentFragment();
    page.rows.forEach(function (r) { fragment.appendChild(rankingRow(r, page.bands)); });
    table.tBodies[0].replaceChildren(fragment);
    var pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
    $("page-info").textContent = page.total === 0 ? t("page_none") : t("page_info", {
      from: fmt.number(page.offset + 1), to: fmt.number(page.offset + page.rows.length),
      total: fmt.number(page.total), page: state.page + 1, pages: pages,
      all: page.total !== page.n_units ? t("page_all", { n: fmt.number(page.n_units) }) : ""
    });
    $("prev-page").disabled = state.page === 0;
    $("next-page").disabled = state.page >= pages - 1;
    fmt.markSorted(headers, state.sort.replace(/^-/, ""), state.sort.charAt(0) === "-" ? -1 : 1);
    table.setAttribute("data-total", String(page.total));
    status("ranking-status", page.total === 0 ? "empty" : null);
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

  // --- detail (the fact sheet) ---------------------------------------------------------------

  function tableRows(id, rows) {
    var fragment = document.createDocumentFragment();
    rows.forEach(function (cells) {
      var tr = document.createElement("tr");
      if (cells.feature) { tr.setAttribute("data-feature", cells.feature); }
      cells.values.forEach(function (c, i) { fmt.cell(tr, c, i > 0 ? "num" : ""); });
      fragment.appendChild(tr);
    });
    $(id).tBodies[0].replaceChildren(fragment);
  }

  function driverGroups(groups) {
    var fragment = document.createDocumentFragment();
    groups.forEach(function (g) {
      var box = el("div", null, "domain");
      box.setAttribute("data-domain", g.domain);
      box.appendChild(el("h4", g.label));
      var list = el("ul");
      g.drivers.forEach(function (d) {
        var li = el("li", d.sentence, d.raises_risk ? "up" : "down");
        li.setAttribute("data-feature", d.feature);
        li.title = d.raises_risk ? t("raises") : t("lowers");
        list.appendChild(li);
      });
      box.appendChild(list);
      fragment.appendChild(box);
    });
    $("detail-groups").replaceChildren(fragment);
  }

  function setImage(figureId, src) {
    var figure = $(figureId);
    var img = figure.querySelector("img");
    figure.hidden = true;
    figure.setAttribute("data-state", "loading");
    img.onload = function () { figure.hidden = false; figure.setAttribute("data-state", "ready"); };
    img.onerror = function () { figure.hidden = true; figure.setAttribute("data-state", "error"); };
    img.src = src;
  }

  function chartBody(id) { return $(id).querySelector(".chart-body"); }

  function lineChart(target, series, opts) {
    var width = 420;
    var height = opts.height || 150;
    var m = { top: 10, right: 12, bottom: 24, left: 46 };
    var points = [];
    series.forEach(function (s) { points = points.concat(s.points); });
    if (!points.length) { target.replaceChildren(el("p", t("chart_none"), "note")); return; }
    var xs = d3.extent(points, function (p) { return p[0]; });
    if (xs[0] === xs[1]) { xs = [xs[0] - 1, xs[1] + 1]; }
    var ys = opts.domain(d3.extent(points, function (p) { return p[1]; }));
    var x = d3.scaleLinear().domain(xs).range([m.left, width - m.right]);
    var y = d3.scaleLinear().domain(ys).nice(4).range([height - m.bottom, m.top]);
    if (opts.percent && y.domain()[1] > 1) { y.domain([y.domain()[0], 1]); }
    var svg = d3.create("svg").attr("viewBox", [0, 0, width, height].join(" "))
      .attr("class", "line-chart").attr("role", "img");
    var years = d3.range(Math.ceil(xs[0]), Math.floor(xs[1]) + 1);
    var step = Math.max(1, Math.ceil(years.length / 8));
    svg.append("g").attr("transform", "translate(0," + (height - m.bottom) + ")")
      .call(d3.axisBottom(x).tickValues(years.filter(function (v, i) { return i % step === 0; }))
        .tickFormat(d3.format("d")));
    svg.append("g").attr("transform", "translate(" + m.left + ",0)")
      .call(d3.axisLeft(y).ticks(4).tickFormat(opts.tick));
    series.forEach(function (s) {
      var line = d3.line().defined(function (p) { return p[1] !== null; })
        .x(function (p) { return x(p[0]); }).y(function (p) { return y(p[1]); });
      svg.append("path").attr("class", "series " + s.cls).attr("d", line(s.points))
        .attr("data-series", s.key).attr("stroke", s.colour);
      if (s.dots) {
        svg.append("g").selectAll("circle").data(s.points.filter(function (p) {
          return p[1] !== null;
        })).join("circle").attr("cx", function (p) { return x(p[0]); })
          .attr("cy", function (p) { return y(p[1]); }).attr("r", 3)
          .attr("class", function (p) { return p[2] === false ? "earlier" : "current"; });
      }
    });
    target.replaceChildren(svg.node());
    var named = series.filter(function (s) { return s.label; });
    if (named.length) {
      var key = el("ul", null, "chart-key");
      named.forEach(function (s) {
        var li = el("li");
        li.appendChild(swatch(s.colour));
        li.appendChild(document.createTextNode(s.label));
        key.appendChild(li);
      });
      target.appendChild(key);
    }
    target.setAttribute("data-y-max", String(y.domain()[1]));
    target.setAttribute("data-y-ticks", y.ticks(4).map(opts.tick).join("|"));
  }

  function histories(u) {
    var dims = Object.keys(u.lbm_dimensions || {});
    var colours = d3.schemeTableau10;
    var lbm = [{ key: "lbm", cls: "main", colour: "#222", dots: true, label: "",
      points: u.lbm_history.map(function (p) { return [p.as_of_year, p.lbm]; }) }];
    var dimensions = dims.filter(function (d) {
      return u.lbm_history.some(function (p) { return p.dimensions && p.dimensions[d] !== null &&
        p.dimensions[d] !== undefined; });
    });
    lineChart(chartBody("detail-lbm-history"), lbm, {
      domain: function (e) { return e; }, tick: function (v) { return fmt.decimal(v, 2); }
    });
    if (dimensions.length) {
      var series = dimensions.map(function (d, i) {
        return { key: d, cls: "dimension", colour: colours[i % 10], label: u.lbm_dimensions[d],
          points: u.lbm_history.map(function (p) {
            var v = p.dimensions ? p.dimensions[d] : null;
            return [p.as_of_year, v === undefined ? null : v];
          }) };
      });
      var holder = el("div", null, "dimension-chart");
      chartBody("detail-lbm-history").appendChild(holder);
      lineChart(holder, series, {
        height: 110, domain: function (e) { return e; },
        tick: function (v) { return fmt.decimal(v, 2); }
      });
    }
    var risk = [{ key: "risk", cls: "main", colour: "#b2182b", dots: true,
      points: u.risk_history.map(function (p) { return [p.as_of_year, p.risk, p.latest]; }) }];
    lineChart(chartBody("detail-risk-history"), risk, {
      percent: true,
      domain: function (e) { return [0, Math.min(1, Math.max(e[1] * 1.15, 0.01))]; },
      tick: function (v) {
        var top = risk[0].points.reduce(function (a, p) { return Math.max(a, p[1] || 0); }, 0);
        return fmt.decimal(v * 100, top < 0.05 ? 1 : 0) + "%";
      }
    });
  }

  function fillDetail(u) {
    $("view-detail").setAttribute("data-unit-code", u.unit_code);
    $("detail-title").textContent = u.title;
    $("detail-context-line").textContent = u.context_line;
    $("detail-risk").textContent = u.risk_text || fmt.DASH;
    $("detail-relative").textContent = u.relative_text || fmt.DASH;
    var band = $("detail-band");
    band.replaceChildren();
    band.setAttribute("data-band", u.band || "");
    if (u.band) { band.appendChild(document.createTextNode(u.band_label)); }
    $("detail-rank").textContent = t("rank_of", { rank: fmt.number(u.rank),
      n: fmt.number(u.n_units) }) + (u.in_top10 ? t("top10") : "");
    $("detail-rank-gemeente").textContent = u.rank_in_gemeente === null ? t("no_gemeente") :
      t("rank_of", { rank: fmt.number(u.rank_in_gemeente), n: fmt.number(u.n_in_gemeente) });
    $("detail-change").textContent = u.previous_rank === null ? t("no_previous") :
      t("rank_moved", { from: fmt.number(u.previous_rank), to: fmt.number(u.rank) }) +
      (u.new_in_top10 ? t("new_in_top10") : "");
    $("detail-run").textContent = u.run_id;
    $("detail-base-rate").textContent = u.base_rate_text;
    $("detail-panel-warning").hidden = u.panel_matches_run;
    var drivers = document.createDocumentFragment();
    (u.top_drivers ? u.top_drivers.split("; ") : []).forEach(function (text, i) {
      var li = el("li", text);
      li.setAttribute("data-feature", u.top_driver_features[i] || "");
      drivers.appendChild(li);
    });
    $("detail-drivers").replaceChildren(drivers);
    driverGroups(u.driver_groups);
    tableRows("detail-features", u.drivers.map(function (d) {
      return { feature: d.feature, values: [d.label, d.value_text, d.gemeente_text,
        d.national_text, (d.contribution >= 0 ? "+" : "") + fmt.decimal(d.contribution, 3)] };
    }));
    tableRows("detail-context-table", (u.context || []).map(function (c) {
      return { feature: c.feature, values: [c.label + " (" + c.unit + ")", c.value_text,
        c.gemeente_text, c.national_text] };
    }));
    $("detail-context").hidden = !(u.context || []).length;
    tableRows("detail-comparison", u.comparison.map(function (c) {
      return { feature: c.key, values: [c.label].concat(c.texts) };
    }));
    var peers = document.createDocumentFragment();
    u.peers.forEach(function (p) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-unit-code", p.unit_code);
      var name = fmt.cell(tr, null);
      var link = el("a", p.title, "unit-link");
      link.href = "#/unit/" + encodeURIComponent(p.unit_code);
      name.replaceChildren(link);
      fmt.cell(tr, p.gemeente_name);
      fmt.cell(tr, fmt.risk(p.risk), "num");
      fmt.cell(tr, p.band_label);
      fmt.cell(tr, fmt.number(p.rank), "num");
      peers.appendChild(tr);
    });
    $("detail-peers").tBodies[0].replaceChildren(peers);
    var fresh = document.createDocumentFragment();
    u.freshness.forEach(function (line) { fresh.appendChild(el("li", line)); });
    $("detail-freshness").replaceChildren(fresh);
    histories(u);
    var base = "/api/units/" + encodeURIComponent(u.unit_code);
    setImage("detail-waterfall", api(base + "/waterfall.svg", { as_of: state.year }));
  }

  async function showDetail(code) {
    show("view-detail");
    var mine = ++seq.detail;
    var detail = $("view-detail");
    detail.setAttribute("data-state", "loading");
    status("detail-status", "loading");
    var u;
    try {
      u = await getJSON("/api/units/" + encodeURIComponent(code), { as_of: state.year });
    } catch (e) {
      if (mine === seq.detail) {
        showError(e.message); status("detail-status", null);
        detail.setAttribute("data-state", "error");
      }
      return;
    }
    if (mine !== seq.detail) { return; }
    showError("");
    status("detail-status", null);
    fillDetail(u);
    detail.setAttribute("data-state", "ready");
  }

  // --- model -------------------------------------------------------------------------------

  async function showModel() {
    show("view-model");
    var view = $("view-model");
    view.setAttribute("data-state", "loading");
    $("model-body").hidden = true;
    status("model-status", "loading");
    var info;
    try {
      info = await getJSON("/api/model", { as_of: state.year });
    } catch (e) {
      showError(e.message); status("model-status", null);
      view.setAttribute("data-state", "error");
      return;
    }
    showError("");
    status("model-status", null);
    $("model-message").textContent = info.message || "";
    $("model-message").hidden = !info.message;
    var model = info.model;
    $("model-version").textContent = model ? model.name + " v" + model.version +
      (model.is_champion ? " (champion)" : "") : fmt.DASH;
    $("model-run").querySelector("code").textContent = model ? model.run_id : "";
    $("model-created").textContent = model && model.created ? model.created : fmt.DASH;
    $("model-quality").textContent = info.quality_text ?
      t("quality_line", { text: info.quality_text, year: info.quality_year }) : "";
    $("model-quality-box").hidden = !info.quality_text;
    var published = document.createDocumentFragment();
    info.published_with.forEach(function (p) {
      published.appendChild(el("li", t("published_with", { year: p.as_of_year,
        version: p.model_version || "?", run: p.run_id })));
    });
    $("model-published").replaceChildren(published);
    var head = document.createElement("tr");
    var body = document.createDocumentFragment();
    if (info.validation) {
      info.validation.headers.forEach(function (h, i) {
        head.appendChild(el("th", h, i > 1 ? "num" : ""));
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
    var card = $("model-card");
    if (info.model_card_html) {
      card.innerHTML = info.model_card_html;  // rendered on the server, raw HTML escaped
    } else {
      card.replaceChildren(el("p", t("no_card"), "note"));
    }
    $("pr-plot").hidden = true;
    if (info.available) { setImage("pr-plot", api("/api/charts/pr.svg", { as_of: state.year })); }
    setImage("shap-summary", api("/api/charts/shap-summary.svg", { as_of: state.year }));
    $("model-body").hidden = false;
    view.setAttribute("data-state", "ready");
  }

  // --- map ---------------------------------------------------------------------------------

  async function showMap() {
    show("view-map");
    var mine = ++seq.map;
    var view = $("view-map");
    view.setAttribute("data-state", "loading");
    if (!state.boundaries) {  // no request that can only fail
      $("map-missing").hidden = false;
      status("map-status", null);
      view.setAttribute("data-state", "empty");
      return;
    }
    status("map-status", "loading");
    var data;
    try {
      data = await getJSON("/api/map", { as_of: state.year, gemeente: state.gemeente });
    } catch (e) {
      if (mine !== seq.map) { return; }
      $("map-missing").hidden = e.status !== 404;
      if (e.status !== 404) { showError(e.message); }
      d3.select("#map").selectAll("*").remove();
      status("map-status", null);
      view.setAttribute("data-state", "empty");
      return;
    }
    if (mine !== seq.map) { return; }
    $("map-missing").hidden = true;
    status("map-status", data.n_shown ? null : "empty");
    drawnMap = wijkradarMap.draw($("map"), $("map-card"), $("map-legend"), data,
      state.colouring, function (code) {
        window.location.hash = "#/unit/" + encodeURIComponent(code);
      });
    view.setAttribute("data-gemeente", data.gemeente || "");
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

  function latestRun(year) {
    var runs = runsByYear[year] ? runsByYear[year].runs : [];
    return runs.filter(function (r) { return r.latest; })[0] || null;
  }

  function runInfo(year) {
    var runs = runsByYear[year] ? runsByYear[year].runs : [];
    var latest = latestRun(year);
    if (!latest) { return ""; }
    var previous = runs[runs.indexOf(latest) - 1];
    return t("run_info", { run: latest.run_id, model: latest.model_name,
      version: latest.model_version, created: latest.created_text || latest.created }) +
      (previous ? t("compared_with", { run: previous.run_id }) : t("not_compared"));
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
    var options = [new Option(t("all"), "all")];
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
  $("detail-print").addEventListener("click", function () { window.print(); });
  $("map-colour").addEventListener("change", function () {
    state.colouring = $("map-colour").value;
    if (drawnMap) { drawnMap.colour(state.colouring); }
  });
  $("zoom-in").addEventListener("click", function () { if (drawnMap) { drawnMap.zoomBy(2); } });
  $("zoom-out").addEventListener("click", function () {
    if (drawnMap) { drawnMap.zoomBy(0.5); }
  });
  $("zoom-reset").addEventListener("click", function () { if (drawnMap) { drawnMap.reset(); } });
  headers.forEach(function (th) {
    var button = th.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
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
      if (!years.length) { throw new Error(t("no_runs")); }
      await loadYear(years[0]);
    } catch (e) {
      showError(e.message);
      return;
    }
    document.body.setAttribute("data-ready", "true");
    route();
  }());
}());
