"""The demo's enterprise profiles (bot/demo/enterprises.yaml beside the demo config), made
once at the console demo's start (its `/seed` hook)."""

from __future__ import annotations

import yaml

from bot.people import Actor
from bot.services import Services
from handlers.enterprises.service import EnterpriseService

__all__ = ["console_seed"]


def console_seed(services: Services, _args: str) -> str:
    path = services.base_dir / "enterprises.yaml"
    svc = services.service(EnterpriseService)
    if not path.exists() or svc.all():
        return ""
    with services.db.atomic():
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["enterprises"]:
            contact = str(entry.pop("contact"))
            who = Actor(contact, services.people.name(contact))
            svc.save(entry, who, contact_id=contact, source="chat")
    return ""
