/* Behaviour every page shares, kept out of the HTML (Content-Security-Policy: no inline
   scripts or event handlers). */
(function () {
  "use strict";
  // The language menu switches as soon as a language is picked.
  var language = document.getElementById("language-select");
  if (language) {
    language.addEventListener("change", function () { language.form.submit(); });
  }
  // Buttons marked data-print open the browser's print dialog.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
