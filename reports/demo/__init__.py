"""The demo data set of `manage.py seed_demo`: reference data (`reference`),
how generated values are distributed (`distributions`), the generator and
bulk loader (`loader`, whose docstring tells how it works) and the report
rollups it counts on the way (`rollups`)."""

from .loader import (
    BULK_MODELS,
    CHUNK_SIZE,
    DEFAULT_ENCOUNTERS,
    DEFAULT_SEED,
    DEMO_LOGIN_EMAILS,
    DEMO_PASSWORD,
    BulkCreateWriter,
    BulkWriter,
    CopyWriter,
    DemoLogin,
    SeedResult,
    database_has_data,
    seed_demo,
    validate_demo_password,
    writer_for_connection,
)

__all__ = [
    "BULK_MODELS",
    "CHUNK_SIZE",
    "DEFAULT_ENCOUNTERS",
    "DEFAULT_SEED",
    "DEMO_LOGIN_EMAILS",
    "DEMO_PASSWORD",
    "BulkCreateWriter",
    "BulkWriter",
    "CopyWriter",
    "DemoLogin",
    "SeedResult",
    "database_has_data",
    "seed_demo",
    "validate_demo_password",
    "writer_for_connection",
]
