"""The portal's languages: Chinese, the language its templates are written in, and
English from a gettext catalog managed with Babel (``locale/en/LC_MESSAGES/messages.po``).

Only the ``.po`` file is kept: it is compiled in memory (``babel.messages.mofile``) the
first time English is asked for. A committed ``.mo`` could drift from the ``.po`` it was
made from, and a build step would be one more thing a fresh clone must remember to run;
compiling a catalog of a few dozen messages takes milliseconds, once per process.
"""

from __future__ import annotations

import functools
import gettext
from datetime import date
from importlib.resources import files
from io import BytesIO
from typing import Final

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment, PackageLoader, StrictUndefined

from ledger.domain.vocabulary import CATEGORY_BY_CODE

#: The language of the templates' own text, and the default.
SOURCE: Final = "zh-CN"
#: Every language the portal speaks: its ``lang`` parameter -> (HTML lang, Babel locale).
LANGUAGES: Final = {SOURCE: ("zh-CN", "zh_Hans_CN"), "en": ("en", "en")}


def language(requested: str | None) -> str:
    """The language a ``?lang=`` asks for; anything but a known one is the default, so a
    mistyped link still shows the board."""
    return requested if requested in LANGUAGES else SOURCE


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` (none for the source language: its text is the msgid)."""
    if lang == SOURCE:
        return gettext.NullTranslations()
    po = files("api.portal") / "locale" / lang / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale=LANGUAGES[lang][1])
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@functools.cache
def environment(lang: str) -> Environment:
    """The templates, rendering in ``lang``; autoescaped, and strict about missing
    values so that a typo in a template fails a test rather than printing nothing."""
    env = Environment(
        loader=PackageLoader("api.portal", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Added by the i18n extension at run time, so unknown to the type checker. Newstyle
    # gettext escapes its %-arguments and fails loudly on a missing one.
    env.install_gettext_translations(  # type: ignore[attr-defined]
        translations(lang), newstyle=True
    )
    return env


def category_name(code: str, lang: str) -> str:
    """A category as the board names it (the domain's own English name in English)."""
    category = CATEGORY_BY_CODE.get(code)
    if category is None:
        return code
    return category.name if lang == SOURCE else category.english


def date_text(iso: str, lang: str) -> str:
    """An ISO date (a posting period's bound) as the language writes dates; the stored
    text when it is not one."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return format_date(day, format="long", locale=LANGUAGES[lang][1])
