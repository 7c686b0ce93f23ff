"""The page where a user makes and revokes their own API keys (`/account/tokens/`)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .mfa import recently_signed_in, user_has_totp
from .models import ApiToken
from .services import api_token_create, api_token_revoke, email_change_for_key, user_email_change_confirm


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    """List the user's keys; a POST makes a new one and shows it on this answer only.

    The key is rendered into the response rather than carried over a redirect
    in the session or a message: it is never stored anywhere, and the page is
    not cached.
    """
    new_key = None
    if request.method == "POST":
        # A key outlives the session, so making one asks for a fresh sign-in:
        # with the second factor for anyone who has one.
        has_second_factor = user_has_totp(request.user)
        if not recently_signed_in(request, with_second_factor=has_second_factor):
            messages.info(request, _("Confirm it is you before making an API key."))
            target = "mfa_reauthenticate" if has_second_factor else "account_reauthenticate"
            return redirect(f"{reverse(target)}?{urlencode({'next': reverse('api_tokens')})}")
        name = request.POST.get("name", "").strip()[:100]
        try:
            _token, new_key = api_token_create(actor=request.user, user=request.user, name=name)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
    tokens = ApiToken.objects.filter(user=request.user)
    return render(
        request,
        "outreach/api_tokens.html",
        {"tokens": tokens, "new_key": new_key, "lifetime_days": settings.API_TOKEN_LIFETIME_DAYS},
    )


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("The API key was revoked; it no longer works."))
    return redirect("api_tokens")


@never_cache
@require_http_methods(["GET", "POST"])
def email_change_confirm(request, key):
    """The link mailed to a user's old address: a GET shows the change, a POST makes it.

    No sign-in needed: holding the old mailbox is the proof. A GET changes
    nothing, so a mail scanner that opens links does not confirm anything.
    """
    change = email_change_for_key(key)
    if request.method == "POST" and change is not None:
        user_email_change_confirm(key=key)
        messages.success(request, _("Your e-mail address was changed."))
        return redirect("account_login")
    return render(request, "account/email_change_confirm.html", {"change": change}, status=200 if change else 404)
