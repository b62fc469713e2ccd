// Starts the vendored Swagger UI on the gateway's own OpenAPI document (no network
// beyond the gateway: works offline). Sign in with POST /auth/token, then
// "Authorize" with the access token.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
};
