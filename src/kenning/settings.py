"""Settings, read from the environment (prefix ``KENNING_``) by whoever builds the app.

Never instantiated at import time: the CLI and the app factory build one and pass it on.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KENNING_", extra="ignore")

    # A SQLite file in the current folder unless told otherwise (postgresql://… for production).
    database_url: str = "sqlite:///kenning.db"
