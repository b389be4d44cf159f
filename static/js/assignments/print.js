// The printable receipt (assignments/receipt.html): the print button (no inline script: CSP).
(function () {
  "use strict";
  var button = document.querySelector("[data-print]");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
