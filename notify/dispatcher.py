"""Alert events in, messages out: routing, rendering, the outbox, delivery policy and escalation.

`accept()` turns one event into one message per recipient and channel and records them (with the
alert's state) in the outbox; `deliver_once(channel)` sends what is due on one channel, recipient
by recipient in arrival order; `escalate_once()` sends critical alerts nobody acknowledged up the
ladder farmer → technician → officer. `run()` drives them: one worker thread per channel, so an
outage of one channel delays no other.

Order: a recipient's messages on a channel leave in the order they were recorded. A failed send
blocks the ones behind it until it succeeds (head-of-line on purpose: "resolved" must never arrive
before "firing"). Warnings held for quiet hours or the rate limit step aside for criticals, which
never wait; held warnings keep their order among themselves.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from contract.alerts import AlertEvent, decode_alert
from contract.topics import AlertsTopic, TopicError
from contract.wire import Reason, WireError
from notify import templates
from notify.channels.base import Channel, SendResult
from notify.directory import Directory, Recipient, next_audience
from notify.message import Message
from notify.outbox import Outbox, Row
from ruongso.ack_tokens import ack_url, issue, secret_bytes
from ruongso.logs import event as log_event

log = logging.getLogger("notify")


@dataclass(frozen=True, slots=True)
class Policy:
    ack_secret: str
    public_url: str = "http://127.0.0.1:8000"
    ack_ttl_s: float = 3 * 86400
    quiet_hours: tuple[int, int] | None = (21 * 60, 6 * 60)  # minutes after local midnight
    retry_base_s: float = 5.0
    retry_max_s: float = 600.0
    rate_limit: int = 6
    rate_window_s: float = 3600.0
    escalate_after_s: float = 900.0
    max_age_s: float = 86400.0
    tick_s: float = 0.5

    def __post_init__(self) -> None:
        secret_bytes(self.ack_secret)

    @classmethod
    def from_settings(cls, s: object) -> Policy:
        sec = s.seconds  # type: ignore[attr-defined]
        return cls(
            ack_secret=s.ack_secret,  # type: ignore[attr-defined]
            public_url=s.public_url,  # type: ignore[attr-defined]
            ack_ttl_s=sec("ack_ttl"),
            quiet_hours=s.quiet_hours(),  # type: ignore[attr-defined]
            retry_base_s=sec("notify_retry_base"),
            retry_max_s=sec("notify_retry_max"),
            rate_limit=s.notify_rate_limit,  # type: ignore[attr-defined]
            rate_window_s=sec("notify_rate_window"),
            escalate_after_s=sec("notify_escalate_after"),
            max_age_s=sec("notify_max_age"),
            tick_s=sec("notify_tick"),
        )

    def in_quiet_hours(self, now_s: float) -> bool:
        if self.quiet_hours is None:
            return False
        t = datetime.fromtimestamp(now_s, templates.LOCAL_TZ)
        minute = t.hour * 60 + t.minute
        start, end = self.quiet_hours
        return start <= minute < end if start <= end else (minute >= start or minute < end)

    def backoff_s(self, attempts: int) -> float:
        base = min(self.retry_max_s, self.retry_base_s * 2 ** max(0, attempts - 1))
        return base * (1 + random.uniform(0, 0.1))  # jitter: retries of many lanes do not stampede


def state_key(event: AlertEvent) -> str:
    # A warning that becomes critical under the same id is news: severity is part of the key.
    return f"firing-{event.severity}" if event.state == "firing" else event.state


class Dispatcher:
    def __init__(
        self,
        directory: Directory,
        outbox: Outbox,
        channels: dict[str, Channel],
        policy: Policy,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.outbox = outbox
        self.channels = channels
        self.policy = policy
        self.clock = clock
        self.counts: dict[str, int] = {}

    def _ms(self) -> int:
        return int(self.clock() * 1000)

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    # --- events in ---------------------------------------------------------------------------------

    def accept(self, payload: bytes | str, topic: str | None = None) -> int:
        """Record the messages one alert event calls for; return how many are new. WireError if bad."""
        event = decode_alert(payload)
        if topic is not None:
            try:
                site = AlertsTopic.parse(topic).site
            except TopicError as exc:
                raise WireError(Reason.BAD_VALUES, str(exc)) from None
            if site != event.site:
                raise WireError(Reason.BAD_VALUES, f"event of site {event.site!r} on topic of {site!r}")
        now = self._ms()
        messages: list[Message] = []
        if event.state in ("firing", "resolved"):
            for r in self.directory.recipients(event.site, event.audience, event.severity):
                messages.extend(self.messages(event, r, state_key(event), now))
        escalate_at = None
        if event.state == "firing" and event.severity == "critical" and next_audience(event.audience):
            escalate_at = now + int(self.policy.escalate_after_s * 1000)
        added = self.outbox.record(event, messages, now, escalate_at)
        log_event(log, "alert_accepted", alert=event.id, site=event.site, state=event.state,
                  severity=event.severity, messages=len(messages), new=added)  # fmt: skip
        return added

    def accept_control(self, payload: bytes | str) -> int:
        """Acknowledgements from the API's retained `farm/{site}/alerts/control` message: they stop
        escalation even when routing comes from a YAML file (registry/alert_control.py)."""
        import json

        try:
            doc = json.loads(payload)
            ids = [str(a["id"]) for a in doc.get("acks", [])]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise WireError(Reason.BAD_VALUES, f"alert control message: {exc}") from None
        now = self._ms()
        for alert_id in ids:
            self.outbox.mark_acked(alert_id, now)
        return len(ids)

    def messages(
        self, event: AlertEvent, r: Recipient, state: str, now_ms: int, escalated_since: int | None = None
    ) -> list[Message]:
        lang = r.language if r.language in templates.LANGS else "vi"
        token = issue(self.policy.ack_secret, event.id, event.site, r.id, self.policy.ack_ttl_s, now_ms / 1000)
        link = ack_url(self.policy.public_url, token)
        site_name = self.directory.site_name(event.site)
        params = templates.params_for(event, lang, site_name, link, now_ms, escalated_since)
        name = templates.choose(event, lang, escalated_since is not None)
        text, subject = templates.render(name, params), templates.subject_for(params)
        out = []
        for channel, address in r.addresses.items():
            if channel not in self.channels:
                log_event(log, "channel_off", logging.WARNING, recipient=r.id, channel=channel, alert=event.id)
                continue
            out.append(Message(
                key=f"{event.id}|{r.id}|{channel}|{state}", alert_id=event.id, site=event.site,
                severity=event.severity, state=state, recipient=r.id, channel=channel, address=address,
                lang=lang, template=name, params=params, subject=subject, text=text, ack_url=link,
            ))  # fmt: skip
        return out

    # --- messages out -------------------------------------------------------------------------------

    def _hold(self, row: Row, now_ms: int) -> str | None:
        if row.severity == "critical":
            return None
        if self.policy.in_quiet_hours(now_ms / 1000):
            return "quiet_hours"
        if self.policy.rate_limit > 0:
            window_ms = int(self.policy.rate_window_s * 1000)
            if len(self.outbox.sent_since(row.recipient, row.channel, now_ms - window_ms)) >= self.policy.rate_limit:
                return "rate_limit"
        return None

    def deliver_once(self, channel_name: str) -> int:
        """One pass over the unsent messages of a channel; return how many sends were tried."""
        channel = self.channels[channel_name]
        tried = 0
        rows = self.outbox.open_rows(channel_name)
        for _recipient, lane in itertools.groupby(rows, key=lambda r: r.recipient):
            for row in lane:
                now = self._ms()
                if now - row.created_ms > self.policy.max_age_s * 1000:
                    self.outbox.mark_final(row.id, "expired", "older than notify_max_age, not sent")
                    log_event(log, "message_expired", logging.WARNING, key=row.key)
                    continue
                hold = self._hold(row, now)
                if hold:
                    if row.hold_reason != hold:
                        self.outbox.set_hold(row.id, hold)
                    continue
                if row.next_attempt_ms > now:
                    break  # this recipient's next message waits for its retry; later ones wait behind it
                tried += 1
                if not self._attempt(channel, row, now):
                    break
        return tried

    def _attempt(self, channel: Channel, row: Row, now_ms: int) -> bool:
        """Send one message; True if the lane may go on (sent, or failed for good)."""
        if row.status == "sending":
            log_event(log, "resend_in_doubt", logging.WARNING, key=row.key)
        self.outbox.mark_sending(row.id, now_ms)  # recorded before the send: a crash leaves 'sending'
        try:
            result = channel.send(row.message)
        except Exception as exc:  # a channel bug must not stop delivery of everything else
            log.exception("channel %s raised", channel.name)
            result = SendResult.retry(f"{type(exc).__name__}: {exc}")
        done = self._ms()
        if result.ok:
            self.outbox.mark_sent(row.id, done, result.ref)
            self._count("sent")
            log_event(log, "message_sent", key=row.key, attempts=row.attempts + 1)
            return True
        if result.retryable:
            delay = self.policy.backoff_s(row.attempts + 1)
            self.outbox.mark_retry(row.id, done + int(delay * 1000), result.detail)
            self._count("retry")
            log_event(log, "message_retry", logging.WARNING, key=row.key, detail=result.detail, in_s=round(delay, 2))
            return False
        self.outbox.mark_final(row.id, "failed", result.detail)
        self._count("failed")
        log_event(log, "message_failed", logging.ERROR, key=row.key, detail=result.detail)
        return True

    # --- escalation ---------------------------------------------------------------------------------

    def escalate_once(self) -> int:
        """Send due escalations; return how many messages they added."""
        now = self._ms()
        added = 0
        for event, level, first_seen in self.outbox.due_escalations(now):
            if self.directory.acknowledged(event.id):
                self.outbox.mark_acked(event.id, now)
                continue
            audience: str | None = event.audience
            for _ in range(level + 1):
                audience = next_audience(audience) if audience else None
            if audience is None:
                self.outbox.escalated(event.id, level, [], now, None)
                continue
            msgs = [
                m
                for r in self.directory.recipients(event.site, audience, "critical")
                for m in self.messages(event, r, f"escalated-{level + 1}", now, escalated_since=first_seen)
            ]
            more = next_audience(audience) is not None
            next_at = now + int(self.policy.escalate_after_s * 1000) if more else None
            added += self.outbox.escalated(event.id, level + 1, msgs, now, next_at)
            log_event(log, "alert_escalated", alert=event.id, to=audience, messages=len(msgs))
        return added

    # --- driving ------------------------------------------------------------------------------------

    def _worker(self, name: str, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.deliver_once(name)
            except Exception:  # e.g. the disk is full: say so, keep trying
                log.exception("delivery pass on %s failed", name)
            stop.wait(self.policy.tick_s)

    def run(self, stop: threading.Event) -> None:
        doubt = self.outbox.in_doubt()
        if doubt:
            log_event(log, "in_doubt_after_restart", logging.WARNING, messages=doubt)
        workers = [
            threading.Thread(target=self._worker, args=(n, stop), name=f"notify-{n}", daemon=True)
            for n in self.channels
        ]
        for w in workers:
            w.start()
        while not stop.is_set():
            try:
                self.escalate_once()
            except Exception:
                log.exception("escalation pass failed")
            stop.wait(self.policy.tick_s)
        for w in workers:
            w.join(timeout=30)
