/* Page behaviour that is not the forms': confirmation before a destructive form is sent, and the
   narrow screen's menu button (base.html: the button's aria-expanded opens and folds the menu it
   controls; banyan.css hides the menu while it is "false", only below 700px). */
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var form = e.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
  });

  var toggle = document.getElementById("navtoggle");
  if (!toggle) return;
  function setOpen(open) { toggle.setAttribute("aria-expanded", String(open)); }
  toggle.addEventListener("click", function () { setOpen(toggle.getAttribute("aria-expanded") !== "true"); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      toggle.focus();
    }
  });
})();
