/* Report form map: tap the map to drop (or move) a pin, drag it, or "use my location"
   (navigator.geolocation). The pin fills the hidden lat/lng fields. No tiles unless the server
   set MAP_TILE_URL: then the grid cells' outlines (embedded in the page) give the bearings. */
(function () {
  "use strict";
  var element = document.getElementById("report-map");
  if (!element || typeof L === "undefined") { return; }
  var latInput = document.getElementById(element.dataset.latInput);
  var lngInput = document.getElementById(element.dataset.lngInput);
  var status = document.getElementById("map-status");
  var coordinates = document.getElementById("pin-coordinates");
  var labels = JSON.parse(document.getElementById("report-map-labels").textContent);
  var cells = JSON.parse(document.getElementById("report-map-cells").textContent);

  var map = L.map(element, { zoomSnap: 0.5 });
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, {
      maxZoom: 19, attribution: element.dataset.tileAttribution || ""
    }).addTo(map);
  }
  var outlines = L.geoJSON(cells, {
    style: function () { return { color: "#1565c0", weight: 1, fillOpacity: 0.06 }; },
    onEachFeature: function (feature, layer) { layer.bindTooltip(feature.properties.name, { sticky: true }); }
  }).addTo(map);
  if (cells.features && cells.features.length) {
    map.fitBounds(outlines.getBounds(), { padding: [8, 8] });
  } else {
    map.setView([24.51, 117.65], 14);
  }

  var marker = null;
  function say(text) { if (status) { status.textContent = text; } }
  function place(latlng, message) {
    var lat = Math.round(latlng.lat * 1e7) / 1e7;
    var lng = Math.round(latlng.lng * 1e7) / 1e7;
    if (!marker) {
      marker = L.marker([lat, lng], { draggable: true, keyboard: true }).addTo(map);
      marker.on("dragend", function () { place(marker.getLatLng(), labels.pinned); });
    } else {
      marker.setLatLng([lat, lng]);
    }
    latInput.value = lat;
    lngInput.value = lng;
    if (coordinates) { coordinates.textContent = lat.toFixed(5) + ", " + lng.toFixed(5); }
    element.dataset.pinned = "true";
    say(message);
  }

  // A pin posted back with the form (an error elsewhere) is shown again.
  if (latInput.value && lngInput.value) {
    place(L.latLng(parseFloat(latInput.value), parseFloat(lngInput.value)), labels.pinned);
    map.setView(marker.getLatLng(), Math.max(map.getZoom(), 16));
  }
  map.on("click", function (event) { place(event.latlng, labels.pinned); });
  // Features from the outline layer swallow clicks: forward them to the map.
  outlines.on("click", function (event) { place(event.latlng, labels.pinned); });

  var locate = document.getElementById("use-my-location");
  if (locate) {
    if (!("geolocation" in navigator)) {
      locate.disabled = true;
    }
    locate.addEventListener("click", function () {
      say(labels.locating);
      navigator.geolocation.getCurrentPosition(function (position) {
        var latlng = L.latLng(position.coords.latitude, position.coords.longitude);
        place(latlng, labels.located);
        map.setView(latlng, Math.max(map.getZoom(), 16));
      }, function () {
        say(labels.unavailable);
      }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }
  element.dataset.ready = "true";
})();
