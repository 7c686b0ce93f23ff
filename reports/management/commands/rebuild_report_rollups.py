"""Recompute the report rollups from the encounters, outings, referrals and client feedback tables."""

import time

from django.core.management.base import BaseCommand

from reports import rollups


class Command(BaseCommand):
    help = (
        "Recompute the report rollups (daily encounter, outing, referral and feedback counts, persons by day, first "
        "encounters) from the raw tables. The services keep them exact; run this after writing rows by other means."
    )

    def handle(self, *args, **options):
        began = time.perf_counter()
        rollups.rebuild_all()
        self.stdout.write(f"Report rollups rebuilt in {time.perf_counter() - began:.1f} s.")
