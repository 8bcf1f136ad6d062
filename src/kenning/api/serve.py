"""The factory uvicorn calls in each worker: settings from the environment, then the app."""

from __future__ import annotations

from fastapi import FastAPI

from kenning.api.app import create_app
from kenning.settings import Settings


def app_from_environment() -> FastAPI:
    return create_app(Settings())
