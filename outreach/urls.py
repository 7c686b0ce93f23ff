from django.urls import path

from . import views

app_name = "outreach"

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    path("outings/", views.outing_list, name="outing_list"),
    path("outings/plan/", views.outing_create, name="outing_create"),
    path("outings/plan/from-schedules/", views.outings_generate, name="outings_generate"),
    path("outings/<int:pk>/plan/", views.outing_edit, name="outing_edit"),
    path("outings/<int:pk>/cancel/", views.outing_cancel, name="outing_cancel"),
    path("sites/", views.site_list, name="site_list"),
    path("sites/new/", views.site_create, name="site_create"),
    path("sites/<int:pk>/edit/", views.site_edit, name="site_edit"),
    path("sites/<int:pk>/deactivate/", views.site_deactivate, name="site_deactivate"),
    path("sites/<int:pk>/reactivate/", views.site_reactivate, name="site_reactivate"),
]
