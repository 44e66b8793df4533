// The map: the /api/map topology (TopoJSON) turned into GeoJSON by topojson-client and drawn
// with d3-geo (Mercator, fitted to the units shown); d3-zoom for zoom and pan; gemeente
// borders and names on top; a hover card; colour by risk band, Leefbarometer score or last
// change, with a legend that names its classes. No tiles: the workspace's own boundaries.
var wijkradarMap = (function () {
  "use strict";
  var MISSING = "#d9d9d9";
  var LBM_COLOURS = ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"];
  var CHANGE_COLOURS = ["#b2182b", "#ef8a62", "#f7f7f7", "#67a9cf", "#2166ac"];
  var t = wijkradarTexts.t;
  var fmt = wijkradarFormat;

  function classes(data, colouring) {
    var u = data.units;
    if (colouring === "lbm") {
      var values = u.lbm.filter(function (v) { return v !== null; }).sort(d3.ascending);
      var cuts = [0.2, 0.4, 0.6, 0.8].map(function (q) { return d3.quantileSorted(values, q); });
      var names = ["lbm_lowest", "lbm_low", "lbm_mid", "lbm_high", "lbm_highest"];
      var bounds = [values[0]].concat(cuts, [values[values.length - 1]]);
      return {
        of: function (i) {
          var v = u.lbm[i];
          return v === null || !values.length ? null : Math.min(d3.bisectRight(cuts, v), 4);
        },
        items: names.map(function (name, k) {
          return { colour: LBM_COLOURS[k], label: t(name) + " (" + fmt.decimal(bounds[k], 2) +
            "\u2013" + fmt.decimal(bounds[k + 1], 2) + ")" };
        })
      };
    }
    if (colouring === "change") {
      var delta = data.delta || 0.05;
      var text = { delta: fmt.decimal(delta, 2) };
      return {
        of: function (i) {  // a fall of at least delta (the label's) is the first class
          var v = u.lbm_change[i];
          if (v === null) { return null; }
          if (v <= -delta) { return 0; }
          if (v < -delta / 5) { return 1; }
          if (v <= delta / 5) { return 2; }
          return v < delta ? 3 : 4;
        },
        items: ["chg_down_big", "chg_down", "chg_same", "chg_up", "chg_up_big"].map(
          function (name, k) { return { colour: CHANGE_COLOURS[k], label: t(name, text) }; })
      };
    }
    var keys = data.bands.map(function (b) { return b.key; });
    return {
      of: function (i) { var k = keys.indexOf(u.band[i]); return k < 0 ? null : k; },
      items: data.bands.map(function (b) { return { colour: b.colour, label: b.description }; })
    };
  }

  function legend(el, scheme) {
    var fragment = document.createDocumentFragment();
    scheme.items.concat([{ colour: MISSING, label: t("no_value") }]).forEach(function (c) {
      var item = document.createElement("span");
      item.className = "legend-item";
      item.setAttribute("role", "listitem");
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = c.colour;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(c.label));
      fragment.appendChild(item);
    });
    el.replaceChildren(fragment);
  }

  function cardLines(data, i) {
    var u = data.units;
    var band = data.bands.filter(function (b) { return b.key === u.band[i]; })[0];
    var driver = u.top_driver[i] === null ? null : data.driver_labels[u.top_driver[i]];
    var gemeente = data.gemeenten.gemeente_name[
      data.gemeenten.gemeente_code.indexOf(u.gemeente_code[i])] || u.gemeente_code[i];
    return [
      [null, u.unit_name[i] || u.unit_code[i]],
      [null, gemeente || ""],
      [t("risk"), fmt.risk(u.risk[i]) + (band ? " \u00b7 " + band.label : "")],
      [t("lbm"), u.lbm[i] === null ? fmt.DASH : fmt.decimal(u.lbm[i], 3)],
      [t("change"), u.lbm_change[i] === null ? fmt.DASH : fmt.decimal(u.lbm_change[i], 3)],
      [t("top_driver"), driver || fmt.DASH]
    ];
  }

  function fillCard(card, lines) {
    var fragment = document.createDocumentFragment();
    lines.forEach(function (line, k) {
      var p = document.createElement(k === 0 ? "strong" : "div");
      p.textContent = line[0] ? line[0] + ": " + line[1] : line[1];
      fragment.appendChild(p);
    });
    card.replaceChildren(fragment);
  }

  // Draws ``data`` into ``svg``; returns the controls of the drawn map.
  function draw(svg, card, legendEl, data, colouring, onSelect) {
    var box = svg.getBoundingClientRect();
    var width = box.width || 900;
    var height = box.height || 700;
    var units = topojson.feature(data.topology, data.topology.objects.units);
    var outlines = topojson.feature(data.topology, data.topology.objects.gemeenten);
    var row = {};
    data.units.unit_code.forEach(function (code, i) { row[code] = i; });
    var projection = d3.geoMercator().fitExtent([[12, 12], [width - 12, height - 12]], units);
    var path = d3.geoPath(projection);
    var root = d3.select(svg).attr("viewBox", [0, 0, width, height].join(" "));
    root.selectAll("*").remove();
    var layer = root.append("g").attr("class", "zoom-layer");
    var scheme = classes(data, colouring);
    var cells = layer.append("g").attr("class", "units").selectAll("path")
      .data(units.features).join("path")
      .attr("class", "unit")
      .attr("d", path)
      .attr("data-unit-code", function (f) { return f.id; })
      .attr("data-band", function (f) { return data.units.band[row[f.id]] || ""; })
      .attr("tabindex", 0)
      .attr("role", "link")
      .attr("aria-label", function (f) { return data.units.unit_name[row[f.id]] || f.id; });
    function paint(s) {
      cells.attr("fill", function (f) {
        var k = s.of(row[f.id]);
        return k === null ? MISSING : s.items[k].colour;
      });
      legend(legendEl, s);
    }
    paint(scheme);
    layer.append("g").attr("class", "outlines").selectAll("path")
      .data(outlines.features).join("path")
      .attr("class", "gemeente")
      .attr("data-gemeente-code", function (f) { return f.id; })
      .attr("d", path);
    var g = data.gemeenten;
    var labels = layer.append("g").attr("class", "labels").selectAll("text")
      .data(g.gemeente_code.map(function (code, i) {
        var feature = outlines.features.filter(function (f) { return f.id === code; })[0];
        var b = feature ? path.bounds(feature) : [[0, 0], [0, 0]];
        var at = projection(g.label[i]);
        return { code: code, name: g.gemeente_name[i] || code, x: at[0], y: at[1],
          size: Math.max(b[1][0] - b[0][0], b[1][1] - b[0][1]) };
      })).join("text")
      .attr("class", "gemeente-label")
      .attr("data-gemeente-code", function (d) { return d.code; })
      .attr("x", function (d) { return d.x; })
      .attr("y", function (d) { return d.y; })
      .attr("text-anchor", "middle")
      .text(function (d) { return d.name; });

    function placeLabels(k) {
      labels.attr("font-size", 12 / k)
        .attr("stroke-width", 3 / k)
        .attr("display", function (d) {
          return d.size * k >= 6 * d.name.length + 20 ? null : "none";
        });
    }
    var zoom = d3.zoom().scaleExtent([1, 60])
      .translateExtent([[-width, -height], [2 * width, 2 * height]])
      .on("zoom", function (event) {
        layer.attr("transform", event.transform);
        placeLabels(event.transform.k);
        svg.setAttribute("data-zoom", event.transform.k.toFixed(3));
        svg.setAttribute("data-pan", event.transform.x.toFixed(1) + "," +
          event.transform.y.toFixed(1));
      });
    root.call(zoom).on("dblclick.zoom", null);
    placeLabels(1);
    svg.setAttribute("data-zoom", "1.000");
    svg.setAttribute("data-pan", "0.0,0.0");

    var wrap = svg.parentNode;
    cells.on("pointermove", function (event, f) {
      fillCard(card, cardLines(data, row[f.id]));
      card.setAttribute("data-unit-code", f.id);
      var at = d3.pointer(event, wrap);
      card.style.left = Math.min(at[0] + 14, wrap.clientWidth - 260) + "px";
      card.style.top = Math.max(at[1] - 10, 0) + "px";
      card.hidden = false;
    }).on("pointerleave", function () { card.hidden = true; })
      .on("click", function (event, f) { onSelect(f.id); })
      .on("keydown", function (event, f) { if (event.key === "Enter") { onSelect(f.id); } });
    svg.setAttribute("data-units", String(units.features.length));
    svg.setAttribute("data-gemeenten", String(outlines.features.length));
    return {
      colour: function (key) { scheme = classes(data, key); paint(scheme); },
      zoomBy: function (k) { root.transition().duration(0).call(zoom.scaleBy, k); },
      reset: function () { root.call(zoom.transform, d3.zoomIdentity); }
    };
  }

  return { draw: draw, classes: classes, MISSING: MISSING };
}());
