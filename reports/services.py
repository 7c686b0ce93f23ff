"""Writes of the reports app: structural observations, period evaluations, and the audit of every report made."""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from outreach.models import AuditEntry, FieldSite, Municipality, Outing, Team, User
from outreach.permissions import ensure
from outreach.selectors import writable_team_ids
from outreach.services import apply_changes, audit, audit_bulk, validate_model
from outreach.vocabulary import SURVEY_CHOICE_KINDS, SurveyQuestionKind

from . import rollups
from .comments import is_link_spam, mask_identifiers, masked
from .models import (
    ClientFeedback,
    FeedbackLink,
    PeriodEvaluation,
    StructuralObservation,
    Survey,
    SurveyAnswer,
    SurveyChoice,
    SurveyQuestion,
    SurveyResponse,
)
from .permissions import (
    can_ask_feedback,
    can_manage_reports,
    can_read_feedback_results,
    can_read_reports,
    can_record_observations,
)
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


# Client feedback -----------------------------------------------------------


class FeedbackRateLimited(Exception):
    """Too many answers from one address, or through one link, in a short while."""


def feedback_link_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feedback_link_default_expiry(outing: Outing | None) -> datetime.datetime:
    """The end of the outing's day, or of today, in Europe/Helsinki (the start of the next day).

    A link asked for at an outing of a day gone by works until the end of today, not born expired.
    """
    today = timezone.localdate()
    day = max(outing.date, today) if outing is not None else today
    next_day = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(next_day, timezone.get_default_timezone())


@transaction.atomic
def feedback_link_create(
    *, actor: User, site: FieldSite, outing: Outing | None = None, expires_at: datetime.datetime | None = None
) -> tuple[FeedbackLink, str]:
    """Make a feedback link for a site (and an outing there); returns the link and its token.

    The token is in the link's URL only: the database keeps its digest.
    """
    if outing is not None and outing.site_id != site.pk:
        raise ValidationError({"outing": _("The outing is at another site.")})
    ensure(can_ask_feedback(actor, site, outing))
    if expires_at is None:
        expires_at = feedback_link_default_expiry(outing)
    elif expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    token = secrets.token_urlsafe(16)
    link = FeedbackLink(
        site=site, outing=outing, digest=feedback_link_digest(token), expires_at=expires_at, created_by=actor
    )
    validate_model(link)
    link.save()
    audit(actor=actor, action="create", instance=link, changes=["site", "outing", "expires_at"])
    return link, token


def feedback_link_for_token(token: str) -> FeedbackLink | None:
    """The link whose URL carries `token` (expired or not), or None for a token no link has."""
    if not token or len(token) > 64:
        return None
    return FeedbackLink.objects.select_related("site", "outing").filter(digest=feedback_link_digest(token)).first()


def _rate_salt() -> str:
    # A random salt that lives in the cache only and changes daily: the
    # hashes of addresses can be compared for a moment, never reversed.
    return str(cache.get_or_set("feedback:rate:salt", secrets.token_hex(16), timeout=24 * 3600))


def _over_limit(key: str, limit: int, window: int) -> bool:
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        count = 1
    return count > limit


def feedback_rate_check(*, scope: str, address: str, target: int) -> None:
    """Count one submission from `address` to `target` (a link or survey id); raise FeedbackRateLimited when
    either limit is passed. Only a salted hash of the address is kept, in the cache, for the window."""
    window = settings.FEEDBACK_RATE_WINDOW
    hashed = hashlib.sha256(f"{_rate_salt()}:{address}".encode()).hexdigest()
    over_address = _over_limit(f"feedback:rate:address:{hashed}", settings.FEEDBACK_RATE_PER_ADDRESS, window)
    over_target = _over_limit(f"feedback:rate:{scope}:{target}", settings.FEEDBACK_RATE_PER_LINK, window)
    if over_address or over_target:
        raise FeedbackRateLimited


@transaction.atomic
def feedback_submit(
    *,
    link: FeedbackLink,
    score: int | None,
    got_help: str = "",
    talk_again: str = "",
    comment: str = "",
    language: str = "",
    honeypot: str = "",
) -> ClientFeedback | None:
    """Store one client's answer given through `link`; None when it was dropped as spam.

    Spam (a filled honeypot field, a comment full of links) is dropped
    without a word, so that its sender learns nothing. Identifiers in the
    comment are masked before it is stored.
    """
    if link.expired:
        raise ValidationError(_("This feedback link has expired."))
    comment = (comment or "").strip()
    if honeypot or is_link_spam(comment):
        return None
    comment, flagged = mask_identifiers(comment)
    return feedback_record(
        site=link.site,
        outing=link.outing,
        link=link,
        score=score,
        got_help=got_help,
        talk_again=talk_again,
        language=language,
        comment=comment,
        comment_flagged=flagged,
    )


@transaction.atomic
def feedback_record(
    *,
    site: FieldSite,
    score: int | None,
    outing: Outing | None = None,
    link: FeedbackLink | None = None,
    given_on: datetime.date | None = None,
    got_help: str = "",
    talk_again: str = "",
    language: str = "",
    comment: str = "",
    comment_flagged: bool = False,
) -> ClientFeedback:
    """Store one client answer, anonymous, with its day rollup: the one write of client feedback."""
    feedback = ClientFeedback(
        site=site,
        outing=outing,
        link=link,
        given_on=given_on or timezone.localdate(),
        score=score,  # type: ignore[misc]  # None is refused by validate_model, naming the field
        got_help=got_help or "",
        talk_again=talk_again or "",
        language=language,
        comment=comment.strip(),
        comment_flagged=comment_flagged,
    )
    validate_model(feedback)
    feedback.save()
    rollups.feedback_changed(feedback)
    return feedback


@transaction.atomic
def feedback_comment_set_hidden(*, actor: User, feedback: ClientFeedback, hidden: bool) -> ClientFeedback:
    """A coordinator hides a comment entirely (or shows it again)."""
    ensure(can_read_feedback_results(actor))
    feedback = ClientFeedback.objects.select_for_update().get(pk=feedback.pk)
    if feedback.comment_hidden != hidden:
        feedback.comment_hidden = hidden
        feedback.save(update_fields=["comment_hidden"])
        audit(actor=actor, action="update", instance=feedback, changes=["comment_hidden"])
    return feedback


# Surveys -------------------------------------------------------------------


@transaction.atomic
def survey_create(
    *, actor: User, title: str, opens_on: datetime.date, closes_on: datetime.date, questions: list[dict]
) -> Survey:
    """Define a survey with its questions (each {"kind", "text": {fi, sv, en}, "choices": [{fi, sv, en}, …]})."""
    ensure(can_read_feedback_results(actor))
    survey = Survey(
        title=(title or "").strip(),
        opens_on=opens_on,
        closes_on=closes_on,
        token=secrets.token_urlsafe(12),
        created_by=actor,
    )
    validate_model(survey)
    if not questions:
        raise ValidationError({"questions": _("Give at least one question.")})
    survey.save()
    for position, spec in enumerate(questions, start=1):
        kind = str(spec.get("kind") or "")
        choices = spec.get("choices") or []
        question = SurveyQuestion(survey=survey, position=position, kind=kind, text=spec.get("text"))
        try:
            validate_model(question, exclude=["survey"])
            if kind in SURVEY_CHOICE_KINDS and len(choices) < 2:
                raise ValidationError({"choices": _("A choice question needs at least two choices.")})
            if kind not in SURVEY_CHOICE_KINDS and choices:
                raise ValidationError({"choices": _("Only choice questions have choices.")})
            question.save()
            for choice_position, text in enumerate(choices, start=1):
                choice = SurveyChoice(question=question, position=choice_position, text=text)
                validate_model(choice, exclude=["question"])
                choice.save()
        except ValidationError as error:
            raise ValidationError(
                {
                    "questions": [
                        _("Question %(number)s: %(error)s")
                        % {
                            "number": position,
                            "error": " ".join(
                                message for messages in error.message_dict.values() for message in messages
                            ),
                        }
                    ]
                }
            ) from None
    audit(actor=actor, action="create", instance=survey, changes=["title", "opens_on", "closes_on", "questions"])
    return survey


@transaction.atomic
def survey_close(*, actor: User, survey: Survey) -> Survey:
    ensure(can_read_feedback_results(actor))
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.closed_at is None:
        survey.closed_at = timezone.now()
        survey.save(update_fields=["closed_at"])
        audit(actor=actor, action="update", instance=survey, changes=["closed_at"])
    return survey


@transaction.atomic
def survey_answer(
    *, survey: Survey, answers: dict[int, object], language: str = "", honeypot: str = ""
) -> SurveyResponse | None:
    """Store one client's answers: {question id: 1–5 | choice id | [choice ids] | text}. None when dropped as spam.

    Every question may be left unanswered; a value that does not fit its
    question is refused naming the question (`q<id>`), and nothing is stored.
    """
    if not survey.is_open():
        raise ValidationError(_("This survey is closed."))
    questions = list(survey.questions.prefetch_related("choices"))
    if honeypot or any(isinstance(value, str) and is_link_spam(value) for value in answers.values()):
        return None
    rows: list[tuple[SurveyAnswer, list[SurveyChoice]]] = []
    errors: dict[str, str] = {}
    for question in questions:
        value = answers.get(question.pk)
        if value in (None, "", []):
            continue
        choices_by_id = {choice.pk: choice for choice in question.choices.all()}
        answer = SurveyAnswer(question=question)
        chosen: list[SurveyChoice] = []
        if question.kind == SurveyQuestionKind.SCALE:
            if value not in (1, 2, 3, 4, 5):
                errors[f"q{question.pk}"] = _("Choose a number from 1 to 5.")
                continue
            answer.scale = value  # type: ignore[assignment]  # checked just above
        elif question.kind == SurveyQuestionKind.TEXT:
            answer.text = masked(str(value).strip())[:2000]
        else:
            ids = value if isinstance(value, list) else [value]
            if question.kind == SurveyQuestionKind.SINGLE and len(ids) != 1:
                errors[f"q{question.pk}"] = _("Choose one option.")
                continue
            if any(choice_id not in choices_by_id for choice_id in ids):
                errors[f"q{question.pk}"] = _("Choose one of the options shown.")
                continue
            chosen = [choices_by_id[choice_id] for choice_id in ids]  # type: ignore[index]  # ids checked above
        rows.append((answer, chosen))
    if errors:
        raise ValidationError(errors)
    if not rows:
        raise ValidationError(_("Answer at least one question."))
    response = SurveyResponse.objects.create(survey=survey, given_on=timezone.localdate(), language=language)
    for answer, chosen in rows:
        answer.response = response
        answer.save()
        if chosen:
            answer.choices.set(chosen)
    return response


def survey_exported(*, actor: User, survey: Survey) -> None:
    """The audit entry of a survey's answers leaving the system."""
    ensure(can_read_feedback_results(actor))
    audit(actor=actor, action="export", instance=survey)
