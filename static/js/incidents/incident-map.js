/* Incident detail map: the reported place (marker) and its grid cell (polygon). */
(function () {
  "use strict";
  var element = document.getElementById("incident-map");
  var dataElement = document.getElementById("incident-map-data");
  if (!element || !dataElement || typeof L === "undefined") { return; }
  var data = JSON.parse(dataElement.textContent);
  var map = L.map(element, { zoomSnap: 0.5 });
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, {
      maxZoom: 19, attribution: element.dataset.tileAttribution || ""
    }).addTo(map);
  }
  var bounds = null;
  if (data.cell) {
    var cell = L.geoJSON(data.cell, { style: { color: "#e65100", weight: 2, fillOpacity: 0.15 } }).addTo(map);
    if (data.cell_name) { cell.bindTooltip(data.cell_name, { sticky: true }); }
    bounds = cell.getBounds();
  }
  if (data.lat !== null && data.lng !== null) {
    var marker = L.marker([data.lat, data.lng]).addTo(map);
    bounds = bounds ? bounds.extend(marker.getLatLng()) : L.latLngBounds([marker.getLatLng()]);
  }
  if (bounds) {
    map.fitBounds(bounds, { padding: [16, 16], maxZoom: 17 });
  } else {
    map.setView([24.51, 117.65], 13);
  }
  element.dataset.ready = "true";
})();
