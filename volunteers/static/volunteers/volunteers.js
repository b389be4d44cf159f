/* Volunteers' pages: the task area / coverage on a map, the route drawn by clicking, and the
   phone's GPS position put into the check-in, check-out and hazard forms (a form whose position
   is missing is refused by the server with a clear message). While checked in, the latest fix
   is sent every ~30 s to the claim's track. */
(function () {
  "use strict";
  function tiles(map, element) {
    if (element.dataset.tileUrl) {
      L.tileLayer(element.dataset.tileUrl, { maxZoom: 19, attribution: element.dataset.tileAttribution || "" }).addTo(map);
    }
  }
  function fit(map, layers) {
    var bounds = null;
    layers.forEach(function (layer) {
      if (layer && layer.getBounds && layer.getBounds().isValid()) {
        bounds = bounds ? bounds.extend(layer.getBounds()) : L.latLngBounds(layer.getBounds().getSouthWest(), layer.getBounds().getNorthEast());
      }
    });
    if (bounds) { map.fitBounds(bounds, { padding: [16, 16], maxZoom: 17 }); } else { map.setView([24.51, 117.65], 13); }
  }
  function routeLatLngs(route) {
    return route && route.coordinates ? route.coordinates.map(function (p) { return [p[1], p[0]]; }) : [];
  }

  if (typeof L !== "undefined") {
    ["task-map", "claim-map"].forEach(function (id) {
      var element = document.getElementById(id);
      var dataElement = document.getElementById("volunteers-map-data");
      if (!element || !dataElement) { return; }
      var data = JSON.parse(dataElement.textContent);
      var map = L.map(element).setView([24.51, 117.65], 13);  // loaded before layers are drawn
      tiles(map, element);
      var layers = (data.cells || []).map(function (g) {
        return L.geoJSON(g, { style: { color: "#e65100", weight: 1, fillOpacity: 0.08 } }).addTo(map);
      });
      var route = routeLatLngs(data.route);
      if (route.length) { layers.push(L.polyline(route, { color: "#6a1b9a", weight: 4 }).addTo(map)); }
      var track = (data.track || []).map(function (p) { return [p[0], p[1]]; });
      if (track.length > 1) { layers.push(L.polyline(track, { color: "#1565c0", weight: 3 }).addTo(map)); }
      if (track.length) { L.circleMarker(track[track.length - 1], { radius: 6 }).addTo(map); }
      fit(map, layers);
      element.dataset.ready = "true";
    });

    var coverage = document.getElementById("coverage-map");
    var coverageData = document.getElementById("coverage-map-data");
    if (coverage && coverageData) {
      var cmap = L.map(coverage).setView([24.51, 117.65], 13);
      tiles(cmap, coverage);
      var colours = { "24h": "#2e7d32", "7d": "#f9a825", none: "#c62828" };
      var layer = L.geoJSON(JSON.parse(coverageData.textContent), {
        style: function (f) { return { color: colours[f.properties.patrolled], weight: 1, fillOpacity: 0.3 }; },
        onEachFeature: function (f, l) { l.bindTooltip(f.properties.name); }
      }).addTo(cmap);
      fit(cmap, [layer]);
    }

    var draw = document.getElementById("route-map");
    if (draw) {
      var input = document.getElementById(draw.dataset.routeInput);
      var dmap = L.map(draw);
      tiles(dmap, draw);
      dmap.setView([24.51, 117.65], 14);
      var points = [];
      if (input && input.value) {
        try { points = routeLatLngs(JSON.parse(input.value)); } catch (e) { points = []; }
      }
      var line = L.polyline(points, { color: "#6a1b9a", weight: 4 }).addTo(dmap);
      var save = function () {
        if (!input) { return; }
        input.value = points.length >= 2 ? JSON.stringify({ type: "LineString", coordinates: points.map(function (p) { return [p[1], p[0]]; }) }) : "";
      };
      dmap.on("click", function (event) {
        points.push([event.latlng.lat, event.latlng.lng]);
        line.setLatLngs(points);
        save();
      });
      var clear = document.getElementById("route-clear");
      if (clear) { clear.addEventListener("click", function () { points = []; line.setLatLngs(points); save(); }); }
    }
  }

  var status = document.getElementById("gps-status");
  var latest = null;
  function say(text) { if (status) { status.textContent = text; } }
  function manual() {
    var lat = document.querySelector("#position-fields input[name=lat]");
    var lng = document.querySelector("#position-fields input[name=lng]");
    return lat && lng && lat.value && lng.value ? { lat: lat.value, lng: lng.value } : null;
  }
  function fill(form, position) {
    ["lat", "lng"].forEach(function (name) {
      var field = form.querySelector("input[name=" + name + "]");
      if (field && !field.value && position) { field.value = position[name]; }
    });
  }
  if (navigator.geolocation && document.querySelector(".gps-form")) {
    navigator.geolocation.watchPosition(function (p) {
      latest = { lat: p.coords.latitude.toFixed(7), lng: p.coords.longitude.toFixed(7), time: Date.now() };
      say("GPS ✓ " + latest.lat + ", " + latest.lng);
    }, function () { say("GPS ✗"); }, { enableHighAccuracy: true, maximumAge: 10000 });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".gps-form"), function (form) {
    form.addEventListener("submit", function () { fill(form, manual() || latest); });
  });

  var claimMap = document.getElementById("claim-map");
  var trackUrl = claimMap && claimMap.dataset.trackUrl;
  if (trackUrl) {
    var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
    var sent = null;
    setInterval(function () {
      if (!latest || latest === sent) { return; }
      var fix = latest;
      fetch(trackUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
        body: JSON.stringify({ points: [[Number(fix.lat), Number(fix.lng), fix.time]] })
      }).then(function () { sent = fix; }, function () {});
    }, 30000);
  }
})();
