"""Field pages under /field/. Only ids in the paths: nothing personal goes into a URL."""

from django.urls import path

from . import person_views, views

app_name = "encounters"

urlpatterns = [
    path("", views.today, name="today"),
    path("offline/", views.today_offline, name="today_offline"),
    path("outings/start/", views.outing_start_view, name="outing_start"),
    path("outings/<int:pk>/", views.outing_detail, name="outing_detail"),
    path("outings/<int:pk>/offline/", views.outing_offline, name="outing_offline"),
    path("outings/<int:pk>/start/", views.outing_start_planned_view, name="outing_start_planned"),
    path("outings/<int:pk>/encounters/", views.encounter_create, name="encounter_create"),
    path("outings/<int:pk>/persons/", views.person_search, name="person_search"),
    path("outings/<int:pk>/tally/", views.outing_tally, name="outing_tally"),
    path("outings/<int:pk>/finish/", views.outing_finish_view, name="outing_finish"),
    path("encounters/<int:pk>/edit/", views.encounter_edit, name="encounter_edit"),
    path("encounters/<int:pk>/delete/", views.encounter_delete, name="encounter_delete"),
    path("encounters/<int:pk>/restore/", views.encounter_restore, name="encounter_restore"),
    path("encounters/<int:pk>/referrals/", views.referral_add, name="referral_add"),
    path("follow-ups/", person_views.my_follow_ups_view, name="my_follow_ups"),
    path("follow-ups/<int:pk>/done/", views.follow_up_done, name="follow_up_done"),
    path("follow-ups/<int:pk>/record/", person_views.follow_up_record_view, name="follow_up_record"),
    path("follow-ups/<int:pk>/postpone/", person_views.follow_up_postpone_view, name="follow_up_postpone"),
    path("persons/", person_views.person_list, name="person_list"),
    path("persons/new/", person_views.person_create_view, name="person_create"),
    path("persons/<int:pk>/", views.person_detail, name="person_detail"),
    path("persons/<int:pk>/contact/", views.person_contact_log, name="person_contact_log"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("persons/<int:pk>/engage/", person_views.person_engage_view, name="person_engage"),
    path(
        "persons/<int:pk>/identity-code/",
        person_views.person_identity_code_reveal_view,
        name="person_identity_code_reveal",
    ),
    path("persons/<int:pk>/follow-ups/", views.person_follow_up_add, name="person_follow_up_add"),
    path("persons/<int:pk>/merge/", views.person_merge_view, name="person_merge"),
    path("persons/<int:pk>/unmerge/", views.person_unmerge_view, name="person_unmerge"),
    path("persons/<int:pk>/name/", views.person_make_named_view, name="person_make_named"),
    path("persons/<int:pk>/access-log/", views.person_access_log_view, name="person_access_log"),
    path("persons/<int:pk>/data/", views.person_data_export_view, name="person_data_export"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral_detail"),
    path("referrals/<int:pk>/status/", views.referral_status, name="referral_status"),
    path("referrals/<int:pk>/follow-ups/", views.referral_follow_up_add, name="referral_follow_up_add"),
    path("referrals/<int:pk>/confirmation-link/", views.referral_confirmation_link, name="referral_confirmation_link"),
]
