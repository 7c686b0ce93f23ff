from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    # The admin's section heading.
    verbose_name = _("Reports and observations")

    def ready(self) -> None:
        from outreach import rollups as outing_rollups

        from . import rollups

        if rollups.outings_team_changed not in outing_rollups.TEAM_DEPENDENTS:
            outing_rollups.TEAM_DEPENDENTS.append(rollups.outings_team_changed)
