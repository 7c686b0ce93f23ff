"""Writes of the reports app: structural observations, period evaluations, and the audit of every report made."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from outreach.models import AuditEntry, FieldSite, Municipality, Outing, Team, User
from outreach.selectors import writable_team_ids
from outreach.services import apply_changes, audit, audit_bulk, validate_model

from . import rollups
from .models import ClientFeedback, PeriodEvaluation, StructuralObservation
from .permissions import can_manage_reports, can_read_reports, can_record_observations
from .selectors import feedback_visible_to


@transaction.atomic
def observation_create(
    *,
    actor: User,
    team: Team | None,
    theme: str,
    municipality: Municipality | None,
    description: str,
    observed_on: datetime.date | None = None,
    site: FieldSite | None = None,
    reported_to: str = "",
    reported_on: datetime.date | None = None,
) -> StructuralObservation:
    """Record a structural observation for one of the actor's teams (reported upward already, for coordinators)."""
    if not can_record_observations(actor):
        raise PermissionDenied
    if (reported_to.strip() or reported_on is not None) and not can_manage_reports(actor):
        raise PermissionDenied
    observation = StructuralObservation(
        team=team,
        theme=theme,
        municipality=municipality,
        site=site,
        description=description.strip(),
        observed_on=observed_on or timezone.localdate(),
        reported_to=reported_to.strip(),
        reported_on=reported_on,
        created_by=actor,
    )
    _check_observation(actor, observation)
    validate_model(observation, exclude=["created_by"])
    observation.save()
    audit(actor=actor, action="create", instance=observation)
    return observation


@transaction.atomic
def observation_update(*, actor: User, observation: StructuralObservation, **fields) -> StructuralObservation:
    """Change an observation (the admin's door): coordinators, for their teams, under the rules of creating one."""
    if not can_manage_reports(actor):
        raise PermissionDenied
    observation = StructuralObservation.objects.select_for_update().get(pk=observation.pk)
    for name in ("description", "reported_to"):
        if name in fields:
            fields[name] = fields[name].strip()
    changed = apply_changes(observation, fields)
    if changed:
        _check_observation(actor, observation)
        validate_model(observation)
        observation.save(update_fields=changed)
        audit(actor=actor, action="update", instance=observation, changes=changed)
    return observation


def _check_observation(actor: User, observation: StructuralObservation) -> None:
    """The rules of an observation beyond its fields: the actor's team, the site in the municipality, reported."""
    if observation.team_id is None or observation.team_id not in writable_team_ids(actor):
        raise ValidationError({"team": _("You cannot record work for this team.")})
    site, municipality_id = observation.site, observation.municipality_id
    if site is not None and municipality_id is not None and site.municipality_id != municipality_id:
        raise ValidationError({"site": _("The site is in another municipality.")})
    _check_reported(observation.reported_to, observation.reported_on)


def _check_reported(reported_to: str, reported_on: datetime.date | None) -> None:
    """Reported upward: to whom and when, both or neither."""
    if reported_to and reported_on is None:
        raise ValidationError({"reported_on": _("Give the date it was reported.")})
    if reported_on is not None and not reported_to:
        raise ValidationError({"reported_to": _("Say to whom it was reported.")})


@transaction.atomic
def observation_mark_reported(
    *, actor: User, observation: StructuralObservation, reported_to: str, reported_on: datetime.date | None
) -> StructuralObservation:
    """Say to whom and when an observation was reported upward (empty both: not reported)."""
    if not can_manage_reports(actor):
        raise PermissionDenied
    observation = StructuralObservation.objects.select_for_update().get(pk=observation.pk)
    reported_to = reported_to.strip()
    _check_reported(reported_to, reported_on)
    changed = apply_changes(observation, {"reported_to": reported_to, "reported_on": reported_on})
    if changed:
        validate_model(observation)
        observation.save(update_fields=changed)
        audit(actor=actor, action="update", instance=observation, changes=changed)
    return observation


@transaction.atomic
def period_evaluation_save(
    *,
    actor: User,
    start: datetime.date,
    end: datetime.date,
    successes: str,
    challenges: str,
    lessons: str,
) -> PeriodEvaluation:
    """Write (or rewrite) the coordinator's evaluation of the period start–end."""
    if not can_manage_reports(actor):
        raise PermissionDenied
    evaluation = PeriodEvaluation.objects.select_for_update().filter(start=start, end=end).first()
    fields = {"successes": successes.strip(), "challenges": challenges.strip(), "lessons": lessons.strip()}
    if evaluation is None:
        evaluation = PeriodEvaluation(start=start, end=end, updated_by=actor, **fields)
        validate_model(evaluation, exclude=["updated_by"])
        evaluation.save()
        audit(actor=actor, action="create", instance=evaluation)
        return evaluation
    changed = apply_changes(evaluation, fields)
    if changed:
        evaluation.updated_by = actor
        evaluation.updated_at = timezone.now()
        validate_model(evaluation, exclude=["updated_by"])
        evaluation.save(update_fields=[*changed, "updated_by", "updated_at"])
        audit(actor=actor, action="update", instance=evaluation, changes=changed)
    return evaluation


@transaction.atomic
def report_produced(
    *, actor: User, start: datetime.date, end: datetime.date, report_format: str, filters: dict[str, str]
) -> None:
    """The audit entry for a period report that leaves the system: who, which period, which format.

    The filters are written as codes and ids; a report holds no personal data.
    """
    if not can_read_reports(actor):
        raise PermissionDenied
    details = [f"period={start.isoformat()}/{end.isoformat()}", f"format={report_format}"]
    details += [f"{name}={value}" for name, value in sorted(filters.items()) if value]
    # Recorded against the period (the evaluation's record type), since the
    # report is the period's report, whether or not an evaluation is written.
    audit_bulk(actor=actor, action="export", model=PeriodEvaluation, details=["period_report", *details])


@transaction.atomic
def feedback_delete(*, actor: User, feedback: ClientFeedback) -> None:
    """Remove one client answer (spam, a test answer); answers themselves are never edited."""
    if not can_manage_reports(actor) or not feedback_visible_to(actor).filter(pk=feedback.pk).exists():
        raise PermissionDenied
    before = rollups.slices_of([feedback])
    audit(actor=actor, action=AuditEntry.Action.DELETE, instance=feedback)
    feedback.delete()
    rollups.refresh(before)


@transaction.atomic
def feedback_record(
    *,
    site: FieldSite,
    score: int,
    outing: Outing | None = None,
    given_on: datetime.date | None = None,
    language: str = "",
    comment: str = "",
) -> ClientFeedback:
    """Store one client answer, anonymous and without an account (the one write path of feedback)."""
    feedback = ClientFeedback(
        site=site,
        outing=outing,
        score=score,
        given_on=given_on or timezone.localdate(),
        language=language,
        comment=comment.strip(),
    )
    validate_model(feedback)
    feedback.save()
    rollups.feedback_changed(feedback)
    return feedback
