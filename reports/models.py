"""Statistics, evaluation and structural social work."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from outreach.fields import FieldCheckConstraint
from outreach.models import FieldSite, Municipality, Outing, Team


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


class ClientFeedback(models.Model):
    """Quick anonymous feedback from a client, on a 1–5 scale."""

    site = models.ForeignKey(FieldSite, verbose_name=_("site"), on_delete=models.PROTECT, related_name="+")
    outing = models.ForeignKey(
        Outing, verbose_name=_("outing"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    given_on = models.DateField(_("given on"), default=timezone.localdate)
    score = models.PositiveSmallIntegerField(_("score (1–5)"))
    language = models.CharField(_("language"), max_length=10, blank=True)
    comment = models.TextField(_("comment"), blank=True)

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
