"""Keeping the client feedback rollup exact (`FeedbackDayCount` in `reports.models`).

The same rule as the encounter rollups: whenever feedback changes, the
(day, site) slices it was and is in are recomputed from the feedback table in
the same transaction, by the service that made the change. A row is keyed by
the team of the outing the feedback was given at, so an outing moved to
another team recomputes its feedback's slices too (`outings_team_changed`,
called by the outing service through `outreach.rollups`). `rebuild`
recomputes everything (`manage.py rebuild_report_rollups`).
"""

import datetime
from collections.abc import Iterable

from django.db import connection, transaction

from encounters import referral_rollups
from encounters import rollups as encounter_rollups
from outreach import rollup_locks
from outreach.models import Outing
from outreach.vocabulary import GotHelp, TalkAgain

from .models import ClientFeedback, FeedbackDayCount

# Slices per statement, under SQLite's limit on query parameters.
_CHUNK = 300

Slice = tuple[datetime.date, int]

_quote = connection.ops.quote_name

# {column of FeedbackDayCount: (field of ClientFeedback, answer)}: the answers to the two optional questions.
ANSWER_COLUMNS = {
    **{f"got_help_{code}": ("got_help", code) for code in GotHelp.values},
    **{f"talk_again_{code}": ("talk_again", code) for code in TalkAgain.values},
}
_ANSWER_SUMS = ", ".join(
    f"SUM(CASE WHEN f.{field} = '{code}' THEN 1 ELSE 0 END)" for field, code in ANSWER_COLUMNS.values()
)
_INSERT_SQL = f"""
    INSERT INTO {_quote(FeedbackDayCount._meta.db_table)}
        (day, site_id, outing_team_id, answers, score_sum, {", ".join(ANSWER_COLUMNS)})
    SELECT f.given_on, f.site_id, o.team_id, COUNT(*), SUM(f.score), {_ANSWER_SUMS}
    FROM {_quote(ClientFeedback._meta.db_table)} f
    LEFT JOIN {_quote(Outing._meta.db_table)} o ON o.id = f.outing_id
    WHERE {{where}}
    GROUP BY f.given_on, f.site_id, o.team_id
"""


def slices_of(feedback: Iterable[ClientFeedback]) -> set[Slice]:
    """The (day, site id) slices of this feedback as it is now (take them before and after a change)."""
    return {(answer.given_on, answer.site_id) for answer in feedback}


def feedback_changed(*feedback: ClientFeedback, before: Iterable[Slice] = ()) -> None:
    """Recompute the slices of this feedback (as it is now, and `before` a change)."""
    refresh(slices_of(feedback) | set(before))


def outings_team_changed(outing_ids: Iterable[int]) -> None:
    """The feedback given at these outings now counts for their new team."""
    ids = list(set(outing_ids))
    slices: set[Slice] = set()
    for start in range(0, len(ids), _CHUNK):
        rows = ClientFeedback.objects.filter(outing_id__in=ids[start : start + _CHUNK]).values_list(
            "given_on", "site_id"
        )
        slices.update(rows)
    refresh(slices)


@transaction.atomic
def refresh(slices: set[Slice]) -> None:
    # Waits for a concurrent recompute of these slices to commit (`outreach.rollup_locks`).
    rollup_locks.lock(sites=(site for _day, site in slices))
    ordered = sorted(slices)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        condition = " OR ".join(["({day} = %s AND {site} = %s)"] * len(chunk))
        params = [value for day, site in chunk for value in (connection.ops.adapt_datefield_value(day), site)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {_quote(FeedbackDayCount._meta.db_table)} WHERE "
                + condition.format(day="day", site="site_id"),
                params,
            )
            cursor.execute(_INSERT_SQL.format(where=condition.format(day="f.given_on", site="f.site_id")), params)


@transaction.atomic
def rebuild() -> None:
    FeedbackDayCount.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL.format(where="1 = 1"))


@transaction.atomic
def rebuild_all() -> None:
    """Every report rollup: encounters, persons, outings, referrals and client feedback."""
    encounter_rollups.rebuild()
    referral_rollups.rebuild()
    rebuild()
