"""Forms of the report pages. They parse shapes; the services validate and act."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from outreach.forms import DateInput, NoColonMixin
from outreach.models import FieldSite, Municipality, Team

from .models import StructuralObservation


class ObservationForm(NoColonMixin, forms.Form):
    theme = forms.ChoiceField(label=_("Theme"), choices=StructuralObservation.Theme.choices, widget=forms.RadioSelect)
    description = forms.CharField(
        label=_("What did you observe?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("A social problem or a gap in services, in general terms. No names or other personal data."),
        max_length=4000,
    )
    municipality = forms.ModelChoiceField(label=_("Municipality"), queryset=Municipality.objects.order_by("name_fi"))
    site = forms.ModelChoiceField(
        label=_("Site (optional)"),
        queryset=FieldSite.objects.select_related("municipality").filter(active=True).order_by("name"),
        required=False,
    )
    observed_on = forms.DateField(label=_("Observed on"), widget=DateInput)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none())

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = teams  # the field declared above
        if len(teams) == 1:
            self.fields["team"].widget = forms.HiddenInput()


class ObservationReportedForm(NoColonMixin, forms.Form):
    reported_to = forms.CharField(label=_("Reported to"), max_length=200, required=False)
    reported_on = forms.DateField(label=_("Reported on"), widget=DateInput, required=False)


class PeriodEvaluationForm(NoColonMixin, forms.Form):
    start = forms.DateField(widget=forms.HiddenInput)
    end = forms.DateField(widget=forms.HiddenInput)
    successes = forms.CharField(label=_("Successes"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    challenges = forms.CharField(label=_("Challenges"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    lessons = forms.CharField(label=_("Lessons learned"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
