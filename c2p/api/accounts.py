"""Accounts: what admins send to create and change them, what one sends to change
one's own, and the account as the API shows it (never its password)."""
from __future__ import annotations

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from c2p.api.core import Strict, Timestamp, View
from c2p.api.pages import PageQuery
from c2p.contracts.accounts import ROLES, Preferences

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
PATH_PATTERN = r"^(/[A-Za-z0-9][A-Za-z0-9._-]{0,63}){1,8}$"
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,119}$"
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"  # E.164, as SMS gateways want it
_id = validate.Regexp(ID_PATTERN, error="must be 1-64 letters, digits or . _ : -")
_path = validate.Regexp(PATH_PATTERN, error="must be an org-unit path like /ML/ML-SEG")

class CoachingAssignment(Strict):
    """A facility a coach follows (its coachees follow from their facility)."""
    facility_id = fields.String(required=True, validate=_id)
    facility_path = fields.String(validate=_path, metadata={
        "description": "filled in from the org units when left out"})


class AccountFields(Strict):
    display_name = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.String(validate=validate.OneOf(ROLES))
    scope = fields.List(fields.String(validate=_path), validate=validate.Length(min=1, max=20))
    language = fields.String(validate=validate.OneOf(["fr", "en"]))
    phone = fields.String(allow_none=True, validate=validate.Regexp(
        PHONE_PATTERN, error="must be an international number like +22376000000"))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    cohort = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    facility_id = fields.String(allow_none=True, validate=_id)
    coaching = fields.List(fields.Nested(CoachingAssignment), validate=validate.Length(max=500))
    preferences = fields.Nested(Preferences)
    password = fields.String(load_only=True, validate=validate.Length(min=10, max=200))


class AccountCreate(AccountFields):
    id = fields.String(validate=_id, metadata={
        "description": "client-generated id; a retried create returns the original"})
    username = fields.String(required=True, validate=validate.Regexp(USERNAME_PATTERN))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=10, max=200))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    scope = fields.List(fields.String(validate=_path), required=True,
                        validate=validate.Length(min=1, max=20))

    @post_load
    def normalise(self, data, **kwargs):
        data["username"] = data["username"].lower()
        return data


class AccountUpdate(AccountFields):
    """Any subset of the fields; `scope`, `role`, `facility_id` or `coaching`
    re-scope the account (its tokens are revoked)."""


class MeUpdate(Strict):
    display_name = fields.String(validate=validate.Length(min=1, max=200))
    language = fields.String(validate=validate.OneOf(["fr", "en"]))
    phone = AccountFields._declared_fields["phone"]
    email = AccountFields._declared_fields["email"]
    preferences = fields.Nested(Preferences)
    password = fields.String(load_only=True, validate=validate.Length(min=10, max=200))
    current_password = fields.String(load_only=True, validate=validate.Length(max=200))

    @validates_schema
    def current_password_with_password(self, data, **kwargs):
        if "password" in data and not data.get("current_password"):
            raise ValidationError("required to change the password", "current_password")


class AccountView(View):
    id = fields.String(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    scope = fields.List(fields.String(), required=True)
    language = fields.String(required=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    cohort = fields.String(allow_none=True)
    facility_id = fields.String(allow_none=True)
    coaching = fields.List(fields.Nested(CoachingAssignment), required=True)
    preferences = fields.Nested(Preferences, required=True)
    active = fields.Boolean(required=True)
    created_at = Timestamp(required=True)
    updated_at = Timestamp(required=True)


class AccountQuery(PageQuery):
    """`GET /accounts`."""
    role = fields.String(validate=validate.OneOf(ROLES))
    cohort = fields.String(validate=validate.Length(max=64))
    facility_id = fields.String(validate=validate.Length(max=64))
    active = fields.Boolean()
    q = fields.String(validate=validate.Length(max=120),
                      metadata={"description": "part of a username or display name"})


class CoacheesQuery(PageQuery):
    """`GET /me/coachees`."""
