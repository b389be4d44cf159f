/* Grid map: draws the cells embedded in the page (json_script) on a Leaflet map.
   Tiles only when the server configured MAP_TILE_URL; otherwise the outlines on a blank map. */
(function () {
  "use strict";
  var element = document.getElementById("grid-map");
  var dataElement = document.getElementById("grid-cells-data");
  if (!element || !dataElement || typeof L === "undefined") { return; }
  var data = JSON.parse(dataElement.textContent);
  var labels = JSON.parse(document.getElementById("grid-map-labels").textContent);

  var map = L.map(element, { zoomSnap: 0.5 });
  var tileUrl = element.dataset.tileUrl;
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: element.dataset.tileAttribution || "" }).addTo(map);
  }

  function row(list, term, value) {
    var dt = document.createElement("dt");
    dt.textContent = term;
    var dd = document.createElement("dd");
    if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = value; }
    list.appendChild(dt);
    list.appendChild(dd);
  }

  function popup(properties) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = properties.name + (properties.own ? " (" + labels.own + ")" : "");
    box.appendChild(title);
    var list = document.createElement("dl");
    row(list, labels.code, properties.code);
    row(list, labels.kind, properties.kind_label);
    row(list, labels.community, properties.community);
    if (properties.workers) {
      var workers = document.createElement("ul");
      properties.workers.forEach(function (worker) {
        var item = document.createElement("li");
        item.textContent = worker.name + " " + worker.phone + (worker.on_duty ? "" : " (" + labels.offDuty + ")");
        workers.appendChild(item);
      });
      row(list, labels.workers, properties.workers.length ? workers : labels.none);
    }
    box.appendChild(list);
    return box;
  }

  var layers = {};
  var layer = L.geoJSON(data, {
    style: function (feature) {
      var own = feature.properties.own;
      return { color: own ? "#e65100" : "#1565c0", weight: own ? 3 : 1.5, fillOpacity: own ? 0.3 : 0.12 };
    },
    onEachFeature: function (feature, featureLayer) {
      featureLayer.bindPopup(function () { return popup(feature.properties); });
      // With no tile server (an intranet without one), the names stay on the map as labels, so
      // a blank background still tells where you are.
      featureLayer.bindTooltip(feature.properties.name, tileUrl
        ? { sticky: true }
        : { permanent: true, direction: "center", className: "cell-label" });
      layers[feature.properties.code] = featureLayer;
    }
  }).addTo(map);

  if (data.features.length) {
    map.fitBounds(layer.getBounds(), { padding: [12, 12] });
  } else {
    map.setView([24.51, 117.65], 13);
  }

  document.querySelectorAll("#cell-list a.cell-link").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = layers[link.dataset.cellCode];
      if (!target) { return; }
      event.preventDefault();
      map.fitBounds(target.getBounds(), { maxZoom: 18 });
      target.openPopup();
      element.scrollIntoView({ behavior: "smooth", block: "center" });
    });
  });
  // Buildings and places of the grid's basic data (registry), for those who may see them.
  var basicDataUrl = element.dataset.basicDataUrl;
  if (basicDataUrl && window.fetch) {
    fetch(basicDataUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (geojson) {
        if (!geojson || !geojson.features || !geojson.features.length) { return; }
        var things = L.geoJSON(geojson, {
          pointToLayer: function (feature, latlng) {
            var place = feature.properties.layer === "place";
            return L.circleMarker(latlng, {
              radius: 5, weight: 1, color: place ? "#6a1b9a" : "#2e7d32",
              fillOpacity: feature.properties.is_key ? 0.9 : 0.5
            });
          },
          onEachFeature: function (feature, featureLayer) {
            featureLayer.bindTooltip(feature.properties.name);
          }
        }).addTo(map);
        element.dataset.basicData = String(geojson.features.length);
        var overlays = {};
        overlays[element.dataset.basicDataLabel || "Buildings and places"] = things;
        L.control.layers(null, overlays).addTo(map);
      });
  }
  element.dataset.ready = "true";
})();
