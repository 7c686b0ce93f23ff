"""Who may see which client records. See `outreach.selectors` for the rules.

On top of the team rules: an expert by experience never sees a named person,
nor an encounter or referral linked to one, and sees encounters only of the
outings they take part in.
"""

import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from outreach.models import Outing, Team, User, person_hours
from outreach.selectors import member_team_ids, outings_visible_to, teams_visible_to
from outreach.vocabulary import Depth, Need, OutingStatus

from .models import Consent, Encounter, FollowUp, Person, PersonMerge, Referral, ReferralConfirmation


def _inactive(user: User) -> bool:
    return not user.is_authenticated or not user.is_active


def persons_visible_to(user: User, *, include_merged: bool = False) -> QuerySet[Person]:
    if _inactive(user):
        return Person.objects.none()
    persons = Person.objects.select_related("team")
    if not include_merged:
        persons = persons.filter(merged_into__isnull=True)
    if user.is_superuser:
        return persons
    if user.is_expert:
        # Only the pseudonymous persons met in the outings they took part in:
        # they see no more of the team's clients than they met themselves.
        met = Person.objects.filter(kind=Person.Kind.PSEUDONYMOUS, encounters__outing__participants=user).values("id")
        return persons.filter(id__in=met)
    return persons.filter(team__in=teams_visible_to(user))


def get_person_for_user(user: User, pk) -> Person:
    try:
        return persons_visible_to(user, include_merged=True).get(pk=pk)
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def encounters_visible_to(user: User) -> QuerySet[Encounter]:
    if _inactive(user):
        return Encounter.objects.none()
    encounters = Encounter.objects.select_related("site", "team", "outing", "person")
    if user.is_superuser:
        return encounters
    if user.is_expert:
        return encounters.filter(outing__participants=user).exclude(person__kind=Person.Kind.NAMED)
    return encounters.filter(team__in=teams_visible_to(user))


def get_encounter_for_user(user: User, pk) -> Encounter:
    try:
        return encounters_visible_to(user).get(pk=pk)
    except (Encounter.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    if _inactive(user):
        return Referral.objects.none()
    referrals = Referral.objects.select_related("team", "person", "encounter", "partner")
    if user.is_superuser:
        return referrals
    if user.is_expert:
        # Service kinds and outcome notes are case work: experts by
        # experience see no referrals, in any door.
        return Referral.objects.none()
    return referrals.filter(team__in=teams_visible_to(user))


def get_referral_for_user(user: User, pk) -> Referral:
    try:
        return referrals_visible_to(user).get(pk=pk)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def follow_ups_visible_to(user: User) -> QuerySet[FollowUp]:
    """Support work is the workers' own: experts by experience see none."""
    if _inactive(user) or (user.is_expert and not user.is_superuser):
        return FollowUp.objects.none()
    follow_ups = FollowUp.objects.select_related("team", "person", "referral", "assigned_to")
    if user.is_superuser:
        return follow_ups
    return follow_ups.filter(team__in=teams_visible_to(user))


def consents_visible_to(user: User) -> QuerySet[Consent]:
    if _inactive(user) or (user.is_expert and not user.is_superuser):
        return Consent.objects.none()
    consents = Consent.objects.select_related("person", "recorded_by")
    if user.is_superuser:
        return consents
    return consents.filter(person__team__in=teams_visible_to(user))


# Pages' reads ---------------------------------------------------------------------------

# How long the Today page looks back for outings left unfinished, and ahead for planned ones.
UNFINISHED_DAYS = 14
UPCOMING_DAYS = 14
UPCOMING_SHOWN = 10
FOLLOW_UPS_SHOWN = 20
PERSON_RESULTS_SHOWN = 10


def persons_matching(user: User, *, team: Team, query: str, limit: int = PERSON_RESULTS_SHOWN) -> list[Person]:
    """The team's persons whose alias or name contains `query`, as the worker types it."""
    return list(
        persons_visible_to(user)
        .filter(team=team)
        .filter(Q(alias__icontains=query) | Q(first_name__icontains=query) | Q(last_name__icontains=query))
        .order_by("alias", "last_name", "first_name")[:limit]
    )


def worker_day(user: User, now: datetime.datetime) -> dict:
    """The worker's day (the Today page): outings in progress, planned and unfinished, follow-ups due.

    `now` is a Helsinki-local time. Experts by experience get their outings only.
    """
    day = now.date()
    mine = (
        outings_visible_to(user).filter(status=OutingStatus.PLANNED, participants=user).prefetch_related("participants")
    )
    # In progress only once started (the one current outing); a planned outing of today that nobody has
    # started waits under "planned" with a Start button, whatever its planned time.
    in_progress = list(mine.filter(date=day, started_at__isnull=False).order_by("-started_at"))
    upcoming = list(
        mine.filter(
            Q(date=day, started_at__isnull=True)
            | Q(date__gt=day, date__lte=day + datetime.timedelta(days=UPCOMING_DAYS))
        ).order_by("date", "start_time")[:UPCOMING_SHOWN]
    )
    context = {
        "today": day,
        "in_progress": in_progress,
        "upcoming": upcoming,
        "can_start": not user.is_expert,
    }
    if not user.is_expert:
        own_teams = member_team_ids(user)
        context["unfinished"] = list(
            mine.filter(date__lt=day, date__gte=day - datetime.timedelta(days=UNFINISHED_DAYS)).order_by(
                "-date", "-start_time"
            )[:UPCOMING_SHOWN]
        )
        context["team_outings_today"] = list(
            outings_visible_to(user)
            .filter(date=day, team__in=own_teams)
            .exclude(status=OutingStatus.CANCELLED)
            .exclude(participants=user)
            .prefetch_related("participants")
            .order_by("start_time")[:UPCOMING_SHOWN]
        )
        week_end = day + datetime.timedelta(days=6 - day.weekday())
        due = (
            follow_ups_visible_to(user)
            .filter(done_on__isnull=True, due_on__lte=week_end)
            .filter(Q(assigned_to=user) | Q(assigned_to__isnull=True, team__in=own_teams))
            .select_related("referral", "person")
            .order_by("due_on", "id")
        )
        follow_ups = list(due[:FOLLOW_UPS_SHOWN])
        context["follow_ups"] = follow_ups
        context["follow_ups_more"] = due.count() - FOLLOW_UPS_SHOWN if len(follow_ups) == FOLLOW_UPS_SHOWN else 0
        context["week_end"] = week_end
        context["partner_confirmations"] = partner_confirmations_for(user, now)
    return context


# Partner confirmations of the last this many days are shown on the Today page of the worker who asked.
CONFIRMATIONS_SHOWN_DAYS = 14


def partner_confirmations_for(user: User, now: datetime.datetime) -> list[ReferralConfirmation]:
    """The partners' answers to the links this worker made, of the last CONFIRMATIONS_SHOWN_DAYS, newest first."""
    since = now - datetime.timedelta(days=CONFIRMATIONS_SHOWN_DAYS)
    return list(
        ReferralConfirmation.objects.filter(
            created_by=user, used_at__gte=since, referral__in=referrals_visible_to(user)
        )
        .select_related("referral__person")
        .order_by("-used_at")[:FOLLOW_UPS_SHOWN]
    )


def referral_confirmations(user: User, referral: Referral) -> list[ReferralConfirmation]:
    """The confirmation links made for a referral the user sees, newest first."""
    if user.is_expert:
        return []
    return list(referral.confirmations.select_related("created_by").order_by("-created_at", "-id"))


def partner_contact_email(referral: Referral) -> str:
    """The e-mail address of the referral's partner's first contact person that has one (the link's default)."""
    if referral.partner_id is None:
        return ""
    contact = referral.partner.contacts.filter(active=True).exclude(email="").order_by("pk").first()  # type: ignore[union-attr]
    return contact.email if contact is not None else ""


def partner_link(request, token: str) -> str:
    """The absolute URL of a confirmation link's page for the partner."""
    from django.urls import reverse

    return request.build_absolute_uri(reverse("partner_confirmation", kwargs={"key": token}))


def outing_summary(user: User, outing: Outing) -> dict:
    """What was logged at an outing: encounters by depth, anonymous or linked, needs, tally and hours."""
    counts = {
        "n_total": Count("id"),
        "n_brief": Count("id", filter=Q(depth=Depth.BRIEF)),
        "n_conversation": Count("id", filter=Q(depth=Depth.CONVERSATION)),
        "n_anonymous": Count("id", filter=Q(anonymous=True)),
        "n_linked": Count("id", filter=Q(anonymous=False)),
    }
    for code in Need.values:
        counts[f"n_need_{code}"] = Count("id", filter=Q(needs__has=code))
    row = encounters_visible_to(user).filter(outing=outing).order_by().aggregate(**counts)
    participants = outing.participants.count()
    hours = outing.duration_hours
    provisional = False
    now = timezone.localtime()
    if outing.end_time is None and outing.date == now.date():
        # Not finished yet: hours so far, until now.
        start = timezone.make_aware(datetime.datetime.combine(outing.date, outing.start_time))
        hours = max(0.0, (timezone.now() - start).total_seconds() / 3600)
        provisional = True
    return {
        "encounters": row["n_total"],
        "brief": row["n_brief"],
        "conversation": row["n_conversation"],
        "anonymous": row["n_anonymous"],
        "linked": row["n_linked"],
        "needs": [(label, row[f"n_need_{code}"]) for code, label in Need.choices if row[f"n_need_{code}"]],
        "tally": outing.tallied_contacts,
        "people_met": row["n_total"] + outing.tallied_contacts,
        "participants": participants,
        "duration_hours": hours,
        "person_hours": person_hours(hours, participants),
        "provisional": provisional,
    }


def can_read_access_log(user: User) -> bool:
    """A person's access log is the coordinators' to produce for the client (Client Data Act 703/2023)."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.is_coordinator))


def person_access_log_rows(person_id: int, *, since: datetime.datetime) -> list[dict]:
    """Everything logged of one person's record since `since`, newest first.

    The access log (reads, searches, exports, prints) and the audit trail of
    the record itself (its creation, edits, merges) in one list: `at`,
    `user` (id, or None for the system), `user_name`, `action`, `door` and
    `reason`. The person is matched by id, so the rows of an erased or
    pseudonymised record are still found.
    """
    from outreach.models import AccessLogEntry, AuditEntry

    rows = [
        {
            "at": entry.at,
            "user": entry.actor_id,
            "user_name": str(entry.actor) if entry.actor else "",
            "action": entry.action,
            "action_label": entry.get_action_display(),
            "door": entry.door,
            "reason": entry.reason,
        }
        for entry in AccessLogEntry.objects.filter(person_id=person_id, at__gte=since).select_related("actor")
    ]
    audit_actions: dict[str, str] = {
        AuditEntry.Action.CREATE.value: "create",
        AuditEntry.Action.UPDATE.value: "edit",
        AuditEntry.Action.DELETE.value: "delete",
    }
    audit_labels = {"create": _("Created"), "edit": _("Changed"), "delete": _("Deleted")}
    # Edits write an access-log row of their own; an audit entry of the same edit is not listed twice.
    edits = [(row["user"], row["at"]) for row in rows if row["action"] == AccessLogEntry.Action.EDIT]
    same_moment = datetime.timedelta(seconds=5)
    for entry in AuditEntry.objects.filter(
        model="encounters.person", object_id=str(person_id), at__gte=since, action__in=list(audit_actions)
    ).select_related("actor"):
        action = audit_actions[entry.action]
        if action == "edit" and any(user == entry.actor_id and abs(at - entry.at) < same_moment for user, at in edits):
            continue
        rows.append(
            {
                "at": entry.at,
                "user": entry.actor_id,
                "user_name": str(entry.actor) if entry.actor else "",
                "action": action,
                "action_label": audit_labels[action],
                "door": "",
                "reason": "",
            }
        )
    rows.sort(key=lambda row: row["at"], reverse=True)
    return rows


def person_data(person: Person) -> dict:
    """Everything the system holds about one person, as plain JSON values (GDPR art. 15 copy).

    The record itself, its encounters, referrals, follow-ups and consents,
    the merges it took part in, and its access log. Codes are the stable
    vocabulary codes; times are ISO 8601.
    """
    from outreach.models import AccessLogEntry

    def iso(value):
        return value.isoformat() if value is not None else None

    encounters = Encounter.objects.filter(person=person).select_related("site").order_by("occurred_at", "id")
    referrals = Referral.objects.filter(person=person).select_related("partner").order_by("referred_on", "id")
    follow_ups = FollowUp.objects.filter(person=person).order_by("due_on", "id")
    consents = Consent.objects.filter(person=person).order_by("given_on", "id")
    merges = PersonMerge.objects.filter(Q(kept=person) | Q(merged=person)).order_by("merged_at", "id")
    access_log = AccessLogEntry.objects.filter(person_id=person.pk).order_by("at", "id")
    return {
        "person": {
            "id": person.pk,
            "kind": person.kind,
            "team": person.team.name,
            "alias": person.alias,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "identity_code": person.identity_code,
            "birth_year": person.birth_year,
            "gender": person.gender,
            "phone": person.phone,
            "email": person.email,
            "engaged_on": iso(person.engaged_on),
            "notes": person.notes,
            "created_at": iso(person.created_at),
            "updated_at": iso(person.updated_at),
        },
        "encounters": [
            {
                "id": e.pk,
                "occurred_at": iso(e.occurred_at),
                "site": e.site.name,
                "contact_kind": e.contact_kind,
                "depth": e.depth,
                "needs": list(e.needs),
                "actions": list(e.actions),
                "duration_minutes": e.duration_minutes,
                "notes": e.notes,
            }
            for e in encounters
        ],
        "referrals": [
            {
                "id": r.pk,
                "service_kind": r.service_kind,
                "partner": r.partner.name if r.partner else None,
                "status": r.status,
                "referred_on": iso(r.referred_on),
                "connected_on": iso(r.connected_on),
                "closed_on": iso(r.closed_on),
                "follow_up_due": iso(r.follow_up_due),
                "outcome_notes": r.outcome_notes,
            }
            for r in referrals
        ],
        "follow_ups": [
            {
                "id": f.pk,
                "due_on": iso(f.due_on),
                "done_on": iso(f.done_on),
                "contact_kind": f.contact_kind,
                "notes": f.notes,
            }
            for f in follow_ups
        ],
        "consents": [
            {"scope": c.scope, "given_on": iso(c.given_on), "withdrawn_on": iso(c.withdrawn_on), "notes": c.notes}
            for c in consents
        ],
        "merges": [
            {"kept": m.kept_id, "merged": m.merged_id, "merged_at": iso(m.merged_at), "undone_at": iso(m.undone_at)}
            for m in merges
        ],
        "access_log": [{"at": iso(a.at), "user": a.actor_id, "action": a.action, "door": a.door} for a in access_log],
    }
