/* Room form: click the map to set the room's location (mediation/room_form.html). */
(function () {
  "use strict";
  var lat = document.getElementById("id_lat"), lng = document.getElementById("id_lng");
  var element = document.getElementById("room-location-map");
  if (!lat || !lng || !element || typeof L === "undefined") { return; }
  var start = [parseFloat(lat.value) || 24.513, parseFloat(lng.value) || 117.655];
  var map = L.map(element).setView(start, 14);
  var tiles = JSON.parse(document.getElementById("map-tile-url").textContent);
  if (tiles) { L.tileLayer(tiles, {maxZoom: 19}).addTo(map); }
  var marker = lat.value && lng.value ? L.marker(start).addTo(map) : null;
  map.on("click", function (e) {
    lat.value = e.latlng.lat.toFixed(6); lng.value = e.latlng.lng.toFixed(6);
    if (marker) { marker.setLatLng(e.latlng); } else { marker = L.marker(e.latlng).addTo(map); }
  });
})();
