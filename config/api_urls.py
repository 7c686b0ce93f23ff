"""The REST API under /api/v1/, its OpenAPI schema and docs."""

from django.urls import include, path

urlpatterns = [
    # Resource routers and the reports endpoints are added here by each app.
    path("reports/", include("reports.api_urls")),
]
