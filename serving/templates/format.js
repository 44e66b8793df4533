// Shared by the static report and the analysts' page: how a ranking row is shown.
// Cells are filled with textContent only, so no data is ever parsed as HTML.
var wijkradarFormat = (function () {
  "use strict";
  var DASH = "\u2013";
  var locale = "nl-NL";  // the page sets "en-GB" for ?lang=en (setLang)
  var grouped = new Intl.NumberFormat(locale);

  function missing(value) { return value === null || value === undefined; }

  function setLang(lang) {
    locale = lang === "en" ? "en-GB" : "nl-NL";
    grouped = new Intl.NumberFormat(locale);
  }

  // A number with a fixed count of decimals, in the page's locale (1.234,5 / 1,234.5).
  function decimal(value, decimals) {
    if (missing(value)) { return DASH; }
    return new Intl.NumberFormat(locale, {
      minimumFractionDigits: decimals, maximumFractionDigits: decimals
    }).format(value).replace("-", "\u2212");
  }

  // A share as a percentage with one decimal: 0.997 -> "99,7%".
  function risk(value) {
    if (missing(value)) { return DASH; }
    return decimal(value * 100, 1) + "%";
  }

  function number(value) { return missing(value) ? DASH : grouped.format(value); }

  function cell(tr, text, className) {
    var td = document.createElement("td");
    td.textContent = missing(text) ? DASH : String(text);
    if (className) { td.className = className; }
    tr.appendChild(td);
    return td;
  }

  // The risk cell: a bar 0..40 px wide and the percentage.
  function riskCell(tr, value) {
    var td = cell(tr, risk(value), "num risk");
    if (typeof value === "number") {
      var bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = Math.round(Math.max(0, Math.min(1, value)) * 40) + "px";
      td.insertBefore(bar, td.firstChild);
    }
    return td;
  }

  // Sets aria-sort on the header cell of the sorted column and clears it on the others.
  function markSorted(headers, key, dir) {
    headers.forEach(function (th) {
      if (th.getAttribute("data-key") === key) {
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
  }

  function pageInfo(start, shown, total, all, page, pages) {
    var range = total === 0 ? "0" : number(start + 1) + DASH + number(start + shown);
    return range + " of " + number(total) + " units" +
      (total !== all ? " (of " + number(all) + ")" : "") + " \u00b7 page " + page + "/" + pages;
  }

  return {
    DASH: DASH, risk: risk, number: number, decimal: decimal, cell: cell, riskCell: riskCell,
    markSorted: markSorted, pageInfo: pageInfo, setLang: setLang,
    locale: function () { return locale; }
  };
}());
