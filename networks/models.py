"""Partners and networks: the organisations the team works with."""

from django.conf import settings
from django.db import models
from django.db.models import Q
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
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ContactPerson(models.Model):
    partner = models.ForeignKey(
        PartnerOrganisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=150)
    title = models.CharField(_("title"), max_length=150, blank=True)
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
    member_organisations = models.ManyToManyField(
        PartnerOrganisation, verbose_name=_("member organisations"), blank=True, related_name="networks"
    )
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

    def __str__(self):
        return self.name


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

    def __str__(self):
        return f"{self.network} {self.date:%Y-%m-%d}"


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
