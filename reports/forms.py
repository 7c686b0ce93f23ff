"""Forms of the report pages. They parse shapes; the services validate and act."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from outreach.forms import DateInput, NoColonMixin
from outreach.models import FieldSite, Municipality, Team
from outreach.vocabulary import SURVEY_CHOICE_KINDS, SurveyQuestionKind

from .models import StructuralObservation
from .validators import SURVEY_LANGUAGES, SURVEY_MAX_QUESTIONS


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


class SurveyForm(NoColonMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    opens_on = forms.DateField(label=_("Opens on"), widget=DateInput)
    closes_on = forms.DateField(label=_("Closes on"), widget=DateInput)


class SurveyQuestionForm(NoColonMixin, forms.Form):
    """One question: its kind, its text in fi, sv and en, and for a choice question its choices one per line.

    A question left wholly empty is skipped; what a question must hold is the
    service's and the model's rule (reports.services.survey_create), not this form's.
    """

    kind = forms.ChoiceField(
        label=_("Kind of question"), choices=[("", "—"), *SurveyQuestionKind.choices], required=False
    )
    text_fi = forms.CharField(label=_("Question in Finnish"), required=False)
    text_sv = forms.CharField(label=_("Question in Swedish"), required=False)
    text_en = forms.CharField(label=_("Question in English"), required=False)
    choices_fi = forms.CharField(
        label=_("Choices in Finnish"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    choices_sv = forms.CharField(
        label=_("Choices in Swedish"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    choices_en = forms.CharField(
        label=_("Choices in English"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any((data.get(name) or "").strip() for name in self.fields)

    def clean(self):
        data = super().clean() or {}
        if self.is_blank():
            return data
        if not data.get("kind"):
            self.add_error("kind", _("Choose the kind of question."))
        elif data["kind"] in SURVEY_CHOICE_KINDS:
            counts = {code: len(self._lines(data.get(f"choices_{code}"))) for code in SURVEY_LANGUAGES}
            if len(set(counts.values())) > 1:
                self.add_error(
                    "choices_sv" if counts["sv"] != counts["fi"] else "choices_en",
                    _(
                        "Give every choice in each language, one per line: "
                        "%(fi)s in Finnish, %(sv)s in Swedish, %(en)s in English."
                    )
                    % counts,
                )
        return data

    @staticmethod
    def _lines(text: str | None) -> list[str]:
        return [line.strip() for line in (text or "").splitlines() if line.strip()]

    def spec(self) -> dict:
        """The question as survey_create takes it (the API's shape)."""
        data = self.cleaned_data
        spec: dict = {"kind": data["kind"], "text": {code: data[f"text_{code}"].strip() for code in SURVEY_LANGUAGES}}
        if data["kind"] in SURVEY_CHOICE_KINDS:
            columns = [self._lines(data.get(f"choices_{code}")) for code in SURVEY_LANGUAGES]
            spec["choices"] = [dict(zip(SURVEY_LANGUAGES, texts, strict=True)) for texts in zip(*columns, strict=True)]
        return spec


SurveyQuestionFormSet = forms.formset_factory(
    SurveyQuestionForm, extra=0, max_num=SURVEY_MAX_QUESTIONS, absolute_max=SURVEY_MAX_QUESTIONS
)
