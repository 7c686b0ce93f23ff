"""The REST API under /api/v1/. Its schema and docs are at /api/schema/ and /api/docs/ (config/urls.py)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from encounters import api as encounters_api
from networks import api as networks_api
from outreach import api as outreach_api
from reports import feedback_api

router = DefaultRouter()
router.register("sites", outreach_api.SiteViewSet, basename="site")
router.register("outings", outreach_api.OutingViewSet, basename="outing")
router.register("teams", outreach_api.TeamViewSet, basename="team")
router.register("municipalities", outreach_api.MunicipalityViewSet, basename="municipality")
router.register("users", outreach_api.UserViewSet, basename="user")
router.register("persons", encounters_api.PersonViewSet, basename="person")
router.register("encounters", encounters_api.EncounterViewSet, basename="encounter")
router.register("referrals", encounters_api.ReferralViewSet, basename="referral")
router.register("follow-ups", encounters_api.FollowUpViewSet, basename="follow-up")
router.register("partners", networks_api.PartnerViewSet, basename="partner")
router.register("partner-services", networks_api.PartnerServiceViewSet, basename="partner-service")
router.register("contact-persons", networks_api.ContactPersonViewSet, basename="contact-person")
router.register("networks", networks_api.NetworkViewSet, basename="network")
router.register("memberships", networks_api.MembershipViewSet, basename="membership")
router.register("agreements", networks_api.AgreementViewSet, basename="agreement")
router.register("meetings", networks_api.MeetingViewSet, basename="meeting")
router.register("meeting-tasks", networks_api.MeetingTaskViewSet, basename="meeting-task")
router.register("communication", networks_api.CommunicationViewSet, basename="communication")

urlpatterns = [
    path("reports/", include("reports.api_urls")),
    path("feedback-links/", feedback_api.FeedbackLinkCreateView.as_view(), name="api-feedback-links"),
    path("feedback/comments/", feedback_api.FeedbackCommentsView.as_view(), name="api-feedback-comments"),
    path("surveys/", feedback_api.SurveyCreateView.as_view(), name="api-surveys"),
    path("", include(router.urls)),
]
