"""The public client pages under /f/: no sign-in, nothing personal in them, never cached by a service worker."""

from django.urls import path

from . import feedback_views

urlpatterns = [
    path("s/<str:token>/", feedback_views.survey_form, name="survey_form"),
    path("<str:token>/", feedback_views.feedback_form, name="feedback_form"),
    path("<str:token>/thanks/", feedback_views.feedback_thanks, name="feedback_thanks"),
]
