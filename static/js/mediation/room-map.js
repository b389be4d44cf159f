/* Mediation rooms on the map (mediation/room_map.html); data from json_script. */
(function () {
  "use strict";
  var element = document.getElementById("room-map");
  if (!element || typeof L === "undefined") { return; }
  var points = JSON.parse(document.getElementById("room-points").textContent);
  var tiles = JSON.parse(document.getElementById("map-tile-url").textContent);
  var map = L.map(element).setView([24.513, 117.655], 12);
  if (tiles) { L.tileLayer(tiles, {maxZoom: 19}).addTo(map); }
  var bounds = [];
  points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lng], {
      radius: p.gold ? 10 : 7, color: p.active ? (p.gold ? "#b8860b" : "#1565c0") : "#9e9e9e", fillOpacity: 0.7
    }).addTo(map);
    var box = document.createElement("div");
    var title = document.createElement("strong"); title.textContent = p.name; box.appendChild(title);
    [p.type, p.level, p.address, p.hours].forEach(function (t) {
      if (t) { box.appendChild(document.createElement("br")); box.appendChild(document.createTextNode(t)); }
    });
    marker.bindPopup(box);
    marker.getElement && marker.getElement() && marker.getElement().setAttribute("data-room-id", p.id);
    bounds.push([p.lat, p.lng]);
  });
  if (bounds.length) { map.fitBounds(bounds, {padding: [30, 30], maxZoom: 15}); }
})();
