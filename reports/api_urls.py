"""The reports endpoints under /api/v1/reports/."""

from django.urls import path

from . import api

urlpatterns = [
    path("summary/", api.SummaryReportView.as_view(), name="api-summary"),
]
