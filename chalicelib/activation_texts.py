"""The words of the activation page (the link an installer's customer gets), in the seven languages of keyport."""
from typing import Dict

ACTIVATION_TEXTS: Dict[str, Dict[str, str]] = {
    "en": {
        "act_title": "Activate your device {serial}",
        "act_intro": "{installer} has installed the device {serial} ({product}) for you. Check your details and "
                     "activate the device.",
        "act_web": "Web address of the device", "act_valid": "This link is valid until {date} (UTC).",
        "act_phone": "Phone (international form, e.g. +4915123456789)", "act_address": "Address",
        "act_password": "Choose the password of your new keyport account.", "act_submit": "Activate device",
        "act_done_title": "Device activated",
        "act_done": "The device {serial} is now registered to you. Log in with {email} to see it.",
        "act_dead": "The activation link has expired, was already used, or the installation was cancelled. "
                    "Ask your installer for a new one.",
        "act_phone_invalid": "Give the phone number in international form, e.g. +4915123456789.",
    },
    "de": {
        "act_title": "Aktivieren Sie Ihr Gerät {serial}",
        "act_intro": "{installer} hat das Gerät {serial} ({product}) für Sie installiert. Prüfen Sie Ihre Angaben "
                     "und aktivieren Sie das Gerät.",
        "act_web": "Webadresse des Geräts", "act_valid": "Dieser Link gilt bis {date} (UTC).",
        "act_phone": "Telefon (international, z. B. +4915123456789)", "act_address": "Adresse",
        "act_password": "Wählen Sie das Passwort Ihres neuen keyport-Kontos.", "act_submit": "Gerät aktivieren",
        "act_done_title": "Gerät aktiviert",
        "act_done": "Das Gerät {serial} ist jetzt auf Sie registriert. Melden Sie sich mit {email} an, um es zu "
                    "sehen.",
        "act_dead": "Der Aktivierungslink ist abgelaufen, wurde bereits verwendet oder die Installation wurde "
                    "storniert. Bitten Sie Ihren Installateur um einen neuen.",
        "act_phone_invalid": "Geben Sie die Telefonnummer international an, z. B. +4915123456789.",
    },
    "es": {
        "act_title": "Active su dispositivo {serial}",
        "act_intro": "{installer} ha instalado para usted el dispositivo {serial} ({product}). Compruebe sus datos "
                     "y active el dispositivo.",
        "act_web": "Dirección web del dispositivo", "act_valid": "Este enlace es válido hasta el {date} (UTC).",
        "act_phone": "Teléfono (formato internacional, p. ej. +34612345678)", "act_address": "Dirección",
        "act_password": "Elija la contraseña de su nueva cuenta de keyport.", "act_submit": "Activar dispositivo",
        "act_done_title": "Dispositivo activado",
        "act_done": "El dispositivo {serial} está ahora registrado a su nombre. Inicie sesión con {email} para verlo.",
        "act_dead": "El enlace de activación ha caducado, ya se utilizó o la instalación se canceló. Pida uno nuevo "
                    "a su instalador.",
        "act_phone_invalid": "Indique el teléfono en formato internacional, p. ej. +34612345678.",
    },
    "fr": {
        "act_title": "Activez votre appareil {serial}",
        "act_intro": "{installer} a installé pour vous l'appareil {serial} ({product}). Vérifiez vos coordonnées et "
                     "activez l'appareil.",
        "act_web": "Adresse web de l'appareil", "act_valid": "Ce lien est valable jusqu'au {date} (UTC).",
        "act_phone": "Téléphone (format international, p. ex. +33612345678)", "act_address": "Adresse",
        "act_password": "Choisissez le mot de passe de votre nouveau compte keyport.",
        "act_submit": "Activer l'appareil", "act_done_title": "Appareil activé",
        "act_done": "L'appareil {serial} est maintenant enregistré à votre nom. Connectez-vous avec {email} pour le "
                    "voir.",
        "act_dead": "Le lien d'activation a expiré, a déjà été utilisé ou l'installation a été annulée. Demandez-en "
                    "un nouveau à votre installateur.",
        "act_phone_invalid": "Indiquez le numéro au format international, p. ex. +33612345678.",
    },
    "it": {
        "act_title": "Attivi il suo dispositivo {serial}",
        "act_intro": "{installer} ha installato per lei il dispositivo {serial} ({product}). Controlli i suoi dati e "
                     "attivi il dispositivo.",
        "act_web": "Indirizzo web del dispositivo", "act_valid": "Questo link è valido fino al {date} (UTC).",
        "act_phone": "Telefono (formato internazionale, ad es. +393123456789)", "act_address": "Indirizzo",
        "act_password": "Scelga la password del suo nuovo account keyport.", "act_submit": "Attiva dispositivo",
        "act_done_title": "Dispositivo attivato",
        "act_done": "Il dispositivo {serial} è ora registrato a suo nome. Acceda con {email} per vederlo.",
        "act_dead": "Il link di attivazione è scaduto, è già stato usato oppure l'installazione è stata annullata. "
                    "Ne chieda uno nuovo al suo installatore.",
        "act_phone_invalid": "Indichi il numero in formato internazionale, ad es. +393123456789.",
    },
    "sv": {
        "act_title": "Aktivera din enhet {serial}",
        "act_intro": "{installer} har installerat enheten {serial} ({product}) åt dig. Kontrollera dina uppgifter "
                     "och aktivera enheten.",
        "act_web": "Enhetens webbadress", "act_valid": "Länken gäller till {date} (UTC).",
        "act_phone": "Telefon (internationellt format, t.ex. +46701234567)", "act_address": "Adress",
        "act_password": "Välj lösenordet till ditt nya keyport-konto.", "act_submit": "Aktivera enheten",
        "act_done_title": "Enheten är aktiverad",
        "act_done": "Enheten {serial} är nu registrerad på dig. Logga in med {email} för att se den.",
        "act_dead": "Aktiveringslänken har gått ut, har redan använts eller så har installationen avbrutits. Be din "
                    "installatör om en ny.",
        "act_phone_invalid": "Ange telefonnumret i internationellt format, t.ex. +46701234567.",
    },
    "nl": {
        "act_title": "Activeer uw apparaat {serial}",
        "act_intro": "{installer} heeft het apparaat {serial} ({product}) voor u geïnstalleerd. Controleer uw "
                     "gegevens en activeer het apparaat.",
        "act_web": "Webadres van het apparaat", "act_valid": "Deze link is geldig tot {date} (UTC).",
        "act_phone": "Telefoon (internationaal, bijv. +31612345678)", "act_address": "Adres",
        "act_password": "Kies het wachtwoord van uw nieuwe keyport-account.", "act_submit": "Apparaat activeren",
        "act_done_title": "Apparaat geactiveerd",
        "act_done": "Het apparaat {serial} staat nu op uw naam. Meld u aan met {email} om het te zien.",
        "act_dead": "De activeringslink is verlopen, al gebruikt, of de installatie is geannuleerd. Vraag uw "
                    "installateur om een nieuwe.",
        "act_phone_invalid": "Geef het telefoonnummer in internationale vorm, bijv. +31612345678.",
    },
}
