// registry: on the incident report form, suggest the building or place at the pin
// (GET /api/v1/registry/suggest). Staff only: for anyone else the API answers 401/403 and
// nothing is shown. Tapping a suggestion writes it into the address field.
(function () {
  "use strict";
  var box = document.getElementById("registry-suggestions");
  var pin = document.getElementById("pin-coordinates");
  if (!box || !pin || !window.fetch) {
    return;
  }
  var address = document.querySelector("[name=address]");
  var list = box.querySelector("ul");
  var last = "";
  function show(items) {
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "outline";
      button.dataset.testid = "registry-suggestion";
      button.textContent = item.name + (item.address ? "（" + item.address + "）" : "");
      button.addEventListener("click", function () {
        if (address) { address.value = button.textContent; }
      });
      li.appendChild(button);
      list.appendChild(li);
    });
    box.hidden = items.length === 0;
  }
  function lookup() {
    var lat = document.getElementById(box.dataset.latInput);
    var lng = document.getElementById(box.dataset.lngInput);
    if (!lat || !lng || !lat.value || !lng.value) { return; }
    var key = lat.value + "," + lng.value;
    if (key === last) { return; }
    last = key;
    var url = box.dataset.url + "?lat=" + encodeURIComponent(lat.value) + "&lng=" + encodeURIComponent(lng.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(show)
      .catch(function () { show([]); });
  }
  new MutationObserver(lookup).observe(pin, { childList: true, characterData: true, subtree: true });
})();
