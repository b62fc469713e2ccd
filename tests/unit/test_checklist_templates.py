"""Template definitions: the shipped ones are valid; a bad one is refused naming the field."""
import copy

import pytest

from c2p.errors import InvalidInput, flatten_errors
from checklist import store
from checklist.seed import TEMPLATES_DIR, load_template_file

MINI = load_template_file(TEMPLATES_DIR / "pev-mini.json")


@pytest.mark.parametrize("path", sorted(TEMPLATES_DIR.glob("*.json")), ids=lambda p: p.name)
def test_shipped_templates_are_valid(path):
    definition = store.validate_template(load_template_file(path))
    assert definition["thresholds"] == {"green": 80, "amber": 50}
    assert all(item["action"]["delay_days"] >= 0
               for section in definition["sections"] for item in section["items"])


def refused(definition):
    with pytest.raises(InvalidInput) as error:
        store.validate_template(definition)
    return flatten_errors(error.value.errors)


def mutate(change):
    definition = copy.deepcopy(MINI)
    change(definition)
    return definition


def first_item(d):
    return d["sections"][0]["items"][0]


@pytest.mark.parametrize("change, field", [
    (lambda d: d.pop("title_en"), "title_en"),
    (lambda d: d.update(code="PEV Mini"), "code"),
    (lambda d: d.update(thresholds={"green": 50, "amber": 80}), "thresholds.amber"),
    (lambda d: first_item(d).update(type="free_text"), "sections.0.items.0.type"),
    (lambda d: first_item(d).update(points=0), "sections.0.items.0.points"),
    (lambda d: first_item(d).pop("label_fr"), "sections.0.items.0.label_fr"),
    (lambda d: first_item(d)["action"].update(responsible_role="chief"),
     "sections.0.items.0.action.responsible_role"),
    (lambda d: first_item(d)["action"].pop("delay_days"),
     "sections.0.items.0.action.delay_days"),
    (lambda d: first_item(d).update(type="numeric"), "sections.0.items.0.valid_range"),
    (lambda d: first_item(d).update(type="numeric", valid_range=[0, 10], pass_range=[5, 20]),
     "sections.0.items.0.pass_range"),
    (lambda d: first_item(d).update(type="choice", choices=[
        {"value": "a", "label_fr": "a", "label_en": "a", "ratio": 0.5},
        {"value": "b", "label_fr": "b", "label_en": "b", "ratio": 0}]),
     "sections.0.items.0.choices"),
    (lambda d: first_item(d).update(colour="blue"), "sections.0.items.0.colour"),
    (lambda d: d["sections"][1]["items"][0].update(code="cc_in_range"),
     "sections.1.items.0.code"),
    (lambda d: d["sections"].append(copy.deepcopy(d["sections"][0])), "sections"),
])
def test_a_bad_definition_is_refused_naming_the_field(change, field):
    assert field in refused(mutate(change))


def test_defaults_are_filled_in():
    definition = store.validate_template(MINI)
    item = first_item(definition)
    assert (item["required"], item["allow_na"], item["help_fr"]) == (True, True, "")
    assert definition["version"] == 1
