"""Request and response bodies for login, tokens and TOTP."""

import uuid
from datetime import datetime

from pydantic import Field, model_validator

from app.core.schemas import InputModel, ReadModel
from app.devices.schemas import DeviceCreate
from app.users.schemas import MIN_PASSWORD, UserRead

TotpCode = str


class LoginRequest(InputModel):
    """Log in on an existing device of yours, or register a new one with its public keys."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    totp_code: TotpCode | None = Field(default=None, pattern=r"^\d{6}$")
    device_id: uuid.UUID | None = None
    device: DeviceCreate | None = None

    @model_validator(mode="after")
    def _one_device(self) -> "LoginRequest":
        if (self.device_id is None) == (self.device is None):
            raise ValueError("give exactly one of device_id (existing) or device (new)")
        return self


class TokenRead(ReadModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    device_id: uuid.UUID
    user: UserRead


class TotpSetupRead(ReadModel):
    secret: str
    otpauth_uri: str


class TotpConfirm(InputModel):
    code: TotpCode = Field(pattern=r"^\d{6}$")


class RevokedRead(ReadModel):
    revoked: int


class PasswordChange(InputModel):
    """A new password, proven by the current one (and a TOTP code when TOTP is on)."""

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=MIN_PASSWORD, max_length=1024)
    totp_code: TotpCode | None = Field(default=None, pattern=r"^\d{6}$")
