"""Events published by the gateway about accounts (`account.*`).

Each carries the whole account as it now is (event-carried state), so the
notify service keeps its replica of recipients from these events alone.
"""
from marshmallow import fields, validate

from c2p.contracts.events import Data, contract

ROLES = ["coachee", "coach", "champion", "manager", "admin"]


class Preferences(Data):
    channels = fields.List(fields.String(validate=validate.OneOf(
        ["inbox", "email", "sms", "whatsapp"])), load_default=lambda: ["inbox"],
        dump_default=lambda: ["inbox"])
    quiet_hours = fields.Dict(load_default=None, dump_default=None, allow_none=True)  # {"start": "21:00", "end": "07:00"}
    digest = fields.Boolean(load_default=False, dump_default=False)
    timezone = fields.String(load_default="Africa/Bamako", dump_default="Africa/Bamako")


class Assignment(Data):
    """A coach follows a facility (and, through it, its coachees)."""
    facility_id = fields.String(required=True)
    facility_path = fields.String(required=True)


class AccountState(Data):
    account_id = fields.String(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    scope = fields.List(fields.String(), required=True)
    language = fields.String(required=True, validate=validate.OneOf(["fr", "en"]))
    phone = fields.String(load_default=None, dump_default=None, allow_none=True)
    email = fields.String(load_default=None, dump_default=None, allow_none=True)
    cohort = fields.String(load_default=None, dump_default=None, allow_none=True)
    facility_id = fields.String(load_default=None, dump_default=None, allow_none=True)
    coaching = fields.List(fields.Nested(Assignment), load_default=list, dump_default=list)
    preferences = fields.Nested(Preferences, load_default=dict, dump_default=dict)
    active = fields.Boolean(required=True)


@contract("account.created", 1)
class AccountCreated(AccountState):
    pass


@contract("account.updated", 1)
class AccountUpdated(AccountState):
    pass


@contract("account.disabled", 1)
class AccountDisabled(AccountState):
    pass
