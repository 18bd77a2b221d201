"""What `ruongso demo` shows: the API's address and this run's token with example requests (once), a
live table of nodes and latest readings (rich), alerts printed as they arrive, and a closing summary.
`--plain` prints status lines instead, for logs and CI."""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from contract.alerts import AlertEvent
from contract.quantities import QUANTITIES
from ruongso.demo import DB
from ruongso.vi_format import format_number

if TYPE_CHECKING:
    from ruongso.demo import Child, Demo

ICT_OFFSET_S = 7 * 3600


def _value(name: str, v: float) -> str:
    q = QUANTITIES[name]
    return f"{format_number(v)}{(' ' + q.unit) if q.unit else ''}"


def _ict(ts_ms: int) -> str:
    return time.strftime("%d/%m %H:%M", time.gmtime(ts_ms / 1000 + ICT_OFFSET_S))


def alert_line(e: AlertEvent) -> str:
    """The event's own Vietnamese text (it already says warning/critical/resolved), or a fallback."""
    text = e.text.get("vi") or e.text.get("en") or f"{e.state} {e.severity} {e.rule}"
    return f"[{_ict(e.ts)}] {e.site}/{e.node or '-'}: {text}"


class Screen:
    def __init__(self, demo: Demo, plain: bool) -> None:
        self.demo = demo
        self.plain = plain
        self.console = Console(highlight=False)
        self._live: Live | None = None
        self._figures = (0, Counter[str]())
        self._figures_at = 0.0

    def alert(self, e: AlertEvent) -> None:
        style = "bold red" if e.severity == "critical" and e.state == "firing" else "yellow"
        if e.state == "resolved":
            style = "green"
        self.console.print(Text(alert_line(e), style=style))

    def services_ready(self) -> None:
        """Printed once, above the live table: the token is shown nowhere else and stored only hashed."""
        d = self.demo
        self.console.print(Text(f"Broker {d.broker.url}, InfluxDB {d.influxd.url} (database {DB})"), soft_wrap=True)
        api = d.api
        if api is None:
            if d.api_missing:
                self.console.print(Text(d.api_missing, style="yellow"), soft_wrap=True)
            self.console.file.flush()
            return
        site = api.example_site(d.manifest)
        lines = [
            f"API {api.url} (docs: {api.url}/docs) — admin token for this run only, gone when it stops:",
            f"  {api.token}",
            "Try:",
            *(f"  {line}" for line in api.curl_lines(site)),
        ]
        # soft_wrap: a token or curl line broken at the terminal's width could not be copied whole.
        self.console.print(Text("\n".join(lines)), soft_wrap=True)
        if self.plain:
            self.console.print(self._api_line(), soft_wrap=True)
        self.console.file.flush()

    def _api_line(self) -> str:
        api = self.demo.api
        return f"API: {api.url}  (token above; Authorization: Bearer …)" if api is not None else ""

    def _refresh_figures(self) -> tuple[int, Counter[str]]:
        if time.monotonic() - self._figures_at > 3:
            self._figures = (self.demo.stored_points(), self.demo.rejects_by_reason())
            self._figures_at = time.monotonic()
        return self._figures

    def _header(self) -> str:
        points, rejects = self._refresh_figures()
        v = self.demo.view
        with v.lock:
            n_nodes, n_msgs, n_alerts = len(v.nodes), v.messages, len(v.alerts)
        children = ", ".join(f"{c.name}:{'chạy' if c.alive() else 'dừng'}" for c in self.demo.children)
        return (
            f"Ruộng Số demo — {n_nodes} nút, {n_msgs} bản tin, {points} điểm trong InfluxDB, "
            f"{sum(rejects.values())} bị từ chối, {n_alerts} sự kiện cảnh báo  [{children}]"
        )

    def _table(self) -> Table:
        self.demo.load_manifest()
        table = Table(expand=True, show_lines=False)
        for col in ("Điểm (site)", "Nút", "Lúc (ICT)", "Số đo mới nhất", "Pin", "RSSI"):
            table.add_column(col, overflow="fold")
        v = self.demo.view
        with v.lock:
            rows = sorted(v.nodes.values(), key=lambda n: (n.site, n.node))
        for n in rows[:60]:
            r = n.reading
            values = "  ".join(f"{QUANTITIES[k].label_vi}: {_value(k, x)}" for k, x in r.m.items())
            table.add_row(
                self.demo.site_label(n.site), n.node, _ict(r.ts), values,
                _value("battery_v", r.battery_v) if r.battery_v is not None else "-",
                _value("rssi", r.rssi) if r.rssi is not None else "-",
            )
        return table

    def run(self, deadline: float | None) -> None:
        stop = self.demo.stop_event
        if self.plain:
            next_line = 0.0
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                if time.monotonic() >= next_line:
                    # Text: the header's "[ingest:chạy, …]" is not rich markup.
                    self.console.print(Text(self._header()))
                    next_line = time.monotonic() + 10
                self._check_children()
                stop.wait(0.5)
            return
        with Live(console=self.console, refresh_per_second=2, screen=False) as live:
            self._live = live
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                parts: list[Any] = [Text(self._header(), style="bold")]
                if self.demo.api is not None:
                    parts.append(Text(self._api_line(), style="cyan"))
                live.update(Group(*parts, self._table()))
                self._check_children()
                stop.wait(0.5)

    def _check_children(self) -> None:
        for c in self.demo.children:
            if not c.alive() and c.proc.returncode not in (0, None) and not getattr(c, "_reported", False):
                c._reported = True  # type: ignore[attr-defined]
                self.console.print(Text(f"{c.name} stopped with exit code {c.proc.returncode}:\n{c.tail()}",
                                        style="red"))

    def summary(self, points: int, rejects: Counter[str] | dict[str, int], failed: list[Child]) -> None:
        v = self.demo.view
        self.console.print()
        self.console.print(
            f"Stopped. {v.messages} messages seen, {points} points stored in InfluxDB, "
            f"{sum(rejects.values())} rejected"
            + (f" ({', '.join(f'{k}: {n}' for k, n in sorted(rejects.items()))})" if rejects else "")
            + f", {len(v.alerts)} alert events."
        )
        for c in failed:
            self.console.print(Text(f"{c.name} failed (exit {c.proc.returncode}); log: {c.log_path}", style="red"))


def make_screen(demo: Any, plain: bool) -> Screen:
    return Screen(demo, plain)
