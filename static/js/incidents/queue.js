/* Dispatch queue: "select all", the count of selected rows, the live refresh (paused while
   rows are selected), and a refresh after htmx swaps. */
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
  // The timed refresh waits while rows are selected (it would clear the selection); the
  // "queue-refresh" event (after a bulk assignment) always refreshes. Done here rather than
  // with an hx-trigger filter, which htmx evaluates with eval (refused by the CSP).
  body.addEventListener("htmx:confirm", function (event) {
    var trigger = event.detail.triggeringEvent;
    if (event.detail.elt !== body || (trigger && trigger.type === "queue-refresh")) { return; }
    if (body.querySelector("input.row-select:checked")) { event.preventDefault(); }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === body) {
      body.dataset.refreshedAt = new Date().toISOString();
      update();
    }
  });
  update();
})();
