/* The approval sheet's print button: shown only where it works (with JavaScript); Ctrl+P prints
   the same page without it. */
(function () {
  "use strict";
  var button = document.querySelector("[data-print]");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
