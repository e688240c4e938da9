/* The approval pages' behaviour (no inline scripts: the CSP allows only files of this site).
   A button or form with data-confirm asks first; a form is sent once — a second click while
   the first is on its way does nothing (the server would answer it from the first anyway,
   by the form's idempotency key). Without JavaScript the pages work the same, unasked. */
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) e.preventDefault();
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || !form.matches("form[method=post], form[method=POST]")) return;
    if (form.getAttribute("data-sent") === "1") { e.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
    window.setTimeout(function () { form.removeAttribute("data-sent"); }, 8000);
  });
})();
