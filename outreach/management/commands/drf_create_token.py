"""`manage.py drf_create_token EMAIL`: print a new API key for a user."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from outreach.models import User
from outreach.services import api_token_create, api_tokens_revoke_all


class Command(BaseCommand):
    help = "Make an API key for the user with this e-mail address and print it (it is stored only as a digest)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("-r", "--reset", action="store_true", help="Revoke the user's existing keys first.")
        parser.add_argument("--name", default="", help="What the key is for (shown on the user's key page).")

    def handle(self, *args, **options):
        email = options["email"].strip()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with the e-mail address {email}.")
        if not user.is_active:
            raise CommandError("This user is not active.")
        if options["reset"]:
            revoked = api_tokens_revoke_all(actor=None, user=user)
            self.stderr.write(f"Revoked {revoked} existing key(s).")
        try:
            _token, key = api_token_create(actor=None, user=user, name=options["name"] or "drf_create_token")
        except ValidationError as error:
            # The same rules as the token page: e.g. no key for a coordinator
            # or admin before they have set up two-factor sign-in.
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(key)
