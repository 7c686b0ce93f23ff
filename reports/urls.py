"""Report pages under /reports/. Only ids and codes in the paths and query strings: nothing personal."""

from django.urls import path

from . import feedback_views, views

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
    path("feedback/", feedback_views.feedback_results, name="feedback"),
    path("feedback/comments/<int:pk>/hide/", feedback_views.feedback_comment_hide, name="feedback_comment_hide"),
    path("feedback/outings/<int:pk>/ask/", feedback_views.feedback_ask_outing, name="feedback_ask_outing"),
    path("feedback/sites/<int:pk>/ask/", feedback_views.feedback_ask_site, name="feedback_ask_site"),
    path("surveys/", feedback_views.survey_list, name="surveys"),
    path("surveys/new/", feedback_views.survey_create_view, name="survey_create"),
    path("surveys/<int:pk>/", feedback_views.survey_detail, name="survey_detail"),
    path("surveys/<int:pk>/close/", feedback_views.survey_close_view, name="survey_close"),
]
