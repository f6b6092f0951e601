// Starts Swagger UI on /openapi.json. A file rather than an inline script, so the page's CSP can forbid inline code.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null, // the default asks validator.swagger.io: no third-party requests from this page
});
