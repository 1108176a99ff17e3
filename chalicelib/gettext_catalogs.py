"""A gettext catalog (.po) compiled in memory: keyport keeps no .mo binaries in the repository, and the pages and
the mails each read their own domain through this one function."""

import io
from typing import Any


def compile_catalog(path: str, language: str, domain: str) -> Any:
    """The babel Translations of one .po file (babel loads here, with the first page or mail, not at import)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with open(path, "rb") as source:
        catalog = read_po(source, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=domain)
