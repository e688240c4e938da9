// Starts Swagger UI on /docs (runtime/http/docs.py). A file of ours, not an inline script, so the
// page keeps the strict Content-Security-Policy of every other page (script-src 'self').
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,              // no badge fetched from validator.swagger.io: nothing leaves the server
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
