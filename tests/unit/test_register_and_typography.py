"""One register of address per language in everything keyport writes to people (the default mails and both
catalogs): Italian formal (Lei), German Sie, French vous, Spanish usted, Dutch u, Swedish du; and French
typography: a no-break space before : ; ! ? and inside « »."""

import glob
import os
import re

import pytest
from babel.messages.pofile import read_po

from chalicelib import mail_words
from chalicelib.fields import LANGUAGES
from chalicelib.local import PROJECT_DIR
from chalicelib.web import catalogs

NO_BREAK = "\u00a0\u202f"
# Words only the other register uses (whole words, any case).
OTHER_REGISTER = {
    "it": {"tu", "ti", "te", "tuo", "tua", "tuoi", "tue", "hai", "puoi", "vuoi", "devi", "accedi", "scegli", "apri"}
    | {"vai", "registrati", "inserisci", "ripeti", "clicca", "chiedi", "riprova", "scrivi", "prova", "torna"},
    "de": {"du", "dich", "dir", "dein", "deine", "deinen", "deinem", "deiner", "deines", "euch", "euer", "eure"},
    "fr": {"tu", "toi", "ton", "ta", "tes", "te"},
    "es": {"tú", "tu", "tus", "ti", "te", "contigo", "puedes", "tienes", "debes", "quieres", "eres", "estás"},
    "nl": {"je", "jij", "jou", "jouw", "jullie", "jezelf"},
    "sv": {"ni", "er", "ert", "era"},
}
# Italian imperatives of the informal register that are also nouns or third persons ("la conferma", "salva"): an
# informal instruction or button only where a line, an element or a message begins with one.
IT_INFORMAL_OPENINGS = ("attiva", "conferma", "accetta", "salva", "crea", "controlla", "usa", "imposta", "annulla")


def prose(text, html=False):
    """The words of a mail part or a message as a reader sees them: template syntax, tags and links taken out."""
    text = re.sub(r"\{\{.*?\}\}", "X", text)  # a value: a word
    text = re.sub(r"\{%.*?%\}", "", text)
    text = re.sub(r"%\([a-z_]+\)s", "X", text)
    text = re.sub(r"\{[^{}]*\}", "X", text)  # code quoted in a message (a JSON example) is no prose
    if html:
        text = re.sub(r"<!DOCTYPE[^>]*>|<[^>]+>", "\n", text)  # an element's text starts a line
    return re.sub(r"https?://\S+", "X", text)


def texts(language):
    """(where, words) of every default mail part and every catalog message of the language."""
    for path in sorted(glob.glob(os.path.join(PROJECT_DIR, "templates", "mail", "*", language + ".*"))):
        with open(path, encoding="utf-8") as source:
            yield os.path.relpath(path, PROJECT_DIR), prose(source.read(), html=path.endswith(".html"))
    for catalog_path in (catalogs.catalog_path(language), mail_words.catalog_path(language)):
        with open(catalog_path, "rb") as source:
            for message in read_po(source, locale=language):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                for string in strings if message.id else ():
                    yield f"{os.path.relpath(catalog_path, PROJECT_DIR)}: {message.id!r}", prose(string)


def informal(language, words):
    found = [word for word in re.findall(r"[^\W\d_]+", words) if word.lower() in OTHER_REGISTER[language]]
    if language == "it":
        for line in words.splitlines():
            first = re.match(r"\W*([^\W\d_]+)", line)
            if first and first.group(1).lower() in IT_INFORMAL_OPENINGS:
                found.append(line.strip())
    return found


@pytest.mark.parametrize("language", sorted(OTHER_REGISTER))
def test_a_language_addresses_its_reader_in_one_register_throughout(language):
    problems = [(where, found) for where, words in texts(language) if (found := informal(language, words))]
    assert problems == []


def test_the_register_check_sees_an_informal_italian_button_and_pronoun():
    assert informal("it", prose('<a href="x">Accedi</a>\n<p>Attiva il tuo dispositivo</p>', html=True)) == [
        "Accedi",
        "tuo",
        "Attiva il tuo dispositivo",
    ]
    assert informal("it", "Il suo account ora usa X. La conferma è arrivata.") == []


def french_typography(words):
    """The places where French wants a no-break space and has none."""
    problems = []
    for match in re.finditer(r"[:;!?]", words):
        before = words[match.start() - 1] if match.start() else ""
        after = words[match.end()] if match.end() < len(words) else ""
        if before.isdigit() and after.isdigit():
            continue  # a time (19:05)
        if not before or before not in NO_BREAK:
            problems.append(words[max(0, match.start() - 15) : match.end()].splitlines()[-1])
    quotes = re.finditer(r"«(.)|(.)»", words)
    return problems + [match.group(0) for match in quotes if (match.group(1) or match.group(2)) not in NO_BREAK]


def test_french_puts_a_no_break_space_before_colons_semicolons_exclamation_and_question_marks():
    problems = [(where, found) for where, words in texts("fr") if (found := french_typography(words))]
    assert problems == []


def test_the_typography_check_sees_a_missing_or_breaking_space_and_passes_links_times_and_styles():
    assert french_typography(prose("Ouvrir le lot: {{ link }}\nBonjour !")) == ["Ouvrir le lot:", "Bonjour !"]
    assert french_typography(prose("«\u00a0lot\u00a0» «lot»")) == ["«l", "t»"]
    link = "https://k.test/a?b=c"
    page = f'<p style="margin:0;color:#fff;">Ouvrir\u00a0: <a href="{link}">{link}</a> à 19:05</p>'
    assert french_typography(prose(page, html=True)) == []
    assert french_typography(prose('Pas une JWK\u00a0: {"kty": "EC", "x": "…"}.')) == []


def test_every_language_but_english_is_checked_for_its_register():
    assert sorted(OTHER_REGISTER) == sorted(set(LANGUAGES) - {"en"})
