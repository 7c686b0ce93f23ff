from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path

from outreach import views as outreach_views

# The admin signs in through allauth, so that its rate limits and MFA
# protect the admin too.
admin.site.login = login_required(admin.site.login)

urlpatterns = [
    path("", outreach_views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("", include("outreach.urls")),
]
