"""Partners and networks: the organisations the team works with."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from outreach.fields import CodeSetField, FieldCheckConstraint
from outreach.models import Municipality, Team
from outreach.vocabulary import ServiceKind


class PartnerOrganisation(models.Model):
    class Kind(models.TextChoices):
        NGO = "ngo", _("Non-governmental organisation")
        PARISH = "parish", _("Parish")
        MUNICIPAL = "municipal", _("Municipal unit")
        COUNTY = "county", _("Wellbeing services county unit")
        POLICE = "police", _("Police")
        HOUSING = "housing", _("Housing provider")
        KELA = "kela", _("Kela")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.NGO)
    municipalities = models.ManyToManyField(
        Municipality, verbose_name=_("municipalities served"), blank=True, related_name="partners"
    )
    # Services offered; referrals to a partner name one of these.
    services = CodeSetField(_("services offered"), choices_enum=ServiceKind)
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerService(models.Model):
    """A service a partner offers: what a referral names as its target."""

    partner = models.ForeignKey(
        PartnerOrganisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="offered"
    )
    name = models.CharField(_("name"), max_length=200)
    service_kind = models.CharField(_("service kind"), max_length=30, choices=ServiceKind.choices)
    description = models.TextField(_("description"), blank=True)
    how_to_refer = models.TextField(_("how to refer"), blank=True)
    municipalities = models.ManyToManyField(
        Municipality, verbose_name=_("municipalities"), blank=True, related_name="partner_services"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner service")
        verbose_name_plural = _("partner services")
        ordering = ["name", "id"]
        constraints = [
            FieldCheckConstraint(
                name="partner_service_kind_valid",
                field="service_kind",
                condition=Q(service_kind__in=ServiceKind.values),
                violation_error_message=_("Unknown service kind."),
            ),
            models.UniqueConstraint(
                fields=["partner", "name"],
                name="partner_service_name_unique",
                violation_error_message=_("The organisation already has a service of this name."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.partner})"


class ContactPerson(models.Model):
    partner = models.ForeignKey(
        PartnerOrganisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=150)
    role = models.CharField(_("role"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.partner})"


class Network(models.Model):
    class Kind(models.TextChoices):
        LOW_THRESHOLD = "low_threshold", _("Low-threshold work network")
        STREET = "street", _("Street network")
        OTHER = "other", _("Other network")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    purpose = models.TextField(_("purpose"), blank=True)
    ways_of_cooperation = models.TextField(_("agreed ways of cooperation"), blank=True)
    member_contacts = models.ManyToManyField(
        ContactPerson, verbose_name=_("member contact persons"), blank=True, related_name="networks"
    )
    coordinating_team = models.ForeignKey(
        Team, verbose_name=_("coordinating team"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("network")
        verbose_name_plural = _("networks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def in_force_on(day: datetime.date, start: str, end: str) -> Q:
    """Records in force on `day`: begun on or before it (or undated) and not ended on or before it."""
    return (Q(**{f"{start}__isnull": True}) | Q(**{f"{start}__lte": day})) & (
        Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gt": day})
    )


class NetworkMembership(models.Model):
    """An organisation's membership of a network, dated: leaving ends it, the record stays."""

    network = models.ForeignKey(
        Network, verbose_name=_("network"), on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        PartnerOrganisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="memberships"
    )
    # Empty: a member since before the records began (the undated member list).
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    representatives = models.ManyToManyField(
        ContactPerson, verbose_name=_("representatives"), blank=True, related_name="memberships"
    )

    class Meta:
        verbose_name = _("network membership")
        verbose_name_plural = _("network memberships")
        ordering = ["network", "organisation__name", "joined_on"]
        constraints = [
            FieldCheckConstraint(
                name="membership_left_after_joined",
                field="left_on",
                condition=Q(left_on__isnull=True) | Q(joined_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                violation_error_message=_("An organisation cannot leave before it joined."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} – {self.network}"

    @property
    def current(self) -> bool:
        return self.left_on is None or self.left_on > timezone.localdate()


class CooperationAgreement(models.Model):
    """What a network's organisations agreed on how they cooperate."""

    network = models.ForeignKey(Network, verbose_name=_("network"), on_delete=models.CASCADE, related_name="agreements")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what was agreed"), blank=True)
    parties = models.ManyToManyField(
        PartnerOrganisation, verbose_name=_("parties"), blank=True, related_name="agreements"
    )
    agreed_on = models.DateField(_("agreed on"))
    review_on = models.DateField(_("review date"), null=True, blank=True)
    ends_on = models.DateField(_("end date"), null=True, blank=True)

    class Meta:
        verbose_name = _("cooperation agreement")
        verbose_name_plural = _("cooperation agreements")
        ordering = ["-agreed_on", "id"]
        constraints = [
            FieldCheckConstraint(
                name="agreement_ends_after_agreed",
                field="ends_on",
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("agreed_on")),
                violation_error_message=_("An agreement cannot end before it was agreed on."),
            ),
            FieldCheckConstraint(
                name="agreement_review_after_agreed",
                field="review_on",
                condition=Q(review_on__isnull=True) | Q(review_on__gte=F("agreed_on")),
                violation_error_message=_("A review cannot be due before the agreement was agreed on."),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class NetworkMeeting(models.Model):
    network = models.ForeignKey(Network, verbose_name=_("network"), on_delete=models.CASCADE, related_name="meetings")
    date = models.DateField(_("date"))
    organisations = models.ManyToManyField(
        PartnerOrganisation, verbose_name=_("participating organisations"), blank=True, related_name="+"
    )
    contacts = models.ManyToManyField(
        ContactPerson, verbose_name=_("participating contact persons"), blank=True, related_name="+"
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("our participants"), blank=True, related_name="+"
    )
    participant_count = models.PositiveIntegerField(_("number of participants"), null=True, blank=True)
    topics = models.TextField(_("topics"), blank=True)
    decisions = models.TextField(_("decisions"), blank=True)

    class Meta:
        verbose_name = _("network meeting")
        verbose_name_plural = _("network meetings")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.network} {self.date:%Y-%m-%d}"


class MeetingTask(models.Model):
    """A task agreed at a network meeting, owned by one of our users or a partner's contact person."""

    meeting = models.ForeignKey(
        NetworkMeeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="tasks"
    )
    title = models.CharField(_("title"), max_length=300)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner (our staff)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meeting_tasks",
    )
    owner_contact = models.ForeignKey(
        ContactPerson,
        verbose_name=_("owner (partner contact)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meeting_tasks",
    )
    due_on = models.DateField(_("due date"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        verbose_name = _("meeting task")
        verbose_name_plural = _("meeting tasks")
        ordering = ["due_on", "id"]
        constraints = [
            FieldCheckConstraint(
                name="meeting_task_one_owner",
                field="owner_contact",
                condition=Q(owner_user__isnull=True) | Q(owner_contact__isnull=True),
                violation_error_message=_("A task has one owner: one of our staff or a partner contact, not both."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def owner(self) -> object | None:
        return self.owner_user or self.owner_contact

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.done_on is None and self.due_on is not None and self.due_on < today


class CommunicationActivity(models.Model):
    """Presentations, articles, social media and trainings: the model's communication duty."""

    class Kind(models.TextChoices):
        PRESENTATION = "presentation", _("Presentation")
        ARTICLE = "article", _("Article")
        SOCIAL_MEDIA = "social_media", _("Social media")
        TRAINING = "training", _("Training")
        OTHER = "other", _("Other")

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    date = models.DateField(_("date"), default=timezone.localdate)
    audience = models.CharField(_("audience"), max_length=200, blank=True)
    audience_size = models.PositiveIntegerField(_("audience size"), null=True, blank=True)
    link = models.URLField(_("link"), blank=True)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("communication activity")
        verbose_name_plural = _("communication activities")
        ordering = ["-date"]
        constraints = [
            FieldCheckConstraint(
                name="communication_kind_valid",
                field="kind",
                condition=Q(kind__in=["presentation", "article", "social_media", "training", "other"]),
                violation_error_message=_("Unknown kind of communication."),
            ),
        ]

    def __str__(self):
        return self.title
