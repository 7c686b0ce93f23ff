"""python manage.py export_person PERSON_ID FILE --user EMAIL

A copy of everything recorded about one person (GDPR art. 15), as JSON or
PDF by the file's extension, for the person's own request. The acting user
must be a coordinator who sees the person (or a superuser); the copy is
logged in the person's access log and in the disclosure log.
"""

import json
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from encounters.selectors import get_person_for_user
from encounters.services import person_data_subject_export
from outreach.models import AccessLogEntry, User


class Command(BaseCommand):
    help = "Write a copy of everything about one person to a .json or .pdf file."

    def add_arguments(self, parser):
        parser.add_argument("person", type=int, help="The person's id.")
        parser.add_argument("file", help="The .json or .pdf file to write.")
        parser.add_argument("--user", metavar="EMAIL", required=True, help="The coordinator making the copy.")

    def handle(self, *args, person, file, user, **options):
        path = Path(file)
        if path.suffix.lower() not in (".json", ".pdf"):
            raise CommandError(_("FILE: give a .json or .pdf file."))
        actor = User.objects.filter(email__iexact=user.strip(), is_active=True).first()
        if actor is None:
            raise CommandError(_("No active user with the e-mail address %(email)s.") % {"email": user})
        try:
            record = get_person_for_user(actor, person)
            data = person_data_subject_export(actor=actor, person=record, door=AccessLogEntry.Door.COMMAND)
        except Http404:
            raise CommandError(_("No such person, or not one this user sees.")) from None
        except PermissionDenied:
            raise CommandError(_("Only a coordinator makes a copy of a person's data.")) from None
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        else:
            from weasyprint import HTML

            html = render_to_string(
                "encounters/person_data_print.html",
                {"person": record, "data": data, "produced_at": timezone.localtime()},
            )
            HTML(string=html).write_pdf(path)
        self.stdout.write(_("Wrote the copy of person %(id)s to %(file)s.") % {"id": record.pk, "file": file})
