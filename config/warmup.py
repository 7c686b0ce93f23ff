"""What a new app server process would otherwise do on its first requests, done once before it serves.

gunicorn loads the app in its master and forks the workers from it (`preload_app`,
config/gunicorn.conf.py). Django compiles a template, loads a language's translation
catalogues and builds the URL resolver's tables the first time a request needs them, in
each process: every worker forked afresh — after a start, a restart, or a worker killed
and replaced — paid that on its first requests. `warm()`, run in the master before the
first fork (gunicorn's `when_ready`), does it once (about 0.45 s) and the workers inherit
the result: a worker's first Today page 172 → 128 ms, the next ones about 50 ms
(docs/SCALING.md). The static files' manifest is read here too, and each worker opens its
database connection before its first request (`warm_connection()`): the first page 152–170 →
131–138 ms on a slower machine, where the later ones took 50–75 ms.

It reads files and builds in-memory tables only: it opens no database connection (a
connection made in the master would be shared by every forked worker). Each worker opens its
own before it takes its first request (`warm_connection()`, gunicorn's `post_worker_init`).
"""

import logging
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import DatabaseError, connections
from django.forms.renderers import get_default_renderer
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.template.backends.django import DjangoTemplates
from django.template.utils import get_app_template_dirs
from django.urls import get_resolver, reverse
from django.utils import translation

logger = logging.getLogger(__name__)

# The names that are templates in the template folders (not images or fonts kept beside them).
TEMPLATE_SUFFIXES = (".html", ".txt")
# A static file every page names (its URL is looked up in the manifest).
STATIC_PROBE = "css/app.css"


def warm() -> dict[str, int]:
    """Compile the templates, load each language's catalogues and build the URL tables; what was done."""
    compiled = _compile_templates()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            # Loads the language's catalogues, and builds the URL tables of the language.
            translation.gettext("Save")
            reverse("encounters:today")
    get_resolver().resolve("/")
    # The static files' storage is made on first use; the manifest storage reads its manifest then.
    try:
        staticfiles_storage.url(STATIC_PROBE)
    except ValueError:  # not collected: the pages will say so
        logger.warning("Static files not collected: %s is not in the manifest", STATIC_PROBE)
    # Nothing above touches the database; close anything an import may have opened all the same.
    connections.close_all()
    return {"templates": compiled, "languages": len(settings.LANGUAGES)}


def _compile_templates() -> int:
    """Every template of the project's and the apps' template folders, and the forms' widgets, through the
    engines' cached loaders (Django keeps a compiled template in the loader that found it)."""
    count = 0
    for engine in engines.all():
        if isinstance(engine, DjangoTemplates):
            count += _compile_from(engine, [*engine.engine.dirs, *get_app_template_dirs("templates")])
    renderer = get_default_renderer()
    renderer_engine = getattr(renderer, "engine", None)
    if isinstance(renderer_engine, DjangoTemplates):
        # Its own folder (django/forms/templates): the widgets' templates, found as a form finds them.
        count += _compile_from(renderer_engine, list(renderer_engine.engine.dirs))
    return count


def _compile_from(engine: DjangoTemplates, folders: list) -> int:
    count = 0
    for folder in map(Path, folders):
        for path in sorted(folder.rglob("*")):
            if path.suffix not in TEMPLATE_SUFFIXES or not path.is_file():
                continue
            name = path.relative_to(folder).as_posix()
            try:
                engine.get_template(name)
            except (TemplateSyntaxError, TemplateDoesNotExist, UnicodeDecodeError) as error:
                # A library's template that does not compile on its own is compiled (or fails) when used.
                logger.debug("Not compiled ahead: %s (%s)", name, type(error).__name__)
                continue
            count += 1
    return count


def warm_connection(alias: str = "default") -> int:
    """In a worker, before it serves: open its database connection and plan a read of every table of the
    app, so that PostgreSQL loads the tables' and their indexes' catalogue entries for this connection.
    A worker's first request otherwise paid for both (docs/SCALING.md). The number of tables read; 0 when
    the database does not answer (the worker serves all the same, and connects on its first request)."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    tables = sorted({model._meta.db_table for model in apps.get_models() if model._meta.managed})
    try:
        with connection.cursor() as cursor:
            for table in tables:
                # Planned but not run: a false condition reads no row.
                cursor.execute(f"SELECT * FROM {quote(table)} WHERE 1 = 0")
    except DatabaseError as error:
        logger.warning("The database connection was not warmed up: %s", type(error).__name__)
        connection.close()
        return 0
    return len(tables)
