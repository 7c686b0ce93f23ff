"""Reads of client feedback and surveys: breakdowns with the 7-answer rule, comments masked.

A breakdown of client feedback is never shown below
`REPORTS_FEEDBACK_MIN_ANSWERS` (7) answers: such a row keeps its count and
says `suppressed`, with nulls instead of figures. Comments leave the system
(period report, exports) only for sites with at least that many answers in
the period; inside it coordinators read them all, masked.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from outreach.models import FieldSite, Municipality, Outing, Team, User
from outreach.vocabulary import GotHelp, SiteType, SurveyQuestionKind, TalkAgain

from .comments import masked
from .models import ClientFeedback, FeedbackDayCount, Survey, SurveyAnswer, SurveyChoice, SurveyResponse
from .permissions import can_read_feedback_results
from .rollups import ANSWER_COLUMNS
from .selectors import feedback_in_scope, feedback_rollup_scope, feedback_visible_to

GROUPS = ("site", "site_type", "team")
_GROUP_FIELDS = {
    "site": F("site_id"),
    "site_type": F("site__site_type"),
    "team": Coalesce("outing__team_id", "site__team_id"),
}
# The same groups over the day rollup, whose rows carry the outing's team (empty without an outing).
_ROLLUP_GROUP_FIELDS = {
    "site": F("site_id"),
    "site_type": F("site__site_type"),
    "team": Coalesce("outing_team_id", "site__team_id"),
}


def min_answers() -> int:
    return settings.REPORTS_FEEDBACK_MIN_ANSWERS


def _two_places(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def feedback_breakdown(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    group: str,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> dict:
    """{"group": …, "rows": [{"key", "label", "count", "suppressed", "mean_score", "got_help", "talk_again"}]}.

    Rows of site types cover every code; rows of sites and teams those with answers.
    From the day rollup (`FeedbackDayCount`) for everyone whose scope is a set of teams,
    else from the answers; `feedback_breakdown_raw` is the reference. Two queries.
    """
    where = feedback_rollup_scope(
        user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team
    )
    if where is None:
        return feedback_breakdown_raw(
            user=user, start=start, end=end, group=group, municipality=municipality, site_type=site_type, team=team
        )
    aggregates = {
        "count": Sum("answers"),
        "total": Sum("score_sum"),
        **{column: Sum(column) for column in ANSWER_COLUMNS},
    }
    rows = FeedbackDayCount.objects.filter(where).order_by().annotate(key=_ROLLUP_GROUP_FIELDS[group])
    return _breakdown(group, {row["key"]: row for row in rows.values("key").annotate(**aggregates)})


def feedback_breakdown_raw(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    group: str,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
) -> dict:
    """`feedback_breakdown` counted from the answers themselves."""
    feedback = feedback_in_scope(
        user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team
    )
    aggregates = {
        "count": Count("id"),
        "total": Sum("score"),
        **{column: Count("id", filter=Q(**{field: code})) for column, (field, code) in ANSWER_COLUMNS.items()},
    }
    grouped = {
        row["key"]: row
        for row in feedback.order_by().annotate(key=_GROUP_FIELDS[group]).values("key").annotate(**aggregates)
    }
    return _breakdown(group, grouped)


def _breakdown(group: str, grouped: dict) -> dict:
    if group == "site_type":
        keys: list = list(SiteType.values)
        labels: dict = dict(SiteType.choices)
    elif group == "site":
        sites = FieldSite.objects.filter(pk__in=[key for key in grouped if key is not None]).order_by("name")
        labels = {site.pk: site.name for site in sites}
        keys = list(labels)
    else:
        teams = Team.objects.filter(pk__in=[key for key in grouped if key is not None]).order_by("name")
        labels = {team.pk: team.name for team in teams}
        keys = list(labels)
    rows = []
    for key in keys:
        found = grouped.get(key) or {"count": 0}
        rows.append({"key": key, "label": str(labels.get(key, key)), **_figures(found)})
    return {"group": group, "rows": rows}


def _figures(row: dict) -> dict:
    count = row["count"]
    if count < min_answers():
        return {"count": count, "suppressed": True, "mean_score": None, "got_help": None, "talk_again": None}
    return {
        "count": count,
        "suppressed": False,
        "mean_score": _two_places(Decimal(row["total"]) / count),
        "got_help": {code: row[f"got_help_{code}"] for code in GotHelp.values},
        "talk_again": {code: row[f"talk_again_{code}"] for code in TalkAgain.values},
    }


def feedback_comments(
    *,
    user: User,
    start: datetime.date,
    end: datetime.date,
    leaving_the_system: bool = False,
    municipality: Municipality | None = None,
    site_type: str | None = None,
    team: Team | None = None,
    limit: int | None = None,
) -> list[dict]:
    """Comments of the period, identifiers masked, hidden ones left out, newest first; only for those who read
    feedback results. `leaving_the_system` (period report, exports) keeps only sites with enough answers;
    `limit` keeps the newest so many."""
    if not can_read_feedback_results(user):
        return []
    feedback = feedback_in_scope(
        user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team
    )
    comments = feedback.exclude(comment="").filter(comment_hidden=False)
    if leaving_the_system:
        where = feedback_rollup_scope(
            user=user, start=start, end=end, municipality=municipality, site_type=site_type, team=team
        )
        # The answers per site, from the day rollup where it applies (a row per day, not per answer).
        enough: QuerySet = (
            FeedbackDayCount.objects.filter(where).order_by().values("site_id").annotate(n=Sum("answers"))
            if where is not None
            else feedback.order_by().values("site_id").annotate(n=Count("id"))
        )
        comments = comments.filter(site_id__in=enough.filter(n__gte=min_answers()).values("site_id"))
    return [
        {
            "id": row["id"],
            "given_on": row["given_on"],
            "site": row["site_id"],
            "site_name": row["site__name"],
            "text": masked(row["comment"]),
            "flagged": row["comment_flagged"],
        }
        for row in comments.order_by("-given_on", "-id").values(
            "id", "given_on", "site_id", "site__name", "comment", "comment_flagged"
        )[:limit]
    ]


def get_feedback_for_results(user: User, pk: int) -> ClientFeedback | None:
    """One answer, for a coordinator hiding its comment; None when not theirs to see."""
    if not can_read_feedback_results(user):
        return None
    try:
        return feedback_visible_to(user).get(pk=pk)
    except (ClientFeedback.DoesNotExist, ValueError, TypeError):
        return None


def feedback_count_for_outing(outing: Outing) -> int:
    """How many answers were given through the outing's links: a worker may see this of their own outings."""
    return ClientFeedback.objects.filter(outing=outing).count()


# Surveys -------------------------------------------------------------------


def surveys_visible_to(user: User) -> QuerySet[Survey]:
    """Surveys are the county's own: coordinators see them all, others none."""
    if not can_read_feedback_results(user):
        return Survey.objects.none()
    return Survey.objects.annotate(response_count=Count("responses"))


def survey_for_token(token: str) -> Survey | None:
    if not token or len(token) > 40:
        return None
    return Survey.objects.filter(token=token).prefetch_related("questions__choices").first()


def survey_results(survey: Survey) -> dict:
    """Per question: answers, and (from 7 responses on) the distribution, mean or texts; else `suppressed`."""
    responses = SurveyResponse.objects.filter(survey=survey).count()
    suppressed = responses < min_answers()
    questions = list(survey.questions.prefetch_related("choices"))
    answered = dict(
        SurveyAnswer.objects.filter(response__survey=survey)
        .values("question_id")
        .annotate(n=Count("id"))
        .values_list("question_id", "n")
    )
    scales = {
        row["question_id"]: row
        for row in SurveyAnswer.objects.filter(response__survey=survey, scale__isnull=False)
        .values("question_id")
        .annotate(total=Sum("scale"), **{f"s{value}": Count("id", filter=Q(scale=value)) for value in range(1, 6)})
    }
    chosen = dict(
        SurveyChoice.objects.filter(question__survey=survey).annotate(n=Count("answers")).values_list("id", "n")
    )
    texts: dict[int, list[str]] = {}
    if not suppressed:
        for question_id, text in (
            SurveyAnswer.objects.filter(response__survey=survey)
            .exclude(text="")
            .order_by("-response__given_on", "-id")
            .values_list("question_id", "text")
        ):
            texts.setdefault(question_id, []).append(masked(text))
    rows = []
    for question in questions:
        row: dict = {"question": question, "answers": answered.get(question.pk, 0), "suppressed": suppressed}
        if not suppressed:
            if question.kind == SurveyQuestionKind.SCALE:
                scale = scales.get(question.pk)
                row["distribution"] = [(str(value), scale[f"s{value}"] if scale else 0) for value in range(1, 6)]
                count = sum(n for _label, n in row["distribution"])
                row["mean"] = _two_places(Decimal(scale["total"]) / count) if scale and count else None
            elif question.kind == SurveyQuestionKind.TEXT:
                row["texts"] = texts.get(question.pk, [])
            else:
                row["distribution"] = [(choice, chosen.get(choice.pk, 0)) for choice in question.choices.all()]
        rows.append(row)
    return {"responses": responses, "suppressed": suppressed, "questions": rows, "minimum": min_answers()}
