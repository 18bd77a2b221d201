"""SMTP e-mail (officers live on e-mail): STARTTLS, then AUTH, one message per connection.

The Message-ID is derived from the idempotency key, so a copy sent again after a crash carries the
same Message-ID, which mail stores and clients use to fold duplicates.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from notify.channels.base import SendResult
from notify.message import Message


class EmailChannel:
    name = "email"

    def __init__(
        self, url: str, sender: str, starttls: bool = True, ca_file: str | None = None, timeout: float = 15.0
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "smtp" or not parts.hostname:
            raise ValueError(f"smtp_url {url!r} must look like smtp://user:password@host:587")
        self.host = parts.hostname
        self.port = parts.port or 587
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.starttls = starttls
        self.context = ssl.create_default_context(cafile=ca_file)
        self.timeout = timeout

    def _email(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject or message.text[:80]
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{hashlib.sha256(message.key.encode()).hexdigest()[:32]}@ruongso>"
        mail["Content-Language"] = message.lang
        mail.set_content(message.text)
        return mail

    def send(self, message: Message) -> SendResult:
        mail = self._email(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=self.context)
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return SendResult.fail(f"recipient refused: {exc.recipients}")
        except smtplib.SMTPAuthenticationError as exc:
            # Wrong credentials are an operator's fix, not the message's fault: keep it for after the fix.
            return SendResult.retry(f"SMTP authentication failed ({exc.smtp_code})")
        except smtplib.SMTPResponseException as exc:
            detail = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            return SendResult.retry(detail) if exc.smtp_code < 500 else SendResult.fail(detail)
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult.retry(f"{type(exc).__name__}: {exc}")
        return SendResult.sent(mail["Message-ID"])

    def close(self) -> None:
        pass
