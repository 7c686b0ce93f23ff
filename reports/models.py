"""Statistics, evaluation and structural social work."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from outreach.fields import FieldCheckConstraint
from outreach.models import FieldSite, Municipality, Outing, Team
from outreach.vocabulary import GotHelp, SurveyQuestionKind, TalkAgain

from .validators import validate_translations


class StructuralObservation(models.Model):
    """A social problem or service gap observed in the field, reported upward."""

    class Theme(models.TextChoices):
        HOUSING = "housing", _("Housing and homelessness")
        SUBSTANCE_USE = "substance_use", _("Substance use")
        MENTAL_HEALTH = "mental_health", _("Mental health")
        LIVELIHOOD = "livelihood", _("Livelihood and poverty")
        SERVICE_ACCESS = "service_access", _("Access to services")
        SAFETY = "safety", _("Safety")
        LONELINESS = "loneliness", _("Loneliness and exclusion")
        OTHER = "other", _("Other")

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="+")
    theme = models.CharField(_("theme"), max_length=20, choices=Theme.choices)
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(
        FieldSite, verbose_name=_("site"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    observed_on = models.DateField(_("observed on"), default=timezone.localdate)
    description = models.TextField(_("description"))
    reported_to = models.CharField(_("reported to"), max_length=200, blank=True)
    reported_on = models.DateField(_("reported on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("structural observation")
        verbose_name_plural = _("structural observations")
        ordering = ["-observed_on"]
        constraints = [
            FieldCheckConstraint(
                name="observation_reported_after_observed",
                field="reported_on",
                condition=Q(reported_on__isnull=True) | Q(reported_on__gte=models.F("observed_on")),
                violation_error_message=_("An observation cannot be reported before it was made."),
            ),
        ]

    def __str__(self):
        return f"{self.get_theme_display()} {self.observed_on}"


class FeedbackLink(models.Model):
    """A link (and QR code) through which clients give feedback, bound to a site and optionally an outing.

    The link's URL carries a random token that cannot be guessed; only its
    SHA-256 digest is stored, so the database alone opens no form. The link
    carries nothing about a client.
    """

    site = models.ForeignKey(FieldSite, verbose_name=_("site"), on_delete=models.PROTECT, related_name="+")
    outing = models.ForeignKey(
        Outing, verbose_name=_("outing"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    digest = models.CharField(_("link digest"), max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("made by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("made"), default=timezone.now)

    class Meta:
        verbose_name = _("feedback link")
        verbose_name_plural = _("feedback links")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.site} {self.expires_at:%Y-%m-%d}"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class ClientFeedback(models.Model):
    """Quick anonymous feedback from a client: a 1–5 score, two short questions and an optional comment.

    Nothing about the client is stored: no time of day, no address, no
    browser; only the day, the place and the answers.
    """

    site = models.ForeignKey(FieldSite, verbose_name=_("site"), on_delete=models.PROTECT, related_name="+")
    outing = models.ForeignKey(
        Outing, verbose_name=_("outing"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    link = models.ForeignKey(
        FeedbackLink,
        verbose_name=_("feedback link"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="answers",
    )
    given_on = models.DateField(_("given on"), default=timezone.localdate)
    score = models.PositiveSmallIntegerField(_("score (1–5)"))
    got_help = models.CharField(_("got the help needed"), max_length=10, choices=GotHelp.choices, blank=True)
    talk_again = models.CharField(_("would talk again"), max_length=10, choices=TalkAgain.choices, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    comment_flagged = models.BooleanField(
        _("comment flagged for review"),
        default=False,
        help_text=_("The comment looked like it contained an identity code, a phone number or an e-mail address."),
    )
    comment_hidden = models.BooleanField(_("comment hidden"), default=False)

    class Meta:
        verbose_name = _("client feedback")
        verbose_name_plural = _("client feedback")
        ordering = ["-given_on"]
        constraints = [
            FieldCheckConstraint(
                name="feedback_score_1_to_5",
                field="score",
                condition=Q(score__gte=1) & Q(score__lte=5),
                violation_error_message=_("The score is between 1 and 5."),
            ),
        ]
        indexes = [models.Index(fields=["given_on"], name="feedback_date")]

    def __str__(self):
        return f"{self.given_on} {self.site} {self.score}"


class FeedbackDayCount(models.Model):
    """Client feedback of one day at one site, by the team of the outing it was given at.

    `outing_team` is empty for feedback given without an outing: such
    feedback belongs to the site's responsible team, read from the site when
    the report is made. Kept exact by `reports.rollups`.
    """

    day = models.DateField()
    site = models.ForeignKey(FieldSite, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    outing_team = models.ForeignKey(
        "outreach.Team", on_delete=models.CASCADE, null=True, related_name="+", db_index=False, db_constraint=False
    )
    answers = models.PositiveIntegerField(default=0)
    score_sum = models.PositiveIntegerField(default=0)
    # The answers to the two optional questions, by answer (reports.rollups.ANSWER_COLUMNS).
    got_help_yes = models.PositiveIntegerField(default=0)
    got_help_partly = models.PositiveIntegerField(default=0)
    got_help_no = models.PositiveIntegerField(default=0)
    talk_again_yes = models.PositiveIntegerField(default=0)
    talk_again_no = models.PositiveIntegerField(default=0)
    talk_again_dont_know = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("feedback day count")
        verbose_name_plural = _("feedback day counts")
        indexes = [models.Index(fields=["day", "site"], name="rollup_feedback_day_site")]

    def __str__(self):
        return f"{self.day} {self.site_id}: {self.answers}"


class PeriodEvaluation(models.Model):
    """The coordinator's own evaluation of a reporting period: what went well, what was hard, what was learned.

    One per period (its first and last day), county-wide: the period report
    and the dashboard show it beside the figures of that period.
    """

    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    successes = models.TextField(_("successes"), blank=True)
    challenges = models.TextField(_("challenges"), blank=True)
    lessons = models.TextField(_("lessons learned"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("period evaluation")
        verbose_name_plural = _("period evaluations")
        ordering = ["-start", "-end"]
        constraints = [
            models.UniqueConstraint(fields=["start", "end"], name="period_evaluation_unique_period"),
            FieldCheckConstraint(
                name="period_evaluation_end_after_start",
                field="end",
                condition=Q(end__gte=models.F("start")),
                violation_error_message=_("The last day cannot be before the first day."),
            ),
        ]

    def __str__(self):
        return f"{self.start}–{self.end}"


class Survey(models.Model):
    """A client survey (the start-of-project survey, a yearly follow-up), answered through a public link.

    The link is published on purpose (posters, QR codes), so its token is a
    random public identifier kept as such, not a secret.
    """

    title = models.CharField(_("title"), max_length=200)
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    token = models.CharField(_("link token"), max_length=40, unique=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("made by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("made"), default=timezone.now)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-opens_on", "-pk"]
        constraints = [
            FieldCheckConstraint(
                name="survey_closes_after_opens",
                field="closes_on",
                condition=Q(closes_on__gte=models.F("opens_on")),
                violation_error_message=_("A survey cannot close before it opens."),
            ),
        ]

    def __str__(self):
        return self.title

    def is_open(self, day=None) -> bool:
        day = day or timezone.localdate()
        return self.closed_at is None and self.opens_on <= day <= self.closes_on


class SurveyQuestion(models.Model):
    survey = models.ForeignKey(Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=SurveyQuestionKind.choices)
    text = models.JSONField(_("question (fi, sv, en)"), validators=[validate_translations])

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        ordering = ["survey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "position"], name="survey_question_position_unique"),
        ]

    def __str__(self):
        return str(self.text.get("en") or self.text.get("fi") or "")


class SurveyChoice(models.Model):
    question = models.ForeignKey(
        SurveyQuestion, verbose_name=_("question"), on_delete=models.CASCADE, related_name="choices"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.JSONField(_("choice (fi, sv, en)"), validators=[validate_translations])

    class Meta:
        verbose_name = _("survey choice")
        verbose_name_plural = _("survey choices")
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question", "position"], name="survey_choice_position_unique"),
        ]

    def __str__(self):
        return str(self.text.get("en") or self.text.get("fi") or "")


class SurveyResponse(models.Model):
    """One client's answers to a survey: the day only, nothing about the client."""

    survey = models.ForeignKey(Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="responses")
    given_on = models.DateField(_("given on"), default=timezone.localdate)
    language = models.CharField(_("language"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-given_on", "-pk"]

    def __str__(self):
        return f"{self.survey} {self.given_on}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(
        SurveyResponse, verbose_name=_("response"), on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        SurveyQuestion, verbose_name=_("question"), on_delete=models.CASCADE, related_name="answers"
    )
    scale = models.PositiveSmallIntegerField(_("scale answer (1–5)"), null=True, blank=True)
    choices = models.ManyToManyField(SurveyChoice, verbose_name=_("choices"), blank=True, related_name="answers")
    text = models.TextField(_("text answer"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="survey_answer_once_per_question"),
            FieldCheckConstraint(
                name="survey_answer_scale_1_to_5",
                field="scale",
                condition=Q(scale__isnull=True) | (Q(scale__gte=1) & Q(scale__lte=5)),
                violation_error_message=_("The answer is between 1 and 5."),
            ),
        ]

    def __str__(self):
        return f"{self.response_id} {self.question_id}"
