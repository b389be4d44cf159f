/* 办理公开: the public results on a map (only those whose place may be shown). */
(function () {
  "use strict";
  var element = document.getElementById("results-map");
  var data = document.getElementById("results-points");
  if (!element || !data || typeof L === "undefined") { return; }
  var points = JSON.parse(data.textContent);
  if (!points.length) { return; }
  var map = L.map(element);
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, { maxZoom: 19, attribution: element.dataset.tileAttribution || "" }).addTo(map);
  }
  var layer = L.featureGroup(points.map(function (p) {
    return L.circleMarker([p.lat, p.lng], { radius: 6 }).bindTooltip(p.label);
  })).addTo(map);
  map.fitBounds(layer.getBounds(), { padding: [12, 12], maxZoom: 16 });
})();
