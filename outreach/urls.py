from django.urls import path

from . import views

app_name = "outreach"

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
]
