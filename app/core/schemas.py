"""Base classes for request and response models."""

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """Inbound bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadModel(BaseModel):
    """Outbound bodies, built from ORM objects."""

    model_config = ConfigDict(from_attributes=True)
