"""Who goes where, when: users and teams, municipalities, sites and outings."""

import datetime
from typing import TYPE_CHECKING, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .fields import FieldCheckConstraint
from .validators import no_invisible_characters, validate_plausible_date
from .vocabulary import OutingStatus, Role, SiteType

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Municipality(models.Model):
    code = models.CharField(_("Statistics Finland code"), max_length=3, unique=True)
    name_fi = models.CharField(_("name in Finnish"), max_length=100)
    name_sv = models.CharField(_("name in Swedish"), max_length=100)
    outreach_active = models.BooleanField(_("outreach active"), default=False)

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name_fi"]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        return self.name_sv if (get_language() or "").startswith("sv") else self.name_fi


class Area(models.Model):
    """A group of teams that one coordinator steers (e.g. a region)."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Team(models.Model):
    """A group of workers covering municipalities; the unit of data access."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, null=True, blank=True, related_name="teams"
    )
    municipalities = models.ManyToManyField(
        Municipality, verbose_name=_("municipalities"), blank=True, related_name="teams"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self):
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("role", Role.ADMIN)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """An outreach worker, expert by experience, coordinator or admin."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True, validators=[no_invisible_characters])
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.WORKER)
    teams = models.ManyToManyField(Team, verbose_name=_("teams"), blank=True, related_name="members")
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Derived from the role by the user services; kept as a column because
    # Django's admin checks it.
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name", "email"]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return (self.full_name.split(" ")[0] if self.full_name else "") or self.email

    @property
    def is_worker(self) -> bool:
        return self.role == Role.WORKER

    @property
    def is_expert(self) -> bool:
        return self.role == Role.EXPERT and not self.is_superuser

    @property
    def is_coordinator(self) -> bool:
        return self.role == Role.COORDINATOR

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def requires_mfa(self) -> bool:
        return self.is_superuser or self.role in (Role.COORDINATOR, Role.ADMIN)


class FieldSite(models.Model):
    """A place where outreach happens."""

    name = models.CharField(_("name"), max_length=150)
    site_type = models.CharField(_("site type"), max_length=30, choices=SiteType.choices)
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT, related_name="sites"
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("responsible team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sites",
    )
    address = models.CharField(_("address or description"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Seasonal window by month, inclusive; a window may wrap over the new
    # year (e.g. November–February).
    season_start_month = models.PositiveSmallIntegerField(_("season starts (month)"), null=True, blank=True)
    season_end_month = models.PositiveSmallIntegerField(_("season ends (month)"), null=True, blank=True)
    # Recurring schedule, e.g. every Tuesday 10–12.
    schedule_weekday = models.PositiveSmallIntegerField(
        _("recurring weekday"),
        null=True,
        blank=True,
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    schedule_start_time = models.TimeField(_("recurring start time"), null=True, blank=True)
    schedule_end_time = models.TimeField(_("recurring end time"), null=True, blank=True)
    schedule_every_weeks = models.PositiveSmallIntegerField(_("repeats every N weeks"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("field site")
        verbose_name_plural = _("field sites")
        ordering = ["name"]
        constraints = [
            FieldCheckConstraint(
                name="site_season_complete",
                field="season_end_month",
                condition=(Q(season_start_month__isnull=True) & Q(season_end_month__isnull=True))
                | (
                    # NULL-safe: a CHECK that evaluates to NULL passes.
                    Q(season_start_month__isnull=False)
                    & Q(season_end_month__isnull=False)
                    & Q(season_start_month__gte=1)
                    & Q(season_start_month__lte=12)
                    & Q(season_end_month__gte=1)
                    & Q(season_end_month__lte=12)
                ),
                violation_error_message=_("A seasonal window needs both a start and an end month (1–12)."),
            ),
            FieldCheckConstraint(
                name="site_schedule_complete",
                field="schedule_end_time",
                condition=(
                    Q(schedule_weekday__isnull=True)
                    & Q(schedule_start_time__isnull=True)
                    & Q(schedule_end_time__isnull=True)
                    & Q(schedule_every_weeks__isnull=True)
                )
                | (
                    Q(schedule_weekday__isnull=False)
                    & Q(schedule_end_time__isnull=False)
                    & Q(schedule_every_weeks__isnull=False)
                    & Q(schedule_weekday__gte=0)
                    & Q(schedule_weekday__lte=6)
                    & Q(schedule_start_time__isnull=False)
                    & Q(schedule_end_time__gt=F("schedule_start_time"))
                    & Q(schedule_every_weeks__gte=1)
                    & Q(schedule_every_weeks__lte=8)
                ),
                violation_error_message=_(
                    "A recurring schedule needs a weekday, a start time, an end time after it and an interval."
                ),
            ),
            FieldCheckConstraint(
                name="site_coordinates_plausible",
                field="latitude",
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (
                    Q(latitude__isnull=False)
                    & Q(longitude__isnull=False)
                    & Q(latitude__gte=-90)
                    & Q(latitude__lte=90)
                    & Q(longitude__gte=-180)
                    & Q(longitude__lte=180)
                ),
                violation_error_message=_("Coordinates need both latitude and longitude within range."),
            ),
        ]
        indexes = [models.Index(fields=["site_type", "municipality"], name="site_type_municipality")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("admin:outreach_fieldsite_change", args=[self.pk])

    def clean(self):
        """The rules of the check constraints above, each message on the field to correct.

        Every door (pages, API, admin, imports) meets them through model
        validation (`validate_model` in the services); the constraints stay
        as the database's own guard, and Django skips a constraint whose
        fields already have an error here, so nothing is said twice.
        """
        errors: dict[str, StrOrPromise] = {}
        season = ["season_start_month", "season_end_month"]
        season_message = _("A seasonal window needs both a start and an end month (1–12).")
        for name in season:
            value = getattr(self, name)
            if value is not None and not 1 <= value <= 12:
                errors[name] = season_message
        if (self.season_start_month is None) != (self.season_end_month is None):
            errors["season_end_month" if self.season_end_month is None else "season_start_month"] = season_message
        schedule = ["schedule_weekday", "schedule_start_time", "schedule_end_time", "schedule_every_weeks"]
        schedule_message = _(
            "A recurring schedule needs a weekday, a start time, an end time after it and an interval."
        )
        given = [name for name in schedule if getattr(self, name) is not None]
        if given and len(given) < len(schedule):
            for name in schedule:
                if getattr(self, name) is None:
                    errors[name] = schedule_message
        elif given:
            assert self.schedule_start_time is not None
            assert self.schedule_end_time is not None
            if self.schedule_end_time <= self.schedule_start_time:
                errors["schedule_end_time"] = _("The end time must be after the start time.")
            if not 1 <= (self.schedule_every_weeks or 0) <= 8:
                errors["schedule_every_weeks"] = schedule_message
        coordinates_message = _("Coordinates need both latitude and longitude within range.")
        for name, limit in (("latitude", 90), ("longitude", 180)):
            value = getattr(self, name)
            if value is not None and not -limit <= value <= limit:
                errors[name] = coordinates_message
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = coordinates_message
        if errors:
            raise ValidationError(errors)

    def in_season(self, day: datetime.date) -> bool:
        """Whether `day` falls within the site's seasonal window (always, without one)."""
        if self.season_start_month is None or self.season_end_month is None:
            return True
        start, end, month = self.season_start_month, self.season_end_month, day.month
        if start <= end:
            return start <= month <= end
        return month >= start or month <= end


# A planned outing may be entered for a day this far back (one forgotten last week); older ones are records
# of what happened, entered as done or cancelled. A due date of a follow-up likewise.
PAST_PLANNING_DAYS = 14


def outing_date_errors(
    *, date: datetime.date, end_time: datetime.time | None, status: str, date_is_new: bool
) -> dict[str, str]:
    """What is wrong with an outing's date and times for the statistics, by field (empty when nothing).

    A done outing cannot lie in the future, neither on a later day nor today with an end time still to
    come: its hours would count before they were spent. A planned one is not dated weeks back; this is
    checked only when the date is set, so that an old outing left planned can still be finished or
    cancelled. The day and time are Helsinki's.
    """
    now = timezone.localtime()
    today = now.date()
    errors: dict[str, str] = {}
    if status == OutingStatus.DONE:
        if date > today:
            errors["date"] = str(_("An outing on a later day cannot be done yet."))
        elif date == today and end_time is not None and end_time > now.time():
            errors["end_time"] = str(_("The end time is still to come: an outing cannot end in the future."))
    if status == OutingStatus.PLANNED and date_is_new and date < today - datetime.timedelta(days=PAST_PLANNING_DAYS):
        errors["date"] = str(
            _("A planned outing cannot be dated more than %(days)s days back; record what happened as done.")
            % {"days": PAST_PLANNING_DAYS}
        )
    return errors


class Outing(models.Model):
    """A planned or performed visit to a site by a team (jalkautuminen).

    The status codes are the API's (planned, done, cancelled); an outing is
    *in progress* while it is planned and has been started (`started_at`).
    """

    # Not stored: the week's agenda (outreach.views.outing_list) sets these for its template.
    out_of_season: bool
    can_change: bool

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="outings")
    site = models.ForeignKey(FieldSite, verbose_name=_("site"), on_delete=models.PROTECT, related_name="outings")
    date = models.DateField(_("date"), validators=[validate_plausible_date])
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=OutingStatus.choices, default=OutingStatus.PLANNED)
    # When a worker started it in the field; a planned outing is in progress only once started.
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    participants = models.ManyToManyField(User, verbose_name=_("participants"), blank=True, related_name="outings")
    # People greeted without an individual record; updated with F().
    tallied_contacts = models.PositiveIntegerField(_("brief contacts (tally)"), default=0)
    observations = models.TextField(_("observations of the need for outreach"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Who changed what, with the old values (django-simple-history).
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("outing")
        verbose_name_plural = _("outings")
        ordering = ["-date", "-start_time"]
        constraints = [
            FieldCheckConstraint(
                name="outing_ends_after_start",
                field="end_time",
                condition=Q(end_time__isnull=True) | Q(end_time__gt=F("start_time")),
                violation_error_message=_("An outing must end after it starts."),
            ),
            FieldCheckConstraint(
                name="outing_status_valid",
                field="status",
                condition=Q(status__in=OutingStatus.values),
                violation_error_message=_("Unknown outing status."),
            ),
        ]
        indexes = [
            models.Index(fields=["team", "date"], name="outing_team_date"),
            models.Index(fields=["site", "date"], name="outing_site_date"),
            models.Index(fields=["status", "date"], name="outing_status_date"),
        ]

    def __str__(self):
        return f"{self.site} {self.date:%Y-%m-%d} {self.start_time:%H:%M}"

    def clean(self):
        date_is_new = True
        if self.pk is not None and self.date is not None:
            date_is_new = not Outing.objects.filter(pk=self.pk, date=self.date).exists()
        if self.date is not None and self.status:
            errors = outing_date_errors(
                date=self.date, end_time=self.end_time, status=self.status, date_is_new=date_is_new
            )
            if errors:
                raise ValidationError(errors)

    @property
    def is_in_progress(self) -> bool:
        """Started in the field and not yet finished or cancelled."""
        return self.status == OutingStatus.PLANNED and self.started_at is not None

    @property
    def duration_hours(self) -> float:
        """Length of the outing in hours; zero while it has no end time."""
        if self.end_time is None:
            return 0.0
        start = datetime.datetime.combine(self.date, self.start_time)
        end = datetime.datetime.combine(self.date, self.end_time)
        return (end - start).total_seconds() / 3600


def person_hours(duration_hours: float, participants: int) -> float:
    """Hours spent on an outing: its duration × the number of participants (DESIGN.md; experts count).

    The summary report computes the same in SQL over many outings
    (reports.selectors), summing each outing's length once per participant.
    """
    return duration_hours * participants


class AuditEntry(models.Model):
    """Who did what to which record: written by services, and on reads of client records."""

    class Action(models.TextChoices):
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        DELETE = "delete", _("Delete")
        VIEW = "view", _("View")
        EXPORT = "export", _("Export")
        IMPORT = "import", _("Import")
        LOGIN = "login", _("Sign-in")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, verbose_name=_("actor"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    model = models.CharField(_("record type"), max_length=60)
    object_id = models.CharField(_("record id"), max_length=40, blank=True)
    # Field names only, never values: the log must not copy client data.
    changes = models.JSONField(_("changed fields"), default=list, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at"]
        indexes = [models.Index(fields=["model", "object_id"], name="audit_model_object")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.model} {self.object_id}"


class TallyEvent(models.Model):
    """One tap on an outing's tally, remembered by its client UUID.

    A field device that loses its connection resends the same tap; the unique
    UUID makes the second send a no-op instead of a second count.
    """

    outing = models.ForeignKey(Outing, verbose_name=_("outing"), on_delete=models.CASCADE, related_name="tally_events")
    client_uuid = models.UUIDField(_("client UUID"), unique=True)
    delta = models.IntegerField(_("change"))
    # The tally right after this event, so that a resend gets the same answer.
    tallied_after = models.PositiveIntegerField(_("tally after the change"))
    actor = models.ForeignKey(
        User, verbose_name=_("actor"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("tally event")
        verbose_name_plural = _("tally events")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.outing_id} {self.delta:+d}"


def api_token_expiry() -> datetime.datetime:
    """When a key made now stops working: API_TOKEN_LIFETIME_DAYS (90 by default) from now."""
    from django.conf import settings

    return timezone.now() + datetime.timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)


class ApiToken(models.Model):
    """A key for scripts (`Authorization: Token KEY`), stored only as a digest.

    The key is shown once when it is made; the database keeps its SHA-256
    digest (enough for a random 240-bit key: there is nothing to brute-force)
    and its first characters, so that the owner can tell keys apart.
    """

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("key begins with"), max_length=12)
    digest = models.CharField(_("key digest"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), default=api_token_expiry)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.prefix}…"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class EmailChange(models.Model):
    """A new e-mail address for a user, waiting for confirmation from the old address.

    Whoever controls a user's address can reset their password, so an address
    changes only when the old mailbox confirms it (or a superuser sets it).
    The link's key is stored as a digest, like an API key.
    """

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="email_changes")
    old_email = models.EmailField(_("old e-mail address"))
    new_email = models.EmailField(_("new e-mail address"))
    digest = models.CharField(_("key digest"), max_length=64, unique=True)
    requested_by = models.ForeignKey(
        User, verbose_name=_("requested by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail address change")
        verbose_name_plural = _("e-mail address changes")
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.user_id} {self.requested_at:%Y-%m-%d}"


class AccessChange(models.Model):
    """A change of a user's role or teams, shown to the coordinators of the teams concerned."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="access_changes")
    actor = models.ForeignKey(
        User, verbose_name=_("changed by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    old_role = models.CharField(_("role before"), max_length=20, choices=Role.choices, blank=True)
    new_role = models.CharField(_("role after"), max_length=20, choices=Role.choices, blank=True)
    teams_added = models.ManyToManyField(Team, verbose_name=_("teams added"), blank=True, related_name="+")
    teams_removed = models.ManyToManyField(Team, verbose_name=_("teams removed"), blank=True, related_name="+")
    # The teams before and after the change: their coordinators see it.
    teams = models.ManyToManyField(Team, verbose_name=_("teams concerned"), blank=True, related_name="+")

    class Meta:
        verbose_name = _("access change")
        verbose_name_plural = _("access changes")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id}"


class AppendOnlyQuerySet(models.QuerySet):
    """A log whose rows are never changed or removed: bulk updates and deletes are refused.

    On PostgreSQL a trigger refuses them in the database too (migration
    0006_access_log_and_disclosures), whatever client connects.
    """

    def update(self, **kwargs):
        raise PermissionError("Log rows cannot be changed.")

    def delete(self):
        raise PermissionError("Log rows cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise PermissionError("Log rows cannot be changed.")


class AppendOnlyModel(models.Model):
    """A row written once: saving an existing row or deleting one raises."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Log rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Log rows cannot be deleted.")


class AccessLogEntry(AppendOnlyModel):
    """One use of a person's data: who, when, which person, what (Client Data Act 703/2023).

    Written by `encounters.services.person_access_log` from every door that
    shows a person's data (pages, API, admin, searches, exports). The
    person is kept by id, not by a foreign key: the log outlives the record
    (an erasure or pseudonymisation keeps its rows). The actor is protected:
    a user who has read client data is deactivated, never deleted.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed the record")
        LIST = "list", _("Listed")
        SEARCH = "search", _("Found in a search")
        EDIT = "edit", _("Changed")
        EXPORT = "export", _("Exported")
        PRINT = "print", _("Printed")
        ACCESS_LOG = "access_log", _("Read the access log")
        HISTORY = "history", _("Read the change history")
        REVEAL = "reveal", _("Revealed the identity code")

    class Door(models.TextChoices):
        PAGE = "page", _("Pages")
        API = "api", _("API")
        ADMIN = "admin", _("Administration")
        COMMAND = "command", _("Command")

    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person_id = models.PositiveBigIntegerField(_("person id"))
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    door = models.CharField(_("where"), max_length=10, choices=Door.choices, default=Door.PAGE)
    # Why an older part of the log was opened, as typed by the coordinator.
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person_id", "at"], name="access_log_person_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.person_id}"


# What a disclosure carries; codes are stable (API, exports).
DISCLOSURE_CATEGORIES = {
    "identity": _("Name, identity code and contact details"),
    "pseudonymous": _("Alias, birth year and gender"),
    "encounters": _("Encounters: needs, actions and notes"),
    "referrals": _("Referrals: services, status and outcome notes"),
    "follow_ups": _("Follow-ups"),
    "consents": _("Consents"),
}


class Disclosure(AppendOnlyModel):
    """Client data sent out of the system: to a partner with a referral, or in an export file.

    Records recipient, data categories, legal basis, user and time; the
    persons concerned by id (none for an export of pseudonymous records).
    """

    class Kind(models.TextChoices):
        REFERRAL = "referral", _("Referral to a partner")
        EXPORT = "export", _("Export file")
        DATA_SUBJECT_EXPORT = "data_subject_export", _("Copy for the data subject")

    class LegalBasis(models.TextChoices):
        CONSENT = "consent", _("Consent of the person")
        DATA_SUBJECT_REQUEST = "data_subject_request", _("The person's own request (GDPR art. 15)")
        STATUTORY = "statutory", _("Statutory duty (statistics, supervision)")
        NOT_RECORDED = "not_recorded", _("Not recorded")

    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    recipient = models.CharField(_("recipient"), max_length=300)
    # Codes of DISCLOSURE_CATEGORIES.
    categories = models.JSONField(_("data categories"), default=list)
    legal_basis = models.CharField(_("legal basis"), max_length=30, choices=LegalBasis.choices)
    record_type = models.CharField(_("record type"), max_length=60, blank=True)
    record_count = models.PositiveIntegerField(_("records"), default=0)
    person_ids = models.JSONField(_("persons"), default=list, blank=True)

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.recipient}"


# Report rollups of outings -------------------------------------------------
#
# Derived from outings (and, for the encounters that belong to an outing,
# from the encounter rollups that the encounters app keeps): kept exact by
# `outreach.rollups`, which the outing services call in their transaction.
# No database constraints on their links, as for the encounter rollups.


class OutingEncounterCount(models.Model):
    """How many encounters, and conversations, were logged in one outing (kept by the encounters app)."""

    outing = models.OneToOneField(
        Outing, on_delete=models.CASCADE, primary_key=True, related_name="+", db_constraint=False
    )
    encounters = models.PositiveIntegerField(default=0)
    conversations = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("encounters of an outing")
        verbose_name_plural = _("encounters of outings")

    def __str__(self):
        return f"{self.outing_id}: {self.encounters}"


class OutingDayCount(models.Model):
    """The done outings of one day, team and site: count, participant time, tallies and their encounters."""

    day = models.DateField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    site = models.ForeignKey(FieldSite, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    outings_done = models.PositiveIntegerField(default=0)
    # Duration × participants, in seconds: exact, unlike hours.
    participant_seconds = models.PositiveBigIntegerField(default=0)
    tallied_contacts = models.PositiveIntegerField(default=0)
    encounters = models.PositiveIntegerField(default=0)
    conversations = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("outing day count")
        verbose_name_plural = _("outing day counts")
        indexes = [
            models.Index(fields=["day", "site"], name="rollup_outing_day_site"),
            models.Index(fields=["team", "day"], name="rollup_outing_team_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.site_id}: {self.outings_done}"


class OutingWorkerDayCount(models.Model):
    """The done outings of one day, team and site by participant: outings and hours by worker."""

    day = models.DateField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    site = models.ForeignKey(FieldSite, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    outings_done = models.PositiveIntegerField(default=0)
    # The outings' length, in seconds: summed over participants it gives the outing hours.
    seconds = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("outing day count by worker")
        verbose_name_plural = _("outing day counts by worker")
        indexes = [
            models.Index(fields=["day", "site"], name="rollup_worker_day_site"),
            models.Index(fields=["team", "day"], name="rollup_worker_team_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.site_id} {self.user_id}: {self.outings_done}"
