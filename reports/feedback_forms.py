"""Forms of the public feedback and survey pages: they parse shapes; the services and models hold the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from outreach.vocabulary import GotHelp, TalkAgain

SCORES = [
    ("1", _("Very bad")),
    ("2", _("Bad")),
    ("3", _("Okay")),
    ("4", _("Good")),
    ("5", _("Very good")),
]


class FeedbackForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How was your experience today?"),
        choices=SCORES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a face to tell how it was."),
            "invalid_choice": _("Choose one of the five faces."),
        },
    )
    got_help = forms.ChoiceField(
        label=_("Did you get the help or information you needed?"),
        choices=GotHelp.choices,
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": _("Choose yes, partly or no.")},
    )
    talk_again = forms.ChoiceField(
        label=_("Would you talk to us again?"),
        choices=TalkAgain.choices,
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": _("Choose yes, no or I don't know.")},
    )
    comment = forms.CharField(
        label=_("Anything else you want to tell us? (optional)"),
        help_text=_("Please do not write your name, phone number or other details about yourself."),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        error_messages={"max_length": _("Write at most %(limit_value)d characters.")},
    )
    # A honeypot: hidden from people (and screen readers), filled in by bots.
    website = forms.CharField(required=False)
