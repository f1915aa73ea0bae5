"""An organisation is one member administration of the platform."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import CreatedAt, PrimaryKey


class Organisation(Base):
    """A member administration, placed in a WCO region."""

    __tablename__ = "organisation"

    id: Mapped[PrimaryKey]
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    country_code: Mapped[str] = mapped_column(String(2), nullable=False)
    region: Mapped[str] = mapped_column(String(4), nullable=False)
    created_at: Mapped[CreatedAt]
