/* Page behaviour that is not the forms': confirmation before a destructive form is sent. */
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var form = e.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
  });
})();
