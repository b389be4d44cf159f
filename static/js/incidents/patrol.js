/* Patrol page: the track on a map; on the worker's open patrol, the phone's position is
   watched and the latest fix is sent every ~30 s (kept and re-sent when the network fails;
   the server ignores a repeated time). */
(function () {
  "use strict";
  var element = document.getElementById("patrol-map");
  var dataElement = document.getElementById("patrol-map-data");
  if (!element || !dataElement || typeof L === "undefined") { return; }
  var data = JSON.parse(dataElement.textContent);
  var map = L.map(element, { zoomSnap: 0.5 });
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, {
      maxZoom: 19, attribution: element.dataset.tileAttribution || ""
    }).addTo(map);
  }
  var bounds = null;
  (data.cells || []).forEach(function (cell) {
    var layer = L.geoJSON(cell.geometry, { style: { color: "#e65100", weight: 1, fillOpacity: 0.08 } }).addTo(map);
    layer.bindTooltip(cell.name, { sticky: true });
    bounds = bounds ? bounds.extend(layer.getBounds()) : layer.getBounds();
  });
  var line = L.polyline(data.track || [], { color: "#1565c0", weight: 4 }).addTo(map);
  var here = null;
  function fit() {
    var b = bounds;
    if (line.getLatLngs().length) { b = b ? L.latLngBounds(b).extend(line.getBounds()) : line.getBounds(); }
    if (b) { map.fitBounds(b, { padding: [16, 16], maxZoom: 17 }); } else { map.setView([24.51, 117.65], 13); }
  }
  fit();
  element.dataset.ready = "true";

  var url = element.dataset.pointsUrl;
  if (!url) { return; }
  var status = document.getElementById("patrol-gps-status");
  var csrf = document.querySelector("#patrol-end-form input[name=csrfmiddlewaretoken]");
  var every = (parseInt(element.dataset.recordSeconds, 10) || 30) * 1000;
  var latest = null, lastSent = null, pending = [], sending = false;

  function say(text) { if (status) { status.textContent = text; } }

  function show(track, distance) {
    line.setLatLngs(track);
    var d = document.getElementById("patrol-distance");
    if (d) { d.textContent = (distance / 1000).toFixed(2); }
    var c = document.getElementById("patrol-point-count");
    if (c) { c.textContent = String(track.length); }
  }

  function send() {
    if (sending || !pending.length) { return; }
    sending = true;
    var batch = pending.slice(0, 200);
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      body: JSON.stringify({ points: batch })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, status: response.status, body: body }; });
    }).then(function (result) {
      if (result.ok) {
        pending = pending.slice(batch.length);
        show(result.body.track, result.body.distance_m);
        say(element.dataset.savedText || "");
      } else if (result.status === 400 || result.status === 409) {
        pending = pending.slice(batch.length);  // refused for good: do not send it again
        say(result.body.detail || "");
      }
    }).catch(function () { /* offline: keep the points and try again */ })
      .then(function () { sending = false; });
  }

  function tick() {
    if (latest && latest !== lastSent) {
      pending.push([latest.lat, latest.lng, new Date(latest.time).toISOString()]);
      lastSent = latest;
    }
    send();
  }

  if (navigator.geolocation && navigator.geolocation.watchPosition) {
    navigator.geolocation.watchPosition(function (position) {
      latest = { lat: position.coords.latitude, lng: position.coords.longitude, time: position.timestamp || Date.now() };
      if (!here) { here = L.circleMarker([latest.lat, latest.lng], { radius: 6 }).addTo(map); }
      here.setLatLng([latest.lat, latest.lng]);
      say("");
      if (!lastSent) { tick(); }  // the first fix at once
    }, function (error) {
      say(error.message || "");
    }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 });
    window.setInterval(tick, every);
  }

  var use = document.getElementById("patrol-use-position");
  if (use) {
    use.addEventListener("click", function () {
      var fill = function (lat, lng) {
        var a = document.getElementById("id_lat"), b = document.getElementById("id_lng");
        if (a) { a.value = lat.toFixed(6); }
        if (b) { b.value = lng.toFixed(6); }
      };
      if (latest) { fill(latest.lat, latest.lng); return; }
      if (navigator.geolocation) {
        navigator.geolocation.getCurrentPosition(function (p) { fill(p.coords.latitude, p.coords.longitude); });
      }
    });
  }
  map.on("click", function (event) {
    var a = document.getElementById("id_lat"), b = document.getElementById("id_lng");
    if (a && b && document.getElementById("patrol-add-point").open) {
      a.value = event.latlng.lat.toFixed(6);
      b.value = event.latlng.lng.toFixed(6);
    }
  });
})();
