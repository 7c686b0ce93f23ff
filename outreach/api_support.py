"""API plumbing that DRF's settings name: parsing and pagination.

These are imported while DRF defines its own view classes (its settings are
read in the class bodies), so this module must not import DRF's views or
anything that does; the rest of the shared API code is in `outreach.drf`.
"""

import json

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property
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


class BoundedCountPaginator(Paginator):
    """Django's paginator with a count that stays cheap at a million rows.

    Up to `API_EXACT_COUNT_LIMIT` rows (10,000) the count is exact: one
    `SELECT COUNT(*) FROM (… LIMIT limit + 1)`, which stops reading at the limit
    instead of counting every visible row (docs/SCALING.md, section 3). Above
    it, on PostgreSQL, the count is the planner's estimate of the same query
    (`count_is_estimate`), and whether there is a next page is decided by
    reading one row more than the page; SQLite, the small embedded database,
    always counts exactly.
    """

    count_is_estimate = False

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return len(rows)
        limit = settings.API_EXACT_COUNT_LIMIT
        bounded = rows.order_by()[: limit + 1].count()
        if bounded <= limit:
            return bounded
        database = connections[rows.db]
        if database.vendor != "postgresql":
            return rows.count()
        sql, params = rows.order_by().query.get_compiler(using=rows.db).as_sql()
        with database.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        self.count_is_estimate = True
        return max(int(plan[0]["Plan"]["Plan Rows"]), bounded)

    def validate_number(self, number):
        if not self.count_is_estimate:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(_("That page number is not an integer")) from None
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        return number

    def page(self, number):
        self.count  # noqa: B018 -- counting first decides how to page
        if not self.count_is_estimate:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(_("That page contains no results"))
        return _EstimatedPage(rows[: self.per_page], number, self, has_more=len(rows) > self.per_page)


class _EstimatedPage(Page):
    def __init__(self, object_list, number, paginator, *, has_more: bool):
        super().__init__(object_list, number, paginator)
        self._has_more = has_more

    def has_next(self) -> bool:
        return self._has_more


class Pagination(PageNumberPagination):
    """`count`, `next`, `previous`, `results`; `count_is_estimate: true` beside a count above
    API_EXACT_COUNT_LIMIT rows that is PostgreSQL's estimate (BoundedCountPaginator)."""

    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = BoundedCountPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        if getattr(getattr(self.page, "paginator", None), "count_is_estimate", False):
            response.data["count_is_estimate"] = True
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count"]["description"] = (
            f"Exact up to {settings.API_EXACT_COUNT_LIMIT} rows; above that an estimate (see count_is_estimate)."
        )
        schema["properties"]["count_is_estimate"] = {
            "type": "boolean",
            "description": "Present (true) only when `count` is the database's estimate of a long list.",
        }
        return schema
