"""API plumbing that DRF's settings name: parsing and pagination.

These are imported while DRF defines its own view classes (its settings are
read in the class bodies), so this module must not import DRF's views or
anything that does; the rest of the shared API code is in `outreach.drf`.
"""

import json

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This conflicts with a record that already exists; nothing was changed.")
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The record was changed after the version named in If-Match; nothing was changed.")
    default_code = "precondition_failed"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class LimitedJSONParser(JSONParser):
    """JSON, at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes.

    DRF reads the body from the stream itself and so bypasses Django's own
    limit; here the body is read with a cap whatever Content-Length claims.
    Nesting deep enough to exhaust the parser's recursion is a parse error,
    not a crash.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if stream is not None else b""
        if limit is not None and len(body) > limit:
            raise PayloadTooLarge
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(body.decode(encoding), parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(_("The request body is not valid JSON.")) from exc


def _reject_constant(name):
    # NaN and Infinity are not JSON.
    raise ValueError(f"{name} is not allowed")


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500
