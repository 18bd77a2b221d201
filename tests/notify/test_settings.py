"""Settings turn channels on, and a wrong value stops notify with the option's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from notify import channels
from notify.dispatcher import Policy
from notify.outbox import Outbox
from notify.settings import NotifySettings
from ruongso.settings import SettingsError, build

from .conftest import ACK_SECRET


def test_each_channel_is_on_when_its_settings_are_there(tmp_path: Path) -> None:
    s = build(
        NotifySettings, ack_secret=ACK_SECRET, smtp_url="smtp://u:p@127.0.0.1:2525", webhook_url="http://h/x",
        webhook_secret="k" * 20, sms_url="http://gw/send", zalo_app_id="1", zalo_secret_key="s",
        zalo_refresh_token="r", notify_mqtt_topic="ruongso/notify/{recipient}",
    )  # fmt: skip
    built = channels.build(s, Outbox(tmp_path / "o.db"), mqtt_client=object())
    assert sorted(built) == sorted(channels.CHANNELS)
    none = channels.build(build(NotifySettings, ack_secret=ACK_SECRET), Outbox(tmp_path / "p.db"))
    assert none == {}


def test_policy_reads_durations_and_quiet_hours() -> None:
    s = build(NotifySettings, ack_secret=ACK_SECRET, notify_quiet_hours="22:30-05:15", notify_retry_max="2m")
    p = Policy.from_settings(s)
    assert p.quiet_hours == (22 * 60 + 30, 5 * 60 + 15) and p.retry_max_s == 120
    assert Policy.from_settings(build(NotifySettings, ack_secret=ACK_SECRET, notify_quiet_hours="")).quiet_hours is None


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        ({"notify_quiet_hours": "10pm-5am"}, "notify_quiet_hours"),
        ({"sms_body": "{not json"}, "sms_body"),
        ({"notify_retry_base": "soon"}, "notify_retry_base"),
        ({"public_url": "rs.example.vn"}, "public_url"),
    ],
)
def test_a_bad_setting_is_named(flags: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        build(NotifySettings, ack_secret=ACK_SECRET, **flags)


def test_a_webhook_without_its_secret_is_refused(tmp_path: Path) -> None:
    s = build(NotifySettings, ack_secret=ACK_SECRET, webhook_url="http://h/x")
    with pytest.raises(ValueError, match="RUONGSO_WEBHOOK_SECRET"):
        channels.build(s, Outbox(tmp_path / "o.db"))


def test_the_sample_routing_file_loads_and_routes() -> None:
    from notify.routing_yaml import YamlDirectory

    sample = Path(__file__).resolve().parents[2] / "notify" / "routing.sample.yaml"
    d = YamlDirectory.load(sample, tuple(channels.CHANNELS))
    assert [r.id for r in d.recipients("hk-pond-1", "farmer", "critical")] == ["lan", "mai"]
    assert [r.id for r in d.recipients("hk-rice-1", "farmer", "warning")] == []
    assert d.site_name("hk-pond-1") == "Ao 2 Hưng Kỳ"
