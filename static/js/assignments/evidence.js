// Evidence on the phone (assignments/assignment.html): the addressee's signature drawn on a
// canvas (finger, pen or mouse; pointer events) and written as a PNG data URL into the hidden
// input on submit; "record my location" fills the hidden latitude/longitude. No libraries.
(function () {
  "use strict";

  function setupPad(pad) {
    var canvas = pad.querySelector("canvas");
    var target = document.getElementById(pad.getAttribute("data-target"));
    if (!canvas || !target) { return; }
    var context = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    var last = null;

    function blank() {
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.strokeStyle = "#000";
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.lineJoin = "round";
      drawn = false;
      target.value = "";
    }

    function point(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - box.left) * (canvas.width / box.width),
        y: (event.clientY - box.top) * (canvas.height / box.height)
      };
    }

    canvas.style.touchAction = "none";
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      last = point(event);
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var next = point(event);
      context.beginPath();
      context.moveTo(last.x, last.y);
      context.lineTo(next.x, next.y);
      context.stroke();
      last = next;
      drawn = true;
      event.preventDefault();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () {
        if (drawing && drawn) { target.value = canvas.toDataURL("image/png"); }
        drawing = false;
      });
    });
    var clear = pad.querySelector("[data-signature-clear]");
    if (clear) { clear.addEventListener("click", blank); }
    var form = pad.closest("form");
    if (form) {
      form.addEventListener("submit", function () {
        target.value = drawn ? canvas.toDataURL("image/png") : "";
      });
    }
    blank();
  }

  function setupGps(box) {
    var button = box.querySelector("[data-gps-button]");
    var status = box.querySelector("[data-gps-status]");
    var lat = document.getElementById(box.getAttribute("data-gps-latitude"));
    var lng = document.getElementById(box.getAttribute("data-gps-longitude"));
    if (!button || !lat || !lng) { return; }
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { status.textContent = "GPS ✗"; return; }
      status.textContent = "…";
      navigator.geolocation.getCurrentPosition(function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lng.value = position.coords.longitude.toFixed(6);
        status.textContent = lat.value + ", " + lng.value;
      }, function () {
        status.textContent = "GPS ✗";
      }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }

  document.querySelectorAll("[data-signature-pad]").forEach(setupPad);
  document.querySelectorAll("[data-gps-button]").forEach(function (button) {
    setupGps(button.closest(".gps"));
  });
})();
