"""Report pages under /reports/. Only ids and codes in the paths and query strings: nothing personal."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("sites/<int:pk>/", views.site_view, name="site"),
    path("period/", views.period_report_view, name="period"),
    path("period/evaluation/", views.period_evaluation_view, name="period_evaluation"),
    path("observations/", views.observation_list_view, name="observations"),
    path("observations/new/", views.observation_create_view, name="observation_create"),
    path("observations/<int:pk>/reported/", views.observation_reported_view, name="observation_reported"),
    path("me/", views.own_work_view, name="own_work"),
]
