"""Settings for one Headway process, from ``HEADWAY_*`` environment variables.

One frozen object per process, passed down; nothing reads the environment elsewhere.
Outside development, placeholder or missing secrets are refused at start.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal, Self

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDERS = {"changeme", "secret", "password", "admin", "headway"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEADWAY_", frozen=True, extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    instance: str = ""  # names this process to the brokers; default host-pid

    # The stack profile's services (scripts/stack starts them on these ports).
    kafka_bootstrap: str = "127.0.0.1:59092"
    kafka_topic_prefix: str = ""
    redis_url: str = "redis://127.0.0.1:56379/0"
    redis_prefix: str = "hw:"
    database_url: str = "postgresql://headway:headway@127.0.0.1:55432/headway"
    stack_mqtt_port: int = 51883
    mqtt_username: str = ""
    mqtt_password: SecretStr = SecretStr("")
    bridge_manufacturer: str = "+"  # the stack bridge's topic filter: "+" (all) or one name

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 0  # 0: the embedded broker picks a free port

    jwt_secret: SecretStr = SecretStr("")
    jwt_ttl_s: int = 3600
    admin_user: str = "admin"
    admin_password: SecretStr = SecretStr("")

    # The commander (`headway run commander`, docs/commands.md): the first wait for an
    # acknowledgement; how long a silent commander's work waits before another takes it
    # over; how long a vehicle may be silent (and offline) before its acknowledged
    # commands fail.
    commander_ack_timeout_s: float = 1.5
    commander_reclaim_idle_s: float = 30.0
    command_silent_after_s: float = 300.0

    city_seed: int = 7
    network_file: str | None = None  # .npz from `headway network import`, or an OSM file
    offline_after_s: float = 10.0
    live_tick_s: float = 0.5
    max_payload_bytes: int = 64 * 1024
    web_dir: Path | None = None

    @model_validator(mode="after")
    def _secrets(self) -> Self:
        if self.environment == "production":
            for name, least in (("jwt_secret", 32), ("admin_password", 12)):
                value: SecretStr = getattr(self, name)
                text = value.get_secret_value()
                if len(text) < least or text.lower() in _PLACEHOLDERS:
                    raise ValueError(
                        f"HEADWAY_{name.upper()} must be set to a real secret of {least}+ "
                        "characters in production"
                    )
        return self

    def with_generated_secrets(self) -> Settings:
        """Development only: fill unset secrets with fresh random ones for this run."""
        updates: dict[str, object] = {}
        if not self.jwt_secret.get_secret_value():
            updates["jwt_secret"] = SecretStr(secrets.token_urlsafe(32))
        if not self.admin_password.get_secret_value():
            updates["admin_password"] = SecretStr(secrets.token_urlsafe(12))
        return self.model_copy(update=updates) if updates else self
