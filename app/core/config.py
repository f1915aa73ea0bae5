"""Settings read from `CORDON_*` environment variables (and `.env`).

Outside development the settings refuse the defaults that are only safe on a laptop, so a
production deployment cannot start with a known secret or the demo accounts.
"""

from functools import cached_property, lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.proxies import Network, parse_networks

DEV_SECRET = "insecure-development-secret-change-me"


class Settings(BaseSettings):
    """Every tunable of the server, with defaults for the embedded (SQLite) setup."""

    model_config = SettingsConfigDict(env_prefix="CORDON_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./cordon.db"
    # Sized for the concurrent requests of one process: a pool smaller than that opens and
    # closes overflow connections continuously (15-23 % of a post's CPU, docs/benchmarks.md).
    db_pool_size: int = Field(default=20, ge=1, le=1000)
    db_max_overflow: int = Field(default=10, ge=0, le=1000)
    redis_url: str | None = None
    secret_key: str = Field(default=DEV_SECRET, min_length=32, repr=False)
    seed_demo: bool = True

    token_ttl_hours: int = Field(default=12, ge=1, le=24 * 30)
    enrolment_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)
    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    http_header_seconds: float = Field(default=10.0, gt=0)
    http_max_header_bytes: int = Field(default=65_536, ge=1024)
    http_body_idle_seconds: float = Field(default=20.0, gt=0)
    http_body_min_rate: int = Field(default=1024, ge=1)
    http_keep_alive_seconds: int = Field(default=5, ge=1)
    envelope_max_bytes: int = Field(default=262_144, ge=1024)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    address_max_failures: int = Field(default=20, ge=1)
    page_size_max: int = Field(default=500, ge=1)

    message_batch_max: int = Field(default=256, ge=1, le=10_000)
    sync_page_max: int = Field(default=1000, ge=1, le=10_000)
    ws_queue_size: int = Field(default=1024, ge=1)
    ws_send_timeout_seconds: float = Field(default=10.0, gt=0)
    ws_auth_seconds: float = Field(default=10.0, gt=0)
    ws_idle_seconds: float = Field(default=120.0, gt=0)
    ws_ping_seconds: float = Field(default=15.0, gt=0)
    ws_pong_timeout_seconds: float = Field(default=10.0, gt=0)
    ws_close_seconds: float = Field(default=10.0, gt=0)
    realtime_poll_seconds: float = Field(default=5.0, gt=0)
    realtime_degraded_poll_seconds: float = Field(default=0.2, gt=0)

    blob_dir: str | None = None  # None: PostgreSQL stores blobs, SQLite uses ./data/blobs
    library_quota_bytes: int = Field(default=50 * 1024**3, ge=0)
    document_max_bytes: int = Field(default=2 * 1024**3, ge=0)
    upload_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)

    # The built browser client served at `/`; None: clients/web/dist beside the app package.
    web_dist_dir: str | None = None

    allowed_origins: list[str] = Field(default_factory=lambda: ["http://127.0.0.1:8000"])
    # Peers whose X-Forwarded-For is believed (addresses or CIDR networks); none by default.
    trusted_proxies: list[str] = Field(default_factory=list)
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> "Settings":
        """Production must bring its own secret and must not seed demo users."""
        if self.environment != "production":
            return self
        if self.secret_key == DEV_SECRET:
            raise ValueError("CORDON_SECRET_KEY must be set to a random value in production")
        if self.seed_demo:
            raise ValueError("CORDON_SEED_DEMO must be false in production")
        if "*" in self.allowed_origins:
            raise ValueError("CORDON_ALLOWED_ORIGINS must list origins explicitly in production")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, values: list[str]) -> list[str]:
        """Refuse at start-up what is not an address or network."""
        parse_networks(values)
        return values

    @cached_property
    def trusted_networks(self) -> tuple[Network, ...]:
        """`trusted_proxies`, parsed."""
        return parse_networks(self.trusted_proxies)

    @property
    def is_sqlite(self) -> bool:
        """SQLite needs its own pragmas and a single writer."""
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings` instead."""
    return Settings()
