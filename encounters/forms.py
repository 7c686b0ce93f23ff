"""Forms of the field pages: starting an outing, the quick log, the tally and finishing.

Forms validate input and name the field to correct; the views hand the
cleaned data to the services, which hold the rules.
"""

import datetime
import uuid
from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.forms.boundfield import BoundWidget
from django.http import QueryDict
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from networks.models import PartnerOrganisation, PartnerService
from networks.selectors import service_targets
from outreach.exceptions import StaleVersion
from outreach.forms import DateInput, field_queryset, form_field
from outreach.models import FieldSite, Outing, Team, User
from outreach.selectors import member_team_ids, sites_visible_to, teams_visible_to, writable_team_ids
from outreach.validators import BIRTH_YEAR_MIN, validate_not_future_year, validate_plausible_birth_year
from outreach.vocabulary import (
    Action,
    AgeGroup,
    ContactKind,
    Depth,
    Gender,
    Need,
    ReferralStatus,
    Role,
    ServiceKind,
)

from .models import ENCOUNTER_MAX_MINUTES, Consent, Person, Referral, ReferralConfirmation, age_group_for
from .rules import REFERRAL_TRANSITIONS
from .selectors import PersonFilter, persons_visible_to
from .validators import validate_identity_code


def birth_year_field() -> forms.IntegerField:
    """A birth year as the model takes it; the model's rule as a validator, so that the form names it
    along with its own errors."""
    return forms.IntegerField(
        label=_("Birth year"),
        required=False,
        validators=[validate_plausible_birth_year, validate_not_future_year],
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": BIRTH_YEAR_MIN}),
    )


if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

    # The mixin is only ever combined with a form; this lets mypy see the form's methods.
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class ErrorSummaryMixin(_FormBase):
    """Lists every error with its field's label, for the summary above the form.

    Labels carry no colon: they read the same as the chip groups' legends.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def error_summary(self) -> list[tuple[str, str, "str | StrPromise"]]:
        """(field id or "", field label or "", message) for each error, in the form's order."""
        summary = []
        for message in self.non_field_errors():
            summary.append(("", "", message))
        for bound in self:
            for message in bound.errors:
                summary.append((bound.id_for_label or bound.auto_id, str(bound.label), message))
        # An ErrorList yields messages (it unwraps ValidationErrors); the stubs type its items as either.
        return summary  # type: ignore[return-value]


class VersionedForm(forms.Form):
    """A form of one record that sends back the version it was drawn from (a hidden field).

    The service refuses a save over a change made since (`StaleVersion`);
    `refuse_stale` shows what was changed and bases the next save on the
    version stored now, so that nothing is overwritten unseen.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def expected_version(self) -> int | None:
        """The version the form was drawn from, taken out of the values the service gets."""
        return self.cleaned_data.pop("version", None)

    def refuse_stale(self, error: StaleVersion) -> None:
        changes = "; ".join(f"{capfirst(label)}: {value}" for _name, label, value in error.changes)
        if changes:
            message = _("%(refused)s Changed meanwhile: %(changes)s. Check the values and save again.") % {
                "refused": error.message,
                "changes": changes,
            }
        else:
            message = _("%(refused)s Reload the page to see the record as it is now.") % {"refused": error.message}
        self.add_error(None, message)
        data = self.data.copy() if isinstance(self.data, QueryDict) else QueryDict(mutable=True)
        data[self.add_prefix("version")] = str(error.current_version)
        self.data = data


# Starting an outing ----------------------------------------------------------------


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, site):
        return site.name


class ColleagueChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user):
        if user.role == Role.EXPERT:
            return _("%(name)s (expert by experience)") % {"name": user.get_full_name()}
        return user.get_full_name()


def sites_for_starting(user: User, team_ids: set[int]):
    """Active sites: the user's teams' own first, the most recently visited by those teams first."""
    last_visit = Outing.objects.filter(team_id__in=team_ids, site=OuterRef("pk")).order_by("-date").values("date")[:1]
    return (
        sites_visible_to(user)
        .filter(active=True)
        .annotate(
            last_visit=Subquery(last_visit),
            own=Case(When(team_id__in=team_ids, then=Value(1)), default=Value(0), output_field=IntegerField()),
        )
        .order_by("-own", F("last_visit").desc(nulls_last=True), "name")
    )


class OutingStartForm(ErrorSummaryMixin, forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), empty_label=None)
    site = SiteChoiceField(
        label=_("Site"),
        queryset=FieldSite.objects.none(),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the site where you are.")},
    )
    participants = ColleagueChoiceField(
        label=_("Who else takes part"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("You take part yourself."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        own_team_ids = member_team_ids(user) or writable_team_ids(user)
        teams = Team.objects.filter(pk__in=writable_team_ids(user), active=True).order_by("name")
        form_field(self, "team", forms.ModelChoiceField).queryset = teams
        if len(own_team_ids) == 1:
            self.fields["team"].initial = next(iter(own_team_ids))
        self.sites = list(sites_for_starting(user, own_team_ids))
        self.own_site_ids = {site.pk for site in self.sites if site.own}
        form_field(self, "site", forms.ModelChoiceField).queryset = sites_for_starting(user, own_team_ids)
        # ModelChoiceField would query the sites again to draw the radios.
        form_field(self, "site", forms.ModelChoiceField).choices = [(site.pk, site.name) for site in self.sites]
        colleagues = (
            User.objects.filter(
                is_active=True,
                teams__in=own_team_ids,
                role__in=[Role.WORKER, Role.EXPERT, Role.COORDINATOR],
            )
            .exclude(pk=user.pk)
            .distinct()
            .order_by("full_name", "email")
        )
        form_field(self, "participants", forms.ModelChoiceField).queryset = colleagues
        self.colleagues = list(colleagues)
        field = form_field(self, "participants", ColleagueChoiceField)
        field.choices = [(colleague.pk, field.label_from_instance(colleague)) for colleague in self.colleagues]

    @property
    def single_team(self) -> bool:
        return len(field_queryset(self, "team")) <= 1

    @property
    def other_site_selected(self) -> bool:
        """Whether the chosen site is one of the other sites (so that their fold is drawn open)."""
        try:
            return int(self["site"].value()) not in self.own_site_ids
        except (TypeError, ValueError):
            return False

    def site_choices(self) -> tuple[list[BoundWidget], list[BoundWidget]]:
        """The radios of the site field, split into the teams' own sites and the others."""
        own: list[BoundWidget] = []
        other: list[BoundWidget] = []
        for radio in self["site"]:
            (own if int(str(radio.data["value"])) in self.own_site_ids else other).append(radio)
        return own, other


# The quick log -----------------------------------------------------------------------


class ChipRadioSelect(forms.RadioSelect):
    """Radios drawn as large chips (templates/encounters/_chips.html)."""


class ChipCheckboxSelect(forms.CheckboxSelectMultiple):
    """Checkboxes drawn as large chips (templates/encounters/_chips.html)."""


class ServiceTargetSelect(forms.Select):
    """A partner service per option, marked with its service kind so that the page can offer only the
    services of the kind chosen (static/js); without JavaScript every service is listed."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-kind"] = instance.service_kind
        return option


class ServiceTargetField(forms.ModelChoiceField):
    """A partner's service as a referral target: active services of the place's municipality."""

    widget = ServiceTargetSelect

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", PartnerService.objects.none())
        kwargs.setdefault("required", False)
        kwargs.setdefault("empty_label", _("None"))
        kwargs.setdefault("help_text", _("Choosing a service fills in its organisation and kind."))
        kwargs.setdefault("error_messages", {"invalid_choice": _("This service is not offered here.")})
        super().__init__(**kwargs)

    def label_from_instance(self, obj):
        return f"{obj.name} – {obj.partner.name}"


FIRST_CONTACT_CHOICES = [("", _("Not known")), ("yes", _("First contact")), ("no", _("Met before"))]


class EncounterForm(ErrorSummaryMixin, VersionedForm):
    """One encounter at an outing: the common case needs only the chips and Save.

    Gender and age group left unselected are recorded as unknown; depth
    defaults to a conversation. The form links the encounter to a person of
    the outing's team found by search, or creates a pseudonymous person, and
    can add a referral. Experts by experience log anonymous encounters only:
    their form has no person or referral fields.
    """

    client_uuid = forms.UUIDField(widget=forms.HiddenInput, required=False)
    # When the entry was made, sent by the device's outbox for an entry made
    # without a connection and sent later (static/js/outbox.js); empty: now.
    logged_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)
    depth = forms.ChoiceField(
        label=_("Depth"), choices=Depth.choices, initial=Depth.CONVERSATION, widget=ChipRadioSelect
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False, widget=ChipRadioSelect)
    age_group = forms.ChoiceField(
        label=_("Age group"), choices=AgeGroup.choices, required=False, widget=ChipRadioSelect
    )
    needs = forms.MultipleChoiceField(label=_("Needs"), choices=Need.choices, required=False, widget=ChipCheckboxSelect)
    # Optional details
    actions = forms.MultipleChoiceField(
        label=_("Actions taken"), choices=Action.choices, required=False, widget=ChipCheckboxSelect
    )
    contact_kind = forms.ChoiceField(
        label=_("Contact kind"), choices=ContactKind.choices, initial=ContactKind.FIELD, widget=ChipRadioSelect
    )
    first_contact = forms.ChoiceField(
        label=_("First contact?"), choices=FIRST_CONTACT_CHOICES, required=False, widget=ChipRadioSelect
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        required=False,
        # The limits are the model's (Encounter.duration_minutes).
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": ENCOUNTER_MAX_MINUTES}),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("No names or other identifying details of anonymous people."),
    )
    # The person: found by search, or created here (pseudonymous)
    person = forms.ModelChoiceField(
        label=_("Person"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose a person from the search results.")},
    )
    new_alias = forms.CharField(
        label=_("Alias or nickname"),
        required=False,
        max_length=100,
        help_text=_("A new pseudonymous person: a nickname, not the real name."),
    )
    new_birth_year = birth_year_field()
    new_gender = forms.ChoiceField(
        label=_("Gender of the person"), choices=Gender.choices, required=False, widget=ChipRadioSelect
    )
    # A referral made in the same encounter
    referral_service_kind = forms.ChoiceField(
        label=_("Refer to service"),
        choices=[("", _("No referral")), *list(ServiceKind.choices)],
        required=False,
    )
    referral_partner = forms.ModelChoiceField(
        label=_("Partner organisation"),
        queryset=PartnerOrganisation.objects.none(),
        required=False,
        empty_label=_("None"),
    )
    referral_partner_service = ServiceTargetField(label=_("Partner's service"))
    referral_status = forms.ChoiceField(
        label=_("Referral status"), choices=ReferralStatus.choices, initial=ReferralStatus.SUGGESTED
    )

    PERSON_FIELDS = ("person", "new_alias", "new_birth_year", "new_gender")
    REFERRAL_FIELDS = ("referral_service_kind", "referral_partner_service", "referral_partner", "referral_status")
    DETAIL_FIELDS = ("actions", "contact_kind", "first_contact", "duration_minutes", "notes")

    def __init__(
        self, *args, user: User, team: Team, editing: bool = False, municipality_id: int | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.user = user
        self.team = team
        self.editing = editing
        self.this_year = timezone.localdate().year
        self.fields["new_birth_year"].widget.attrs["max"] = self.this_year
        if user.is_expert:
            for name in (*self.PERSON_FIELDS, *self.REFERRAL_FIELDS):
                del self.fields[name]
        else:
            form_field(self, "person", forms.ModelChoiceField).queryset = persons_visible_to(user).filter(team=team)
            partners = PartnerOrganisation.objects.filter(active=True).order_by("name")
            form_field(self, "referral_partner", forms.ModelChoiceField).queryset = partners
            targets = service_targets(user, municipality_id=municipality_id)
            form_field(self, "referral_partner_service", forms.ModelChoiceField).queryset = targets
        if editing:
            del self.fields["client_uuid"]
            del self.fields["logged_at"]
            for name in self.REFERRAL_FIELDS:
                self.fields.pop(name, None)
            self.fields["occurred_time"] = forms.TimeField(
                label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            )
        elif not self.is_bound:
            # A new key for each form drawn: a form sent twice (a double tap,
            # a resend on a bad connection) still logs one encounter.
            self.initial.setdefault("client_uuid", uuid.uuid4())

    @property
    def can_link_person(self) -> bool:
        return "person" in self.fields

    @property
    def details_have_input(self) -> bool:
        """Open the folded details when they hold something (a redraw after an error, or an edit)."""
        return any(self._current(name) not in (None, "", [], ContactKind.FIELD) for name in self.DETAIL_FIELDS)

    @property
    def person_has_input(self) -> bool:
        return any(self._current(name) not in (None, "", []) for name in self.PERSON_FIELDS if name in self.fields)

    @property
    def referral_has_input(self) -> bool:
        if "referral_service_kind" not in self.fields:
            return False
        return bool(self._current("referral_service_kind") or self._current("referral_partner_service"))

    def _current(self, name):
        if name not in self.fields:
            return None
        return self[name].value()

    def selected_person(self) -> Person | None:
        """The person chosen in the form, to draw it checked again after an error."""
        value = self._current("person")
        if not value or not self.can_link_person:
            return None
        try:
            return field_queryset(self, "person").get(pk=value)
        except (Person.DoesNotExist, ValueError, TypeError):
            return None

    def clean_gender(self):
        return self.cleaned_data["gender"] or Gender.UNKNOWN

    def clean_new_gender(self):
        return self.cleaned_data["new_gender"] or ""

    def clean_first_contact(self):
        return {"yes": True, "no": False}.get(self.cleaned_data["first_contact"])

    def clean_new_alias(self):
        return self.cleaned_data["new_alias"].strip()

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if self.can_link_person:
            if data.get("new_alias") and data.get("person"):
                self.add_error("new_alias", _("Either choose a person from the search or create a new one, not both."))
            elif not data.get("new_alias") and (data.get("new_birth_year") or data.get("new_gender")):
                self.add_error("new_alias", _("Give the new person an alias or nickname."))
        if (
            "referral_service_kind" in self.fields
            and not data.get("referral_service_kind")
            and not data.get("referral_partner_service")
            and data.get("referral_partner")
        ):
            self.add_error("referral_service_kind", _("Choose the service you refer the person to."))
        if not data.get("age_group"):
            birth_year = data.get("new_birth_year") or getattr(data.get("person"), "birth_year", None)
            data["age_group"] = age_group_for(birth_year, self.this_year) if birth_year else AgeGroup.UNKNOWN
        if not data.get("gender") or data["gender"] == Gender.UNKNOWN:
            # Like the age group: the person's gender, when the encounter is theirs and none was chosen.
            data["gender"] = data.get("new_gender") or getattr(data.get("person"), "gender", "") or Gender.UNKNOWN
        return data

    def encounter_fields(self) -> dict:
        """The cleaned values the encounter services take."""
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in ("depth", "gender", "age_group", "needs", "actions", "contact_kind", "first_contact")
        }
        fields["duration_minutes"] = data.get("duration_minutes")
        fields["notes"] = data.get("notes", "")
        return fields

    @classmethod
    def initial_for(cls, encounter) -> dict:
        """The edit form's initial values from an encounter."""
        local = timezone.localtime(encounter.occurred_at)
        return {
            "depth": encounter.depth,
            "gender": encounter.gender,
            "age_group": encounter.age_group,
            "needs": encounter.needs,
            "actions": encounter.actions,
            "contact_kind": encounter.contact_kind,
            "first_contact": {True: "yes", False: "no"}.get(encounter.first_contact, ""),
            "duration_minutes": encounter.duration_minutes,
            "notes": encounter.notes,
            "person": encounter.person_id,
            "occurred_time": local.time().replace(second=0, microsecond=0),
            "version": encounter.version,
        }


class PersonSearchForm(forms.Form):
    person_query = forms.CharField(label=_("Search by alias or name"), max_length=100, required=False)

    MIN_LENGTH = 2


class ReferralForm(ErrorSummaryMixin, forms.Form):
    service_kind = forms.ChoiceField(
        label=_("Service"),
        choices=[("", _("From the partner's service")), *list(ServiceKind.choices)],
        required=False,
    )
    partner_service = ServiceTargetField(label=_("Partner's service"))
    partner = forms.ModelChoiceField(
        label=_("Partner organisation"),
        queryset=PartnerOrganisation.objects.none(),
        required=False,
        empty_label=_("None"),
    )
    status = forms.ChoiceField(label=_("Status"), choices=ReferralStatus.choices, initial=ReferralStatus.SUGGESTED)

    def __init__(self, *args, user: User, municipality_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        partners = PartnerOrganisation.objects.filter(active=True).order_by("name")
        form_field(self, "partner", forms.ModelChoiceField).queryset = partners
        targets = service_targets(user, municipality_id=municipality_id)
        form_field(self, "partner_service", forms.ModelChoiceField).queryset = targets

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("service_kind") and not data.get("partner_service"):
            self.add_error("service_kind", _("Choose the service you refer the person to."))
        return data


# The person and referral pages --------------------------------------------------------


class PersonForm(ErrorSummaryMixin, VersionedForm):
    """The pseudonymous details of a person; names and contact details are changed elsewhere, with consent."""

    alias = forms.CharField(label=_("Alias or nickname"), required=False, max_length=100)
    birth_year = birth_year_field()
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, widget=ChipRadioSelect)
    engaged_on = forms.DateField(
        label=_("Engagement agreed on"),
        required=False,
        widget=DateInput(),
        help_text=_("The date you and the person agreed on ongoing support."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("No names or other direct identifiers of a pseudonymous person."),
    )

    FIELDS = ("alias", "birth_year", "gender", "engaged_on", "notes")

    def __init__(self, *args, person: Person, **kwargs):
        kwargs.setdefault("initial", {name: getattr(person, name) for name in (*self.FIELDS, "version")})
        super().__init__(*args, **kwargs)
        self.person = person
        self.this_year = timezone.localdate().year
        self.fields["birth_year"].widget.attrs["max"] = self.this_year
        if person.kind == Person.Kind.PSEUDONYMOUS:
            # The record's only handle: the model refuses a pseudonymous person without one.
            self.fields["alias"].required = True
            self.fields["alias"].error_messages["required"] = _("Give the person an alias or nickname.")

    def clean_alias(self):
        return self.cleaned_data["alias"].strip()


class ReferralStatusForm(ErrorSummaryMixin, VersionedForm):
    """A referral's status, follow-up date and outcome.

    Only the allowed next statuses are offered, but the field accepts every
    code: the service refuses a step backwards with a message that names both
    statuses, which says more than "not one of the available choices".
    """

    status = forms.ChoiceField(
        label=_("Status"), choices=ReferralStatus.choices, required=False, widget=ChipRadioSelect
    )
    follow_up_due = forms.DateField(label=_("Follow-up due"), required=False, widget=DateInput())
    outcome_notes = forms.CharField(
        label=_("Outcome notes"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, referral: Referral, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "status": referral.status,
                "follow_up_due": referral.follow_up_due,
                "outcome_notes": referral.outcome_notes,
                "version": referral.version,
            },
        )
        super().__init__(*args, **kwargs)
        self.referral = referral
        allowed = REFERRAL_TRANSITIONS.get(referral.status, frozenset())
        self.next_statuses = [(code, label) for code, label in ReferralStatus.choices if code in allowed]
        current = ReferralStatus(referral.status).label
        # The widget's choices only: the field still validates against every status (see above).
        self.fields["status"].widget.choices = [
            (referral.status, _("No change (%(status)s)") % {"status": current}),
            *self.next_statuses,
        ]

    @property
    def is_final(self) -> bool:
        return not self.next_statuses

    def clean_status(self):
        return self.cleaned_data["status"] or self.referral.status


class FollowUpForm(ErrorSummaryMixin, forms.Form):
    due_on = forms.DateField(
        label=_("Due on"),
        widget=DateInput(),
        error_messages={"required": _("Enter the date the follow-up is due.")},
    )
    contact_kind = forms.ChoiceField(
        label=_("Contact kind"), choices=ContactKind.choices, initial=ContactKind.PHONE, widget=ChipRadioSelect
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


# The tally and finishing ---------------------------------------------------------------


class TallyForm(forms.Form):
    delta = forms.TypedChoiceField(choices=[("1", "+1"), ("-1", "−1")], coerce=int)
    client_uuid = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_uuid", uuid.uuid4())


class OutingFinishForm(ErrorSummaryMixin, forms.Form):
    end_time = forms.TimeField(
        label=_("End time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": _("Enter the time the outing ended.")},
    )
    observations = forms.CharField(
        label=_("Observations of the need for outreach"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What you noticed about the need for outreach work here: who was reached, who was missing, why."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, outing: Outing, **kwargs):
        super().__init__(*args, **kwargs)
        self.outing = outing
        if not self.is_bound:
            now = timezone.localtime()
            default_end = outing.end_time
            if default_end is None:
                default_end = now.time().replace(second=0, microsecond=0) if outing.date == now.date() else None
            self.initial.setdefault("end_time", default_end)
            self.initial.setdefault("observations", outing.observations)
            self.initial.setdefault("notes", outing.notes)


def local_datetime(day: datetime.date, time: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, time))


# Merging duplicates and naming a person ----------------------------------------------------


class PersonMergeForm(ErrorSummaryMixin, forms.Form):
    """The duplicate to merge into the person whose page this is: another unmerged record of their team.

    The choices come from the selectors, so a person of another team (or a
    merged record, or this one) is "not one of the available choices".
    """

    merged = forms.ModelChoiceField(
        label=_("Duplicate record"),
        queryset=Person.objects.none(),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the duplicate record from the search results."),
            "invalid_choice": _("Choose the duplicate record from the search results."),
        },
    )

    def __init__(self, *args, user: User, kept: Person, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept = kept
        candidates = persons_visible_to(user).filter(team_id=kept.team_id).exclude(pk=kept.pk)
        form_field(self, "merged", forms.ModelChoiceField).queryset = candidates


class PersonMakeNamedForm(ErrorSummaryMixin, forms.Form):
    """Consent and the name of a pseudonymous person; the identity code is checked by the model's validator."""

    consent_scopes = forms.MultipleChoiceField(
        label=_("Consent given to"),
        choices=Consent.Scope.choices,
        widget=ChipCheckboxSelect,
        error_messages={"required": _("A named record needs consent to recording personal data.")},
    )
    first_name = forms.CharField(label=_("First name"), required=False, max_length=100)
    last_name = forms.CharField(label=_("Last name"), required=False, max_length=100)
    identity_code = forms.CharField(
        label=_("Personal identity code"),
        required=False,
        max_length=11,
        help_text=_("Optional. Only if the person wants it recorded."),
        # The model's own validator, run here too, so that its error shows with the others at once rather
        # than only after every other field is right.
        validators=[validate_identity_code],
    )
    phone = forms.CharField(
        label=_("Phone"), required=False, max_length=40, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    consent_given_on = forms.DateField(
        label=_("Consent given on"),
        widget=DateInput(),
        error_messages={"required": _("Enter the date the consent was given.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = timezone.localdate()
        self.fields["consent_given_on"].initial = self.today
        self.fields["consent_given_on"].widget.attrs["max"] = self.today.isoformat()
        self.fields["consent_scopes"].initial = [Consent.Scope.PERSONAL_DATA]

    def clean_consent_scopes(self):
        scopes = self.cleaned_data["consent_scopes"]
        if Consent.Scope.PERSONAL_DATA not in scopes:
            raise ValidationError(_("A named record needs consent to recording personal data."))
        return scopes

    def clean_consent_given_on(self):
        given_on = self.cleaned_data["consent_given_on"]
        if given_on > self.today:
            raise ValidationError(_("The consent date cannot be in the future."))
        return given_on

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not (data.get("first_name") or data.get("last_name")) and "last_name" not in self.errors:
            self.add_error("last_name", _("A named person needs a first or last name."))
        return data


class AccessLogRangeForm(forms.Form):
    """How far back a person's access log goes: the default window, or further with a typed reason."""

    since = forms.DateField(label=_("From"), widget=DateInput, required=False)
    reason = forms.CharField(
        label=_("Reason for reading older entries"),
        max_length=500,
        required=False,
        help_text=_("Needed for entries older than the default period. The reason is logged."),
    )

    def __init__(self, *args, default_since: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_since = default_since
        self.fields["since"].initial = default_since

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        since = cleaned.get("since") or self.default_since
        cleaned["since"] = since
        cleaned["reason"] = (cleaned.get("reason") or "").strip()
        if since < self.default_since and not cleaned["reason"]:
            self.add_error("reason", _("Give a reason for reading entries older than the default period."))
        return cleaned


# A contact outside an outing ---------------------------------------------------------------


class ContactLogForm(ErrorSummaryMixin, forms.Form):
    """A phone call, an office meeting or another contact with a known person, logged without an outing.

    The encounter still has a site (every encounter has one, for the statistics by place): the team's site
    where the work happened or that the contact belongs to, by default the one last used with the person.
    """

    CONTACT_KINDS = tuple(choice for choice in ContactKind.choices if choice[0] != ContactKind.FIELD)

    contact_kind = forms.ChoiceField(
        label=_("Contact kind"), choices=CONTACT_KINDS, initial=ContactKind.PHONE, widget=ChipRadioSelect
    )
    depth = forms.ChoiceField(
        label=_("Depth"), choices=Depth.choices, initial=Depth.CONVERSATION, widget=ChipRadioSelect
    )
    site = SiteChoiceField(label=_("Site"), queryset=FieldSite.objects.none())
    date = forms.DateField(label=_("Date"), widget=DateInput())
    time = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    needs = forms.MultipleChoiceField(label=_("Needs"), choices=Need.choices, required=False, widget=ChipCheckboxSelect)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), required=False, min_value=1, max_value=1440)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, user: User, person: Person, **kwargs):
        super().__init__(*args, **kwargs)
        now = timezone.localtime()
        self.fields["date"].initial = now.date()
        self.fields["date"].widget.attrs["max"] = now.date().isoformat()
        self.fields["time"].initial = now.time().replace(second=0, microsecond=0)
        sites = sites_visible_to(user).filter(Q(active=True), Q(team_id=person.team_id) | Q(team__isnull=True))
        form_field(self, "site", forms.ModelChoiceField).queryset = sites.order_by("name")
        last = person.encounters.order_by("-occurred_at").values_list("site_id", flat=True).first()
        if last is not None:
            self.fields["site"].initial = last

    def clean(self):
        super().clean()
        data = self.cleaned_data
        day, time = data.get("date"), data.get("time")
        if day is not None and time is not None and local_datetime(day, time) > timezone.now():
            self.add_error("time", _("A contact cannot be logged in the future."))
        return data


# The partner's confirmation -------------------------------------------------------------


class ConfirmationLinkForm(ErrorSummaryMixin, forms.Form):
    """A confirmation link for the partner; e-mailed to their contact person when an address is given."""

    send_to = forms.EmailField(
        label=_("Send the link to (optional)"),
        required=False,
        help_text=_("The partner's contact person. Left empty: copy the link yourself."),
    )


class PartnerConfirmationForm(ErrorSummaryMixin, forms.Form):
    """The partner's answer: did the person arrive? No account; the link is used once."""

    outcome = forms.ChoiceField(
        label=_("Did the person arrive?"),
        choices=ReferralConfirmation.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether the person arrived.")},
    )
    partner_name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=200)
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("No names or other details of the person, please."),
    )


# The persons page and a new person -------------------------------------------------------


class PersonListForm(forms.Form):
    """The persons page's filter, page and search (the search text is taken from POSTs only)."""

    q = forms.CharField(label=_("Search by alias, name or birth year"), max_length=100, required=False)
    status = forms.ChoiceField(label=_("Show"), choices=PersonFilter.choices, required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    page = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        form_field(self, "team", forms.ModelChoiceField).queryset = teams_visible_to(user).order_by("name")

    def clean_q(self):
        return self.cleaned_data["q"].strip()


class PersonCreateForm(ErrorSummaryMixin, forms.Form):
    """A new pseudonymous person (named ones only after consent, on the person's page)."""

    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), empty_label=None)
    alias = forms.CharField(
        label=_("Alias or nickname"),
        max_length=100,
        help_text=_("A nickname, not the real name."),
        error_messages={"required": _("Give the new person an alias or nickname.")},
    )
    birth_year = birth_year_field()
    gender = forms.ChoiceField(
        label=_("Gender"), choices=Gender.choices, initial=Gender.UNKNOWN, widget=ChipRadioSelect
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("No names or other direct identifiers of a pseudonymous person."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.filter(pk__in=writable_team_ids(user), active=True).order_by("name")
        form_field(self, "team", forms.ModelChoiceField).queryset = teams
        team_ids = list(teams.values_list("pk", flat=True))
        own = member_team_ids(user) & set(team_ids)
        self.show_team = len(team_ids) > 1
        if len(own) == 1 or len(team_ids) == 1:
            self.fields["team"].initial = next(iter(own)) if len(own) == 1 else team_ids[0]

    def clean_alias(self):
        return self.cleaned_data["alias"].strip()


class FollowUpContactForm(forms.Form):
    """The follow-up contact took place: by phone or in a meeting, with an optional word on it."""

    contact_kind = forms.ChoiceField(
        label=_("Contact kind"),
        choices=[(ContactKind.PHONE, ContactKind.PHONE.label), (ContactKind.MEETING, ContactKind.MEETING.label)],
    )
    notes = forms.CharField(label=_("Note (optional)"), required=False, max_length=1000)


class FollowUpPostponeForm(forms.Form):
    """Two buttons: by a week (`due_on` None, whatever the date field says), or to the date (`chosen`)."""

    due_on = forms.DateField(label=_("New due date"), required=False, widget=DateInput())
    chosen = forms.BooleanField(required=False)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("chosen"):
            data["due_on"] = None
        elif data.get("due_on") is None and "due_on" not in self.errors:
            self.add_error("due_on", _("Choose the date."))
        return data
