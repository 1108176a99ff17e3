"""The words of the HTML pages that e-mailed links open, in the seven languages of keyport."""
from typing import Any, Dict, List

from chalicelib.activation_texts import ACTIVATION_TEXTS

TEXTS: Dict[str, Dict[str, str]] = {
    "en": {
        "title": "Invitation to {org}", "invited": "You are invited to join {org} on keyport as {roles}.",
        "valid_until": "The invitation is valid until {date} (UTC).", "name": "Your name", "email": "E-mail address",
        "password": "Password", "password_repeat": "Repeat the password",
        "rules": "At least 12 characters with upper- and lower-case letters, a digit and a special character; "
                 "no common password.",
        "submit": "Create my account", "welcome": "Welcome!",
        "done": "Your account at {org} is ready. Log in with {email} and your new password.",
        "dead_title": "This link no longer works",
        "dead": "The invitation was revoked, has expired or was already used. Ask the person who invited you "
                "for a new one.",
        "weak": "This password is too weak. It needs:", "mismatch": "The two passwords differ.",
        "taken": "An account with this e-mail address exists already: log in with it, or reset its password.",
        "invalid": "Please check your entries.",
    },
    "de": {
        "title": "Einladung zu {org}", "invited": "Sie sind eingeladen, {org} bei keyport als {roles} beizutreten.",
        "valid_until": "Die Einladung gilt bis {date} (UTC).", "name": "Ihr Name", "email": "E-Mail-Adresse",
        "password": "Passwort", "password_repeat": "Passwort wiederholen",
        "rules": "Mindestens 12 Zeichen mit Groß- und Kleinbuchstaben, einer Ziffer und einem Sonderzeichen; "
                 "kein gängiges Passwort.",
        "submit": "Konto anlegen", "welcome": "Willkommen!",
        "done": "Ihr Konto bei {org} ist bereit. Melden Sie sich mit {email} und Ihrem neuen Passwort an.",
        "dead_title": "Dieser Link funktioniert nicht mehr",
        "dead": "Die Einladung wurde widerrufen, ist abgelaufen oder wurde bereits verwendet. Bitten Sie die "
                "Person, die Sie eingeladen hat, um eine neue.",
        "weak": "Dieses Passwort ist zu schwach. Es braucht:",
        "mismatch": "Die beiden Passwörter stimmen nicht überein.",
        "taken": "Zu dieser E-Mail-Adresse gibt es bereits ein Konto: Melden Sie sich damit an oder setzen Sie "
                 "das Passwort zurück.",
        "invalid": "Bitte prüfen Sie Ihre Eingaben.",
    },
    "es": {
        "title": "Invitación a {org}", "invited": "Le invitan a unirse a {org} en keyport como {roles}.",
        "valid_until": "La invitación es válida hasta el {date} (UTC).", "name": "Su nombre",
        "email": "Correo electrónico", "password": "Contraseña", "password_repeat": "Repita la contraseña",
        "rules": "Al menos 12 caracteres con mayúsculas y minúsculas, un dígito y un carácter especial; "
                 "ninguna contraseña habitual.",
        "submit": "Crear mi cuenta", "welcome": "¡Bienvenido!",
        "done": "Su cuenta en {org} está lista. Inicie sesión con {email} y su nueva contraseña.",
        "dead_title": "Este enlace ya no funciona",
        "dead": "La invitación fue revocada, ha caducado o ya se utilizó. Pida una nueva a la persona que le invitó.",
        "weak": "Esta contraseña es demasiado débil. Necesita:", "mismatch": "Las dos contraseñas no coinciden.",
        "taken": "Ya existe una cuenta con esta dirección: inicie sesión con ella o restablezca su contraseña.",
        "invalid": "Revise los datos introducidos.",
    },
    "fr": {
        "title": "Invitation à rejoindre {org}",
        "invited": "Vous êtes invité à rejoindre {org} sur keyport en tant que {roles}.",
        "valid_until": "L'invitation est valable jusqu'au {date} (UTC).", "name": "Votre nom",
        "email": "Adresse e-mail", "password": "Mot de passe", "password_repeat": "Répétez le mot de passe",
        "rules": "Au moins 12 caractères avec majuscules et minuscules, un chiffre et un caractère spécial ; "
                 "pas de mot de passe courant.",
        "submit": "Créer mon compte", "welcome": "Bienvenue !",
        "done": "Votre compte chez {org} est prêt. Connectez-vous avec {email} et votre nouveau mot de passe.",
        "dead_title": "Ce lien ne fonctionne plus",
        "dead": "L'invitation a été révoquée, a expiré ou a déjà été utilisée. Demandez-en une nouvelle à la personne "
                "qui vous a invité.",
        "weak": "Ce mot de passe est trop faible. Il lui faut :", "mismatch": "Les deux mots de passe diffèrent.",
        "taken": "Un compte existe déjà pour cette adresse : connectez-vous avec lui ou réinitialisez son mot de "
                 "passe.",
        "invalid": "Veuillez vérifier votre saisie.",
    },
    "it": {
        "title": "Invito a {org}", "invited": "È invitato a unirsi a {org} su keyport come {roles}.",
        "valid_until": "L'invito è valido fino al {date} (UTC).", "name": "Il suo nome", "email": "Indirizzo e-mail",
        "password": "Password", "password_repeat": "Ripeta la password",
        "rules": "Almeno 12 caratteri con lettere maiuscole e minuscole, una cifra e un carattere speciale; "
                 "nessuna password comune.",
        "submit": "Crea il mio account", "welcome": "Benvenuto!",
        "done": "Il suo account presso {org} è pronto. Acceda con {email} e la sua nuova password.",
        "dead_title": "Questo link non funziona più",
        "dead": "L'invito è stato revocato, è scaduto o è già stato usato. Ne chieda uno nuovo a chi l'ha invitata.",
        "weak": "Questa password è troppo debole. Le serve:", "mismatch": "Le due password non coincidono.",
        "taken": "Esiste già un account con questo indirizzo: acceda con quello o reimposti la password.",
        "invalid": "Controlli i dati inseriti.",
    },
    "sv": {
        "title": "Inbjudan till {org}", "invited": "Du är inbjuden till {org} i keyport som {roles}.",
        "valid_until": "Inbjudan gäller till {date} (UTC).", "name": "Ditt namn", "email": "E-postadress",
        "password": "Lösenord", "password_repeat": "Upprepa lösenordet",
        "rules": "Minst 12 tecken med stora och små bokstäver, en siffra och ett specialtecken; "
                 "inget vanligt lösenord.",
        "submit": "Skapa mitt konto", "welcome": "Välkommen!",
        "done": "Ditt konto hos {org} är klart. Logga in med {email} och ditt nya lösenord.",
        "dead_title": "Den här länken fungerar inte längre",
        "dead": "Inbjudan har återkallats, har gått ut eller har redan använts. Be personen som bjöd in dig om en ny.",
        "weak": "Lösenordet är för svagt. Det behöver:", "mismatch": "De två lösenorden skiljer sig åt.",
        "taken": "Det finns redan ett konto med den här adressen: logga in med det eller återställ lösenordet.",
        "invalid": "Kontrollera dina uppgifter.",
    },
    "nl": {
        "title": "Uitnodiging voor {org}", "invited": "U bent uitgenodigd om lid te worden van {org} op keyport als "
                                                     "{roles}.",
        "valid_until": "De uitnodiging is geldig tot {date} (UTC).", "name": "Uw naam", "email": "E-mailadres",
        "password": "Wachtwoord", "password_repeat": "Herhaal het wachtwoord",
        "rules": "Minstens 12 tekens met hoofdletters en kleine letters, een cijfer en een speciaal teken; "
                 "geen veelgebruikt wachtwoord.",
        "submit": "Mijn account aanmaken", "welcome": "Welkom!",
        "done": "Uw account bij {org} is klaar. Meld u aan met {email} en uw nieuwe wachtwoord.",
        "dead_title": "Deze link werkt niet meer",
        "dead": "De uitnodiging is ingetrokken, verlopen of al gebruikt. Vraag de persoon die u uitnodigde om een "
                "nieuwe.",
        "weak": "Dit wachtwoord is te zwak. Het heeft nodig:", "mismatch": "De twee wachtwoorden verschillen.",
        "taken": "Er bestaat al een account met dit adres: meld u daarmee aan of stel het wachtwoord opnieuw in.",
        "invalid": "Controleer uw invoer.",
    },
}

# Pages of the account links (password reset, e-mail confirmation).
_ACCOUNT_LINK_TEXTS: Dict[str, Dict[str, str]] = {'en': {
        'link_dead': 'This link is invalid, has expired or was already used. Ask for a new one.',
        'reset_title': 'Choose a new password',
        'reset_submit': 'Save the new password',
        'reset_done': 'Your password has been changed. All your sessions have ended: log in with the new password.',
        'confirm_title': 'Confirm your new e-mail address',
        'confirm_intro': 'Confirm {email} as the new address of your keyport account.',
        'confirm_submit': 'Confirm the address',
        'confirm_done': 'Done: your account now uses {email}.',
        'confirm_taken': 'This address belongs to another account by now; your address was not changed.'},
 'de': {'link_dead': 'Dieser Link ist ungültig, abgelaufen oder wurde bereits verwendet. Fordern Sie einen neuen an.',
        'reset_title': 'Neues Passwort wählen',
        'reset_submit': 'Neues Passwort speichern',
        'reset_done': 'Ihr Passwort wurde geändert. Alle Sitzungen wurden beendet: Melden Sie sich mit dem neuen '
                      'Passwort an.',
        'confirm_title': 'Neue E-Mail-Adresse bestätigen',
        'confirm_intro': 'Bestätigen Sie {email} als neue Adresse Ihres keyport-Kontos.',
        'confirm_submit': 'Adresse bestätigen',
        'confirm_done': 'Erledigt: Ihr Konto verwendet jetzt {email}.',
        'confirm_taken': 'Diese Adresse gehört inzwischen zu einem anderen Konto; Ihre Adresse wurde nicht '
                         'geändert.'},
 'es': {'link_dead': 'Este enlace no es válido, ha caducado o ya se utilizó. Solicite uno nuevo.',
        'reset_title': 'Elija una nueva contraseña',
        'reset_submit': 'Guardar la nueva contraseña',
        'reset_done': 'Su contraseña ha cambiado. Todas sus sesiones se han cerrado: inicie sesión con la nueva '
                      'contraseña.',
        'confirm_title': 'Confirme su nueva dirección de correo electrónico',
        'confirm_intro': 'Confirme {email} como la nueva dirección de su cuenta de keyport.',
        'confirm_submit': 'Confirmar la dirección',
        'confirm_done': 'Hecho: su cuenta utiliza ahora {email}.',
        'confirm_taken': 'Esta dirección pertenece ya a otra cuenta; su dirección no ha cambiado.'},
 'fr': {'link_dead': "Ce lien n'est pas valide, a expiré ou a déjà été utilisé. Demandez-en un nouveau.",
        'reset_title': 'Choisissez un nouveau mot de passe',
        'reset_submit': 'Enregistrer le nouveau mot de passe',
        'reset_done': 'Votre mot de passe a été modifié. Toutes vos sessions ont pris fin : connectez-vous avec le '
                      'nouveau mot de passe.',
        'confirm_title': 'Confirmez votre nouvelle adresse e-mail',
        'confirm_intro': 'Confirmez {email} comme nouvelle adresse de votre compte keyport.',
        'confirm_submit': "Confirmer l'adresse",
        'confirm_done': "C'est fait : votre compte utilise désormais {email}.",
        'confirm_taken': "Cette adresse appartient désormais à un autre compte ; votre adresse n'a pas été "
                         'modifiée.'},
 'it': {'link_dead': 'Questo link non è valido, è scaduto o è già stato usato. Ne richieda uno nuovo.',
        'reset_title': 'Scelga una nuova password',
        'reset_submit': 'Salva la nuova password',
        'reset_done': 'La sua password è stata cambiata. Tutte le sessioni sono terminate: acceda con la nuova '
                      'password.',
        'confirm_title': 'Confermi il suo nuovo indirizzo e-mail',
        'confirm_intro': 'Confermi {email} come nuovo indirizzo del suo account keyport.',
        'confirm_submit': "Conferma l'indirizzo",
        'confirm_done': 'Fatto: il suo account ora usa {email}.',
        'confirm_taken': 'Questo indirizzo appartiene ormai a un altro account; il suo indirizzo non è cambiato.'},
 'sv': {'link_dead': 'Länken är ogiltig, har gått ut eller har redan använts. Be om en ny.',
        'reset_title': 'Välj ett nytt lösenord',
        'reset_submit': 'Spara det nya lösenordet',
        'reset_done': 'Ditt lösenord har ändrats. Alla dina sessioner har avslutats: logga in med det nya '
                      'lösenordet.',
        'confirm_title': 'Bekräfta din nya e-postadress',
        'confirm_intro': 'Bekräfta {email} som ny adress för ditt keyport-konto.',
        'confirm_submit': 'Bekräfta adressen',
        'confirm_done': 'Klart: ditt konto använder nu {email}.',
        'confirm_taken': 'Adressen tillhör nu ett annat konto; din adress har inte ändrats.'},
 'nl': {'link_dead': 'Deze link is ongeldig, verlopen of al gebruikt. Vraag een nieuwe aan.',
        'reset_title': 'Kies een nieuw wachtwoord',
        'reset_submit': 'Nieuw wachtwoord opslaan',
        'reset_done': 'Uw wachtwoord is gewijzigd. Al uw sessies zijn beëindigd: meld u aan met het nieuwe '
                      'wachtwoord.',
        'confirm_title': 'Bevestig uw nieuwe e-mailadres',
        'confirm_intro': 'Bevestig {email} als het nieuwe adres van uw keyport-account.',
        'confirm_submit': 'Adres bevestigen',
        'confirm_done': 'Klaar: uw account gebruikt nu {email}.',
        'confirm_taken': 'Dit adres hoort inmiddels bij een ander account; uw adres is niet gewijzigd.'}}
for _language, _words in _ACCOUNT_LINK_TEXTS.items():
    TEXTS[_language].update(_words)
_TOO_MANY = {
    "en": "Too many attempts with this link; try again in an hour.",
    "de": "Zu viele Versuche mit diesem Link; versuchen Sie es in einer Stunde erneut.",
    "es": "Demasiados intentos con este enlace; vuelva a intentarlo dentro de una hora.",
    "fr": "Trop de tentatives avec ce lien ; réessayez dans une heure.",
    "it": "Troppi tentativi con questo link; riprovi tra un'ora.",
    "sv": "För många försök med den här länken; försök igen om en timme.",
    "nl": "Te veel pogingen met deze link; probeer het over een uur opnieuw.",
}
for _language, _phrase in _TOO_MANY.items():
    TEXTS[_language]["too_many"] = _phrase
for _language, _words in ACTIVATION_TEXTS.items():
    TEXTS[_language].update(_words)

# The password policy's rules (security.password_problems) in every language.
RULES: Dict[str, Dict[str, str]] = {
    "at least 12 characters": {"de": "mindestens 12 Zeichen", "es": "al menos 12 caracteres",
                               "fr": "au moins 12 caractères", "it": "almeno 12 caratteri", "sv": "minst 12 tecken",
                               "nl": "minstens 12 tekens"},
    "at most 128 characters": {"de": "höchstens 128 Zeichen", "es": "como máximo 128 caracteres",
                               "fr": "au plus 128 caractères", "it": "al massimo 128 caratteri",
                               "sv": "högst 128 tecken", "nl": "hoogstens 128 tekens"},
    "an upper-case letter": {"de": "einen Großbuchstaben", "es": "una letra mayúscula", "fr": "une majuscule",
                             "it": "una lettera maiuscola", "sv": "en stor bokstav", "nl": "een hoofdletter"},
    "a lower-case letter": {"de": "einen Kleinbuchstaben", "es": "una letra minúscula", "fr": "une minuscule",
                            "it": "una lettera minuscola", "sv": "en liten bokstav", "nl": "een kleine letter"},
    "a digit": {"de": "eine Ziffer", "es": "un dígito", "fr": "un chiffre", "it": "una cifra", "sv": "en siffra",
                "nl": "een cijfer"},
    "a special character": {"de": "ein Sonderzeichen", "es": "un carácter especial", "fr": "un caractère spécial",
                            "it": "un carattere speciale", "sv": "ett specialtecken", "nl": "een speciaal teken"},
    "not a common password": {"de": "kein gängiges Passwort", "es": "no ser una contraseña habitual",
                              "fr": "ne pas être un mot de passe courant", "it": "non essere una password comune",
                              "sv": "inte vara ett vanligt lösenord", "nl": "geen veelgebruikt wachtwoord zijn"},
}

ROLE_NAMES: Dict[str, Dict[str, str]] = {
    "OPERATOR": {"en": "operator", "de": "Betreiber", "es": "operador", "fr": "opérateur", "it": "operatore",
                 "sv": "operatör", "nl": "beheerder van het platform"},
    "ORG_ADMIN": {"en": "administrator", "de": "Administrator", "es": "administrador", "fr": "administrateur",
                  "it": "amministratore", "sv": "administratör", "nl": "beheerder"},
    "KEY_MANAGER": {"en": "key manager", "de": "Schlüsselverwalter", "es": "gestor de claves",
                    "fr": "gestionnaire de clés", "it": "gestore delle chiavi", "sv": "nyckelförvaltare",
                    "nl": "sleutelbeheerder"},
    "INSTALLER": {"en": "installer", "de": "Installateur", "es": "instalador", "fr": "installateur",
                  "it": "installatore", "sv": "installatör", "nl": "installateur"},
    "SITE_ADMIN": {"en": "site administrator", "de": "Standortadministrator", "es": "administrador de sede",
                   "fr": "administrateur de site", "it": "amministratore di sede", "sv": "platsadministratör",
                   "nl": "locatiebeheerder"},
    "VIEWER": {"en": "viewer", "de": "Betrachter", "es": "observador", "fr": "observateur", "it": "osservatore",
               "sv": "läsare", "nl": "kijker"},
    "CUSTOMER": {"en": "customer", "de": "Kunde", "es": "cliente", "fr": "client", "it": "cliente", "sv": "kund",
                 "nl": "klant"},
}


def texts(language: str) -> Dict[str, str]:
    """The page words of a language (English for an unknown one)."""
    return TEXTS.get(language, TEXTS["en"])


def rules(problems: List[str], language: str) -> List[str]:
    """The broken password rules in the page's language."""
    return [RULES.get(problem, {}).get(language, problem) for problem in problems]


def role_names(roles: List[str], language: str) -> str:
    """Roles as words of the language, joined."""
    return ", ".join(ROLE_NAMES.get(role, {}).get(language, role) for role in roles)


def pick_language(accept_language: str) -> str:
    """The first language of an Accept-Language header that keyport speaks ("en" otherwise)."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in TEXTS:
            return code
    return "en"


def dead_link_page(accept_language: str) -> Dict[str, Any]:
    """The page of a link that no longer works, in the first language of the reader's browser keyport speaks."""
    language = pick_language(accept_language)
    t = texts(language)
    return {"outcome": "dead", "lang": language, "t": t, "title": t["dead_title"]}
