"""The Finnish and Swedish catalogues are complete, and the compiled .mo files match them.

The .po files are parsed here in plain Python (no gettext tools needed), so the
test runs wherever the suite runs. It fails when:

- an entry of the fi or sv catalogue is untranslated or marked fuzzy (run
  makemessages, translate, remove the fuzzy flag);
- a translation drops or renames a placeholder (%(name)s, {name}, %s, %d);
- the compiled .mo file is older than its .po file: every translated entry is
  looked up through Django's gettext under the language and must give the
  msgstr of the .po (run `manage.py compilemessages`).
"""

import functools
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LANGUAGES = ["fi", "sv"]

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_ESCAPE = re.compile(r"\\(.)")


def _unquote(text: str, where: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{where}: expected a quoted string, got {text!r}")
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), text[1:-1])


class Entry:
    def __init__(self, line: int):
        self.line = line
        self.flags: set[str] = set()
        self.obsolete = False
        self.msgctxt: str | None = None
        self.msgid: str | None = None
        self.msgid_plural: str | None = None
        self.msgstr: str | None = None
        self.msgstr_plural: dict[int, str] = {}

    @property
    def has_msgstr(self) -> bool:
        return self.msgstr is not None or bool(self.msgstr_plural)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    def forms(self) -> list[str]:
        if self.msgid_plural is None:
            return [self.msgstr or ""]
        return [self.msgstr_plural.get(i, "") for i in range(max(self.msgstr_plural, default=-1) + 1)]

    def label(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file: multi-line strings, plurals, contexts; obsolete (#~) entries are marked."""
    entries: list[Entry] = []
    current = None
    field: int | str | None = None  # the keyword that continuation lines ("...") add to

    def flush():
        nonlocal current, field
        if current is not None and (current.msgid is not None or current.obsolete):
            entries.append(current)
        current, field = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        where = f"{path}:{number}"
        if not line:
            flush()
            continue
        starts_entry = line.startswith("#") or line.startswith("msgctxt") or line.startswith("msgid ")
        if current is not None and current.has_msgstr and starts_entry:
            flush()  # no blank line between two entries
        if current is None:
            current = Entry(number)
        if line.startswith("#~"):
            current.obsolete = True
            continue
        if line.startswith("#,"):
            current.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        if line.startswith("#"):
            continue  # translator, extracted, reference and previous-msgid comments
        if line.startswith('"'):
            if field is None:
                raise ValueError(f"{where}: a continuation line without a keyword")
            text = _unquote(line, where)
            if isinstance(field, int):
                current.msgstr_plural[field] += text
            else:
                setattr(current, field, getattr(current, field) + text)
            continue
        keyword, _, rest = line.partition(" ")
        plural_form = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if plural_form:
            field = int(plural_form.group(1))
            current.msgstr_plural[field] = _unquote(rest, where)
        elif keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
            field = keyword
            setattr(current, keyword, _unquote(rest, where))
        else:
            raise ValueError(f"{where}: unknown keyword {keyword!r}")
    flush()
    return entries


@functools.cache
def catalogue(language: str) -> tuple[Entry, ...]:
    path = Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"
    return tuple(entry for entry in parse_po(path) if not entry.obsolete)


def _messages(language: str) -> list[Entry]:
    return [entry for entry in catalogue(language) if not entry.is_header]


_PERCENT = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdif]")
_BRACE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def _placeholders(entry: Entry, text: str) -> list[str]:
    found = []
    if "python-format" in entry.flags:
        found += _PERCENT.findall(text.replace("%%", ""))
    if "python-brace-format" in entry.flags:
        found += _BRACE.findall(text)
    return sorted(found)


def _problems(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems[:50])


def test_the_parser_reads_multi_line_strings_plurals_contexts_and_obsolete_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\n'
        'msgstr ""\n'
        '"Language: fi\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n'
        "\n"
        "#: a.py:1\n"
        "#, fuzzy, python-format\n"
        '#| msgid "Old %(n)s"\n'
        'msgid ""\n'
        '"Two "\n'
        '"lines %(n)s"\n'
        'msgstr "Kaksi \\"riviä\\" %(n)s"\n'
        'msgctxt "month"\n'
        'msgid "May"\n'
        'msgid_plural "Mays"\n'
        'msgstr[0] "toukokuu"\n'
        'msgstr[1] ""\n'
        '"toukokuut"\n'
        "\n"
        '#~ msgid "Gone"\n'
        '#~ msgstr "Poissa"\n',
        encoding="utf-8",
    )
    header, first, second, gone = parse_po(po)
    assert header.is_header
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in (header.msgstr or "")
    assert (first.msgid, first.msgstr, first.fuzzy) == ("Two lines %(n)s", 'Kaksi "riviä" %(n)s', True)
    assert "python-format" in first.flags
    assert (second.msgctxt, second.msgid, second.msgid_plural) == ("month", "May", "Mays")
    assert second.forms() == ["toukokuu", "toukokuut"]
    assert not second.fuzzy
    assert gone.obsolete


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_header_names_the_language_and_its_plural_forms(language):
    headers = [entry for entry in catalogue(language) if entry.is_header]
    assert len(headers) == 1
    header = headers[0]
    assert not header.fuzzy, "a fuzzy header makes msgfmt ignore the plural forms"
    assert f"Language: {language}\n" in (header.msgstr or "")
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in (header.msgstr or "")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(language):
    entries = _messages(language)
    assert len(entries) > 100, "the catalogue looks empty: was it parsed right?"
    problems = []
    for entry in entries:
        if entry.fuzzy:
            problems.append(f"fuzzy: {entry.label()}")
        if entry.msgid_plural is not None and len(entry.forms()) != 2:
            problems.append(f"not 2 plural forms: {entry.label()}")
        if any(not form for form in entry.forms()):
            problems.append(f"untranslated: {entry.label()}")
    assert not problems, (
        f"{language}: translate these in locale/{language}/LC_MESSAGES/django.po and remove the fuzzy "
        f"flags, then run `manage.py compilemessages`. " + _problems(problems)
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language):
    problems = []
    for entry in _messages(language):
        forms = entry.forms()
        if entry.msgid_plural is None:
            ok = _placeholders(entry, forms[0]) == _placeholders(entry, entry.msgid or "")
        else:
            # The singular form may leave the count out ("Every week"); the
            # others use the placeholders of msgid_plural, and none adds one.
            allowed = set(_placeholders(entry, entry.msgid or "") + _placeholders(entry, entry.msgid_plural))
            ok = all(set(_placeholders(entry, form)) <= allowed for form in forms) and all(
                _placeholders(entry, form) == _placeholders(entry, entry.msgid_plural) for form in forms[1:]
            )
        if not ok and all(forms):
            problems.append(f"{entry.label()} -> {forms!r}")
    assert not problems, f"{language}: placeholders differ from the msgid. " + _problems(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_the_po_file(language):
    """Every translated entry comes out of gettext as in the .po: the .mo is not stale."""
    problems = []
    with translation.override(language):
        for entry in _messages(language):
            forms = entry.forms()
            if entry.fuzzy or not all(forms):
                continue  # reported by the test above; msgfmt leaves these out of the .mo
            if entry.msgid_plural is None:
                if entry.msgctxt is None:
                    got = [translation.gettext(entry.msgid or "")]
                else:
                    got = [translation.pgettext(entry.msgctxt, entry.msgid or "")]
            elif entry.msgctxt is None:
                got = [translation.ngettext(entry.msgid or "", entry.msgid_plural, n) for n in (1, 2)]
            else:
                got = [translation.npgettext(entry.msgctxt, entry.msgid or "", entry.msgid_plural, n) for n in (1, 2)]
            if got != forms:
                problems.append(f"{entry.label()}: .mo gives {got!r}, .po has {forms!r}")
    assert not problems, (
        f"{language}: locale/{language}/LC_MESSAGES/django.mo is out of date; run "
        f"`manage.py compilemessages`. " + _problems(problems)
    )
