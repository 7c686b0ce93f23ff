from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from encounters import views as encounters_views
from outreach import token_views
from outreach import views as outreach_views

# The admin signs in through allauth, so that its rate limits and MFA
# protect the admin too.
admin.site.login = login_required(admin.site.login)  # type: ignore[method-assign]  # wrapping the default site's view

urlpatterns = [
    path("", outreach_views.home, name="home"),
    path("favicon.ico", outreach_views.icon_redirect("icons/favicon.ico")),
    path("apple-touch-icon.png", outreach_views.icon_redirect("icons/apple-touch-icon.png")),
    path("apple-touch-icon-precomposed.png", outreach_views.icon_redirect("icons/apple-touch-icon.png")),
    # At the root, so that the service worker's scope covers the whole site.
    path("sw.js", outreach_views.service_worker, name="service_worker"),
    path("manifest.webmanifest", outreach_views.web_manifest, name="web_manifest"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI from the app's own static files (drf-spectacular-sidecar);
    # the split view serves its start-up script as a file, not inline.
    path("api/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("account/tokens/", token_views.token_list, name="api_tokens"),
    path("account/tokens/<int:pk>/revoke/", token_views.token_revoke, name="api_token_revoke"),
    path("account/email-change/<str:key>/", token_views.email_change_confirm, name="email_change_confirm"),
    path("field/", include("encounters.urls")),
    # The partner's one-time confirmation link: no account, the token is the credential.
    path("partner/referrals/<str:key>/", encounters_views.partner_confirmation, name="partner_confirmation"),
    path("reports/", include("reports.urls")),
    path("f/", include("reports.public_urls")),
    path("", include("networks.urls")),
    path("", include("outreach.urls")),
]

# JSON answers for the API, the HTML pages elsewhere.
handler404 = "outreach.views.page_not_found"
handler500 = "outreach.views.server_error"
