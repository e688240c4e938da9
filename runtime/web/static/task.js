/* The task page's "more actions": one form open at a time. Browsers that know exclusive <details>
   (the `name` attribute) do it themselves; for the others, opening one closes the rest. The opened
   form's first field gets the focus. Without JavaScript the disclosures still open and close. */
(function () {
  "use strict";
  document.addEventListener("toggle", function (e) {
    var item = e.target;
    if (!item.classList || !item.classList.contains("more-item") || !item.open) return;
    var list = item.parentNode;
    Array.prototype.forEach.call(list.querySelectorAll(".more-item[open]"), function (other) {
      if (other !== item) other.open = false;
    });
    var field = item.querySelector("input:not([type=hidden]), select, textarea");
    if (field) field.focus();
  }, true);
})();
