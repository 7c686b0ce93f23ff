"""Typing helpers for mypy with django-stubs; nothing here changes what runs."""

from typing import cast

from django.http import HttpRequest

from .models import User


class AuthedHttpRequest(HttpRequest):
    """A request that sign-in (login_required, the admin's permission check) has let through.

    For annotations only: the request object is still Django's HttpRequest.
    """

    user: User


def authed_user(request: HttpRequest) -> User:
    """`request.user` where the caller has already made sure that a user is signed in."""
    return cast(AuthedHttpRequest, request).user
