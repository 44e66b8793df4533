// Ranking table: filter by gemeente, search code/name, sort by header, page through 50 rows.
// Data comes from the JSON blob #ranking-data ({columns: [...], rows: [[...], ...]}).
// Cells are filled with textContent only (wijkradarFormat, format.js), so no data is ever
// parsed as HTML.
(function () {
  "use strict";
  var PAGE_SIZE = 50;
  var data = JSON.parse(document.getElementById("ranking-data").textContent);
  var col = {};
  data.columns.forEach(function (name, i) { col[name] = i; });
  var rows = data.rows;
  var table = document.getElementById("ranking-table");
  var tbody = table.tBodies[0];
  var filterEl = document.getElementById("gemeente-filter");
  var searchEl = document.getElementById("search");
  var prevEl = document.getElementById("prev-page");
  var nextEl = document.getElementById("next-page");
  var infoEl = document.getElementById("page-info");
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var state = { gemeente: "all", query: "", key: "rank", dir: 1, page: 0 };
  var view = rows.slice();
  var collator = new Intl.Collator("nl", { sensitivity: "base", numeric: true });
  var fmt = wijkradarFormat;
  var dutch = document.documentElement.lang === "nl";
  var CELL_CLASS = { rank: "num", rank_in_gemeente: "num", relative: "num", band: "band",
    top_drivers: "drivers" };

  function compare(a, b) {
    var i = col[state.key];
    var x = a[i];
    var y = b[i];
    if (x === null || x === undefined) { return (y === null || y === undefined) ? 0 : 1; }
    if (y === null || y === undefined) { return -1; }
    var d = (typeof x === "number" && typeof y === "number")
      ? x - y : collator.compare(String(x), String(y));
    if (d === 0) { d = a[col.rank] - b[col.rank]; return d; }
    return d * state.dir;
  }

  function applyFilters() {
    var q = state.query.trim().toLowerCase();
    view = rows.filter(function (r) {
      if (state.gemeente !== "all" && String(r[col.gemeente_code]) !== state.gemeente) {
        return false;
      }
      if (!q) { return true; }
      return String(r[col.unit_code]).toLowerCase().indexOf(q) !== -1 ||
        String(r[col.unit_name] || "").toLowerCase().indexOf(q) !== -1;
    });
    view.sort(compare);
    state.page = 0;
  }

  function render() {
    var pages = Math.max(1, Math.ceil(view.length / PAGE_SIZE));
    state.page = Math.min(Math.max(state.page, 0), pages - 1);
    var start = state.page * PAGE_SIZE;
    var slice = view.slice(start, start + PAGE_SIZE);
    var fragment = document.createDocumentFragment();
    slice.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-unit-code", String(r[col.unit_code]));
      headers.forEach(function (th) {
        var key = th.getAttribute("data-key");
        if (key === "risk") { fmt.riskCell(tr, r[col.risk]); return; }
        var td = fmt.cell(tr, r[col[key]], CELL_CLASS[key] || "");
        if (key === "band" && r[col.band_key]) { td.setAttribute("data-band", r[col.band_key]); }
      });
      fragment.appendChild(tr);
    });
    tbody.replaceChildren(fragment);
    infoEl.textContent = fmt.pageInfo(start, slice.length, view.length, rows.length,
      state.page + 1, pages);
    prevEl.disabled = state.page === 0;
    nextEl.disabled = state.page >= pages - 1;
    fmt.markSorted(headers, state.key, state.dir);
  }

  filterEl.addEventListener("change", function () {
    state.gemeente = filterEl.value;
    applyFilters();
    render();
  });
  searchEl.addEventListener("input", function () {
    state.query = searchEl.value;
    applyFilters();
    render();
  });
  prevEl.addEventListener("click", function () { state.page -= 1; render(); });
  nextEl.addEventListener("click", function () { state.page += 1; render(); });
  headers.forEach(function (th) {
    th.addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      if (key === state.key) {
        state.dir = -state.dir;
      } else {
        state.key = key;
        state.dir = th.getAttribute("data-first") === "desc" ? -1 : 1;
      }
      view.sort(compare);
      state.page = 0;
      render();
    });
  });

  // The CSV of the rows in view, as a spreadsheet of the page's language reads it: in Dutch
  // ';'-separated with a decimal comma, the risk in percent; headers as on the page.
  document.getElementById("download-csv").addEventListener("click", function () {
    var sep = dutch ? ";" : ",";
    var quote = function (v) {
      var s = v === null || v === undefined ? "" : String(v);
      return /[",\n\r;]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
    };
    var keys = headers.map(function (th) { return th.getAttribute("data-key"); });
    var names = headers.map(function (th) {
      var label = th.textContent.trim();
      return th.getAttribute("data-key") === "risk" ? label + " (%)" : label;
    });
    var value = function (r, key) {
      var v = r[col[key]];
      if (key === "risk" && typeof v === "number") {
        var text = (v * 100).toFixed(3);
        return dutch ? text.replace(".", ",") : text;
      }
      return v;
    };
    var lines = [names.map(quote).join(sep)];
    view.forEach(function (r) {
      lines.push(keys.map(function (k) { return quote(value(r, k)); }).join(sep));
    });
    var blob = new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"],
      { type: "text/csv;charset=utf-8" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "wijkradar-ranking.csv";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  });

  // Keep the filter state if the browser restored the form fields (back/forward navigation).
  state.gemeente = filterEl.value || "all";
  state.query = searchEl.value || "";
  applyFilters();
  render();
}());
