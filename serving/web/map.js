// The choropleth: GeoJSON polygons drawn as SVG paths, coloured by national risk class.
// No tiles, no library: longitude is scaled by cos(latitude) so shapes keep their proportions.
var wijkradarMap = (function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  // Classes by national rank: the top 10 % first (as in the ranking's marker).
  var CLASSES = [
    { share: 0.10, color: "#bd0026", label: "top 10 %" },
    { share: 0.25, color: "#f03b20", label: "10\u201325 %" },
    { share: 0.50, color: "#fd8d3c", label: "25\u201350 %" },
    { share: 0.75, color: "#fecc5c", label: "50\u201375 %" },
    { share: 1.00, color: "#ffffb2", label: "lowest 25 %" }
  ];
  var MISSING = "#d9d9d9";

  function classOf(rank, n) {
    if (typeof rank !== "number" || !n) { return null; }
    for (var i = 0; i < CLASSES.length; i += 1) {
      if (rank <= Math.max(1, Math.ceil(CLASSES[i].share * n))) { return CLASSES[i]; }
    }
    return CLASSES[CLASSES.length - 1];
  }

  function rings(geometry) {
    if (geometry.type === "Polygon") { return geometry.coordinates; }
    var out = [];
    geometry.coordinates.forEach(function (polygon) {
      polygon.forEach(function (ring) { out.push(ring); });
    });
    return out;
  }

  // cos(middle latitude) of all the features: the x scale that keeps shapes in proportion.
  function xScale(features) {
    var lo = Infinity;
    var hi = -Infinity;
    features.forEach(function (f) {
      rings(f.geometry).forEach(function (ring) {
        ring.forEach(function (p) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); });
      });
    });
    return isFinite(lo) ? Math.cos((lo + hi) / 2 * Math.PI / 180) : 1;
  }

  function draw(svg, data, onSelect) {
    var k = xScale(data.features);
    var box = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
    var fragment = document.createDocumentFragment();
    data.features.forEach(function (f) {
      var d = rings(f.geometry).map(function (ring) {
        return "M" + ring.map(function (p) {
          var x = p[0] * k;
          var y = -p[1];
          box.x0 = Math.min(box.x0, x); box.x1 = Math.max(box.x1, x);
          box.y0 = Math.min(box.y0, y); box.y1 = Math.max(box.y1, y);
          return x.toFixed(5) + " " + y.toFixed(5);
        }).join("L") + "Z";
      }).join("");
      var props = f.properties;
      var cls = classOf(props.rank, data.n_units);
      var path = document.createElementNS(NS, "path");
      path.setAttribute("d", d);
      path.setAttribute("class", "unit");
      path.setAttribute("fill", cls ? cls.color : MISSING);
      path.setAttribute("data-unit-code", props.unit_code);
      path.setAttribute("tabindex", "0");
      path.setAttribute("role", "link");
      var title = document.createElementNS(NS, "title");
      title.textContent = (props.unit_name || props.unit_code) + " (" + props.unit_code + "), " +
        (props.gemeente_name || "") + ": risk " + wijkradarFormat.risk(props.risk) +
        ", rank " + wijkradarFormat.number(props.rank);
      path.appendChild(title);
      path.addEventListener("click", function () { onSelect(props.unit_code); });
      path.addEventListener("keydown", function (e) {
        if (e.key === "Enter") { onSelect(props.unit_code); }
      });
      fragment.appendChild(path);
    });
    svg.replaceChildren(fragment);
    if (isFinite(box.x0)) {
      var pad = 0.02 * Math.max(box.x1 - box.x0, box.y1 - box.y0, 1e-6);
      svg.setAttribute("viewBox", [box.x0 - pad, box.y0 - pad, box.x1 - box.x0 + 2 * pad,
        box.y1 - box.y0 + 2 * pad].join(" "));
    }
    svg.setAttribute("data-units", String(data.features.length));
  }

  function legend(el) {
    var fragment = document.createDocumentFragment();
    CLASSES.concat([{ color: MISSING, label: "no risk" }]).forEach(function (c) {
      var item = document.createElement("span");
      item.className = "legend-item";
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = c.color;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(c.label));
      fragment.appendChild(item);
    });
    el.replaceChildren(fragment);
  }

  return { draw: draw, legend: legend, classOf: classOf, CLASSES: CLASSES };
}());
