/* Heat map of grid cells (Leaflet): each cell coloured by incidents reported or overdue now.
   GovernanceHeatmap.create(element, geojson, labels) -> {update(geojson), colourBy(key)}.
   Tiles only when the server configured MAP_TILE_URL (data-tile-url); else a blank map. */
(function () {
  "use strict";
  var COLOURS = ["#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026"];

  function colour(value, max) {
    if (!value) { return "#e0e0e0"; }
    var index = Math.min(COLOURS.length - 1, Math.floor((value / Math.max(max, 1)) * COLOURS.length - 1e-9));
    return COLOURS[Math.max(0, index)];
  }

  function create(element, data, labels, legend) {
    if (!element || typeof L === "undefined") { return null; }
    data = data && data.features ? data : { type: "FeatureCollection", features: [] };
    var map = L.map(element, { zoomSnap: 0.5 });
    if (element.dataset.tileUrl) {
      L.tileLayer(element.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
    }
    var key = "reported";
    var layer = null;
    var current = data;

    function maximum() {
      var max = 0;
      current.features.forEach(function (f) { max = Math.max(max, f.properties[key] || 0); });
      return max;
    }

    function drawLegend(max) {
      if (!legend) { return; }
      legend.textContent = "";
      var steps = [["#e0e0e0", 0]];
      COLOURS.forEach(function (c, i) {
        var bound = Math.ceil(((i + 1) / COLOURS.length) * max);
        if (bound > steps[steps.length - 1][1]) { steps.push([c, bound]); }
      });
      steps.forEach(function (step) {
        var swatch = document.createElement("i");
        swatch.style.background = step[0];
        legend.appendChild(swatch);
        legend.appendChild(document.createTextNode("≤" + step[1] + " "));
      });
    }

    function popup(p) {
      var box = document.createElement("div");
      var title = document.createElement("strong");
      title.textContent = p.name + " (" + p.community + ")";
      box.appendChild(title);
      [[labels.reported, p.reported, p.url], [labels.overdue, p.overdue, p.overdue_url]].forEach(function (row) {
        var line = document.createElement("div");
        line.appendChild(document.createTextNode(row[0] + ": "));
        var link = document.createElement("a");
        link.href = row[2];
        link.textContent = row[1];
        line.appendChild(link);
        box.appendChild(line);
      });
      return box;
    }

    function draw(fit) {
      if (layer) { map.removeLayer(layer); }
      var max = maximum();
      layer = L.geoJSON(current, {
        style: function (feature) {
          var value = feature.properties[key] || 0;
          return { color: "#555", weight: 1, fillColor: colour(value, max), fillOpacity: value ? 0.75 : 0.25 };
        },
        onEachFeature: function (feature, featureLayer) {
          featureLayer.bindPopup(function () { return popup(feature.properties); });
          featureLayer.bindTooltip(feature.properties.name + ": " + (feature.properties[key] || 0), { sticky: true });
        }
      }).addTo(map);
      if (fit) {
        if (current.features.length) {
          map.fitBounds(layer.getBounds(), { padding: [10, 10] });
        } else {
          map.setView([24.51, 117.65], 12);
        }
      }
      drawLegend(max);
      element.dataset.ready = "true";
      element.dataset.colourBy = key;
    }

    draw(true);
    return {
      update: function (geojson) { current = geojson; draw(false); },
      colourBy: function (newKey) { key = newKey; draw(false); },
      map: map
    };
  }

  window.GovernanceHeatmap = { create: create, colour: colour };
})();
