"""The 19 municipalities of Pohjois-Savo, with Statistics Finland codes.

Outreach started in Kuopio, Tuusniemi and Kaavi; admins switch others on as
the work spreads.
"""

from django.db import migrations

MUNICIPALITIES = [
    ("140", "Iisalmi", "Idensalmi"),
    ("171", "Joroinen", "Jorois"),
    ("204", "Kaavi", "Kaavi"),
    ("239", "Keitele", "Keitele"),
    ("263", "Kiuruvesi", "Kiuruvesi"),
    ("297", "Kuopio", "Kuopio"),
    ("402", "Lapinlahti", "Lapinlahti"),
    ("420", "Leppävirta", "Leppävirta"),
    ("595", "Pielavesi", "Pielavesi"),
    ("686", "Rautalampi", "Rautalampi"),
    ("687", "Rautavaara", "Rautavaara"),
    ("749", "Siilinjärvi", "Siilinjärvi"),
    ("762", "Sonkajärvi", "Sonkajärvi"),
    ("778", "Suonenjoki", "Suonenjoki"),
    ("844", "Tervo", "Tervo"),
    ("857", "Tuusniemi", "Tuusniemi"),
    ("915", "Varkaus", "Varkaus"),
    ("921", "Vesanto", "Vesanto"),
    ("925", "Vieremä", "Vieremä"),
]
FIRST_ACTIVE = {"297", "857", "204"}


def load(apps, schema_editor):
    Municipality = apps.get_model("outreach", "Municipality")
    for code, name_fi, name_sv in MUNICIPALITIES:
        Municipality.objects.update_or_create(
            code=code,
            defaults={"name_fi": name_fi, "name_sv": name_sv, "outreach_active": code in FIRST_ACTIVE},
        )


def unload(apps, schema_editor):
    Municipality = apps.get_model("outreach", "Municipality")
    Municipality.objects.filter(code__in=[code for code, _, _ in MUNICIPALITIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("outreach", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
