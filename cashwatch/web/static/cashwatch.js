// cashwatch: the little JavaScript of the pages (no inline scripts: the CSP forbids them).
(function () {
  "use strict";
  function colourDots(root) {
    root.querySelectorAll("[data-colour]").forEach(function (el) {
      if (el.tagName !== "DIV") el.style.background = el.getAttribute("data-colour");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    colourDots(document);
    document.querySelectorAll("form.confirm").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.getAttribute("data-confirm") || "Sure?")) ev.preventDefault();
      });
    });
    // remember the analyst's name between forms
    var by = document.querySelectorAll("input[name=by]");
    by.forEach(function (input) {
      if (!input.value) input.value = localStorage.getItem("cashwatch.analyst") || "";
      input.addEventListener("change", function () { localStorage.setItem("cashwatch.analyst", input.value); });
    });
    var map = document.getElementById("map");
    if (map) drawMap(map);
  });

  // ---------------------------------------------------------------- the map (Web Mercator, SVG)
  var SVG = "http://www.w3.org/2000/svg";
  function project(lon, lat) {
    var s = Math.sin(Math.max(-85, Math.min(85, lat)) * Math.PI / 180);
    return [(lon + 180) / 360 * 256, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 256];
  }
  function el(name, attrs) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function ringPath(ring) {
    return ring.map(function (p, i) { var xy = project(p[0], p[1]); return (i ? "L" : "M") + xy[0].toFixed(4) + " " + xy[1].toFixed(4); }).join("") + "Z";
  }

  function drawMap(box) {
    var colours = JSON.parse(box.getAttribute("data-colours") || "{}");
    var tiles = box.getAttribute("data-tiles");
    var status = document.getElementById("map-status");
    var svg = el("svg", {"role": "img", "aria-label": "map of incidents"});
    var tileLayer = el("g", {"class": "tiles"}), land = el("g", {}), points = el("g", {"class": "points"});
    svg.appendChild(tileLayer); svg.appendChild(land); svg.appendChild(points);
    box.appendChild(svg);
    if (tiles) box.classList.add("tiled");
    var a = project(-11, 61.2), b = project(2.6, 49.6);
    var home = {x: a[0], y: a[1], w: b[0] - a[0], h: b[1] - a[1]};
    var view = Object.assign({}, home);
    var focus = new URLSearchParams(location.search).get("focus");

    function pxPerUnit() { var r = svg.getBoundingClientRect(); return Math.min(r.width / view.w, r.height / view.h) || 1; }
    function apply() {
      svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
      var rad = 5 / pxPerUnit();
      points.querySelectorAll("circle").forEach(function (c) { c.setAttribute("r", rad); });
      if (tiles) drawTiles();
    }
    function drawTiles() {
      var z = Math.max(0, Math.min(18, Math.round(Math.log2(pxPerUnit()))));
      var n = Math.pow(2, z), size = 256 / n;
      while (tileLayer.firstChild) tileLayer.removeChild(tileLayer.firstChild);
      var x0 = Math.floor(view.x / size), x1 = Math.floor((view.x + view.w) / size);
      var y0 = Math.max(0, Math.floor(view.y / size)), y1 = Math.min(n - 1, Math.floor((view.y + view.h) / size));
      if ((x1 - x0 + 1) * (y1 - y0 + 1) > 200) return;
      for (var x = x0; x <= x1; x++) for (var y = y0; y <= y1; y++) {
        var url = tiles.replace("{z}", z).replace("{x}", ((x % n) + n) % n).replace("{y}", y);
        var img = el("image", {x: x * size, y: y * size, width: size, height: size});
        img.setAttribute("href", url);
        tileLayer.appendChild(img);
      }
    }
    function zoom(f, cx, cy) {
      if (cx === undefined) { cx = view.x + view.w / 2; cy = view.y + view.h / 2; }
      var w = Math.max(0.002, Math.min(home.w * 4, view.w / f)), k = w / view.w;
      view = {x: cx - (cx - view.x) * k, y: cy - (cy - view.y) * k, w: w, h: view.h * k};
      apply();
    }
    function toWorld(ev) {
      var r = svg.getBoundingClientRect(), s = pxPerUnit();
      var ox = (r.width - view.w * s) / 2, oy = (r.height - view.h * s) / 2;
      return [view.x + (ev.clientX - r.left - ox) / s, view.y + (ev.clientY - r.top - oy) / s];
    }
    svg.addEventListener("wheel", function (ev) { ev.preventDefault(); var p = toWorld(ev); zoom(ev.deltaY < 0 ? 1.4 : 1 / 1.4, p[0], p[1]); }, {passive: false});
    var drag = null;
    svg.addEventListener("pointerdown", function (ev) { if (ev.target.tagName === "circle") return; drag = {x: ev.clientX, y: ev.clientY, v: Object.assign({}, view)}; });
    window.addEventListener("pointermove", function (ev) {
      if (!drag) return; var s = pxPerUnit();
      view.x = drag.v.x - (ev.clientX - drag.x) / s; view.y = drag.v.y - (ev.clientY - drag.y) / s; apply();
    });
    window.addEventListener("pointerup", function () { drag = null; });
    document.getElementById("zoom-in").addEventListener("click", function () { zoom(2); });
    document.getElementById("zoom-out").addEventListener("click", function () { zoom(0.5); });
    document.getElementById("zoom-reset").addEventListener("click", function () { view = Object.assign({}, home); apply(); });
    window.addEventListener("resize", apply);
    apply();

    fetch(box.getAttribute("data-outline")).then(function (r) { return r.json(); }).then(function (geo) {
      geo.features.forEach(function (f) {
        var d = f.geometry.coordinates.map(function (poly) { return poly.map(ringPath).join(""); }).join("");
        land.appendChild(el("path", {"class": "land", d: d, "fill-rule": "evenodd"}));
      });
    });
    fetch(box.getAttribute("data-points"), {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (geo) {
      var shown = 0, unplaced = 0;
      geo.features.forEach(function (f) {
        if (!f.geometry) { unplaced++; return; }
        var xy = project(f.geometry.coordinates[0], f.geometry.coordinates[1]), p = f.properties;
        var c = el("circle", {"class": "point", cx: xy[0], cy: xy[1], r: 5 / pxPerUnit(), "data-id": f.id, "data-type": p.type});
        c.style.fill = colours[p.type] || "#777";
        var t = el("title", {});
        t.textContent = (p.date || "") + " " + p.type_label + (p.attempted ? " (attempted)" : "") + " — " + (p.town || "?") + ", " + (p.force_name || p.force || "?");
        c.appendChild(t);
        c.addEventListener("click", function () { location.href = "/incidents/" + encodeURIComponent(f.id); });
        points.appendChild(c);
        shown++;
        if (focus && f.id === focus) { view = {x: xy[0] - 0.15, y: xy[1] - 0.1, w: 0.3, h: 0.2}; }
      });
      status.textContent = shown + " incident" + (shown === 1 ? "" : "s") + " on the map" + (unplaced ? ", " + unplaced + " without a place" : "");
      box.setAttribute("data-loaded", String(shown));
      apply();
    });
  }
})();
