"""Client feedback pages: the public form behind a link (/f/…), "Ask for feedback", results and surveys.

The public pages need no sign-in and keep nothing about the client: no
cookie of their own, no address or browser stored with an answer. Their
language comes from `?lang=` (the buttons on the form), else from the
browser's Accept-Language.
"""

import datetime
from urllib.parse import urlencode

import segno
from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from outreach.forms import apply_service_errors
from outreach.models import FieldSite, Outing
from outreach.selectors import get_outing_for_user, sites_visible_to
from outreach.types import AuthedHttpRequest

from . import feedback_selectors, services
from .feedback_forms import FeedbackForm
from .forms import SurveyForm, SurveyQuestionFormSet
from .models import FeedbackLink, Survey
from .permissions import can_ask_feedback, can_read_feedback_results
from .validators import SURVEY_MAX_QUESTIONS
from .views import BadParameters, _bad_request, _parse_report_parameters, _picker

KIOSK_RESET_SECONDS = 6
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def _public_language(request: HttpRequest) -> str:
    """`?lang=` when it names one of ours, else what LocaleMiddleware chose from Accept-Language."""
    code = request.GET.get("lang") or request.POST.get("lang") or ""
    if code not in LANGUAGE_CODES:
        code = translation.get_language() or settings.LANGUAGE_CODE
    code = code.split("-")[0]
    if code not in LANGUAGE_CODES:
        code = settings.LANGUAGE_CODE
    translation.activate(code)
    request.LANGUAGE_CODE = code
    return code


def _query(**params: str) -> str:
    return urlencode({key: value for key, value in params.items() if value})


def _languages(path: str, kiosk: bool) -> list[dict]:
    names = {"fi": "Suomi", "sv": "Svenska", "en": "English"}
    return [
        {"code": code, "name": names.get(code, code), "url": f"{path}?{_query(lang=code, kiosk='1' if kiosk else '')}"}
        for code in LANGUAGE_CODES
    ]


def _unavailable(request: HttpRequest, *, expired: bool) -> HttpResponse:
    return render(
        request, "feedback/unavailable.html", {"expired": expired, "languages": []}, status=410 if expired else 404
    )


def _link_or_page(request: HttpRequest, token: str) -> FeedbackLink | HttpResponse:
    link = services.feedback_link_for_token(token)
    if link is None:
        return _unavailable(request, expired=False)
    if link.expired:
        return _unavailable(request, expired=True)
    return link


def _address(request: HttpRequest) -> str:
    return get_adapter().get_client_ip(request) or ""


@require_http_methods(["GET", "POST"])
def feedback_form(request: HttpRequest, token: str) -> HttpResponse:
    """The client's form: a score on five faces, two short questions and an optional comment."""
    language = _public_language(request)
    link = _link_or_page(request, token)
    if isinstance(link, HttpResponse):
        return link
    kiosk = request.GET.get("kiosk") == "1"
    form = FeedbackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        try:
            services.feedback_rate_check(scope="link", address=_address(request), target=link.pk)
        except services.FeedbackRateLimited:
            return render(request, "feedback/too_many.html", {"languages": []}, status=429)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.feedback_submit(
                    link=link,
                    score=data["score"],
                    got_help=data["got_help"],
                    talk_again=data["talk_again"],
                    comment=data["comment"],
                    language=language,
                    honeypot=data["website"],
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                thanks = reverse("feedback_thanks", kwargs={"token": token})
                return redirect(f"{thanks}?{_query(lang=language, kiosk='1' if kiosk else '')}", permanent=False)
    path = reverse("feedback_form", kwargs={"token": token})
    context = {
        "form": form,
        "kiosk": kiosk,
        "language": language,
        "languages": _languages(path, kiosk),
        "action": f"{path}?{_query(lang=language, kiosk='1' if kiosk else '')}",
        "site_name": link.site.name,
    }
    return render(request, "feedback/form.html", context, status=400 if form.is_bound and form.errors else 200)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


@require_GET
def feedback_thanks(request: HttpRequest, token: str) -> HttpResponse:
    language = _public_language(request)
    kiosk = request.GET.get("kiosk") == "1"
    form_url = reverse("feedback_form", kwargs={"token": token})
    context = {
        "kiosk": kiosk,
        "reset_seconds": KIOSK_RESET_SECONDS,
        "again_url": f"{form_url}?{_query(lang=language, kiosk='1' if kiosk else '')}",
        "languages": [],
    }
    return render(request, "feedback/thanks.html", context)


# Asking for feedback ---------------------------------------------------------


def _qr_svg(url: str) -> str:
    # Scale 8 with a quiet zone of four modules: a 25-module code is about
    # 260 px wide, big enough to scan from a phone held out.
    qr = segno.make(url, error="m")
    return qr.svg_inline(scale=8, border=4, title=_("QR code of the feedback link"))


def _ask(request: AuthedHttpRequest, *, site: FieldSite, outing: Outing | None) -> HttpResponse:
    if not can_ask_feedback(request.user, site, outing):
        raise PermissionDenied
    context: dict = {"site": site, "outing": outing}
    if outing is not None:
        context["answer_count"] = feedback_selectors.feedback_count_for_outing(outing)
    if request.method == "POST":
        link, token = services.feedback_link_create(actor=request.user, site=site, outing=outing)
        url = request.build_absolute_uri(reverse("feedback_form", kwargs={"token": token}))
        context.update({"link": link, "url": url, "kiosk_url": f"{url}?kiosk=1", "qr": _qr_svg(url)})
    return render(request, "feedback/ask.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def feedback_ask_outing(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """ "Ask for feedback" at an outing: a QR code and a short link, made with a POST."""
    outing = get_outing_for_user(request.user, pk)
    return _ask(request, site=outing.site, outing=outing)


@login_required
@require_http_methods(["GET", "POST"])
def feedback_ask_site(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    try:
        site = sites_visible_to(request.user).get(pk=pk)
    except (FieldSite.DoesNotExist, ValueError):
        raise Http404 from None
    return _ask(request, site=site, outing=None)


# Results for coordinators ------------------------------------------------------


@login_required
@require_GET
def feedback_results(request: AuthedHttpRequest) -> HttpResponse:
    """Counts, means and distributions by site, site type or team, and the comments, for a period."""
    if not can_read_feedback_results(request.user):
        raise PermissionDenied
    group = request.GET.get("group") or "site"
    if group not in feedback_selectors.GROUPS:
        return _bad_request(request, {"group": [_("Unknown group; use site, site_type or team.")]})
    try:
        period, filters = _parse_report_parameters(request)
    except BadParameters as error:
        return _bad_request(request, error.errors)
    breakdown = feedback_selectors.feedback_breakdown(
        user=request.user, start=period.start, end=period.end, group=group, **filters
    )
    comments = feedback_selectors.feedback_comments(user=request.user, start=period.start, end=period.end, **filters)
    context = {
        **_picker(request, period, filters, "reports:feedback"),
        "group": group,
        "groups": [("site", _("Site")), ("site_type", _("Site type")), ("team", _("Team"))],
        "rows": breakdown["rows"],
        "comments": comments,
        "minimum": feedback_selectors.min_answers(),
        "back": request.get_full_path(),
    }
    return render(request, "feedback/results.html", context)


@login_required
@require_POST
def feedback_comment_hide(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    if not can_read_feedback_results(request.user):
        raise PermissionDenied
    feedback = feedback_selectors.get_feedback_for_results(request.user, pk)
    if feedback is None:
        raise Http404
    services.feedback_comment_set_hidden(actor=request.user, feedback=feedback, hidden=True)
    messages.success(request, _("The comment is hidden."))
    back = request.POST.get("next") or ""
    if not back.startswith("/reports/feedback/"):
        back = reverse("reports:feedback")
    return redirect(back)


# Surveys -------------------------------------------------------------------


@login_required
@require_GET
def survey_list(request: AuthedHttpRequest) -> HttpResponse:
    if not can_read_feedback_results(request.user):
        raise PermissionDenied
    return render(
        request, "feedback/survey_list.html", {"surveys": feedback_selectors.surveys_visible_to(request.user)}
    )


SURVEY_BLANK_QUESTIONS = 3


@login_required
@require_http_methods(["GET", "POST"])
def survey_create_view(request: AuthedHttpRequest) -> HttpResponse:
    """A coordinator defines a survey: title, dates and questions in fi, sv and en; "Add a question" adds a row."""
    if not can_read_feedback_results(request.user):
        raise PermissionDenied
    if request.method == "GET":
        today = timezone.localdate()
        form = SurveyForm(initial={"opens_on": today, "closes_on": today + datetime.timedelta(days=30)})
        questions = SurveyQuestionFormSet(prefix="q", initial=[{}] * SURVEY_BLANK_QUESTIONS)
        return render(request, "feedback/survey_new.html", {"form": form, "questions": questions})
    if "add_question" in request.POST:  # one more empty question; nothing checked or saved yet
        return render(request, "feedback/survey_new.html", _survey_form_with_one_more_question(request.POST))
    form = SurveyForm(request.POST)
    questions = SurveyQuestionFormSet(request.POST, prefix="q")
    if form.is_valid() and questions.is_valid():
        specs = [question.spec() for question in questions if not question.is_blank()]
        try:
            survey = services.survey_create(actor=request.user, questions=specs, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The survey is published. Share its link or QR code."))
            return redirect("reports:survey_detail", pk=survey.pk)
    return render(request, "feedback/survey_new.html", {"form": form, "questions": questions})


def _survey_form_with_one_more_question(data) -> dict:
    """The page again with what was typed (unbound, so no errors yet) and one more empty question."""
    try:
        total = min(max(int(data.get("q-TOTAL_FORMS", "0")), 0), SURVEY_MAX_QUESTIONS - 1)
    except ValueError:
        total = 0
    names = list(SurveyQuestionFormSet.form.base_fields)
    initial = [{name: data.get(f"q-{index}-{name}", "") for name in names} for index in range(total)]
    form = SurveyForm(initial={name: data.get(name, "") for name in SurveyForm.base_fields})
    return {"form": form, "questions": SurveyQuestionFormSet(prefix="q", initial=[*initial, {}]), "added": True}


def _survey_for_user(request: AuthedHttpRequest, pk: int) -> Survey:
    if not can_read_feedback_results(request.user):
        raise PermissionDenied
    try:
        return feedback_selectors.surveys_visible_to(request.user).get(pk=pk)
    except (Survey.DoesNotExist, ValueError):
        raise Http404 from None


@login_required
@require_GET
def survey_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Results with the 7-answer rule, the link and its QR code; `?format=xlsx` exports the answers."""
    survey = _survey_for_user(request, pk)
    results = feedback_selectors.survey_results(survey)
    if request.GET.get("format") == "xlsx":
        from .feedback_exports import survey_xlsx

        services.survey_exported(actor=request.user, survey=survey)
        response = HttpResponse(
            survey_xlsx(survey, results),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="survey-{survey.pk}.xlsx"'
        return response
    url = request.build_absolute_uri(reverse("survey_form", kwargs={"token": survey.token}))
    context = {"survey": survey, "results": results, "url": url, "qr": _qr_svg(url), "is_open": survey.is_open()}
    return render(request, "feedback/survey_detail.html", context)


@login_required
@require_POST
def survey_close_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    survey = _survey_for_user(request, pk)
    services.survey_close(actor=request.user, survey=survey)
    messages.success(request, _("The survey is closed."))
    return redirect("reports:survey_detail", pk=survey.pk)


@require_http_methods(["GET", "POST"])
def survey_form(request: HttpRequest, token: str) -> HttpResponse:
    """A survey's public page, in the language asked for."""
    language = _public_language(request)
    survey = feedback_selectors.survey_for_token(token)
    if survey is None:
        return _unavailable(request, expired=False)
    if not survey.is_open():
        return _unavailable(request, expired=True)
    questions = list(survey.questions.all())
    errors: dict = {}
    values: dict = {}
    if request.method == "POST":
        try:
            services.feedback_rate_check(scope="survey", address=_address(request), target=survey.pk)
        except services.FeedbackRateLimited:
            return render(request, "feedback/too_many.html", {"languages": []}, status=429)
        answers, errors = _survey_answers(request, questions)
        values = answers
        if not errors:
            try:
                services.survey_answer(
                    survey=survey, answers=answers, language=language, honeypot=request.POST.get("website", "")
                )
            except ValidationError as error:
                errors = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
            else:
                form_url = reverse("survey_form", kwargs={"token": token})
                return render(
                    request,
                    "feedback/thanks.html",
                    {"kiosk": False, "languages": [], "again_url": f"{form_url}?{_query(lang=language)}"},
                )
    path = reverse("survey_form", kwargs={"token": token})
    rows = []
    for question in questions:
        value = values.get(question.pk)
        rows.append(
            {
                "question": question,
                "name": f"q{question.pk}",
                "text": question.text.get(language) or question.text.get("fi"),
                "choices": [
                    {
                        "id": choice.pk,
                        "text": choice.text.get(language) or choice.text.get("fi"),
                        "checked": choice.pk == value or (isinstance(value, list) and choice.pk in value),
                    }
                    for choice in question.choices.all()
                ],
                "value": value,
                "errors": errors.get(f"q{question.pk}", []),
            }
        )
    context = {
        "survey": survey,
        "rows": rows,
        "errors": errors.get("__all__", []),
        "has_errors": bool(errors),
        "language": language,
        "languages": _languages(path, False),
        "action": f"{path}?{_query(lang=language)}",
        "scale": range(1, 6),
    }
    return render(request, "feedback/survey_form.html", context, status=400 if errors else 200)


def _survey_answers(request: HttpRequest, questions: list) -> tuple[dict, dict]:
    """The POST's values by question id, as the service takes them; shapes that are no number give an error."""
    answers: dict = {}
    errors: dict = {}
    for question in questions:
        name = f"q{question.pk}"
        raw = request.POST.getlist(name)
        if question.kind == "text":
            answers[question.pk] = (raw[0] if raw else "")[:2000]
            continue
        try:
            numbers = [int(value) for value in raw if value != ""]
        except ValueError:
            errors[name] = [_("Choose one of the options shown.")]
            continue
        if question.kind == "multiple":
            answers[question.pk] = numbers
        elif len(numbers) > 1:
            errors[name] = [_("Choose one option.")]
        else:
            answers[question.pk] = numbers[0] if numbers else None
    return answers, errors
