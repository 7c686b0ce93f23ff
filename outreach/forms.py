"""Forms of the planning and site pages: they check what was typed; the services write."""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import dates
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import FieldSite, Municipality, Outing, Team, User
from .permissions import manages_every_site
from .selectors import sites_visible_to, teams_visible_to, writable_team_ids
from .vocabulary import OutingStatus, SiteType

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, StrPromise

_FieldT = TypeVar("_FieldT", bound=forms.Field)


def form_field(form: forms.BaseForm, name: str, kind: type[_FieldT]) -> _FieldT:
    """`form.fields[name]` as the field class it was declared with (the stubs type every field as Field)."""
    return cast(_FieldT, form.fields[name])


def field_queryset(form: forms.BaseForm, name: str) -> QuerySet[Any]:
    """The queryset of a model choice field; every such field here is declared with one."""
    queryset = form_field(form, name, forms.ModelChoiceField).queryset
    assert queryset is not None, f"{name} has no queryset"
    return queryset


def apply_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: by field where the form has the field, else on the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class NoColonMixin:
    """Labels without Django's trailing colon, as in the rest of the UI."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        # The browser's date picker exchanges ISO dates whatever the UI language.
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


def month_choices() -> list[tuple[str | int, "str | StrPromise"]]:
    return [("", _("No seasonal window")), *((number, name) for number, name in dates.MONTHS.items())]


def every_weeks_choices() -> list[tuple[str | int, "str | StrPromise"]]:
    # A callable: evaluated per form, in the language of the request.
    return [
        ("", _("No recurring schedule")),
        *((n, ngettext("Every week", "Every %(count)d weeks", n) % {"count": n}) for n in range(1, 9)),
    ]


def month_name(number: int | None) -> str:
    return str(dates.MONTHS[number]) if number else ""


def season_label(site: FieldSite) -> str:
    """e.g. "April–September", or "" for a site without a seasonal window."""
    if site.season_start_month is None:
        return ""
    return f"{month_name(site.season_start_month)}–{month_name(site.season_end_month)}"


# Outings --------------------------------------------------------------------


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, site):
        label = f"{site.name} ({site.municipality.name})"
        season = season_label(site)
        if season:
            label = _("%(site)s · season %(season)s") % {"site": label, "season": season}
        if not site.active:
            label = _("%(site)s · inactive") % {"site": label}
        return label


class ParticipantsField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple
    # Teams to name beside each person, when the planner chooses among several.
    team_names: dict[int, str] | None = None

    def label_from_instance(self, user):
        label = user.get_full_name()
        if user.is_expert:
            label = _("%(name)s (expert by experience)") % {"name": label}
        if self.team_names:
            teams = ", ".join(self.team_names[team.pk] for team in user.teams.all() if team.pk in self.team_names)
            if teams:
                label = f"{label} · {teams}"
        return label


class OutingPlanForm(NoColonMixin, forms.Form):
    """Plan an outing, or change a planned one (its team stays).

    `user` is the one planning: the teams offered are those they may write
    for, the participants the members of those teams. A site out of its
    seasonal window on the date is allowed once the planner confirms it.
    """

    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none())
    site = SiteChoiceField(label=_("Site"), queryset=FieldSite.objects.none())
    date = forms.DateField(label=_("Date"), widget=DateInput())
    start_time = forms.TimeField(label=_("Start time"), widget=TimeInput())
    end_time = forms.TimeField(label=_("End time"), widget=TimeInput())
    participants = ParticipantsField(
        label=_("Participants"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Workers and experts by experience of the team. You can add them later too."),
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    confirm_out_of_season = forms.BooleanField(
        label=_("Plan it anyway"),
        required=False,
    )

    def __init__(self, *args, user: User, outing: Outing | None = None, **kwargs):
        self.user = user
        self.outing = outing
        if outing is not None:
            kwargs.setdefault(
                "initial",
                {
                    "site": outing.site_id,
                    "date": outing.date,
                    "start_time": outing.start_time,
                    "end_time": outing.end_time,
                    "participants": [p.pk for p in outing.participants.all()],
                    "notes": outing.notes,
                },
            )
        super().__init__(*args, **kwargs)
        team_ids = writable_team_ids(user)
        if outing is not None:
            del self.fields["team"]
            member_team_ids = {outing.team_id}
        else:
            teams = Team.objects.filter(pk__in=team_ids, active=True).order_by("name")
            form_field(self, "team", forms.ModelChoiceField).queryset = teams
            member_team_ids = set(teams.values_list("pk", flat=True))
            # Once a team is chosen, only its members are offered as participants.
            chosen = self.data.get("team") if self.is_bound else self.initial.get("team")
            if chosen is not None and str(chosen).isdigit() and int(chosen) in member_team_ids:
                self.participant_team_ids = {int(chosen)}
            if len(member_team_ids) == 1:
                self.fields["team"].initial = next(iter(member_team_ids))
                self.fields["team"].widget = forms.HiddenInput()
        self.single_team = self.team_choices()[0] if len(member_team_ids) == 1 and outing is None else None
        # Active sites only; the team's own sites first. An outing already at
        # a site that has since been deactivated may stay there.
        active = Q(active=True)
        if outing is not None:
            active |= Q(pk=outing.site_id)
        form_field(self, "site", forms.ModelChoiceField).queryset = (
            sites_visible_to(user)
            .filter(active)
            .annotate(
                own=Case(
                    When(team_id__in=member_team_ids, then=Value(0)), default=Value(1), output_field=IntegerField()
                )
            )
            .order_by("own", "name")
        )
        # People already on the outing stay offered, even if they have since left the team.
        self.current_participant_ids = set(outing.participants.values_list("pk", flat=True)) if outing else set()
        participants = form_field(self, "participants", ParticipantsField)
        offered_team_ids = getattr(self, "participant_team_ids", member_team_ids)
        participants.queryset = (
            User.objects.filter(Q(is_active=True, teams__in=offered_team_ids) | Q(pk__in=self.current_participant_ids))
            .distinct()
            .order_by("full_name", "email")
        )
        if len(offered_team_ids) > 1:
            participants.team_names = dict(Team.objects.filter(pk__in=member_team_ids).values_list("pk", "name"))
            participants.queryset = field_queryset(self, "participants").prefetch_related("teams")
        self.out_of_season = False

    def team_choices(self) -> list[Team]:
        return list(field_queryset(self, "team")) if "team" in self.fields else []

    def clean(self):
        super().clean()
        data = self.cleaned_data
        # Participants outside the team are refused by the service (outing_create / outing_update).
        site, day = data.get("site"), data.get("date")
        if site is not None and day is not None and not site.in_season(day):
            self.out_of_season = True
            unchanged = self.outing is not None and self.outing.site_id == site.pk and self.outing.date == day
            if not unchanged and not data.get("confirm_out_of_season"):
                self.add_error(
                    "confirm_out_of_season",
                    _(
                        "%(site)s is out of season on this date (season %(season)s). "
                        "Tick “Plan it anyway” to plan it all the same."
                    )
                    % {"site": site.name, "season": season_label(site)},
                )
        return data

    @property
    def site_out_of_season(self) -> FieldSite | None:
        """The site, when the outing as shown falls outside its seasonal window (for the warning)."""
        if self.is_bound:
            return self.cleaned_data.get("site") if self.out_of_season and hasattr(self, "cleaned_data") else None
        if self.outing is not None and not self.outing.site.in_season(self.outing.date):
            return self.outing.site
        return None

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "site": data["site"],
            "date": data["date"],
            "start_time": data["start_time"],
            "end_time": data["end_time"],
            "notes": data["notes"],
        }


class OutingCancelForm(NoColonMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Added to the outing's notes. Do not write anything that identifies a client."),
    )


class GenerateOutingsForm(NoColonMixin, forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none())
    weeks = forms.IntegerField(
        label=_("Weeks ahead"),
        min_value=1,
        max_value=26,
        initial=4,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.filter(pk__in=writable_team_ids(user), active=True).order_by("name")
        form_field(self, "team", forms.ModelChoiceField).queryset = teams
        if len(teams) == 1:
            self.fields["team"].initial = teams[0].pk
            self.fields["team"].widget = forms.HiddenInput()


WEEK_RE = re.compile(r"^(?P<year>\d{4})-W(?P<week>\d{1,2})$")


def parse_week(value: str) -> datetime.date | None:
    """The Monday of an ISO week written `2026-W22`, or None."""
    match = WEEK_RE.match(value.strip().upper())
    if match is None:
        return None
    try:
        return datetime.date.fromisocalendar(int(match["year"]), int(match["week"]), 1)
    except ValueError:
        return None


class AgendaFilterForm(NoColonMixin, forms.Form):
    """The agenda's query parameters. A bad value gets its message and the default is used."""

    week = forms.CharField(label=_("Week"), required=False, help_text=_("e.g. 2026-W22"))
    start = forms.DateField(label=_("Week of"), required=False, widget=DateInput())
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("All"))
    site = forms.ModelChoiceField(
        label=_("Site"), queryset=FieldSite.objects.none(), required=False, empty_label=_("All")
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *OutingStatus.choices])

    def __init__(self, data=None, *args, user: User, **kwargs):
        if data is not None and data.get("week") and not data.get("start"):
            # The week shown (from the prev/next links) fills "Week of", so
            # that changing a filter keeps the week.
            monday = parse_week(data["week"])
            if monday is not None:
                data = data.copy()
                data["start"] = monday.isoformat()
        super().__init__(data, *args, **kwargs)
        form_field(self, "team", forms.ModelChoiceField).queryset = teams_visible_to(user).order_by("name")
        form_field(self, "site", forms.ModelChoiceField).queryset = sites_visible_to(user).order_by("-active", "name")

    def clean_week(self) -> datetime.date | None:
        value = self.cleaned_data["week"]
        if not value.strip():
            return None
        monday = parse_week(value)
        if monday is None:
            raise ValidationError(_("Enter a week as year and week number, e.g. 2026-W22."))
        return monday

    def monday(self, today: datetime.date) -> datetime.date:
        """The Monday of the week to show: from `week`, else `start`, else today."""
        data = getattr(self, "cleaned_data", {})
        day = data.get("week") or data.get("start") or today
        return day - datetime.timedelta(days=day.weekday())


# Sites ----------------------------------------------------------------------


class CoordinateField(forms.DecimalField):
    """A latitude or longitude: decimal comma or point, rounded to the five places stored (about a metre)."""

    def __init__(self, **kwargs):
        # The plausible range is the model's rule (FieldSite.clean).
        super().__init__(
            max_digits=8,
            decimal_places=5,
            localize=True,
            required=False,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            **kwargs,
        )

    def to_python(self, value):
        if isinstance(value, str):
            # A decimal comma reads the same in every UI language (maps
            # give a point, Finnish and Swedish keyboards a comma).
            value = value.strip().replace(",", ".")
        number = super().to_python(value)
        if number is None:
            return None
        return number.quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)


class SiteForm(NoColonMixin, forms.ModelForm):
    """Create or change a field site. Saved through site_create/site_update."""

    season_start_month = forms.TypedChoiceField(
        label=_("Season starts (month)"), choices=month_choices, coerce=int, empty_value=None, required=False
    )
    season_end_month = forms.TypedChoiceField(
        label=_("Season ends (month)"), choices=month_choices, coerce=int, empty_value=None, required=False
    )
    schedule_every_weeks = forms.TypedChoiceField(
        label=_("Repeats"),
        choices=every_weeks_choices,
        coerce=int,
        empty_value=None,
        required=False,
    )
    latitude = CoordinateField(label=_("Latitude"), help_text=_("e.g. 62.89245"))
    longitude = CoordinateField(label=_("Longitude"), help_text=_("e.g. 27.67812"))

    class Meta:
        model = FieldSite
        fields = (
            "name",
            "site_type",
            "municipality",
            "address",
            "team",
            "latitude",
            "longitude",
            "season_start_month",
            "season_end_month",
            "schedule_weekday",
            "schedule_every_weeks",
            "schedule_start_time",
            "schedule_end_time",
        )
        widgets: ClassVar[dict[str, forms.Widget]] = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "schedule_start_time": TimeInput(),
            "schedule_end_time": TimeInput(),
        }
        help_texts: ClassVar["dict[str, StrOrPromise]"] = {
            "team": _("The team that plans the outings of the recurring schedule."),
            "address": _("Street address or how to find the place."),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        if manages_every_site(user):
            teams = Team.objects.filter(active=True)
        else:
            teams = Team.objects.filter(pk__in=writable_team_ids(user), active=True)
        if self.instance.team_id is not None:
            teams = Team.objects.filter(Q(pk__in=teams.values("pk")) | Q(pk=self.instance.team_id))
        team = form_field(self, "team", forms.ModelChoiceField)
        team.queryset = teams.order_by("name")
        team.empty_label = _("No team")
        municipality = form_field(self, "municipality", forms.ModelChoiceField)
        municipality.queryset = Municipality.objects.order_by("-outreach_active", "name_fi")
        weekday = form_field(self, "schedule_weekday", forms.ChoiceField)
        weekday.label = _("Weekday")
        # Django keeps choices as a normalised list; the stubs type the getter as the setter's input.
        weekday.choices = [
            ("", _("No recurring schedule")),
            *cast(list[tuple[Any, Any]], weekday.choices)[1:],
        ]
        self.fields["schedule_start_time"].label = _("Starts at")
        self.fields["schedule_end_time"].label = _("Ends at")

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class SiteFilterForm(NoColonMixin, forms.Form):
    ACTIVE_CHOICES = (("yes", _("Active")), ("no", _("Inactive")), ("all", _("All")))

    site_type = forms.ChoiceField(label=_("Site type"), required=False, choices=[("", _("All")), *SiteType.choices])
    municipality = forms.ModelChoiceField(
        label=_("Municipality"),
        required=False,
        queryset=Municipality.objects.filter(sites__isnull=False).distinct().order_by("name_fi"),
        empty_label=_("All"),
    )
    active = forms.ChoiceField(label=_("Shown"), required=False, choices=ACTIVE_CHOICES)

    def filter(self, sites):
        data = getattr(self, "cleaned_data", {})
        if data.get("site_type"):
            sites = sites.filter(site_type=data["site_type"])
        if data.get("municipality"):
            sites = sites.filter(municipality=data["municipality"])
        active = data.get("active") or "yes"
        if active == "yes":
            sites = sites.filter(active=True)
        elif active == "no":
            sites = sites.filter(active=False)
        return sites
