"""Helpers for the API tests."""

from rest_framework.test import APIClient


def api_client(user=None) -> APIClient:
    """A client acting as `user` (anonymous without one), as a script with a valid key would."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(response) -> set[int]:
    return {row["id"] for row in results(response)}
