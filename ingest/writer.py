"""The writer thread: batches converted messages, writes them to InfluxDB, and only then acks them.

Order of duties for one batch (arrival order throughout):
1. dead letters fsync'd to the local file, their `rejected` points added to the batch;
2. the batch written to InfluxDB (204), retried with capped backoff for errors a retry can fix;
   if InfluxDB stays down it goes to the disk spool (fsync'd) instead and is replayed later, in
   order; a line InfluxDB refuses for good is found by bisection and dead-lettered;
3. then, and only then, every message of the batch is acknowledged to the broker, in arrival order.
A batch that can be neither written nor spooled (spool full, InfluxDB down) is held, unacknowledged:
the broker's Receive Maximum then stops the flow, so memory stays bounded and nothing is lost.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from contract.wire import Reason
from ingest.convert import Converted, DeadLetter
from ingest.deadletters import DeadLetterFile, RejectedLines, now_ms
from ingest.metrics import Metrics
from ingest.progress import AckTracker, HealthTracker
from ingest.spool import Spool, SpoolFull
from ruongso.influx import InfluxClient, InfluxError
from ruongso.logs import event

log = logging.getLogger("ruongso.ingest")

Seq = tuple[str, str, str, int]


def _database_not_found(err: InfluxError) -> bool:
    return err.status == 404 and "database not found" in str(err)


def _worth_retrying(err: InfluxError) -> bool:
    """Network, 5xx and 429, and also 401/403 and a database we could not create: wrong credentials
    or rights are an operator's problem to fix, not a reason to dead-letter every reading, so the
    data waits in the spool meanwhile."""
    if _database_not_found(err):
        return True
    if err.status in (401, 403):
        event(log, "influx_not_authorised", logging.ERROR, error=str(err)[:200],
              effect="batches are spooled until the credentials are fixed")
        return True
    return err.retryable


@dataclass(slots=True)
class Pending:
    """One MQTT message waiting for its batch to be written and then its PUBACK."""

    mid: int
    qos: int
    gen: int  # connection generation: a PUBACK is valid only on the connection that delivered it
    conv: Converted
    seed: Seq | None = None  # a retained ack read back from the broker
    progress: list[Seq] | None = None  # seqs another member of the shared subscription settled


@dataclass(frozen=True, slots=True)
class WriterConfig:
    batch_size: int
    batch_ms: int
    retry_budget_s: float
    retry_max_s: float
    ack_interval_s: float
    pipeline_interval_s: float


class Writer(threading.Thread):
    def __init__(
        self,
        cfg: WriterConfig,
        influx: InfluxClient,
        spool: Spool,
        dead: DeadLetterFile,
        metrics: Metrics,
        ack: Callable[[list[Pending]], None],
        publish_acks: Callable[[list[Seq]], None],
        share_progress: Callable[[list[Seq]], None] | None = None,
    ) -> None:
        super().__init__(name="ingest-writer", daemon=True)
        self.cfg = cfg
        self.influx = influx
        self.spool = spool
        self.dead = dead
        self.metrics = metrics
        self._ack = ack
        self._publish_acks = publish_acks
        self._share_progress = share_progress
        self.queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self.rejected_lines = RejectedLines()
        self.health = HealthTracker()
        self.acks = AckTracker()
        self.stopping = threading.Event()
        self.failed: BaseException | None = None
        self._influx_down = False
        self._next_probe = 0.0
        self._probe_delay = 0.2
        self._next_ack = time.monotonic() + cfg.ack_interval_s
        self._next_report = self._grid_after(time.time())
        self._holding = False
        self._update_spool_metrics()

    # --- the loop -------------------------------------------------------------------------------

    def run(self) -> None:
        try:
            done = False
            while not done:
                batch, done = self._collect()
                if batch:
                    self._handle(batch)
                self._replay()
                self._periodic(force=done)
        except BaseException as exc:  # the service notices and exits non-zero; never silent
            self.failed = exc
            event(log, "writer_failed", logging.ERROR, error=repr(exc))
            raise

    def _collect(self) -> tuple[list[Pending], bool]:
        """Up to batch_size points, or whatever arrived within batch_ms of the first message."""
        try:
            first = self.queue.get(timeout=0.1)
        except queue.Empty:
            return [], False
        if first is None:
            return [], True
        batch = [first]
        points = len(first.conv.lines)
        deadline = time.monotonic() + self.cfg.batch_ms / 1000
        while points < self.cfg.batch_size:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    item = self.queue.get(timeout=left)
                except queue.Empty:
                    break
            if item is None:
                return batch, True
            batch.append(item)
            points += len(item.conv.lines)
        return batch, False

    # --- one batch ------------------------------------------------------------------------------

    def _handle(self, batch: list[Pending]) -> None:
        lines: list[str] = []
        letters: list[DeadLetter] = []
        seqs: list[Seq] = []
        points = 0
        for p in batch:
            c = p.conv
            if c.lines:
                lines.extend(c.lines)
                points += c.points
            if c.dead:
                letters.extend(c.dead)
            if c.seqs:
                seqs.extend(c.seqs)
            if p.seed is not None:
                self.acks.seed(*p.seed)
            if p.progress:
                self.acks.settled(p.progress)
                # Another member's share of the stream: node health counts the whole group's.
                for site, node, boot, seq in p.progress:
                    self.health.observe(site, node, boot, seq)
        self.metrics.messages_in += len(batch)
        for site, node, boot, seq in seqs:
            self.health.observe(site, node, boot, seq)
        if letters:
            ts = now_ms()
            self.dead.append(letters, ts)
            for d in letters:
                lines.append(self.rejected_lines.line(d, ts))
                self.metrics.rejected[d.reason] += 1
            self.metrics.dead_letters += len(letters)
        settled = self._store(lines, seqs, points) if lines else True
        if not settled or self._holding:
            # Stopping with nowhere to put it: unacked, so the broker sends it again; nothing after
            # it is acked either, since PUBACKs must follow arrival order.
            self._holding = True
            return
        if not lines:
            self._settle(seqs)
        self._ack(batch)
        self.metrics.acked += len(batch)

    def _store(self, lines: list[str], seqs: list[Seq], points: int) -> bool:
        """Write or spool; True once the batch is durable somewhere (InfluxDB or the spool)."""
        if not self._influx_down:
            outcome = self._write_with_retry(lines, self.cfg.retry_budget_s)
            if outcome:
                self._written(seqs, points)
                return True
            self._went_down()
        record = orjson.dumps({"lines": lines, "seqs": seqs, "points": points})
        while True:
            try:
                self.spool.append(record)
                self.metrics.spooled_batches += 1
                self._update_spool_metrics()
                return True
            except SpoolFull as exc:
                self.metrics.spool_full += 1
                event(log, "spool_full", logging.ERROR, error=str(exc),
                      effect="holding this batch unacknowledged until InfluxDB takes the spool")
            # Nowhere to put it: keep replaying (that frees room) until InfluxDB is back.
            if self.stopping.is_set():
                return False
            self._next_probe = 0.0
            self._replay()
            if self._write_with_retry(lines, self.cfg.retry_max_s):
                self._written(seqs, points)
                return True

    def _write_with_retry(self, lines: list[str], budget_s: float) -> bool:
        """True when written (or refused lines dead-lettered); False when InfluxDB stayed unavailable."""
        body = "\n".join(lines).encode()
        deadline = time.monotonic() + budget_s
        delay = 0.1
        created = False
        while True:
            try:
                self._write(body, len(lines))
                return True
            except InfluxError as err:
                self.metrics.influx_errors += 1
                if not created and _database_not_found(err):
                    created = True
                    if self._create_database():
                        continue
                if not _worth_retrying(err):
                    return self._refused(lines, err)
                if time.monotonic() + delay > deadline:
                    event(log, "influx_unavailable", logging.WARNING, error=str(err)[:200])
                    return False
            time.sleep(delay)
            delay = min(delay * 2, self.cfg.retry_max_s)

    def _write(self, body: bytes, points: int) -> None:
        t0 = time.monotonic()
        self.influx.write(body)
        self.metrics.batch_written(points, time.monotonic() - t0)

    def _create_database(self) -> bool:
        """Create the database InfluxDB says does not exist (at start, or after a DROP)."""
        try:
            self.influx.create_database()
        except InfluxError as exc:
            event(log, "create_database_failed", logging.WARNING, error=str(exc)[:200])
            return False
        event(log, "database_created", database=self.influx.database)
        return True

    def _refused(self, lines: list[str], err: InfluxError) -> bool:
        """Find the lines InfluxDB will never take (bisection) and dead-letter them; write the rest."""
        event(log, "influx_refused_batch", logging.WARNING, lines=len(lines), error=str(err)[:200])
        bad: list[tuple[str, str]] = []

        def split(part: list[str], why: InfluxError) -> None:
            if len(part) == 1:
                bad.append((part[0], str(why)))
                return
            mid = len(part) // 2
            for half in (part[:mid], part[mid:]):
                try:
                    self._write("\n".join(half).encode(), len(half))
                except InfluxError as e:
                    if _worth_retrying(e):
                        raise
                    split(half, e)

        try:
            split(lines, err)
        except InfluxError:
            return False  # InfluxDB went away meanwhile: the whole batch goes to the spool
        letters = [self._refused_letter(line, why) for line, why in bad]
        ts = now_ms()
        self.dead.append(letters, ts)
        self.metrics.dead_letters += len(letters)
        for d in letters:
            self.metrics.rejected[d.reason] += 1
        try:
            self.influx.write([self.rejected_lines.line(d, ts) for d in letters])
        except InfluxError as exc:  # they are in the local file; the count is in the metrics
            event(log, "rejected_not_stored", logging.WARNING, error=str(exc)[:200])
        return True

    @staticmethod
    def _refused_letter(line: str, why: str) -> DeadLetter:
        tags = dict(kv.split("=", 1) for kv in line.split(" ", 1)[0].split(",")[1:] if "=" in kv)
        return DeadLetter(Reason.INFLUX_REFUSED, "", why[:300], line[:1024],
                          tags.get("site", "unknown"), tags.get("node", "unknown"))

    def _written(self, seqs: list[Seq], points: int) -> None:
        self.metrics.points_written += points
        if self._influx_down:
            self._influx_down = False
            event(log, "influx_back")
        self._settle(seqs)

    def _settle(self, seqs: list[Seq]) -> None:
        if seqs:
            self.acks.settled(seqs)
            if self._share_progress is not None:
                self._share_progress(seqs)

    def _went_down(self) -> None:
        if not self._influx_down:
            self._influx_down = True
            self._probe_delay = 0.2
            self._next_probe = time.monotonic() + self._probe_delay
            event(log, "spooling", logging.WARNING, spool=str(self.spool.dir),
                  why="InfluxDB unavailable; batches go to disk and are replayed in order when it returns")

    # --- the spool ------------------------------------------------------------------------------

    def _replay(self) -> None:
        """Replay spooled batches oldest first, for at most about a second per call."""
        if not self.spool.records or time.monotonic() < self._next_probe:
            return
        until = time.monotonic() + 1.0
        while self.spool.records and time.monotonic() < until:
            data = self.spool.peek()
            if data is None:
                break
            rec = orjson.loads(data)
            lines: list[str] = rec["lines"]
            try:
                self._write("\n".join(lines).encode(), len(lines))
            except InfluxError as err:
                self.metrics.influx_errors += 1
                if _database_not_found(err):
                    self._create_database()
                if _worth_retrying(err):
                    self._influx_down = True
                    self._next_probe = time.monotonic() + self._probe_delay
                    self._probe_delay = min(self._probe_delay * 2, self.cfg.retry_max_s)
                    return
                if not self._refused(lines, err):
                    return
            self.spool.pop()
            self._written([tuple(s) for s in rec["seqs"]], rec["points"])
            self._update_spool_metrics()
        if not self.spool.records:
            event(log, "spool_replayed")

    def _update_spool_metrics(self) -> None:
        m = self.metrics
        was_near = m.spool_bytes >= 0.8 * self.spool.max_bytes
        m.spool_bytes, m.spool_records, m.spool_max_bytes = self.spool.bytes, self.spool.records, self.spool.max_bytes
        if not was_near and m.spool_bytes >= 0.8 * self.spool.max_bytes:
            event(log, "spool_nearly_full", logging.WARNING, bytes=m.spool_bytes, cap=self.spool.max_bytes)

    # --- every second / every report interval ---------------------------------------------------

    def _periodic(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now >= self._next_ack:
            self._next_ack = now + self.cfg.ack_interval_s
            dirty = self.acks.take_dirty()
            if dirty:
                self._publish_acks(dirty)
        wall = time.time()
        if force or wall >= self._next_report:
            self._next_report = self._grid_after(wall)
            # The last report at a stop is off the grid: it must not overwrite the interval's point.
            grid = int(wall // self.cfg.pipeline_interval_s * self.cfg.pipeline_interval_s * 1000)
            self._report(now_ms() if force else grid)

    def _grid_after(self, wall: float) -> float:
        """Reports fall on a wall-clock grid, so the members of a shared subscription cover the same
        intervals and write their `node_health` points at the same timestamp (one point, not two)."""
        step = self.cfg.pipeline_interval_s
        return (wall // step + 1) * step

    def _report(self, ts: int) -> None:
        lines = [self.metrics.pipeline_line(ts)]
        for (site, node), h in self.health.report().items():
            lines.append(
                f"node_health,site={site},node={node} received={h.received}i,duplicates={h.duplicates}i,"
                f"gaps={h.gaps}i,last_seq={h.last_seq}i {ts}"
            )
        self.dead.report_suppressed()
        if not self._store(lines, [], 0):
            event(log, "report_not_stored", logging.WARNING, why="InfluxDB down and spool full")
