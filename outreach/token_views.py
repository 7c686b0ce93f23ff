"""The page where a user makes and revokes their own API keys (`/account/tokens/`)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .models import ApiToken
from .services import api_token_create, api_token_revoke


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
        name = request.POST.get("name", "").strip()[:100]
        _token, new_key = api_token_create(actor=request.user, user=request.user, name=name)
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "outreach/api_tokens.html", {"tokens": tokens, "new_key": new_key})


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("The API key was revoked; it no longer works."))
    return redirect("api_tokens")
