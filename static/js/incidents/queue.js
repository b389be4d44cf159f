/* Dispatch queue: "select all", the count of selected rows, and a refresh after htmx swaps. */
(function () {
  "use strict";
  var body = document.getElementById("queue-rows");
  var all = document.getElementById("select-all");
  var count = document.getElementById("selected-count");
  var submit = document.getElementById("bulk-assign-submit");
  if (!body) { return; }

  function boxes() { return body.querySelectorAll("input.row-select"); }
  function update() {
    var selected = body.querySelectorAll("input.row-select:checked").length;
    if (count) { count.textContent = selected; }
    if (submit) { submit.disabled = selected === 0; }
    if (all) {
      var total = boxes().length;
      all.checked = total > 0 && selected === total;
      all.indeterminate = selected > 0 && selected < total;
    }
  }
  body.addEventListener("change", function (event) {
    if (event.target.classList.contains("row-select")) { update(); }
  });
  if (all) {
    all.addEventListener("change", function () {
      boxes().forEach(function (box) { box.checked = all.checked; });
      update();
    });
  }
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === body) {
      body.dataset.refreshedAt = new Date().toISOString();
      update();
    }
  });
  update();
})();
