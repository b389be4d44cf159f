// registry: fill the latitude/longitude fields from the phone's GPS ("Use my location").
(function () {
  "use strict";
  var button = document.getElementById("use-my-location");
  if (!button || !navigator.geolocation) {
    return;
  }
  var status = document.getElementById("gps-status");
  button.addEventListener("click", function () {
    if (status) { status.textContent = "…"; }
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var lat = document.getElementById(button.dataset.lat);
        var lng = document.getElementById(button.dataset.lng);
        var accuracy = button.dataset.accuracy && document.getElementById(button.dataset.accuracy);
        if (lat) { lat.value = position.coords.latitude.toFixed(6); }
        if (lng) { lng.value = position.coords.longitude.toFixed(6); }
        if (accuracy) { accuracy.value = Math.round(position.coords.accuracy); }
        if (status) { status.textContent = position.coords.latitude.toFixed(5) + ", " + position.coords.longitude.toFixed(5); }
      },
      function () {
        if (status) { status.textContent = "×"; }
      },
      { enableHighAccuracy: true, timeout: 10000 }
    );
  });
})();
