"""Signing in and out: credentials, refresh tokens, the token pair answered."""
from __future__ import annotations

from marshmallow import fields, validate

from c2p.api.core import Strict, View


class SignIn(Strict):
    username = fields.String(required=True, validate=validate.Length(min=1, max=120))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    device_token = fields.String(validate=validate.Length(max=2000), metadata={
        "description": "the `device_token` of this user's last sign-in on this device: "
                       "failed guesses elsewhere then never lock this device out"})


class RefreshRequest(Strict):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class SessionTokens(View):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})
    refresh_token = fields.String(required=True)
    refresh_expires_in = fields.Integer(required=True, metadata={"description": "seconds"})
    device_token = fields.String(metadata={
        "description": "sign-in only: keep it on the device and send it with the next "
                       "sign-in (see `device_token` of the request)"})
