"""Alert lifecycle: pending → firing → resolved, repeats, acknowledge, silence, restart without re-firing."""

from __future__ import annotations

import json

from analytics.lifecycle import Lifecycle, Silence

KEY = ("s1", "n1", "dissolved_oxygen.crit_low")
META = {"quantity": "dissolved_oxygen"}
H = 3_600_000


def _states(lc: Lifecycle, conds: list[tuple[bool | None, int]], dur: int = 600_000) -> list[str]:
    out = []
    for cond, ts in conds:
        t = lc.evaluate(KEY, cond, ts, dur, "critical", META)
        if t is not None:
            out.append(t.state)
    return out


def test_pending_then_firing_then_resolved() -> None:
    lc = Lifecycle()
    assert _states(lc, [(True, 0), (True, 300_000), (True, 600_000), (True, 700_000), (False, 800_000)]) == [
        "firing", "resolved"]


def test_unknown_condition_cancels_pending_but_never_resolves_firing() -> None:
    lc = Lifecycle()
    assert _states(lc, [(True, 0), (None, 300_000), (True, 400_000), (True, 900_000)]) == []
    assert _states(lc, [(True, 1_000_000), (None, 2_000_000), (None, 3_000_000)]) == ["firing"]
    assert lc.is_firing(KEY)


def test_firing_alert_is_repeated_every_repeat_interval_with_the_same_id() -> None:
    lc = Lifecycle(repeat_ms=4 * H)
    ids = []
    for k in range(0, 13):
        t = lc.evaluate(KEY, True, k * H, 0, "critical", META)
        if t is not None:
            ids.append((t.state, t.alert.id, k))
    assert [(s, k) for s, _, k in ids] == [("firing", 0), ("firing", 4), ("firing", 8), ("firing", 12)]
    assert len({i for _, i, _ in ids}) == 1


def test_acknowledged_alert_is_not_repeated_but_still_resolves() -> None:
    lc = Lifecycle(repeat_ms=H)
    t = lc.evaluate(KEY, True, 0, 0, "critical", META)
    assert t is not None
    ack = lc.acknowledge(t.alert.id, 1000)
    assert ack is not None and ack.state == "acknowledged"
    assert lc.acknowledge(t.alert.id, 2000) is None
    assert _states(lc, [(True, 3 * H), (False, 4 * H)]) == ["resolved"]


def test_silence_covers_matching_alerts_until_it_ends() -> None:
    lc = Lifecycle(repeat_ms=H)
    lc.evaluate(KEY, True, 0, 0, "critical", META)
    out = lc.silence(Silence("s1", until=5 * H, node="n1", rule="dissolved_oxygen."), 1000)
    assert [t.state for t in out] == ["silenced"]
    assert _states(lc, [(True, 2 * H), (True, 4 * H)]) == []
    assert _states(lc, [(True, 5 * H)]) == ["firing"]  # the maintenance window is over
    other = ("s1", "n2", "dissolved_oxygen.crit_low")
    assert not lc.silenced(other, H)
    lc.silence(Silence("s1", until=9 * H), 6 * H)
    t = lc.evaluate(other, True, 7 * H, 0, "critical", META)
    assert t is not None and t.state == "silenced"  # a new alert during a site-wide silence


def test_restored_state_does_not_fire_again() -> None:
    lc = Lifecycle()
    first = lc.evaluate(KEY, True, 0, 0, "critical", META)
    assert first is not None
    doc = json.loads(json.dumps(lc.snapshot()))
    restarted = Lifecycle()
    assert restarted.restore(doc) == 1
    assert restarted.evaluate(KEY, True, 60_000, 0, "critical", META) is None
    t = restarted.evaluate(KEY, False, 120_000, 0, "critical", META)
    assert t is not None and t.state == "resolved" and t.alert.id == first.alert.id


def test_control_payload_of_the_api_is_validated() -> None:
    import pytest

    from analytics.control import ControlError, decode_control, parse_control_topic

    doc = {"v": 1, "site": "s1", "ts": 5, "acks": [{"id": "a-1", "by": "x", "ts": 4, "note": ""}],
           "silences": [{"id": 3, "node": None, "start": 1, "end": 9, "reason": "", "by": "x"}]}
    c = decode_control(json.dumps(doc), "s1")
    assert c.acks == ("a-1",) and c.silences[0].node is None and c.silences[0].end == 9
    assert parse_control_topic("farm/s1/alerts/control") == "s1"
    assert parse_control_topic("farm/s1/n1/telemetry") is None
    for bad, why in [({**doc, "site": "s2"}, "published on site"), ({**doc, "v": 2}, "v is 2"),
                     ({**doc, "silences": [{"node": "n1"}]}, "start"), ({**doc, "acks": ["a-1"]}, "acks")]:
        with pytest.raises(ControlError, match=why):
            decode_control(json.dumps(bad), "s1")


def test_api_silence_set_replaces_the_previous_one() -> None:
    lc = Lifecycle(repeat_ms=H)
    lc.evaluate(KEY, True, 0, 0, "critical", META)
    assert [t.state for t in lc.set_silences("s1", [Silence("s1", 5 * H, "n1", None, 0)], 1000)] == ["silenced"]
    assert lc.set_silences("s1", [], 2000) == []
    assert _states(lc, [(True, 2 * H)]) == ["firing"]  # the silence was cancelled: announced again
