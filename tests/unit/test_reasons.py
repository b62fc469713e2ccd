"""Every refusal a user can read has its French (`c2p.reasons`), and the gateway
answers each in both languages (`gateway.http.problem`).

The guard: every message marshmallow can write, and every refusal the project's
code writes (found by reading the code), has an entry in the catalogue; a new
English-only refusal fails here, naming its file and line."""
from __future__ import annotations

import ast
import inspect
import json
import logging
import pathlib
import re

import pytest
from nameko.exceptions import deserialize, serialize
from marshmallow import Schema, ValidationError, fields, validate

from c2p import reasons
from c2p.errors import (Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge,
                        Unacceptable, UnsupportedMediaType)
from c2p.reasons import french
from gateway.http import error_response, problem

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = "X1"  # what a formatted part of a message stands for in the samples


# --- marshmallow's own messages --------------------------------------------------

class _Samples(dict):
    def __missing__(self, key):
        return SAMPLE


def _field_messages():
    """Each field's default messages, formatted as marshmallow formats them."""
    found = {}
    for name, cls in vars(fields).items():
        if not (inspect.isclass(cls) and issubclass(cls, fields.Field)):
            continue
        for klass in cls.__mro__:
            for key, message in getattr(klass, "default_error_messages", {}).items():
                for awareness in ("naive", "aware"):
                    samples = _Samples(obj_type=getattr(cls, "OBJ_TYPE", SAMPLE),
                                       awareness=awareness, choices="a, b")
                    found.setdefault(message.format_map(samples), f"fields.{name}.{key}")
    for key, message in Schema._default_error_messages.items():
        found.setdefault(message, f"Schema.{key}")
    return found


# Each validator of marshmallow.validate, called so that it writes each of its
# messages (every form of Range and Length).
VALIDATOR_CALLS = {
    "URL": [(validate.URL(), "nope")],
    "Email": [(validate.Email(), "nope")],
    "Range": [(validate.Range(min=min_, max=max_, min_inclusive=lo, max_inclusive=hi), value)
              for lo in (True, False) for hi in (True, False)
              for min_, max_, value in ((1, None, 0), (None, 1, 2), (1, 5, 9))],
    "Length": [(validate.Length(min=2), "a"), (validate.Length(max=1), "ab"),
               (validate.Length(min=1, max=2), "abc"), (validate.Length(equal=3), "a")],
    "Equal": [(validate.Equal(1), 2)],
    "Regexp": [(validate.Regexp("a+"), "b")],
    "Predicate": [(validate.Predicate("isdigit"), "a")],
    "NoneOf": [(validate.NoneOf(["a"]), "a")],
    "OneOf": [(validate.OneOf(["a", "b"]), "c")],
    "ContainsOnly": [(validate.ContainsOnly(["a"]), ["b"])],
    "ContainsNoneOf": [(validate.ContainsNoneOf(["a"]), ["a"])],
    "And": [(validate.And(validate.Range(min=5), validate.Equal(1)), 2)],
}


def _validator_messages():
    found = {}
    for name, calls in VALIDATOR_CALLS.items():
        for validator, value in calls:
            with pytest.raises(ValidationError) as refused:
                validator(value)
            messages = refused.value.messages
            for message in messages if isinstance(messages, list) else [messages]:
                found.setdefault(message, f"validate.{name}")
    return found


def test_every_marshmallow_validator_is_called_here():
    classes = {name for name, cls in vars(validate).items()
               if inspect.isclass(cls) and issubclass(cls, validate.Validator)
               and cls is not validate.Validator}
    assert classes <= set(VALIDATOR_CALLS), f"call these too: {classes - set(VALIDATOR_CALLS)}"


@pytest.mark.parametrize("found", [_field_messages, _validator_messages])
def test_every_marshmallow_message_has_french(found):
    messages = found()
    assert len(messages) > 10
    missing = {message: where for message, where in messages.items() if french(message) is None}
    assert not missing, f"no French in c2p/reasons.py for: {missing}"


# --- the refusals the project's code writes --------------------------------------

SCANNED = ("c2p", "services", "gateway")
# Calls whose first argument (Refused: its second) is a refusal a caller reads.
REFUSALS = {"Conflict", "NotFound", "ValidationError", "InvalidInput", "ServiceUnavailable",
            "UnknownParameter", "Unauthorized", "UnreadableFile", "TooDeep",
            "_refused"}  # gateway.routes.session's 401s
# The names modules give the reasons they gather, field by field.
ERROR_NAMES = {"errors", "refused", "problems", "reasons"}
# … and what c2p.safejson.text_problems calls them (found[path] = [reason]).
FOUND = "found"
# How a reason a validator returns starts (other returned strings are not reasons).
REASON_START = ("must ", "is ", "not ", "unknown ", "only ", "give ", "cannot ", "no ")


def _text(node, sample):
    """A string's text: each formatted part as `{code}`, or as SAMPLE when
    `sample`; None when `node` is not a string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        # A template marshmallow formats (error="must be one of {choices}").
        return re.sub(r"\{\w+\}", SAMPLE, node.value) if sample else node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant)
                       else SAMPLE if sample else "{" + ast.unparse(part.value) + "}"
                       for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # "one of " + ", ".join(…)
        parts = [_text(side, sample) for side in (node.left, node.right)]
        if any(part is not None for part in parts):
            return "".join(part if part is not None
                           else SAMPLE if sample else "{" + ast.unparse(side) + "}"
                           for part, side in zip(parts, (node.left, node.right)))
    return None


def _strings(node):
    """(template, sample) of each string in `node`, in lists and dicts too."""
    text = _text(node, False)
    if text is not None:
        yield text, _text(node, True)
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _strings(value)
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        for value in node.elts:
            yield from _strings(value)
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)
    elif isinstance(node, (ast.ListComp, ast.SetComp)):
        yield from _strings(node.elt)
    elif isinstance(node, ast.DictComp):
        yield from _strings(node.value)
    elif isinstance(node, ast.BinOp):  # reasons + ["(or leave it out: one is made)"]
        yield from _strings(node.left)
        yield from _strings(node.right)


def _name(node):
    return node.id if isinstance(node, ast.Name) else \
        node.attr if isinstance(node, ast.Attribute) else None


def _written(node):
    """The refusal texts `node` writes, as (template, sample)."""
    if isinstance(node, ast.Call):
        name = _name(node.func)
        if name == "Refused":
            kind = node.args[0] if node.args else None
            if not (isinstance(kind, ast.Constant) and kind.value == "forbidden"):
                for arg in node.args[1:2]:  # a forbidden one carries its own French
                    yield from _strings(arg)
        elif name in REFUSALS:
            for arg in node.args[:1]:
                yield from _strings(arg)
        elif name == "problem":  # problem(status, title, detail, ...)
            for arg in node.args[2:3]:
                yield from _strings(arg)
        elif name == "ValueError" and node.args:  # a parser's reason (hmis' period)
            yield from ((t, s) for t, s in _strings(node.args[0]) if t.startswith("must "))
        elif isinstance(node.func, ast.Attribute) and (
                (name == "append" and isinstance(node.func.value, ast.Call)
                 and _name(node.func.value.func) == "setdefault")  # errors.setdefault(k, []).append
                or (name in ("update", "append") and _name(node.func.value) in ERROR_NAMES)):
            for arg in node.args:
                yield from _strings(arg)
        for keyword in node.keywords:  # validate.Regexp(…, error=…), error_messages={…}
            if keyword.arg in ("error", "error_messages"):
                yield from _strings(keyword.value)
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Subscript):  # errors["until"] = [...]
                target = target.value
                if _name(target) == FOUND:
                    yield from _strings(node.value)
                    continue
            if isinstance(target, ast.Name) and (target.id in ERROR_NAMES
                                                 or target.id == "error_messages"
                                                 or target.id.endswith("_REASON")):
                yield from _strings(node.value)
    elif isinstance(node, ast.Return) and node.value is not None:  # a validator's reason
        yield from ((t, s) for t, s in _strings(node.value) if t.startswith(REASON_START))


def project_refusals() -> dict:
    """{(template, sample): "file:line"} of every refusal the code writes (tests aside)."""
    found = {}
    for root in SCANNED:
        for path in sorted((ROOT / root).rglob("*.py")):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                for text in _written(node):
                    found.setdefault(text, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


# A 415's reasons, written [English, French] already (gateway.http.check_json_media):
# answered as they are, never looked up.
PAIRED_ALREADY = {"{sent} is not accepted: {accepted_en}", "missing: {accepted_en}",
                  "{sent} n'est pas accepté : {accepted_fr}", "absent : {accepted_fr}"}


def test_the_scan_finds_the_refusals_it_is_meant_to():
    templates = {template for template, _ in project_refusals()}
    assert len(templates) > 150
    for known in ("plan {plan_id} not found", "must be an integer between 1 and 100",
                  "is in the future: check the phone's date and time",
                  "give at least one of {', '.join(sorted(self.fields))}",
                  "must be snake_case: lower-case letters, digits, '_'",
                  "must be a UUID", "must not contain the NUL character (U+0000)",
                  "the action is {current}; it cannot change any more", "given more than once",
                  "must be between {low} and {high}, got {value}",
                  "(or leave it out: one is made)", "account disabled",
                  "facility lies outside the account's scope", "field name {reason}"):
        assert known in templates


def test_every_refusal_the_code_writes_has_french():
    missing = [f"{where}: {template!r} (as {sample!r})"
               for (template, sample), where in sorted(project_refusals().items(),
                                                       key=lambda kv: kv[1])
               if template not in PAIRED_ALREADY and french(sample) is None]
    assert not missing, "no French in c2p/reasons.py for:\n" + "\n".join(missing)


# --- the catalogue -----------------------------------------------------------------

def test_each_entry_carries_its_values_into_the_french():
    english = [en for en, _ in reasons.CATALOGUE]
    assert len(english) == len(set(english)), "an English template is listed twice"
    for en, fr in reasons.CATALOGUE:
        assert reasons.placeholders(en) == reasons.placeholders(fr), en
        assert fr != en, en


@pytest.mark.parametrize("english, expected", [
    ("plan 42 not found", "le plan 42 est introuvable"),
    ("Missing data for required field.", "Champ obligatoire manquant."),
    ("must be an integer between 1 and 100", "doit être un entier entre 1 et 100"),
    ("unknown template cpn_v2", "grille cpn_v2 inconnue"),
    ("the action is done; it cannot change any more", "l'action est « réalisée » ; elle ne peut plus changer"),
    # The most literal template wins: not "Must be greater than {min}."
    ("Must be greater than or equal to 1 and less than 5.",
     "Doit être supérieur ou égal à 1 et inférieur à 5."),
    ("Must be one of: a, b.", "Doit être l'une des valeurs : a, b."),
    ("must be one of yes, no, got 'maybe'", "doit être l'une des valeurs yes, no, reçu 'maybe'"),
    ("an action cannot go from todo to done; from todo it can go to in_progress, dropped",
     "une action ne peut pas passer de « à faire » à « réalisée » ; depuis « à faire » elle peut passer à "
     "in_progress, dropped"),
])
def test_exact_translations(english, expected):
    assert french(english) == expected


def test_a_reason_matches_whole_or_not_at_all():
    assert french("plan 42 not found, and more") is None
    assert french("the plan 42 not found") is None
    assert french("an action cannot go from todo to done; from doing it can go to x") is None


# --- the answers -----------------------------------------------------------------

def _body(response):
    return json.loads(response.get_data())


def test_an_invalid_input_answers_each_reason_in_both_languages():
    body = _body(error_response(InvalidInput({
        "answers": {"3": {"value": ["Not a valid integer.", "must be between 0 and 10, got 12"]}},
        "top": ["must be an integer between 1 and 100"]})))
    assert body["status"] == 422
    assert body["errors"] == [
        {"field": "answers.3.value",
         "reason": "Not a valid integer; must be between 0 and 10, got 12",
         "reason_en": "Not a valid integer; must be between 0 and 10, got 12",
         "reason_fr": "Nombre entier non valide ; doit être compris entre 0 et 10, reçu 12"},
        {"field": "top", "reason": "must be an integer between 1 and 100",
         "reason_en": "must be an integer between 1 and 100",
         "reason_fr": "doit être un entier entre 1 et 100"}]
    # Each field's reasons in one language; no ".;" where a reason ended with a stop.
    assert body["detail"] == ("answers.3.value: Not a valid integer; must be between 0 and 10, "
                              "got 12; top: must be an integer between 1 and 100")
    assert body["detail_fr"] == ("answers.3.value : Nombre entier non valide ; doit être compris "
                                 "entre 0 et 10, reçu 12 ; top : doit être un entier entre 1 et "
                                 "100")


@pytest.mark.parametrize("error, field, en, fr", [
    (Forbidden("role", "the role coachee cannot add actions",
               "le rôle coachee ne permet pas d'ajouter des actions"),
     "role", "the role coachee cannot add actions",
     "le rôle coachee ne permet pas d'ajouter des actions"),
    (PayloadTooLarge("body", "2 MB"), "body", "larger than the 2 MB limit",
     "dépasse la limite de 2 MB"),
    (UnsupportedMediaType({"Content-Type": ["missing: send JSON", "absent : envoyez du JSON"]}),
     "Content-Type", "missing: send JSON", "absent : envoyez du JSON"),
    # as the gateway receives it from the evidence service: rebuilt from RPC
    (deserialize(serialize(Unacceptable(
        "file", "the PDF cannot be read (damaged, or not really a PDF)",
        "le PDF est illisible (endommagé, ou pas vraiment un PDF)"))),
     "file", "the PDF cannot be read (damaged, or not really a PDF)",
     "le PDF est illisible (endommagé, ou pas vraiment un PDF)"),
])
def test_a_refusal_written_in_both_languages_is_taken_as_it_is(error, field, en, fr):
    body = _body(error_response(error))
    assert body["errors"] == [{"field": field, "reason": f"{en}; {fr}",
                               "reason_en": en, "reason_fr": fr}]
    # The detail in one language each: a 415's English detail had its French too.
    assert body["detail"] == f"{field}: {en}"
    assert body["detail_fr"] == f"{field} : {fr}"


@pytest.mark.parametrize("error, status, detail_fr", [
    (Conflict("the plan is completed; actions can no longer be added"), 409,
     "le plan est terminé ; on ne peut plus y ajouter d'actions"),
    (NotFound("plan 7f3a not found"), 404, "le plan 7f3a est introuvable"),
])
def test_a_conflict_or_not_found_says_its_detail_in_french(error, status, detail_fr):
    body = _body(error_response(error))
    assert body["status"] == status and body["detail"] == str(error)
    assert body["detail_fr"] == detail_fr and "errors" not in body


def test_a_reason_without_french_answers_the_english_and_warns(caplog, monkeypatch):
    # Another test's logging set-up may have turned the module's logger off.
    monkeypatch.setattr(logging.getLogger("gateway.http"), "disabled", False)
    with caplog.at_level(logging.WARNING, logger="gateway.http"):
        body = _body(problem(409, "Conflict", "something nobody wrote down"))
    assert body["detail_fr"] == "something nobody wrote down"
    assert "something nobody wrote down" in caplog.text


@pytest.mark.parametrize("text", [
    '{"a": }', '{a: 1}', '{"a" 1}', '{"a": 1 "b": 2}', '{"a": "x', '{"a": "\\q"}',
    '{"a": "\\u12"}', '{} x', '{"a": NaN}', '{"a": Infinity}', '{"a": 1e999}',
    '{"a": 99999999999999999999}', '{"a": "\x01"}', '', '[1,]', '{"a": 1,}'])
def test_json_that_cannot_be_read_is_refused_saying_where_and_why_in_both_languages(text):
    from c2p import safejson
    with pytest.raises(safejson.NotJson) as refused:
        safejson.loads(text)
    reason = str(refused.value)
    assert french(reason) is not None, reason  # never the parser's English in reason_fr


def test_every_parser_message_has_its_words_and_their_french():
    from c2p import safejson
    for why in [*safejson.PARSER_REASONS.values(), "it cannot be read"]:
        assert french(f"not valid JSON at line 3, column 14: {why}").startswith(
            "JSON non valide à la ligne 3, colonne 14 : ")
