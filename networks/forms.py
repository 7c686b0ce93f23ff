"""Forms of the directory and network pages. They parse; the services validate and save.

Each record form is a ModelForm only for its fields and widgets: the view
hands `service_fields()` to the record's service, which validates the model
and writes the audit entry.
"""

from typing import Any, ClassVar, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from outreach.forms import DateInput, NoColonMixin, form_field
from outreach.models import Municipality, Team, User
from outreach.selectors import users_visible_to, writable_team_ids
from outreach.vocabulary import ServiceKind

from .models import (
    CommunicationActivity,
    ContactPerson,
    CooperationAgreement,
    NetworkMeeting,
    NetworkMembership,
    PartnerOrganisation,
    PartnerService,
)

TEXTAREA = forms.Textarea(attrs={"rows": 3})


def _municipalities() -> Any:
    return Municipality.objects.order_by("-outreach_active", "name_fi")


class DirectorySearchForm(NoColonMixin, forms.Form):
    """The directory's search: free text (sent by POST, as typed), municipality and service kind."""

    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    municipality = forms.ModelChoiceField(
        label=_("Municipality"), queryset=Municipality.objects.none(), required=False, empty_label=_("All")
    )
    service_kind = forms.ChoiceField(
        label=_("Service kind"), choices=[("", _("All")), *list(ServiceKind.choices)], required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "municipality", forms.ModelChoiceField).queryset = _municipalities()


class RecordForm(NoColonMixin, forms.ModelForm):
    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields or () if name in self.cleaned_data}


class PartnerForm(RecordForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = PartnerOrganisation
        fields = (
            "name",
            "kind",
            "municipalities",
            "address",
            "opening_hours",
            "phone",
            "website",
            "description",
            "active",
        )
        widgets: ClassVar[dict[str, Any]] = {"municipalities": forms.CheckboxSelectMultiple, "description": TEXTAREA}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "municipalities", forms.ModelMultipleChoiceField).queryset = _municipalities()


class PartnerServiceForm(RecordForm):
    class Meta:
        model = PartnerService
        fields = ("name", "service_kind", "description", "how_to_refer", "municipalities", "active")
        widgets: ClassVar[dict[str, Any]] = {
            "municipalities": forms.CheckboxSelectMultiple,
            "description": TEXTAREA,
            "how_to_refer": TEXTAREA,
        }
        help_texts: ClassVar[dict[str, Any]] = {
            "municipalities": _("None chosen: every municipality the organisation serves.")
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "municipalities", forms.ModelMultipleChoiceField).queryset = _municipalities()


class ContactPersonForm(RecordForm):
    class Meta:
        model = ContactPerson
        fields = ("name", "role", "phone", "email", "active")


class MembershipForm(RecordForm):
    class Meta:
        model = NetworkMembership
        fields = ("organisation", "joined_on", "left_on")
        widgets: ClassVar[dict[str, Any]] = {"joined_on": DateInput(), "left_on": DateInput()}
        help_texts: ClassVar[dict[str, Any]] = {"left_on": _("Leaving keeps the membership in the history.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        partners = PartnerOrganisation.objects.filter(active=True).order_by("name")
        form_field(self, "organisation", forms.ModelChoiceField).queryset = partners


class AgreementForm(RecordForm):
    class Meta:
        model = CooperationAgreement
        fields = ("title", "description", "parties", "agreed_on", "review_on", "ends_on")
        widgets: ClassVar[dict[str, Any]] = {
            "description": TEXTAREA,
            "parties": forms.CheckboxSelectMultiple,
            "agreed_on": DateInput(),
            "review_on": DateInput(),
            "ends_on": DateInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        partners = PartnerOrganisation.objects.filter(active=True).order_by("name")
        form_field(self, "parties", forms.ModelMultipleChoiceField).queryset = partners


class MeetingForm(RecordForm):
    class Meta:
        model = NetworkMeeting
        fields = ("date", "organisations", "staff", "participant_count", "topics", "decisions")
        widgets: ClassVar[dict[str, Any]] = {
            "date": DateInput(),
            "organisations": forms.CheckboxSelectMultiple,
            "staff": forms.CheckboxSelectMultiple,
            "participant_count": forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
            "topics": TEXTAREA,
            "decisions": forms.Textarea(attrs={"rows": 4}),
        }
        labels: ClassVar[dict[str, Any]] = {
            "organisations": _("Organisations present"),
            "staff": _("Our staff present"),
        }
        help_texts: ClassVar[dict[str, Any]] = {"decisions": _("One decision per line.")}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        partners = PartnerOrganisation.objects.filter(active=True).order_by("name")
        form_field(self, "organisations", forms.ModelMultipleChoiceField).queryset = partners
        staff = users_visible_to(user).filter(is_active=True).order_by("full_name", "email")
        form_field(self, "staff", forms.ModelMultipleChoiceField).queryset = staff


class TaskForm(NoColonMixin, forms.Form):
    """One task agreed at a meeting; a row left empty is no task."""

    title = forms.CharField(label=_("Task"), max_length=300, required=False)
    owner_user = forms.ModelChoiceField(
        label=_("Owner (our staff)"), queryset=User.objects.none(), required=False, empty_label=_("None")
    )
    owner_contact = forms.ModelChoiceField(
        label=_("Owner (partner contact)"),
        queryset=ContactPerson.objects.none(),
        required=False,
        empty_label=_("None"),
    )
    due_on = forms.DateField(label=_("Due date"), required=False, widget=DateInput())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        staff = users_visible_to(user).filter(is_active=True).order_by("full_name", "email")
        form_field(self, "owner_user", forms.ModelChoiceField).queryset = staff
        contacts = ContactPerson.objects.filter(active=True).select_related("partner").order_by("name")
        form_field(self, "owner_contact", forms.ModelChoiceField).queryset = contacts

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("title") and (data.get("owner_user") or data.get("owner_contact") or data.get("due_on")):
            self.add_error("title", _("Give the task a title."))
        return data

    def task_fields(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("title"):
            return None
        return {name: data.get(name) for name in ("title", "owner_user", "owner_contact", "due_on")}


class BaseTaskFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"user": self.user}

    def tasks(self) -> list[dict[str, Any]]:
        return [fields for form in self.forms if (fields := form.task_fields()) is not None]


TaskFormSet = forms.formset_factory(TaskForm, formset=BaseTaskFormSet, extra=3, max_num=10)


def task_formset(data: Any, *, user: User) -> BaseTaskFormSet:
    """The meeting form's task rows (prefix `task`)."""
    # The factory's class takes BaseTaskFormSet's `user`, which the stubs' BaseFormSet does not know.
    return cast(BaseTaskFormSet, cast(Any, TaskFormSet)(data, user=user, prefix="task"))


class TaskDoneForm(NoColonMixin, forms.Form):
    done_on = forms.DateField(label=_("Done on"), widget=DateInput())


class CommunicationForm(RecordForm):
    link = forms.URLField(label=_("link"), required=False, assume_scheme="https")

    class Meta:
        model = CommunicationActivity
        fields = ("kind", "title", "date", "team", "audience", "audience_size", "link", "description")
        widgets: ClassVar[dict[str, Any]] = {
            "kind": forms.RadioSelect,
            "date": DateInput(),
            "audience_size": forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
            "description": TEXTAREA,
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = form_field(self, "team", forms.ModelChoiceField)
        team.queryset = Team.objects.filter(pk__in=writable_team_ids(user), active=True).order_by("name")
        if len(team.queryset) == 1 and not self.is_bound:
            self.initial.setdefault("team", team.queryset[0].pk)
        kind = form_field(self, "kind", forms.ChoiceField)
        kind.choices = list(CommunicationActivity.Kind.choices)


class PeriodForm(NoColonMixin, forms.Form):
    start = forms.DateField(label=_("From"), widget=DateInput())
    end = forms.DateField(label=_("To"), widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end date cannot be before the start date."))
        return data
