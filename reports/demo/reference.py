"""The demo's reference data: the area, teams, users, field sites, partners,
networks and the texts the generator draws from."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from networks.models import CommunicationActivity, Network, PartnerOrganisation
from outreach.vocabulary import (
    Gender,
    ReferralStatus,
    Role,
    ServiceKind,
    SiteType,
)
from reports.models import StructuralObservation

# Reference data -----------------------------------------------------------

AREA_NAME = "Pohjois-Savo"
TEAMS = {
    # key: (name, municipality codes)
    "kuopio": ("Kuopio", ("297",)),
    "tuka": ("Tuusniemi–Kaavi", ("857", "204")),
}

# email, full name, role, team keys, superuser
USERS = [
    ("worker@example.org", "Ville Virtanen", Role.WORKER, ("kuopio",), False),
    ("expert@example.org", "Tiina Laitinen", Role.EXPERT, ("kuopio",), False),
    ("coordinator@example.org", "Marja Kuosmanen", Role.COORDINATOR, ("kuopio", "tuka"), False),
    ("admin@example.org", "Antti Savolainen", Role.ADMIN, (), True),
    ("anna.korhonen@example.org", "Anna Korhonen", Role.WORKER, ("kuopio",), False),
    ("mikko.nieminen@example.org", "Mikko Nieminen", Role.WORKER, ("kuopio",), False),
    ("sari.heikkinen@example.org", "Sari Heikkinen", Role.WORKER, ("tuka",), False),
    ("jari.hamalainen@example.org", "Jari Hämäläinen", Role.WORKER, ("tuka",), False),
    ("laura.ryynanen@example.org", "Laura Ryynänen", Role.WORKER, ("tuka",), False),
]


@dataclass(frozen=True)
class SiteSpec:
    key: str
    name: str
    site_type: str
    team: str
    municipality: str
    address: str
    coordinates: tuple[float, float] | None = None
    # (weekday, start, end, every N weeks)
    schedule: tuple[int, datetime.time, datetime.time, int] | None = None
    season: tuple[int, int] | None = None
    # Relative share of the outings; 0: no outings (an office for phone calls
    # and follow-up meetings).
    outing_share: float = 0.0
    # Start times and lengths (hours) for outings off the schedule.
    slots: tuple[tuple[datetime.time, int], ...] = ((datetime.time(10), 2),)
    # Whether outings off the schedule may fall on weekends.
    weekends: bool = False


def _t(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


SITES = [
    SiteSpec(
        "kuo_food_1",
        "Ruoka-apu, Männistön seurakuntakeskus",
        SiteType.FOOD_DISTRIBUTION,
        "kuopio",
        "297",
        "Männistö, Kuopio",
        (62.9049, 27.6930),
        schedule=(1, _t(10), _t(12), 1),
        outing_share=0.16,
    ),
    SiteSpec(
        "kuo_food_2",
        "Ruokajakelu, Petosen palvelutori",
        SiteType.FOOD_DISTRIBUTION,
        "kuopio",
        "297",
        "Petonen, Kuopio",
        (62.8602, 27.6386),
        schedule=(3, _t(12), _t(14), 1),
        outing_share=0.14,
    ),
    SiteSpec(
        "kuo_day_centre",
        "Päiväkeskus Majakka",
        SiteType.DAY_CENTRE,
        "kuopio",
        "297",
        "Keskusta, Kuopio",
        (62.8925, 27.6780),
        schedule=(2, _t(9), _t(12), 1),
        outing_share=0.22,
        slots=((_t(9), 3), (_t(12), 3)),
    ),
    SiteSpec(
        "kuo_street",
        "Kauppatori ja Kauppakadun kävelykatu",
        SiteType.STREET,
        "kuopio",
        "297",
        "Kuopion keskusta",
        (62.8924, 27.6782),
        schedule=(4, _t(18), _t(21), 1),
        season=(4, 9),
        outing_share=0.06,
        slots=((_t(18), 3), (_t(14), 2)),
        weekends=True,
    ),
    SiteSpec(
        "kuo_event",
        "Tapahtumat: Kuopion tori ja Musiikkikeskus",
        SiteType.EVENT,
        "kuopio",
        "297",
        "Kuopion keskusta",
        None,
        outing_share=0.05,
        slots=((_t(11), 4), (_t(16), 3)),
        weekends=True,
    ),
    SiteSpec(
        "kuo_library",
        "Kuopion pääkirjasto",
        SiteType.OTHER,
        "kuopio",
        "297",
        "Maaherrankatu, Kuopio",
        (62.8937, 27.6749),
        outing_share=0.05,
        slots=((_t(13), 2),),
    ),
    SiteSpec("kuo_office", "Etsivän työn toimisto, Kuopio", SiteType.OTHER, "kuopio", "297", "Kuopion keskusta"),
    SiteSpec(
        "tuu_food",
        "Ruoka-apu, Tuusniemen seurakuntatalo",
        SiteType.FOOD_DISTRIBUTION,
        "tuka",
        "857",
        "Tuusniemen kirkonkylä",
        (62.8110, 28.4920),
        schedule=(3, _t(10), _t(12), 2),
        outing_share=0.05,
    ),
    SiteSpec(
        "kaa_food",
        "Ruoka-apu, Kaavin seurakuntatalo",
        SiteType.FOOD_DISTRIBUTION,
        "tuka",
        "204",
        "Kaavin kirkonkylä",
        (62.9760, 28.4800),
        schedule=(2, _t(11), _t(13), 2),
        outing_share=0.05,
    ),
    SiteSpec(
        "kaa_street",
        "Kaavin kirkonkylän raitti",
        SiteType.STREET,
        "tuka",
        "204",
        "Kaavin kirkonkylä",
        None,
        season=(4, 9),
        outing_share=0.025,
        slots=((_t(17), 2), (_t(13), 2)),
        weekends=True,
    ),
    SiteSpec(
        "tuu_event",
        "Tuusniemen markkinat ja kesätapahtumat",
        SiteType.EVENT,
        "tuka",
        "857",
        "Tuusniemen kirkonkylä",
        None,
        outing_share=0.025,
        slots=((_t(10), 4),),
        weekends=True,
    ),
    SiteSpec("tuu_office", "Palvelupiste, Tuusniemi", SiteType.OTHER, "tuka", "857", "Tuusniemen kirkonkylä"),
]
OFFICE_FOR_TEAM = {"kuopio": "kuo_office", "tuka": "tuu_office"}


@dataclass(frozen=True)
class PartnerSpec:
    key: str
    name: str
    kind: str
    services: tuple[str, ...]
    municipalities: tuple[str, ...]
    description: str
    # (name, title)
    contacts: tuple[tuple[str, str], ...]


ALL_MUNICIPALITIES = ("297", "857", "204")
PARTNERS = [
    PartnerSpec(
        "kriisikeskus",
        "Kuopion Kriisikeskus",
        PartnerOrganisation.Kind.NGO,
        (ServiceKind.MENTAL_HEALTH_SUBSTANCE, ServiceKind.THIRD_SECTOR),
        ALL_MUNICIPALITIES,
        "Kriisiapua ja keskusteluapua ilman lähetettä.",
        (("Helena Pitkänen", "kriisityöntekijä"), ("Juha Tolvanen", "toiminnanjohtaja")),
    ),
    PartnerSpec(
        "sininauha",
        "Sininauha",
        PartnerOrganisation.Kind.NGO,
        (ServiceKind.HOUSING, ServiceKind.THIRD_SECTOR, ServiceKind.MENTAL_HEALTH_SUBSTANCE),
        ("297",),
        "Asumisen tukea ja päihdetyötä.",
        (("Petri Räsänen", "asumisohjaaja"), ("Satu Hyvönen", "palveluesihenkilö")),
    ),
    PartnerSpec(
        "seurakunta",
        "Kuopion seurakuntayhtymä, diakoniatyö",
        PartnerOrganisation.Kind.PARISH,
        (ServiceKind.THIRD_SECTOR, ServiceKind.OTHER),
        ("297",),
        "Diakoniatyön vastaanotot ja ruoka-apu.",
        (("Riitta Kärkkäinen", "diakoniatyöntekijä"), ("Markku Savolainen", "diakoni")),
    ),
    PartnerSpec(
        "a_klinikka",
        "A-klinikka, Kuopio",
        PartnerOrganisation.Kind.COUNTY,
        (ServiceKind.MENTAL_HEALTH_SUBSTANCE,),
        ALL_MUNICIPALITIES,
        "Päihdehoidon avopalvelut.",
        (("Jaana Miettinen", "sairaanhoitaja"), ("Kari Huttunen", "sosiaaliterapeutti")),
    ),
    PartnerSpec(
        "aikuissosiaalityo",
        "Pohjois-Savon hyvinvointialue, aikuissosiaalityö",
        PartnerOrganisation.Kind.COUNTY,
        (ServiceKind.ADULT_SOCIAL_WORK, ServiceKind.EMERGENCY_SOCIAL),
        ALL_MUNICIPALITIES,
        "Aikuissosiaalityö ja sosiaalipäivystys.",
        (("Minna Lehtonen", "sosiaalityöntekijä"), ("Tomi Koskinen", "sosiaaliohjaaja")),
    ),
    PartnerSpec(
        "terveysasemat",
        "Pohjois-Savon hyvinvointialue, terveysasemat",
        PartnerOrganisation.Kind.COUNTY,
        (ServiceKind.HEALTH_CENTRE, ServiceKind.MENTAL_HEALTH_SUBSTANCE),
        ALL_MUNICIPALITIES,
        "Terveysasemien vastaanotot ja psykiatriset sairaanhoitajat.",
        (("Päivi Järvinen", "terveydenhoitaja"),),
    ),
    PartnerSpec(
        "asumisneuvonta",
        "Kuopion kaupunki, asumisneuvonta",
        PartnerOrganisation.Kind.MUNICIPAL,
        (ServiceKind.HOUSING,),
        ("297",),
        "Asumisneuvonta vuokranmaksuvaikeuksissa ja asunnon hakemisessa.",
        (("Heidi Mäkinen", "asumisneuvoja"),),
    ),
    PartnerSpec(
        "kela",
        "Kela, Kuopion palvelupiste",
        PartnerOrganisation.Kind.KELA,
        (ServiceKind.KELA,),
        ALL_MUNICIPALITIES,
        "Perustoimeentulotuki, asumistuki ja muut Kelan etuudet.",
        (("Eija Turunen", "palveluneuvoja"),),
    ),
    PartnerSpec(
        "poliisi",
        "Itä-Suomen poliisilaitos, Kuopion pääpoliisiasema",
        PartnerOrganisation.Kind.POLICE,
        (ServiceKind.OTHER,),
        ALL_MUNICIPALITIES,
        "Ennalta estävä toiminta.",
        (("Janne Hämäläinen", "ennalta estävän toiminnan poliisi"),),
    ),
    PartnerSpec(
        "tyollisyys",
        "Kuopion seudun työllisyysalue",
        PartnerOrganisation.Kind.MUNICIPAL,
        (ServiceKind.EMPLOYMENT_SERVICES,),
        ALL_MUNICIPALITIES,
        "Työllisyyspalvelut ja kuntouttava työtoiminta.",
        (("Sami Koskinen", "työvalmentaja"),),
    ),
]

NETWORKS = [
    (
        "Matalan kynnyksen verkosto",
        Network.Kind.LOW_THRESHOLD,
        "Matalan kynnyksen palveluja tuottavien toimijoiden yhteistyö ja tiedonkulku.",
        "Tapaamiset noin kahden kuukauden välein; yhteiset ohjauskäytännöt ja palvelukartta.",
        ("kriisikeskus", "sininauha", "seurakunta", "a_klinikka", "aikuissosiaalityo", "asumisneuvonta", "kela"),
        56,
    ),
    (
        "Katuverkosto",
        Network.Kind.STREET,
        "Kadulla ja julkisissa tiloissa tehtävän työn koordinointi Kuopiossa.",
        "Kesäkauden vuorolistat sovitaan keväällä; havainnoista kerrotaan viikoittain.",
        ("kriisikeskus", "sininauha", "seurakunta", "a_klinikka", "poliisi"),
        42,
    ),
]
MEETING_TOPICS = [
    "Ajankohtaiset kuulumiset ja havainnot kentältä",
    "Talven asunnottomuustilanne ja hätämajoitus",
    "Kesän katutyön vuorot ja yhteiset illat",
    "Ohjauskäytännöt aikuissosiaalityöhön",
    "Palvelukartan päivitys",
    "Kokemusasiantuntijoiden osallistuminen",
    "Uudet päihdeilmiöt ja terveysneuvonta",
]
MEETING_DECISIONS = [
    "Päivitetään yhteinen palvelukartta seuraavaan tapaamiseen mennessä.",
    "Sovittiin yhteisistä jalkautumisvuoroista.",
    "Kootaan havainnot hyvinvointialueen johdolle.",
    "Järjestetään yhteinen koulutusiltapäivä syksyllä.",
    "",
]

CommKind = CommunicationActivity.Kind
# fmt: off
COMMUNICATION = [  # team, kind, title, audience, audience size
    ("kuopio", CommKind.PRESENTATION, "Etsivä työ Pohjois-Savossa: kokemuksia ensimmäisistä kuukausista",
     "Hyvinvointialueen aluehallitus", 25),
    ("kuopio", CommKind.ARTICLE, "Etsivät työntekijät jalkautuvat ruoka-avun jonoihin", "Savon Sanomat", None),
    ("kuopio", CommKind.SOCIAL_MEDIA, "Päiväkeskus Majakassa tavoitat meidät keskiviikkoisin", "Facebook", 900),
    ("kuopio", CommKind.TRAINING, "Kohtaamisen taidot: koulutus seurakuntien vapaaehtoisille", "Vapaaehtoiset", 18),
    ("tuka", CommKind.PRESENTATION, "Etsivän työn mallin esittely kunnanvaltuustolle",
     "Tuusniemen kunnanvaltuusto", 27),
    ("kuopio", CommKind.ARTICLE, "Kokemusasiantuntija mukana jalkautumisessa",
     "Hyvinvointialueen henkilöstölehti", None),
    ("kuopio", CommKind.SOCIAL_MEDIA, "Kesän katutyö alkaa: tapaat meidät perjantai-iltaisin torilla",
     "Facebook ja Instagram", 1800),
    ("kuopio", CommKind.TRAINING, "Päihteiden käytön puheeksiotto etsivässä työssä", "Sosiaalialan opiskelijat", 40),
    ("kuopio", CommKind.PRESENTATION, "Rakenteellisen sosiaalityön havainnot: asunnottomuus Kuopiossa",
     "Kuopion hyvinvointilautakunta", 15),
    ("kuopio", CommKind.OTHER, "Esittelypiste mielenterveysmessuilla", "Messuvieraat", 300),
    ("tuka", CommKind.ARTICLE, "Ruoka-apu ja yksinäisyys: havaintoja kentältä", "Koillis-Savo", None),
    ("kuopio", CommKind.SOCIAL_MEDIA, "Talven ruoka-apupäivät ja etsivien vastaanotto", "Instagram", 650),
]
# fmt: on

Theme = StructuralObservation.Theme
# fmt: off
OBSERVATIONS = [  # theme, site, description
    (Theme.HOUSING, "kuo_street", "Kesän aikana tavattiin useita asunnottomia, jotka yöpyvät ulkona tai tuttavien "
     "luona; tilapäismajoitusta ei ole saatavilla viikonloppuisin."),
    (Theme.SUBSTANCE_USE, "kuo_street", "Uusien synteettisten huumeiden käyttö näkyy nuorten aikuisten keskuudessa; "
     "terveysneuvontapisteen aukioloajat eivät kata iltoja."),
    (Theme.LIVELIHOOD, "kuo_food_1", "Ruoka-avun jonossa on yhä enemmän työssäkäyviä ja eläkeläisiä; "
     "toimeentulotuen hakeminen koetaan vaikeaksi."),
    (Theme.SERVICE_ACCESS, "tuu_food", "Tuusniemellä ei ole matalan kynnyksen mielenterveys- ja päihdevastaanottoa; "
     "matka Kuopioon on ylivoimainen ilman autoa."),
    (Theme.LONELINESS, "kaa_food", "Yksinäisyys ja sosiaalisten kontaktien puute korostuvat ikääntyvillä miehillä."),
    (Theme.MENTAL_HEALTH, "kuo_day_centre", "Monella päiväkeskuksen kävijällä on hoitamattomia mielenterveyden "
     "ongelmia; jonot psykiatriselle sairaanhoitajalle ovat pitkät."),
    (Theme.SAFETY, "kuo_street", "Häiriöt kauppakeskuksen edustalla ovat lisääntyneet iltaisin."),
    (Theme.SERVICE_ACCESS, "kuo_office", "Sähköinen asiointi on este: monella ei ole pankkitunnuksia, joten "
     "hakemukset jäävät tekemättä."),
    (Theme.HOUSING, "kaa_street", "Vuokra-asuntoja olisi tarjolla, mutta vuokravakuuden puuttuminen estää muuton."),
    (Theme.LIVELIHOOD, "tuu_event", "Energian hinnan nousu on ajanut pienituloisia velkakierteeseen."),
    (Theme.OTHER, "kuo_library", "Nuorten aikuisten rahapeliongelmat tulevat puheeksi yhä useammin."),
    (Theme.LONELINESS, "kuo_library", "Kirjastossa päivänsä viettävät kaipaavat juttuseuraa; moni ei tunne "
     "päiväkeskuksen toimintaa."),
]
# fmt: on
REPORTED_TO = [
    "Pohjois-Savon hyvinvointialueen aluehallitus",
    "Kuopion kaupungin hyvinvointilautakunta",
    "Sosiaali- ja terveyspalveluiden johtoryhmä",
    "Tuusniemen ja Kaavin hyvinvointityöryhmä",
]

# fmt: off
FIRST_NAMES = {
    Gender.MALE: ["Jari", "Mika", "Timo", "Petri", "Janne", "Sami", "Markku", "Pekka", "Juha", "Antti", "Matti",
                  "Kari", "Tomi", "Jukka", "Harri", "Marko", "Teemu", "Esa", "Pasi", "Veikko"],
    Gender.FEMALE: ["Anne", "Tiina", "Sari", "Minna", "Päivi", "Marja", "Satu", "Johanna", "Heidi", "Pirjo", "Laura",
                    "Katja", "Tuula", "Riitta", "Hanna", "Jaana", "Leena", "Niina", "Merja", "Eija"],
}
LAST_NAMES = ["Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Hämäläinen", "Heikkinen", "Koskinen", "Järvinen",
              "Lehtonen", "Huttunen", "Savolainen", "Kärkkäinen", "Hyvönen", "Räsänen", "Tolvanen", "Miettinen",
              "Pitkänen", "Ryynänen", "Kuosmanen", "Turunen"]
NICKNAMES = ["Pipo", "Kalastaja", "Reppu", "Tupu", "Muusikko", "Pyöräilijä", "Kettu", "Pappa", "Tatu", "Lintu",
             "Kapteeni", "Karhu", "Hattu", "Tähti"]
# fmt: on
OUTING_OBSERVATIONS = [
    "Paljon uusia kävijöitä, joukossa nuoria aikuisia.",
    "Hiljainen päivä sateen vuoksi.",
    "Useampi kävijä kysyi asumisneuvonnasta.",
    "Jono oli pitkä jo ennen jakelun alkua.",
    "Kävijät toivoivat etsiviä paikalle useammin.",
    "Päihtyneitä kävijöitä tavallista enemmän.",
]
CANCEL_NOTES = ["Peruttu: työntekijä sairastui.", "Peruttu: jakelu ei toteutunut.", "Peruttu: myrskyvaroitus."]
ENCOUNTER_NOTES = [
    "Keskusteltiin asumistilanteesta.",
    "Annettu tietoa ruoka-avusta ja päiväkeskuksesta.",
    "Sovittu uudesta tapaamisesta ensi viikolla.",
    "Ohjattu hakemaan toimeentulotukea.",
    "Huoli jaksamisesta; kerrottu kriisikeskuksen palveluista.",
]
OUTCOME_NOTES = {  # keyed by plain codes, as the generator's statuses are
    ReferralStatus.CONNECTED.value: ["Asiakas pääsi palveluun.", "Ensimmäinen tapaaminen toteutui."],
    ReferralStatus.DECLINED.value: ["Asiakas ei halunnut palvelua tässä vaiheessa."],
    ReferralStatus.NOT_REACHED.value: ["Asiakasta ei tavoitettu sovittuna aikana."],
    ReferralStatus.ENDED.value: ["Asiakkuus päättyi suunnitellusti.", "Palvelu päättyi, asiakas muutti pois."],
}
FEEDBACK_COMMENTS = [
    "Hyvä että kävitte.",
    "Kiitos avusta!",
    "Tulkaa useammin.",
    "Sain tietoa asumisasioista.",
    "Mukavaa kun joku kuuntelee.",
    "Liian vähän aikaa jutella.",
]
