"""SMS for the embedded mode: the text goes to the log, the number masked (PF4)."""

from __future__ import annotations

from repairhub.lib.phones import mask_phone

from .base import BaseChannel, Outcome, Outgoing, log


class ConsoleSms(BaseChannel):
    """Always succeeds, so an install without a provider still walks every workflow."""

    def deliver(self, out: Outgoing) -> Outcome:
        log.info("SMS to %s [%s]: %s", mask_phone(out.to), out.key, out.body)
        return Outcome.sent("console", provider_id=f"console:{out.key}")
