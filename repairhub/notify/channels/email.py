"""E-mail through Django's mail machinery (the SMTP backend in production).

SMTP replies decide the retry: 4xx is temporary by RFC 5321, 5xx permanent; a refused or
dropped connection and a timeout are worth another attempt.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .base import BaseChannel, Outcome, Outgoing

_NOT_ATOM = re.compile(r"[^A-Za-z0-9._-]")


def _is_temporary(code: int) -> bool:
    return 400 <= code < 500


class EmailChannel(BaseChannel):
    """`email_backend` overrides settings.EMAIL_BACKEND for this channel only (a dotted path);
    `timeout` bounds each SMTP wait (default settings.EMAIL_TIMEOUT, then 10 s)."""

    def __init__(
        self,
        *,
        name: str,
        from_email: str = "",
        email_backend: str = "",
        timeout: float | None = None,
    ) -> None:
        super().__init__(name=name)
        self.from_email = from_email
        self.email_backend = email_backend
        self.timeout = timeout

    def _sender(self) -> str:
        return self.from_email or settings.DEFAULT_FROM_EMAIL

    def message_id(self, key: str) -> str:
        """The same Message-ID on every attempt of one message, so a mail that was sent before
        a crash and sent again is recognisable as one; salted per install so two installs'
        "msg-1" never collide."""
        domain = parseaddr(self._sender())[1].rpartition("@")[2] or "localhost"
        salt = hashlib.sha256(f"{settings.SECRET_KEY}:{key}".encode()).hexdigest()[:16]
        return f"<{_NOT_ATOM.sub('-', key)}.{salt}@{domain}>"

    def deliver(self, out: Outgoing) -> Outcome:
        timeout = self.timeout
        if timeout is None:
            timeout = getattr(settings, "EMAIL_TIMEOUT", None) or 10.0
        connection = get_connection(self.email_backend or None, timeout=timeout)
        message = EmailMessage(
            subject=out.subject,
            body=out.body,
            from_email=self._sender(),
            to=[out.to],
            headers={"Message-ID": self.message_id(out.key), "X-RepairHub-Delivery": out.key},
            connection=connection,
        )
        try:
            sent = message.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{code} {msg!r}" for code, msg in exc.recipients.values())
            return Outcome.failed(
                f"recipient_refused: {detail}", retry=all(_is_temporary(c) for c in codes)
            )
        except smtplib.SMTPResponseException as exc:
            # Sender refused, data refused, authentication, HELO, connect greeting.
            return Outcome.failed(
                f"smtp_{exc.smtp_code}: {exc.smtp_error!r}", retry=_is_temporary(exc.smtp_code)
            )
        except (smtplib.SMTPException, OSError) as exc:  # disconnects, refusals, timeouts
            return Outcome.failed(f"network: {type(exc).__name__}: {exc}", retry=True)
        if not sent:
            return Outcome.failed("not_sent: the mail backend sent nothing", retry=True)
        return Outcome.sent("sent", provider_id=message.extra_headers["Message-ID"])
