"""The app refuses to serve with DEBUG off on settings unfit for real users (issue 8, defect 7)."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def refuse_unsafe_settings() -> None:
    """Raise ImproperlyConfigured, naming every problem, when the settings are unfit for production."""
    problems = getattr(settings, "PRODUCTION_PROBLEMS", [])
    if problems:
        raise ImproperlyConfigured("Refusing to start with DEBUG off: " + " ".join(problems))


@checks.register(checks.Tags.security, deploy=True)
def production_settings_check(app_configs, **kwargs):
    return [checks.Error(problem, id="outreach.E001") for problem in getattr(settings, "PRODUCTION_PROBLEMS", [])]
