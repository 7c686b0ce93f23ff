"""The reports endpoints under /api/v1/reports/."""

from django.urls import path

from . import api, feedback_api, network_report

urlpatterns = [
    path("summary/", api.SummaryReportView.as_view(), name="api-summary"),
    path("reach/", api.ReachReportView.as_view(), name="api-reach"),
    path("extract/", api.ExtractView.as_view(), name="api-extract"),
    path("feedback/", feedback_api.FeedbackReportView.as_view(), name="api-feedback-report"),
    path("networks/", network_report.NetworkReportView.as_view(), name="api-networks"),
]
