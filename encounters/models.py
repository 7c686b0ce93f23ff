"""Whom the teams met and what followed: persons, encounters, referrals, support."""

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from networks.models import PartnerOrganisation, PartnerService
from outreach.fields import CodeSetField, FieldCheckConstraint
from outreach.models import PAST_PLANNING_DAYS, FieldSite, Outing, Team
from outreach.validators import (
    BIRTH_YEAR_MIN,
    DOMAIN_ZONE,
    no_invisible_characters,
    validate_not_future_year,
    validate_plausible_birth_year,
    validate_plausible_date,
)
from outreach.vocabulary import (
    Action,
    AgeGroup,
    ContactKind,
    Depth,
    Gender,
    Need,
    ReferralStatus,
    ServiceKind,
)

from .validators import validate_identity_code

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


def domain_date(moment: datetime.datetime) -> datetime.date:
    """The Europe/Helsinki calendar date of an aware datetime."""
    return moment.astimezone(DOMAIN_ZONE).date()


def age_group_for(birth_year: int, year: int) -> str:
    """The age group of someone born in `birth_year`, in `year` (their birthday may be still to come)."""
    age = year - birth_year
    for limit, group in (
        (18, AgeGroup.UNDER_18),
        (30, AgeGroup.AGE_18_29),
        (40, AgeGroup.AGE_30_39),
        (50, AgeGroup.AGE_40_49),
        (65, AgeGroup.AGE_50_64),
    ):
        if age < limit:
            return group
    return AgeGroup.AGE_65_PLUS


def mask_identity_code(code: str) -> str:
    """131052-308T → 131052-***T: how an identity code is shown everywhere (pages, API, admin); the whole
    code only on an explicit reveal, which is logged (services.person_identity_code_reveal)."""
    return f"{code[:7]}***{code[10:]}" if code else ""


# An encounter lasts at most a day: the check constraint
# encounter_duration_plausible, which model validation runs on every door.
ENCOUNTER_MAX_MINUTES = 24 * 60

# The database's bounds for a birth year; the field's validators say the
# same on the field (validate_plausible_birth_year, validate_not_future_year).
BIRTH_YEAR_MAX = 2100


# What only a named person (who has consented) carries.
DIRECT_IDENTIFIERS = ("first_name", "last_name", "identity_code", "phone", "email")
NAMED_ONLY_AFTER_CONSENT = _(
    "Names, identity codes and contact details are recorded only after consent: make the person named first."
)


class Person(models.Model):
    """Someone met more than once: pseudonymous (alias) or named (with consent)."""

    class Kind(models.TextChoices):
        PSEUDONYMOUS = "pseudonymous", _("Pseudonymous")
        NAMED = "named", _("Named")

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="persons")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PSEUDONYMOUS)
    alias = models.CharField(_("alias or nickname"), max_length=100, blank=True, validators=[no_invisible_characters])
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"), null=True, blank=True, validators=[validate_plausible_birth_year, validate_not_future_year]
    )
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN)
    # Direct identifiers: only for named persons, who have given consent.
    first_name = models.CharField(_("first name"), max_length=100, blank=True, validators=[no_invisible_characters])
    last_name = models.CharField(_("last name"), max_length=100, blank=True, validators=[no_invisible_characters])
    identity_code = models.CharField(
        _("personal identity code"), max_length=11, blank=True, validators=[validate_identity_code]
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # The date the person and a worker agreed on ongoing support.
    engaged_on = models.DateField(
        _("engagement agreed on"), null=True, blank=True, validators=[validate_plausible_date]
    )
    # A merged record points at the record it was merged into; its
    # encounters move there and the merge can be undone (see PersonMerge).
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_records",
    )
    notes = models.TextField(_("notes"), blank=True)
    # Retention (manage.py retention): a record under a legal hold (a pending
    # complaint, a court case) is kept as it is whatever the schedule says.
    legal_hold = models.BooleanField(
        _("legal hold"),
        default=False,
        db_default=False,
        help_text=_("Kept as it is: retention leaves this record alone."),
    )
    # Set by the retention run that found no contact for the schedule's years: due for review.
    retention_flagged_on = models.DateField(_("flagged for retention review"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Raised by the services in the UPDATE of every change: a save based on an older version is refused.
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)

    # Who changed what, with the old values (a rectification keeps what it corrected).
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["alias", "last_name", "first_name"]
        constraints = [
            FieldCheckConstraint(
                name="person_pseudonymous_has_no_identifiers",
                field="kind",
                condition=~Q(kind="pseudonymous")
                | (Q(first_name="") & Q(last_name="") & Q(identity_code="") & Q(phone="") & Q(email="")),
                violation_error_message=_("A pseudonymous person has no name, identity code or contact details."),
            ),
            FieldCheckConstraint(
                name="person_named_has_name",
                field="last_name",
                condition=~Q(kind="named") | ~Q(first_name="") | ~Q(last_name=""),
                violation_error_message=_("A named person needs a first or last name."),
            ),
            FieldCheckConstraint(
                name="person_pseudonymous_has_alias",
                field="alias",
                condition=~Q(kind="pseudonymous") | ~Q(alias=""),
                violation_error_message=_("A pseudonymous person needs an alias."),
            ),
            FieldCheckConstraint(
                name="person_kind_valid",
                field="kind",
                condition=Q(kind__in=["pseudonymous", "named"]),
                violation_error_message=_("Unknown person kind."),
            ),
            FieldCheckConstraint(
                name="person_birth_year_plausible",
                field="birth_year",
                condition=Q(birth_year__isnull=True)
                | (Q(birth_year__gte=BIRTH_YEAR_MIN) & Q(birth_year__lte=BIRTH_YEAR_MAX)),
                violation_error_message=_("The birth year is not plausible."),
            ),
            FieldCheckConstraint(
                name="person_not_merged_into_self",
                field="merged_into",
                condition=~Q(merged_into=models.F("pk")),
                violation_error_message=_("A person cannot be merged into itself."),
            ),
        ]
        indexes = [
            # The persons page's order within a team: read in order, it stops at the page (no sort of every match).
            models.Index(fields=["team", "alias", "last_name", "first_name", "id"], name="person_team_listed"),
            # The same order across teams, for those who see several (a coordinator of an area).
            models.Index(fields=["alias", "last_name", "first_name", "id"], name="person_listed"),
            models.Index(fields=["team", "last_name"], name="person_team_last_name"),
            models.Index(fields=["team", "birth_year"], name="person_team_birth_year"),
            # The summary's persons engaged by the period's end: read from the index alone.
            models.Index(fields=["engaged_on", "id"], name="person_engaged", condition=Q(engaged_on__isnull=False)),
        ]

    def __str__(self):
        if self.kind == self.Kind.NAMED:
            return f"{self.first_name} {self.last_name}".strip()
        return self.alias

    def clean(self):
        # Each identifier a pseudonymous record would carry, named: the doors
        # (API, forms) must say which field to empty. The check constraint
        # above stays as the database's guard.
        super().clean()
        if self.kind == self.Kind.PSEUDONYMOUS:
            errors = {name: NAMED_ONLY_AFTER_CONSENT for name in DIRECT_IDENTIFIERS if getattr(self, name)}
            if errors:
                raise ValidationError(errors)

    @property
    def identity_code_masked(self) -> str:
        return mask_identity_code(self.identity_code)

    @property
    def display_name(self) -> str:
        return str(self)

    @property
    def field_name(self) -> str:
        """How the person is called in the field (outing page, Today, quick log): the alias, or a named
        person's initials when they have none. The name itself is shown only on the person's own page."""
        if self.alias:
            return self.alias
        initials = [part[0] + "." for part in (self.first_name, self.last_name) if part]
        return " ".join(initials) or str(self.pk)


class PersonMerge(models.Model):
    """A merge of a duplicate person record into another, kept so that it can be undone."""

    kept = models.ForeignKey(Person, verbose_name=_("kept record"), on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Person, verbose_name=_("merged record"), on_delete=models.PROTECT, related_name="+")
    # Ids of the rows moved from the merged record to the kept one.
    moved = models.JSONField(_("moved records"), default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("merged by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    merged_at = models.DateTimeField(_("merged"), default=timezone.now)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)

    class Meta:
        verbose_name = _("person merge")
        verbose_name_plural = _("person merges")
        ordering = ["-merged_at"]
        constraints = [
            FieldCheckConstraint(
                name="merge_two_records",
                field="merged",
                condition=~Q(kept=models.F("merged")),
                violation_error_message=_("A person cannot be merged into itself."),
            ),
        ]

    def __str__(self):
        return f"{self.merged_id} → {self.kept_id}"


class Consent(models.Model):
    """What a named person agreed to, when, recorded by whom; withdrawable."""

    class Scope(models.TextChoices):
        PERSONAL_DATA = "personal_data", _("Recording personal data")
        CONTACT = "contact", _("Being contacted")
        INFORMATION_SHARING = "information_sharing", _("Sharing information with services")

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField(_("scope"), max_length=30, choices=Scope.choices)
    given_on = models.DateField(_("given on"), default=timezone.localdate, validators=[validate_plausible_date])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_on"]
        constraints = [
            FieldCheckConstraint(
                name="consent_withdrawn_after_given",
                field="withdrawn_on",
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=models.F("given_on")),
                violation_error_message=_("A consent cannot be withdrawn before it was given."),
            ),
        ]

    def __str__(self):
        return f"{self.get_scope_display()} {self.given_on}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_on is None


class Encounter(models.Model):
    """One meeting (kohtaaminen), anonymous or linked to a Person."""

    if TYPE_CHECKING:
        # Not fields: display attributes that the encounters views set on the instances they list.
        need_labels: list[StrPromise]
        can_edit: bool
        can_delete: bool
        can_undo: bool

    # Client-generated on field devices: a repeated create is idempotent.
    client_uuid = models.UUIDField(_("client UUID"), unique=True, null=True, blank=True, default=None)
    # team, site and person are indexed by the composite (…, occurred_on)
    # indexes below; single-column indexes would only slow bulk loads.
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="encounters", db_index=False
    )
    outing = models.ForeignKey(
        Outing,
        verbose_name=_("outing"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="encounters",
    )
    site = models.ForeignKey(
        FieldSite, verbose_name=_("site"), on_delete=models.PROTECT, related_name="encounters", db_index=False
    )
    occurred_at = models.DateTimeField(_("time"), validators=[validate_plausible_date])
    # The Europe/Helsinki date of occurred_at, stored so that reports can
    # filter and group by day with an index; set by save() and bulk loads.
    occurred_on = models.DateField(_("date"), editable=False)
    workers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("workers"), blank=True, related_name="encounters"
    )
    contact_kind = models.CharField(
        _("contact kind"), max_length=10, choices=ContactKind.choices, default=ContactKind.FIELD
    )
    depth = models.CharField(_("depth"), max_length=15, choices=Depth.choices, default=Depth.CONVERSATION)
    # Stored as well as derivable so that the database itself holds the
    # rule: an encounter marked anonymous can never point at a person.
    anonymous = models.BooleanField(_("anonymous"), default=True)
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="encounters",
        db_index=False,
    )
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN)
    age_group = models.CharField(_("age group"), max_length=10, choices=AgeGroup.choices, default=AgeGroup.UNKNOWN)
    first_contact = models.BooleanField(_("first contact"), null=True, blank=True)
    needs = CodeSetField(_("needs"), choices_enum=Need)
    actions = CodeSetField(_("actions taken"), choices_enum=Action)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("logged"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)

    # Bulk loads (seed_demo, batched imports) write no history rows: see docs/SECURITY.md.
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("encounter")
        verbose_name_plural = _("encounters")
        ordering = ["-occurred_at"]
        constraints = [
            FieldCheckConstraint(
                name="encounter_anonymous_has_no_person",
                field="person",
                condition=(Q(anonymous=True) & Q(person__isnull=True)) | (Q(anonymous=False) & Q(person__isnull=False)),
                violation_error_message=_("An anonymous encounter has no person; a linked one has."),
            ),
            FieldCheckConstraint(
                name="encounter_depth_valid",
                field="depth",
                condition=Q(depth__in=Depth.values),
                violation_error_message=_("Unknown encounter depth."),
            ),
            FieldCheckConstraint(
                name="encounter_duration_plausible",
                field="duration_minutes",
                condition=Q(duration_minutes__isnull=True) | Q(duration_minutes__lte=ENCOUNTER_MAX_MINUTES),
                violation_error_message=_("An encounter lasts at most 24 hours."),
            ),
        ]
        indexes = [
            models.Index(fields=["occurred_on"], name="encounter_date"),
            models.Index(fields=["team", "occurred_on"], name="encounter_team_date"),
            models.Index(fields=["site", "occurred_on"], name="encounter_site_date"),
            models.Index(fields=["person", "occurred_on"], name="encounter_person_date"),
            # The API's list order: the newest page is read from the index
            # instead of sorting every visible encounter (docs/SCALING.md).
            models.Index(fields=["-occurred_at", "-id"], name="encounter_newest_first"),
        ]

    def __str__(self):
        local = timezone.localtime(self.occurred_at)
        return f"{local:%Y-%m-%d %H:%M} {self.site} ({self.get_depth_display()})"

    def save(self, *args, **kwargs):
        # Keep the derived date consistent with the time whatever path saves.
        self.occurred_on = domain_date(self.occurred_at)
        super().save(*args, **kwargs)


class Referral(models.Model):
    """A referral (ohjaus) to a service, by a team, from an encounter or person."""

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="referrals")
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    encounter = models.ForeignKey(
        Encounter,
        verbose_name=_("encounter"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    service_kind = models.CharField(_("service"), max_length=30, choices=ServiceKind.choices)
    partner = models.ForeignKey(
        PartnerOrganisation,
        verbose_name=_("partner organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    # The partner's service the person is referred to; it gives the partner and the service kind.
    partner_service = models.ForeignKey(
        PartnerService,
        verbose_name=_("partner service"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    status = models.CharField(
        _("status"), max_length=15, choices=ReferralStatus.choices, default=ReferralStatus.SUGGESTED
    )
    referred_on = models.DateField(_("referred on"), default=timezone.localdate, validators=[validate_plausible_date])
    # The date of the latest status change, and of the moments that matter
    # for follow-up: when the referral was made and when the person got in.
    status_changed_on = models.DateField(_("status changed on"), default=timezone.localdate)
    made_on = models.DateField(_("made on"), null=True, blank=True)
    connected_on = models.DateField(_("connected on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    follow_up_due = models.DateField(_("follow-up due"), null=True, blank=True, validators=[validate_plausible_date])
    outcome_notes = models.TextField(_("outcome notes"), blank=True)
    client_uuid = models.UUIDField(_("client UUID"), unique=True, null=True, blank=True, default=None)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-referred_on", "-id"]
        constraints = [
            FieldCheckConstraint(
                name="referral_status_valid",
                field="status",
                condition=Q(status__in=ReferralStatus.values),
                violation_error_message=_("Unknown referral status."),
            ),
            FieldCheckConstraint(
                name="referral_connected_has_date",
                field="connected_on",
                condition=~Q(status="connected") | Q(connected_on__isnull=False),
                violation_error_message=_("A connected referral needs the date of connection."),
            ),
        ]
        indexes = [
            models.Index(fields=["team", "referred_on"], name="referral_team_date"),
            models.Index(fields=["referred_on"], name="referral_date"),
            models.Index(fields=["follow_up_due"], name="referral_follow_up_due"),
        ]

    def __str__(self):
        return f"{self.get_service_kind_display()} ({self.get_status_display()})"

    @property
    def reference(self) -> str:
        """How the referral is named to a partner: no name, alias or identity code, only its number."""
        return f"R-{self.pk:06d}"

    def clean(self):
        # A follow-up is due after the referral was made (a record entered afterwards keeps its own dates).
        if self.follow_up_due is not None and self.referred_on is not None and self.follow_up_due < self.referred_on:
            raise ValidationError({"follow_up_due": _("The follow-up cannot be due before the referral was made.")})
        service = self.partner_service
        if service is not None:
            # The service names its partner and its kind; a referral to it must agree with both.
            if self.partner_id is not None and self.partner_id != service.partner_id:
                raise ValidationError({"partner_service": _("The service is offered by another organisation.")})
            if self.service_kind and self.service_kind != service.service_kind:
                raise ValidationError({"partner_service": _("The service is of another service kind.")})


class ReferralConfirmation(models.Model):
    """A link for the partner organisation to confirm whether the person arrived (a closed referral loop).

    Only the SHA-256 digest of the link's token is stored: the link itself is
    shown once to the worker (or e-mailed to the partner). It is single-use
    and expires (REFERRAL_CONFIRMATION_DAYS); its page shows the service,
    the date and the referral's reference, nothing of the person.
    """

    class Outcome(models.TextChoices):
        ARRIVED = "arrived", _("Arrived")
        NOT_ARRIVED = "not_arrived", _("Did not arrive")

    referral = models.ForeignKey(
        Referral, verbose_name=_("referral"), on_delete=models.CASCADE, related_name="confirmations"
    )
    token_digest = models.CharField(_("token digest"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    sent_to = models.EmailField(_("sent to"), blank=True)
    used_at = models.DateTimeField(_("answered"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=15, choices=Outcome.choices, blank=True)
    partner_name = models.CharField(
        _("partner's name"), max_length=200, blank=True, validators=[no_invisible_characters]
    )
    note = models.TextField(_("partner's note"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("referral confirmation")
        verbose_name_plural = _("referral confirmations")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "used_at"], name="confirmation_creator_used")]

    def __str__(self):
        return f"{self.referral_id} {self.created_at:%Y-%m-%d}"


def follow_up_due_error(due_on: datetime.date) -> str:
    """Why a follow-up cannot be due on this day (empty when it can): at most two weeks back, as a planned
    outing (outreach.models.PAST_PLANNING_DAYS)."""
    if due_on < timezone.localdate() - datetime.timedelta(days=PAST_PLANNING_DAYS):
        return str(
            _("A follow-up cannot be due more than %(days)s days back; check the date.") % {"days": PAST_PLANNING_DAYS}
        )
    return ""


class FollowUp(models.Model):
    """A support contact (kannattelu) after a referral, with a due date."""

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="follow_ups")
    referral = models.ForeignKey(
        Referral,
        verbose_name=_("referral"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    due_on = models.DateField(_("due on"), validators=[validate_plausible_date])
    done_on = models.DateField(_("done on"), null=True, blank=True, validators=[validate_plausible_date])
    contact_kind = models.CharField(
        _("contact kind"), max_length=10, choices=ContactKind.choices, default=ContactKind.PHONE
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on"]
        constraints = [
            FieldCheckConstraint(
                name="follow_up_has_subject",
                # Named on `person`: a follow-up without a referral is about a person.
                field="person",
                condition=Q(referral__isnull=False) | Q(person__isnull=False),
                violation_error_message=_("A follow-up belongs to a referral or a person."),
            ),
        ]
        indexes = [
            models.Index(fields=["team", "due_on"], name="follow_up_team_due"),
            # Today's and My follow-ups' lists: the open ones in due order, read until the page is full.
            models.Index(fields=["due_on", "id"], condition=Q(done_on__isnull=True), name="follow_up_open_due"),
        ]

    def __str__(self):
        return f"{self.due_on} {self.get_contact_kind_display()}"

    def clean(self):
        # A due date weeks back is a typing slip (a follow-up due in 2020), not a plan; checked when the date
        # is set, so that an overdue follow-up can still be marked done.
        if self.due_on is None:
            return
        if self.pk is not None and FollowUp.objects.filter(pk=self.pk, due_on=self.due_on).exists():
            return
        message = follow_up_due_error(self.due_on)
        if message:
            raise ValidationError({"due_on": message})


# Report rollups ------------------------------------------------------------
#
# Pre-aggregated encounter counts that make the reports fast at millions of
# encounters. They hold nothing that is not derived from Encounter and are
# kept exact by `encounters.rollups`, which every service that writes
# encounters calls in the same transaction; `manage.py rebuild_report_rollups`
# builds them again from scratch. Rows are keyed by site, not by its
# municipality or site type, so that editing a site changes no rollup.
# Their links carry no database constraint: the rows are derived from rows
# whose own constraints hold, and a rebuild inserts them in bulk.


class EncounterDayCount(models.Model):
    """Encounters of one day, team and site, with a count per vocabulary code."""

    day = models.DateField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    site = models.ForeignKey(FieldSite, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    total = models.PositiveIntegerField(default=0)
    anonymous = models.PositiveIntegerField(default=0)
    conversation = models.PositiveIntegerField(default=0)
    gender_female = models.PositiveIntegerField(default=0)
    gender_male = models.PositiveIntegerField(default=0)
    gender_other = models.PositiveIntegerField(default=0)
    gender_unknown = models.PositiveIntegerField(default=0)
    age_under_18 = models.PositiveIntegerField(default=0)
    age_18_29 = models.PositiveIntegerField(default=0)
    age_30_39 = models.PositiveIntegerField(default=0)
    age_40_49 = models.PositiveIntegerField(default=0)
    age_50_64 = models.PositiveIntegerField(default=0)
    age_65_plus = models.PositiveIntegerField(default=0)
    age_unknown = models.PositiveIntegerField(default=0)
    kind_field = models.PositiveIntegerField(default=0)
    kind_phone = models.PositiveIntegerField(default=0)
    kind_meeting = models.PositiveIntegerField(default=0)
    kind_other = models.PositiveIntegerField(default=0)
    need_mental_health = models.PositiveIntegerField(default=0)
    need_substance_use = models.PositiveIntegerField(default=0)
    need_housing = models.PositiveIntegerField(default=0)
    need_livelihood = models.PositiveIntegerField(default=0)
    need_employment_education = models.PositiveIntegerField(default=0)
    need_physical_health = models.PositiveIntegerField(default=0)
    need_social_relationships = models.PositiveIntegerField(default=0)
    need_daily_living = models.PositiveIntegerField(default=0)
    need_safety_violence = models.PositiveIntegerField(default=0)
    need_other = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("encounter day count")
        verbose_name_plural = _("encounter day counts")
        indexes = [
            models.Index(fields=["day", "site"], name="rollup_day_site"),
            models.Index(fields=["team", "day"], name="rollup_team_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.site_id}: {self.total}"


class EncounterMixCount(models.Model):
    """Encounters of one day, team and site by gender × age group × depth (the statistics extract)."""

    day = models.DateField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    site = models.ForeignKey(FieldSite, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    gender = models.CharField(max_length=10)
    age_group = models.CharField(max_length=10)
    depth = models.CharField(max_length=15)
    encounters = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("encounter mix count")
        verbose_name_plural = _("encounter mix counts")
        indexes = [
            models.Index(fields=["day", "site"], name="rollup_mix_day_site"),
            models.Index(fields=["team", "day"], name="rollup_mix_team_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.site_id}: {self.encounters}"


class PersonDayCount(models.Model):
    """A person's encounters on one day with one team at one site: persons reached and contact frequency."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    day = models.DateField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    site = models.ForeignKey(FieldSite, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    encounters = models.PositiveIntegerField(default=0)
    # The person's first encounter ever, copied onto each of their rows, so
    # that persons new in a period come from this table alone.
    first_on = models.DateField(null=True)

    class Meta:
        verbose_name = _("person day count")
        verbose_name_plural = _("person day counts")
        indexes = [
            models.Index(fields=["day", "person"], name="rollup_person_day"),
            # Covering the summary's persons figures: read in person order, index only.
            models.Index(
                fields=["person", "day"],
                include=["team", "site", "encounters", "first_on"],
                name="rollup_person_covering",
            ),
        ]

    def __str__(self):
        return f"{self.person_id} {self.day}: {self.encounters}"


class ReferralDayCount(models.Model):
    """Referrals made on one day by one team from encounters at one site (none for a referral without an
    encounter), by service kind, status and whether the made and connected dates are set: the summary's
    referral figures and the funnel (`reports.selectors.referral_counts`). Kept exact by
    `encounters.referral_rollups`."""

    day = models.DateField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    site = models.ForeignKey(
        FieldSite, on_delete=models.CASCADE, null=True, related_name="+", db_index=False, db_constraint=False
    )
    service_kind = models.CharField(max_length=30)
    status = models.CharField(max_length=15)
    has_made_on = models.BooleanField()
    has_connected_on = models.BooleanField()
    referrals = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("referral day count")
        verbose_name_plural = _("referral day counts")
        indexes = [models.Index(fields=["day"], name="rollup_referral_day")]

    def __str__(self):
        return f"{self.day} {self.site_id}: {self.referrals}"


class PersonFirstEncounter(models.Model):
    """The date of a person's first encounter ever (persons new in a period)."""

    person = models.OneToOneField(
        Person, on_delete=models.CASCADE, primary_key=True, related_name="+", db_constraint=False
    )
    first_on = models.DateField()

    class Meta:
        verbose_name = _("first encounter of a person")
        verbose_name_plural = _("first encounters of persons")

    def __str__(self):
        return f"{self.person_id}: {self.first_on}"
