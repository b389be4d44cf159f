/* The place of a proposal: tap the map to drop a pin (vendored Leaflet). The pin fills the
   hidden lat/lng fields. No tiles unless the server set MAP_TILE_URL: the community's outline
   (embedded in the page) gives the bearings. */
(function () {
  "use strict";
  var element = document.getElementById("place-map");
  if (!element || typeof L === "undefined") { return; }
  var lat = document.getElementById(element.dataset.latInput);
  var lng = document.getElementById(element.dataset.lngInput);
  var shown = document.getElementById("pin-coordinates");
  var map = L.map(element, { zoomControl: true });
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, { maxZoom: 19, attribution: element.dataset.tileAttribution || "" }).addTo(map);
  }
  var boundary = null;
  var source = document.getElementById("boundary-json");
  if (source) {
    try { boundary = JSON.parse(source.textContent); } catch (e) { boundary = null; }
  }
  if (boundary) {
    var layer = L.geoJSON(boundary, { style: { weight: 2, fillOpacity: 0.05 } }).addTo(map);
    map.fitBounds(layer.getBounds());
  } else {
    map.setView([24.51, 117.65], 13);
  }
  var marker = null;
  function place(latlng) {
    if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
    lat.value = latlng.lat.toFixed(6);
    lng.value = latlng.lng.toFixed(6);
    if (shown) { shown.textContent = lat.value + ", " + lng.value; }
  }
  if (lat.value && lng.value) { place(L.latLng(parseFloat(lat.value), parseFloat(lng.value))); }
  map.on("click", function (event) { place(event.latlng); });
})();
