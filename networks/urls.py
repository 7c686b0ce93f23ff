from django.urls import path

from . import views

app_name = "networks"

urlpatterns = [
    path("directory/", views.directory, name="directory"),
    path("directory/partners/new/", views.partner_create, name="partner_create"),
    path("directory/partners/<int:pk>/", views.partner_detail, name="partner_detail"),
    path("directory/partners/<int:pk>/edit/", views.partner_edit, name="partner_edit"),
    path("directory/partners/<int:pk>/services/new/", views.service_create, name="service_create"),
    path("directory/partners/<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("directory/services/<int:pk>/edit/", views.service_edit, name="service_edit"),
    path("directory/contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("network-work/", views.network_list, name="network_list"),
    path("network-work/networks/<int:pk>/", views.network_detail, name="network_detail"),
    path("network-work/networks/<int:pk>/members/new/", views.membership_create, name="membership_create"),
    path("network-work/networks/<int:pk>/agreements/new/", views.agreement_create, name="agreement_create"),
    path("network-work/networks/<int:pk>/meetings/new/", views.meeting_create, name="meeting_create"),
    path("network-work/memberships/<int:pk>/edit/", views.membership_edit, name="membership_edit"),
    path("network-work/agreements/<int:pk>/edit/", views.agreement_edit, name="agreement_edit"),
    path("network-work/meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("network-work/tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("network-work/communication/", views.communication, name="communication"),
    path("network-work/evaluation/", views.evaluation, name="evaluation"),
]
