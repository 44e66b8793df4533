// /docs: Swagger UI from the app's own assets (the swagger-ui-bundle package), started here
// rather than in an inline script, so the page's content-security policy stays 'self'.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    onComplete: function () { document.body.setAttribute("data-ready", "true"); }
  });
}());
