"""Pipeline health (Tình trạng hệ thống): ingest rate, rejects by reason, spool, write latency."""

from __future__ import annotations

from dashboards.boards.common import bargauge, board_links, tag_regex, timeseries
from dashboards.layout_names import PIPELINE, REJECTED
from dashboards.model import Dashboard, Panel, Row, Target, Variable

UID = "ruongso-pipeline"
INSTANCES = tag_regex("instance", "instance")


def _rate(fields: dict[str, str]) -> Target:
    # Counters are cumulative since the ingestor started; the non-negative derivative turns them into
    # rates and ignores the drop to zero at a restart.
    sel = ", ".join(f'non_negative_derivative(max("{f}"), 1s) AS "{label}"' for f, label in fields.items())
    return Target(f'SELECT {sel} FROM "{PIPELINE}" WHERE {INSTANCES} AND $timeFilter '
                  'GROUP BY time($__interval), "instance" fill(none)', alias="$tag_instance $col")


def _gauge(field: str, agg: str = "max") -> Target:
    return Target(f'SELECT {agg}("{field}") FROM "{PIPELINE}" WHERE {INSTANCES} AND $timeFilter '
                  'GROUP BY time($__interval), "instance" fill(none)', alias="$tag_instance")


def board() -> Dashboard:
    items: list[Panel | Row] = [
        Row("Luồng dữ liệu"),
        timeseries("Tốc độ nhận và ghi (bản tin/giây)",
                   [_rate({"messages_in": "nhận", "points_written": "ghi"})], unit="short"),
        timeseries("Lỗi ghi và thư chết (mỗi giây)",
                   [_rate({"rejected": "từ chối", "influx_errors": "lỗi InfluxDB", "dead_letters": "thư chết"})],
                   unit="short"),
        timeseries(
            "Bản tin bị từ chối theo lý do",
            [Target(f'SELECT sum("count") FROM "{REJECTED}" WHERE $timeFilter '
                    'GROUP BY time($__interval), "reason" fill(none)', alias="$tag_reason")],
            unit="short", bars=True, description="Mã lý do theo định dạng bản tin v1 (docs/wire-format.md).",
        ),
        bargauge(
            "Tổng bị từ chối theo lý do",
            [Target(f'SELECT sum("count") FROM "{REJECTED}" WHERE $timeFilter GROUP BY "reason"',
                    alias="$tag_reason")],
            unit="short", width=12, height=8,
        ),
        Row("Hàng đợi và độ trễ"),
        timeseries("Hàng đợi trên đĩa của ingest", [_gauge("spool_bytes")], unit="bytes",
                   description="Bản tin đã nhận nhưng chưa ghi được vào InfluxDB."),
        timeseries("Độ trễ ghi InfluxDB (p95)", [_gauge("write_latency_ms_p95")], unit="ms"),
        timeseries("Kích thước lô ghi (trung bình)", [_gauge("batch_size_mean", "mean")], unit="short"),
    ]
    return Dashboard(
        uid=UID, title="Ruộng Số: Tình trạng hệ thống", items=items, tags=["ruongso", "pipeline"],
        time_from="now-6h", refresh="30s",
        description="Ingest: tốc độ nhận, bản tin bị từ chối theo lý do, hàng đợi, độ trễ ghi.",
        variables=[Variable("instance", "Phiên bản ingest",
                            f'SHOW TAG VALUES FROM "{PIPELINE}" WITH KEY = "instance"', multi=True,
                            include_all=True)],
        links=board_links(),
    )
