"""The one catalogue of refusal reasons in French.

Every text a user reads is in French and English. Services refuse in English
(their logs, and what crosses RPC, stay as they are); the gateway answers each
refusal in both languages (`gateway.http.problem`), taking the French from here.

An entry is an (English template, French template) pair. A `{name}` part stands
for a value (an id, a code, a number, a list) carried into the French unchanged.
A reason is matched whole against the English templates; when several match,
the one with the most literal text wins (`Must be greater than or equal to {min}.`
rather than `Must be greater than {min}.`). `tests/unit/test_reasons.py` finds
every reason marshmallow and the project's code can write, and fails on one
without French here.
"""
from __future__ import annotations

import re
from functools import lru_cache

# marshmallow 4's own messages: its fields' `default_error_messages` and the
# validators of `marshmallow.validate`, as they read once formatted.
MARSHMALLOW = (
    ("Missing data for required field.", "Champ obligatoire manquant."),
    ("Field may not be null.", "Ce champ ne peut pas être nul (null)."),
    ("Invalid value.", "Valeur non valide."),
    ("Invalid input.", "Saisie non valide."),
    ("Invalid input type.", "Type de données non valide."),
    ("Invalid type.", "Type non valide."),
    ("Unknown field.", "Champ inconnu."),
    ("Not a valid string.", "Texte non valide."),
    ("Not a valid utf-8 string.", "Texte UTF-8 non valide."),
    ("Not a valid integer.", "Nombre entier non valide."),
    ("Not a valid number.", "Nombre non valide."),
    ("Number too large.", "Nombre trop grand."),
    ("Special numeric values (nan or infinity) are not permitted.",
     "Les valeurs numériques spéciales (nan ou infini) ne sont pas permises."),
    ("Not a valid boolean.", "Booléen non valide (true ou false)."),
    ("Not a valid list.", "Liste non valide."),
    ("Not a valid tuple.", "Tuple non valide."),
    ("Not a valid mapping type.", "Objet non valide (un objet JSON est attendu)."),
    ("Not a valid UUID.", "UUID non valide."),
    ("Not a valid URL.", "URL non valide."),
    ("Not a valid email address.", "Adresse e-mail non valide."),
    ("Not a valid IP address.", "Adresse IP non valide."),
    ("Not a valid IPv4 address.", "Adresse IPv4 non valide."),
    ("Not a valid IPv6 address.", "Adresse IPv6 non valide."),
    ("Not a valid IP interface.", "Interface IP non valide."),
    ("Not a valid IPv4 interface.", "Interface IPv4 non valide."),
    ("Not a valid IPv6 interface.", "Interface IPv6 non valide."),
    ("Not a valid period of time.", "Durée non valide."),
    ("Not a valid datetime.", "Date et heure non valides."),
    ("Not a valid date.", "Date non valide."),
    ("Not a valid time.", "Heure non valide."),
    ("Not a valid {obj_type}.", "{obj_type} non valide."),
    ("Not a valid naive datetime.", "Date et heure non valides : sans fuseau horaire attendu."),
    ("Not a valid aware datetime.", "Date et heure non valides : le fuseau horaire est requis."),
    ("Not a valid naive time.", "Heure non valide : sans fuseau horaire attendu."),
    ("Not a valid aware time.", "Heure non valide : le fuseau horaire est requis."),
    ("Not a valid {awareness} {obj_type}.", "{obj_type} ({awareness}) non valide."),
    ('"{input}" cannot be formatted as a datetime.',
     '"{input}" ne peut pas être écrit comme une date et heure.'),
    ('"{input}" cannot be formatted as a date.', '"{input}" ne peut pas être écrit comme une date.'),
    ('"{input}" cannot be formatted as a time.', '"{input}" ne peut pas être écrit comme une heure.'),
    ('"{input}" cannot be formatted as a {obj_type}.',
     '"{input}" ne peut pas être écrit comme {obj_type}.'),
    ("{input} cannot be formatted as a timedelta.", "{input} ne peut pas être écrit comme une durée."),
    ("Must be one of: {choices}.", "Doit être l'une des valeurs : {choices}."),
    ("Shorter than minimum length {min}.", "Plus court que la longueur minimale de {min}."),
    ("Longer than maximum length {max}.", "Plus long que la longueur maximale de {max}."),
    ("Length must be between {min} and {max}.", "La longueur doit être comprise entre {min} et {max}."),
    ("Length must be {equal}.", "La longueur doit être de {equal}."),
    ("Must be greater than or equal to {min}.", "Doit être supérieur ou égal à {min}."),
    ("Must be greater than {min}.", "Doit être supérieur à {min}."),
    ("Must be less than or equal to {max}.", "Doit être inférieur ou égal à {max}."),
    ("Must be less than {max}.", "Doit être inférieur à {max}."),
    ("Must be greater than or equal to {min} and less than or equal to {max}.",
     "Doit être supérieur ou égal à {min} et inférieur ou égal à {max}."),
    ("Must be greater than or equal to {min} and less than {max}.",
     "Doit être supérieur ou égal à {min} et inférieur à {max}."),
    ("Must be greater than {min} and less than or equal to {max}.",
     "Doit être supérieur à {min} et inférieur ou égal à {max}."),
    ("Must be greater than {min} and less than {max}.",
     "Doit être supérieur à {min} et inférieur à {max}."),
    ("Must be equal to {other}.", "Doit être égal à {other}."),
    ("String does not match expected pattern.", "Le texte ne correspond pas au format attendu."),
    ("One or more of the choices you made was not in: {choices}.",
     "Un ou plusieurs de vos choix ne font pas partie de : {choices}."),
    ("One or more of the choices you made was in: {values}.",
     "Un ou plusieurs de vos choix font partie des valeurs exclues : {values}."),
)

# What the gateway itself answers, and werkzeug's texts for an unknown path or method.
GATEWAY = (
    ("a service did not answer in time", "un service n'a pas répondu à temps"),
    ("an unexpected error occurred", "une erreur inattendue s'est produite"),
    ("too many failed sign-ins; retry in {seconds} s",
     "trop de connexions échouées ; réessayez dans {seconds} s"),
    ("The requested URL was not found on the server. If you entered the URL manually "
     "please check your spelling and try again.",
     "L'URL demandée n'existe pas sur le serveur. Si vous l'avez saisie vous-même, "
     "vérifiez l'orthographe et réessayez."),
    ("The method is not allowed for the requested URL.",
     "La méthode n'est pas permise pour l'URL demandée."),
    ("The browser (or proxy) sent a request that this server could not understand.",
     "Le navigateur (ou le proxy) a envoyé une requête que ce serveur ne comprend pas."),
    ("unknown query parameter (this route takes: {takes})",
     "paramètre de requête inconnu (cette route accepte : {takes})"),
    ("unknown query parameter (this route takes: none)",
     "paramètre de requête inconnu (cette route n'en accepte aucun)"),
    ("given more than once", "donné plus d'une fois"),
    ("must be UTF-8", "doit être encodé en UTF-8"),
    # c2p.safejson.NotJson: where, and why in words (never the parser's English)
    ("not valid JSON at line {line}, column {column}: a value was expected",
     "JSON non valide à la ligne {line}, colonne {column} : une valeur est attendue"),
    ("not valid JSON at line {line}, column {column}: a property name in double quotes was "
     "expected",
     "JSON non valide à la ligne {line}, colonne {column} : un nom de propriété entre "
     "guillemets doubles est attendu"),
    ("not valid JSON at line {line}, column {column}: a comma was expected",
     "JSON non valide à la ligne {line}, colonne {column} : une virgule est attendue"),
    ("not valid JSON at line {line}, column {column}: a colon was expected",
     "JSON non valide à la ligne {line}, colonne {column} : deux-points sont attendus"),
    ("not valid JSON at line {line}, column {column}: a string is not closed",
     "JSON non valide à la ligne {line}, colonne {column} : une chaîne n'est pas fermée"),
    ("not valid JSON at line {line}, column {column}: a control character must be escaped",
     "JSON non valide à la ligne {line}, colonne {column} : un caractère de contrôle doit "
     "être échappé"),
    ("not valid JSON at line {line}, column {column}: a backslash escape is not valid",
     "JSON non valide à la ligne {line}, colonne {column} : un échappement (\\) n'est pas "
     "valide"),
    ("not valid JSON at line {line}, column {column}: a \\u escape is not valid",
     "JSON non valide à la ligne {line}, colonne {column} : un échappement \\u n'est pas "
     "valide"),
    ("not valid JSON at line {line}, column {column}: something follows the JSON value",
     "JSON non valide à la ligne {line}, colonne {column} : quelque chose suit la valeur JSON"),
    ("not valid JSON at line {line}, column {column}: it cannot be read",
     "JSON non valide à la ligne {line}, colonne {column} : illisible"),
    ("not valid JSON: {name} is not a JSON number",
     "JSON non valide : {name} n'est pas un nombre JSON"),
    ("not valid JSON: the integer {value} is larger than 2^53",
     "JSON non valide : l'entier {value} dépasse 2^53"),
    ("not valid JSON: the number {value} is too large",
     "JSON non valide : le nombre {value} est trop grand"),
    ("must be a JSON object", "doit être un objet JSON"),
    ("must not contain the NUL character (U+0000)", "ne doit pas contenir le caractère NUL (U+0000)"),
    ("must be valid Unicode text: it contains a lone surrogate (an escape such as \\ud800 "
     "without its pair)",
     "doit être un texte Unicode valide : il contient un demi-caractère de substitution isolé "
     "(un échappement comme \\ud800 sans sa paire)"),
    ("field name {reason}", "nom de champ : {reason}"),  # the two below say it better
    ("field name must not contain the NUL character (U+0000)",
     "le nom de champ ne doit pas contenir le caractère NUL (U+0000)"),
    ("field name must be valid Unicode text: it contains a lone surrogate (an escape such as "
     "\\ud800 without its pair)",
     "le nom de champ doit être un texte Unicode valide : il contient un demi-caractère de "
     "substitution isolé (un échappement comme \\ud800 sans sa paire)"),
    ("nested more than {depth} levels deep", "imbriqué sur plus de {depth} niveaux"),
    ("{service} did not answer within {seconds} s", "{service} n'a pas répondu en {seconds} s"),
    ("the message broker is unreachable; retry",
     "le courtier de messages est injoignable ; réessayez"),
    ("live updates are reconnecting to the broker; retry",
     "les mises à jour en direct se reconnectent au courtier de messages ; réessayez"),
    ("no file {path}", "aucun fichier {path}"),
    ("the web app is not built: run `npm ci && npm run build` in web/ (./c2pctl up does it)",
     "l'application web n'est pas construite : lancez `npm ci && npm run build` dans web/ "
     "(./c2pctl up le fait)"),
    ("required (or send the body with Transfer-Encoding: chunked)",
     "obligatoire (ou envoyez le corps avec Transfer-Encoding: chunked)"),
    # Sign-in and tokens (401).
    ("unknown username or wrong password", "nom d'utilisateur inconnu ou mot de passe erroné"),
    ("missing bearer token", "jeton Bearer absent"),
    ("account disabled or unknown", "compte désactivé ou inconnu"),
    ("token outdated: sign in again", "jeton périmé : reconnectez-vous"),
    ("invalid token: {problem}", "jeton non valide : {problem}"),
    ("invalid token: Signature has expired", "jeton non valide : la session a expiré, "
                                             "reconnectez-vous"),
    ("invalid token: algorithm not allowed", "jeton non valide : algorithme non autorisé"),
    ("invalid token: not an access token", "jeton non valide : ce n'est pas un jeton d'accès"),
    ("invalid token: signature verification failed",
     "jeton non valide : la vérification de la signature a échoué"),
    ("invalid token: not a well-formed token", "jeton non valide : jeton mal formé"),
    ("unknown role", "rôle inconnu"),
    ("unknown, expired or revoked refresh token",
     "jeton de renouvellement inconnu, expiré ou révoqué"),
    ("refresh token already used: every session of its family is revoked",
     "jeton de renouvellement déjà utilisé : toutes les sessions qui en découlent sont révoquées"),
    ("account disabled", "compte désactivé"),
    # An error's title, its detail when it says nothing more.
    ("Invalid input", "Saisie non valide"),
    ("Unknown query parameter", "Paramètre de requête inconnu"),
    ("Unauthorized", "Non authentifié"),
    ("Forbidden", "Interdit"),
    ("Not found", "Introuvable"),
    ("Conflict", "Conflit"),
    ("Payload too large", "Contenu trop volumineux"),
    ("Unsupported media type", "Type de contenu non pris en charge"),
    ("Too many requests", "Trop de requêtes"),
    ("Service unavailable", "Service indisponible"),
)

# Accounts, people and webhooks (gateway routes, c2p.api.accounts).
ACCOUNTS = (
    ("must be 1-64 letters, digits or . _ : -",
     "doit compter de 1 à 64 lettres, chiffres ou . _ : -"),
    ("must be an org-unit path like /ML/ML-SEG",
     "doit être un chemin d'unité d'organisation comme /ML/ML-SEG"),
    ("must be an international number like +22376000000",
     "doit être un numéro international comme +22376000000"),
    ("required to change the password", "obligatoire pour changer le mot de passe"),
    ("required for a coachee", "obligatoire pour un agent coaché"),
    ("a coachee's scope must be the path of their facility",
     "le périmètre d'un agent coaché doit être le chemin de sa formation sanitaire"),
    ("a coachee follows no facility", "un agent coaché ne suit aucune formation sanitaire"),
    ("facility_path must end with facility_id", "facility_path doit se terminer par facility_id"),
    ("facility lies outside the account's scope",
     "la formation sanitaire est hors du périmètre du compte"),
    ("account id {id} is already used", "l'identifiant de compte {id} est déjà utilisé"),
    ("username {username} is already taken", "le nom d'utilisateur {username} est déjà pris"),
    ("account {id} or username {username} was created meanwhile",
     "le compte {id} ou le nom d'utilisateur {username} a été créé entre-temps"),
    ("an admin cannot take away their own admin role",
     "un administrateur ne peut pas se retirer son propre rôle d'administrateur"),
    ("an admin cannot disable their own account",
     "un administrateur ne peut pas désactiver son propre compte"),
    ("account not found", "compte introuvable"),
    ("account {id} not found", "le compte {id} est introuvable"),
    ("does not match", "ne correspond pas"),
    ("the facility's path is {path}", "le chemin de la formation sanitaire est {path}"),
    ("no such facility in the account's scope",
     "aucune formation sanitaire de ce nom dans le périmètre du compte"),
    ("{id} is an account but not a coachee of facility {facility}",
     "{id} est un compte mais pas un agent coaché de la formation sanitaire {facility}"),
    ("accounts have no cohorts on this server yet",
     "les comptes n'ont pas encore de cohortes sur ce serveur"),
    ("must be a date between 2000 and 2999", "doit être une date entre 2000 et 2999"),
    ("must be text of {low} to {high} characters", "doit être un texte de {low} à {high} caractères"),
    ("must not contain NUL characters", "ne doit pas contenir de caractère NUL"),
    ("must be a UUID generated by the client", "doit être un UUID généré par le client"),
    ("must be a list of 1 to 20 org-unit paths",
     "doit être une liste de 1 à 20 chemins d'unités d'organisation"),
    ("must lie within your own scope", "doit rester dans votre propre périmètre"),
    ("webhook id {id} is already taken", "l'identifiant de webhook {id} est déjà pris"),
    ("webhook {id} exists with other settings", "le webhook {id} existe avec d'autres réglages"),
    ("webhook {id} was created at the same moment; send again to get it",
     "le webhook {id} a été créé au même moment ; renvoyez la demande pour l'obtenir"),
    ("this webhook is disabled", "ce webhook est désactivé"),
    ("webhook {id} not found", "le webhook {id} est introuvable"),
    ("delivery {id} not found", "la livraison {id} est introuvable"),
    ("{pattern} is not an event type or pattern (words separated by dots; * one word, # any)",
     "{pattern} n'est ni un type d'événement ni un motif (mots séparés par des points ; "
     "* un mot, # n'importe combien)"),
    ("{pattern} matches no event type; known types: {types}",
     "{pattern} ne correspond à aucun type d'événement ; types connus : {types}"),
    ("(or leave it out: one is made)", "(ou omettez-le : il en sera créé un)"),
    ("must be a list of 1 to {max} event types or patterns (e.g. plan.*)",
     "doit être une liste de 1 à {max} types d'événements ou motifs (par ex. plan.*)"),
    ("must be an http(s) URL of at most 2000 characters",
     "doit être une URL http(s) de 2000 caractères au plus"),
    ("must be an absolute http:// or https:// URL", "doit être une URL absolue http:// ou https://"),
    ("must not carry a user name or password (the signature authenticates)",
     "ne doit pas contenir de nom d'utilisateur ni de mot de passe (la signature authentifie)"),
    ("unknown event type/version {type} v{version}",
     "type ou version d'événement inconnu : {type} v{version}"),
)

# Visits, templates (grilles), org units and dashboards (checklist, c2p.api.checklists).
CHECKLIST = (
    ("{id} is listed twice", "{id} figure deux fois dans la liste"),
    ("must be snake_case: lower-case letters, digits, '_'",
     "doit être en snake_case : lettres minuscules, chiffres, '_'"),
    ("must be lower-case letters, digits and '-'",
     "doit être en lettres minuscules, chiffres et '-'"),
    ("is required for a numeric item", "est obligatoire pour une question numérique"),
    ("low end above high end", "la borne basse dépasse la borne haute"),
    ("must lie inside valid_range", "doit être compris dans valid_range"),
    ("only numeric items have ranges", "seules les questions numériques ont des plages"),
    ("a choice item needs at least 2 choices", "une question à choix demande au moins 2 choix"),
    ("choice values must be unique", "les valeurs des choix doivent être uniques"),
    ("{na} is reserved for not applicable", "{na} est réservé à « non applicable »"),
    ("one choice must earn full points (ratio 1)",
     "un choix doit donner tous les points (ratio 1)"),
    ("only choice items have choices", "seules les questions à choix ont des choix"),
    ("must not be above green", "ne doit pas être au-dessus de green"),
    ("section code {code} is used twice", "le code de section {code} est utilisé deux fois"),
    ("item code {code} is already used in section {section}",
     "le code de question {code} est déjà utilisé dans la section {section}"),
    ("is in the future: check the phone's date and time",
     "est dans le futur : vérifiez la date et l'heure du téléphone"),
    ("is before {date}", "est antérieur au {date}"),
    ("is answered twice", "a reçu deux réponses"),
    ("item {code} is not in template {template} v{version}",
     "la question {code} n'est pas dans la grille {template} v{version}"),
    ("an answer is required", "une réponse est obligatoire"),
    ("not applicable is not allowed here", "« non applicable » n'est pas permis ici"),
    ("must be one of {choices}, got {value}", "doit être l'une des valeurs {choices}, reçu {value}"),
    ("must be one of {choices}", "doit être l'une des valeurs {choices}"),
    ("must be a number, got {value}", "doit être un nombre, reçu {value}"),
    ("must be a finite number, got {value}", "doit être un nombre fini, reçu {value}"),
    ("must be between {low} and {high}, got {value}",
     "doit être compris entre {low} et {high}, reçu {value}"),
    ("unknown template {code}", "grille {code} inconnue"),
    ("unknown facility {id}", "formation sanitaire {id} inconnue"),
    ("template {code} not found", "la grille {code} est introuvable"),
    ("template {code} version {version} not found",
     "la grille {code} version {version} est introuvable"),
    ("template {code} has no version {version} (published: {published})",
     "la grille {code} n'a pas de version {version} (publiées : {published})"),
    ("template {code} version {version} is already published with other content; "
     "publish version {next} instead",
     "la grille {code} version {version} est déjà publiée avec un autre contenu ; "
     "publiez plutôt la version {next}"),
    ("a template must be a JSON object", "une grille doit être un objet JSON"),
    ("the facility or template changed while storing the visit; send it again",
     "la formation sanitaire ou la grille a changé pendant l'enregistrement de la visite ; "
     "renvoyez-la"),
    ("submission {id} not found", "la visite {id} est introuvable"),
    ("id: submission {id} was already received with other content; a new visit needs a new id",
     "id : la visite {id} a déjà été reçue avec un autre contenu ; une nouvelle visite demande "
     "un nouvel id"),
    ("must be an integer between {low} and {high}", "doit être un entier entre {low} et {high}"),
    ("must be an integer", "doit être un entier"),
    ("must be a string of at most 64 characters", "doit être un texte de 64 caractères au plus"),
    ("must be a boolean", "doit être un booléen (true ou false)"),
    ("must be true or false", "doit être true ou false"),
    ("must be a list of at most 20000 ids", "doit être une liste de 20000 identifiants au plus"),
    ("must be an ISO date (YYYY-MM-DD) or date-time, got {value}",
     "doit être une date ISO (YYYY-MM-DD) ou une date et heure, reçu {value}"),
    ("must not be before since", "ne doit pas être avant since"),
    ("must not be after until", "ne doit pas être après until"),
    ("not with template_code", "pas avec template_code"),
    ("{field}: no {level} {id} in your scope", "{field} : pas de {level} {id} dans votre périmètre"),
    ("area_id: no region or district {id} in your scope",
     "area_id : aucune région ni aucun district {id} dans votre périmètre"),
    ("must be csv or dhis2, got {format}", "doit être csv ou dhis2, reçu {format}"),
    # Org-unit imports (checklist.places, checklist.dhis2_pull).
    ("is required", "est obligatoire"),
    ("required", "obligatoire"),
    ("longer than {n} characters", "plus de {n} caractères"),
    ("{value} is not a valid id (letters, digits, '-', '_', '.'; at most 64)",
     "{value} n'est pas un identifiant valide (lettres, chiffres, '-', '_', '.' ; 64 au plus)"),
    ("the header must name the columns id, parent_id, level, name; missing: {missing}",
     "l'en-tête doit nommer les colonnes id, parent_id, level, name ; manquantes : {missing}"),
    ("unknown column(s): {unknown}; expected among {known}",
     "colonne(s) inconnue(s) : {unknown} ; attendues parmi {known}"),
    ('expected a DHIS2 export with an "organisationUnits" list',
     'un export DHIS2 avec une liste "organisationUnits" est attendu'),
    ("must be an object with an id", "doit être un objet avec un id"),
    ("not an object", "n'est pas un objet"),
    ("DHIS2 level {level} is not one of 1 (country), 2 (region), 3 (district), 4 (facility)",
     "le niveau DHIS2 {level} n'est pas l'un de 1 (pays), 2 (région), 3 (district), "
     "4 (formation sanitaire)"),
    ("unknown field", "champ inconnu"),
    ("must be the DHIS2 id of an org unit (letters and digits)",
     "doit être l'identifiant DHIS2 d'une unité d'organisation (lettres et chiffres)"),
    ("import {id} not found", "l'import {id} est introuvable"),
    ("C2P_DHIS2_URL is not set: no DHIS2 server to import from",
     "C2P_DHIS2_URL n'est pas défini : aucun serveur DHIS2 d'où importer"),
    ("{total} visits in the period, more than the {max} an export holds: "
     "choose a shorter period",
     "{total} visites sur la période, plus que les {max} qu'un export peut contenir : "
     "choisissez une période plus courte"),
)

# Plans and actions (planner, c2p.api.plans).
PLANNER = (
    ("give at least one of {fields}", "renseignez au moins l'un de ces champs : {fields}"),
    ("text_fr or text_en is required", "text_fr ou text_en est obligatoire"),
    ("must not be blank", "ne doit pas être vide"),
    ("the plan is already {status}; it cannot be agreed again",
     "le plan est déjà {status} ; il ne peut pas être validé de nouveau"),
    ("unknown status {status}; expected one of {statuses}",
     "état {status} inconnu ; attendu l'un de {statuses}"),
    ("the action is already {status}", "l'action est déjà {status}"),
    ("the action is {status}; it cannot change any more",
     "l'action est {status} ; elle ne peut plus changer"),
    ("an action cannot go from {current} to {target}; from {current} it can go to {allowed}",
     "une action ne peut pas passer de {current} à {target} ; depuis {current} elle peut passer "
     "à {allowed}"),
    ("the plan is not agreed yet: agree it before starting actions",
     "le plan n'est pas encore validé : validez-le avant de commencer les actions"),
    ("a reason is required to drop an action", "un motif est obligatoire pour abandonner une action"),
    ("the action is {status}; it cannot be changed any more",
     "l'action est {status} ; elle ne peut plus être modifiée"),
    ("must not be before the visit ({date})", "ne doit pas être avant la visite ({date})"),
    ("no plan yet for submission {id}", "pas encore de plan pour la visite {id}"),
    ("action {id} not found in plan {plan}", "l'action {id} est introuvable dans le plan {plan}"),
    ("comment id {id} is already used", "l'identifiant de commentaire {id} est déjà utilisé"),
    ("action id {id} is already used by another plan",
     "l'identifiant d'action {id} est déjà utilisé par un autre plan"),
    ("the plan is completed; actions can no longer be added",
     "le plan est terminé ; on ne peut plus y ajouter d'actions"),
    ("plan {id} not found", "le plan {id} est introuvable"),
    ("give at least one of goal, reality, options, will",
     "renseignez au moins l'un de ces champs : goal, reality, options, will"),
)

# Evidence, HMIS and notifications.
OTHERS = (
    ("must be an org-unit id of at most 64 characters",
     "doit être un identifiant d'unité d'organisation de 64 caractères au plus"),
    ("must be one of {choices} (the file's own bytes are checked too)",
     "doit être l'un de {choices} (le contenu du fichier est vérifié aussi)"),
    ("a comment is required to reject or ask for more",
     "un commentaire est obligatoire pour refuser ou demander un complément"),
    ("only a coach may review evidence", "seul un coach peut donner son avis sur une preuve"),
    ("only the person who uploaded evidence may withdraw it",
     "seule la personne qui a envoyé la preuve peut la retirer"),
    ("the action is {status}: it takes no more evidence",
     "l'action est {status} : elle ne prend plus de preuves"),
    ("larger than the {limit} limit", "dépasse la limite de {limit}"),
    ("action {id} not found", "l'action {id} est introuvable"),
    ("evidence id {id} is already used for another upload",
     "l'identifiant de preuve {id} est déjà utilisé pour un autre envoi"),
    ("evidence {id} was withdrawn: upload under a new id",
     "la preuve {id} a été retirée : envoyez-la sous un nouvel identifiant"),
    ("evidence {id} not found", "la preuve {id} est introuvable"),
    ("evidence {id} was withdrawn", "la preuve {id} a été retirée"),
    ("nothing was uploaded for this evidence yet", "rien n'a encore été envoyé pour cette preuve"),
    ("evidence {id} has no file to download", "la preuve {id} n'a pas de fichier à télécharger"),
    ("evidence {id} has no thumbnail", "la preuve {id} n'a pas de miniature"),
    ("must be original or thumbnail", "doit être original ou thumbnail"),
    ("must be a string", "doit être un texte"),
    ("unknown figure {figure}: one of {figures} or {prefix}<section code>",
     "indicateur {figure} inconnu : l'un de {figures} ou {prefix}<code de section>"),
    ("must be UID or CODE", "doit être UID ou CODE"),
    ("must be a DHIS2 UID (11 letters and digits, a letter first)",
     "doit être un UID DHIS2 (11 lettres et chiffres, une lettre en premier)"),
    ("must be a list", "doit être une liste"),
    ("must be an object", "doit être un objet"),
    ("{figure} is mapped twice", "{figure} est associé deux fois"),
    ("must be a text of 1 to 64 characters", "doit être un texte de 1 à 64 caractères"),
    ("{value} is not a DHIS2 UID (11 letters and digits, a letter first); use id_scheme CODE "
     "for a code",
     "{value} n'est pas un UID DHIS2 (11 lettres et chiffres, une lettre en premier) ; utilisez "
     "id_scheme CODE pour un code"),
    ("must be a monthly DHIS2 period YYYYMM (e.g. 202507), got {value}",
     "doit être une période mensuelle DHIS2 YYYYMM (par ex. 202507), reçu {value}"),
    ("export {id} not found", "l'export {id} est introuvable"),
    ("must be text of at most 200 characters, without NUL",
     "doit être un texte de 200 caractères au plus, sans NUL"),
    ("unknown filter", "filtre inconnu"),
    ("must be a UUID", "doit être un UUID"),
    ("inbox message {id} not found", "le message {id} est introuvable"),
)

CATALOGUE = MARSHMALLOW + GATEWAY + ACCOUNTS + CHECKLIST + PLANNER + OTHERS

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


def _pattern(template: str) -> re.Pattern:
    """Literal parts escaped, each `{name}` a non-greedy group (a name used twice
    must carry the same value both times)."""
    parts, seen, end = [], set(), 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[end:match.start()]))
        name = match.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        end = match.end()
    parts.append(re.escape(template[end:]))
    return re.compile("".join(parts), re.DOTALL)


# Most literal text first: the first template that matches is the most specific.
_COMPILED = sorted(((_pattern(en), fr, len(_PLACEHOLDER.sub("", en))) for en, fr in CATALOGUE),
                   key=lambda entry: -entry[2])


# Values that are words, not ids: an action's or a plan's status and a place's
# level, said in French as the app says them (web/src/i18n/fr.ts), in quotes.
_WORD_PLACEHOLDERS = frozenset({"status", "current", "target", "level"})
_WORDS = {"todo": "« à faire »", "in_progress": "« en cours »",
          "awaiting_review": "« en attente de vérification »", "done": "« réalisée »",
          "dropped": "« abandonnée »", "draft": "« à valider »", "agreed": "« validé »",
          "completed": "« terminé »", "facility": "formation sanitaire",
          "district": "district", "region": "région", "country": "pays"}


def _value_fr(name: str, value: str) -> str:
    if name in _WORD_PLACEHOLDERS:
        return _WORDS.get(value.strip("'\""), value)
    return value


@lru_cache(maxsize=2048)
def french(reason_en: str) -> str | None:
    """The French of an English refusal reason, or None when the catalogue has none."""
    for pattern, fr, _ in _COMPILED:
        match = pattern.fullmatch(reason_en)
        if match:
            values = match.groupdict()
            return _PLACEHOLDER.sub(lambda m: _value_fr(m.group(1), values[m.group(1)]), fr)
    return None
