"""Typing helpers for mypy with django-stubs; nothing here changes what runs."""

from typing import cast

from django.http import HttpRequest
from rest_framework.request import Request

from .models import User


class AuthedHttpRequest(HttpRequest):
    """A request that sign-in (login_required, the admin's permission check) has let through.

    For annotations only: the request object is still Django's HttpRequest.
    """

    user: User


def authed_user(request: HttpRequest | Request) -> User:
    """`request.user` where the caller has already made sure that a user is signed in.

    Pages check it with login_required; the API with DRF's IsAuthenticated, its default permission.
    """
    return cast(User, request.user)
