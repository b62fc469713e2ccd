"""Pieces shared by several event contracts."""
from marshmallow import fields, validate

from c2p.contracts.events import Data


class CorrectiveAction(Data):
    text_fr = fields.String(required=True)
    text_en = fields.String(required=True)
    responsible_role = fields.String(required=True)
    verification_fr = fields.String(load_default="", dump_default="")
    verification_en = fields.String(load_default="", dump_default="")
    delay_days = fields.Integer(required=True, validate=validate.Range(min=0, max=365))


class Gap(Data):
    item_code = fields.String(required=True)
    section_code = fields.String(required=True)
    label_fr = fields.String(required=True)
    label_en = fields.String(required=True)
    answer = fields.Raw(required=True, allow_none=True)
    critical = fields.Boolean(required=True)
    points_lost = fields.Float(required=True)
    action = fields.Nested(CorrectiveAction, required=True)


class SectionScore(Data):
    code = fields.String(required=True)
    title_fr = fields.String(load_default="", dump_default="")
    title_en = fields.String(load_default="", dump_default="")
    points = fields.Float(required=True)
    max_points = fields.Float(required=True)
    percent = fields.Float(required=True, allow_none=True)


class Score(Data):
    percent = fields.Float(required=True, allow_none=True)
    points = fields.Float(required=True)
    max_points = fields.Float(required=True)
    colour = fields.String(required=True, validate=validate.OneOf(["green", "amber", "red", "grey"]))
    flagged = fields.Boolean(required=True)
    sections = fields.List(fields.Nested(SectionScore), required=True)


class Person(Data):
    id = fields.String(required=True)
    role = fields.String(load_default="", dump_default="")
    name = fields.String(load_default="", dump_default="")
    # False: staff named on a visit who have no C2P account; what would be theirs
    # (actions, alerts) goes to the facility's DTC.
    account = fields.Boolean(load_default=True, dump_default=True)
