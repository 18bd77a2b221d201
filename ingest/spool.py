"""An on-disk FIFO of write batches InfluxDB could not take yet: append-only, fsync'd, bounded in bytes.

Segment files `seg-<n>.log` hold framed records (length, CRC32, bytes); a small `head` file says
where replay resumes. A record is acknowledged to the broker only after its fsync, so a crash can
at worst leave a torn last record, which was never acknowledged (the broker sends it again) and is
cut off at the next open. A crash between a replay and the head update replays that record twice,
which InfluxDB's last-write-wins makes harmless.
"""

from __future__ import annotations

import contextlib
import os
import struct
import zlib
from pathlib import Path

_HEADER = struct.Struct(">II")  # length, crc32
SEGMENT_BYTES = 16 << 20


class SpoolFull(RuntimeError):
    pass


class Spool:
    def __init__(self, directory: Path, max_bytes: int, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.records = 0
        self.bytes = 0
        self._segments = sorted(int(p.stem[4:]) for p in self.dir.glob("seg-*.log") if p.stem[4:].isdigit())
        self._head_seg, self._head_off = self._read_head()
        self._segments = [s for s in self._segments if s >= self._head_seg]
        self._recover()
        self._tail = None if not self._segments else open(self._path(self._segments[-1]), "ab")  # noqa: SIM115

    # --- layout ---------------------------------------------------------------------------------

    def _path(self, seg: int) -> Path:
        return self.dir / f"seg-{seg:012d}.log"

    def _read_head(self) -> tuple[int, int]:
        try:
            seg, off = (self.dir / "head").read_text().split()
            return int(seg), int(off)
        except (OSError, ValueError):
            return (self._segments[0] if self._segments else 0), 0

    def _write_head(self) -> None:
        tmp = self.dir / "head.tmp"
        tmp.write_text(f"{self._head_seg} {self._head_off}\n")
        os.replace(tmp, self.dir / "head")

    def _recover(self) -> None:
        """Count what is left to replay and cut a torn tail left by a crash."""
        for seg in list(self._segments):
            path = self._path(seg)
            off = self._head_off if seg == self._head_seg else 0
            size = path.stat().st_size
            with open(path, "rb") as f:
                f.seek(off)
                good = off
                while True:
                    hdr = f.read(_HEADER.size)
                    if len(hdr) < _HEADER.size:
                        break
                    n, crc = _HEADER.unpack(hdr)
                    data = f.read(n)
                    if len(data) < n or zlib.crc32(data) != crc:
                        break
                    good += _HEADER.size + n
                    self.records += 1
            if good < size:
                with open(path, "r+b") as f:
                    f.truncate(good)
            self.bytes += good - off
        # Old segments before the head are fully replayed; a crash may have left them behind.
        for p in self.dir.glob("seg-*.log"):
            if p.stem[4:].isdigit() and int(p.stem[4:]) < self._head_seg:
                p.unlink(missing_ok=True)

    # --- writing --------------------------------------------------------------------------------

    def append(self, data: bytes) -> None:
        """Add one record durably (fsync'd before returning); SpoolFull when it would pass the cap."""
        size = _HEADER.size + len(data)
        if self.bytes + size > self.max_bytes:
            raise SpoolFull(f"spool at {self.bytes} of {self.max_bytes} bytes cannot take {size} more")
        if self._tail is None or self._tail.tell() >= self.segment_bytes:
            self._rotate()
        assert self._tail is not None
        self._tail.write(_HEADER.pack(len(data), zlib.crc32(data)) + data)
        self._tail.flush()
        os.fsync(self._tail.fileno())
        self.records += 1
        self.bytes += size

    def _rotate(self) -> None:
        if self._tail is not None:
            self._tail.close()
        seg = (self._segments[-1] + 1) if self._segments else self._head_seg
        self._segments.append(seg)
        self._tail = open(self._path(seg), "ab")  # noqa: SIM115 - kept open while it is the tail
        # The new file's directory entry must be durable too, or an fsync'd record could vanish.
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # --- replay ---------------------------------------------------------------------------------

    def peek(self) -> bytes | None:
        """The oldest record not yet replayed, or None."""
        while self.records:
            path = self._path(self._head_seg)
            with contextlib.suppress(FileNotFoundError), open(path, "rb") as f:
                f.seek(self._head_off)
                hdr = f.read(_HEADER.size)
                if len(hdr) == _HEADER.size:
                    n, _crc = _HEADER.unpack(hdr)
                    return f.read(n)
            self._next_segment()
        return None

    def pop(self) -> None:
        """Forget the oldest record: it is in InfluxDB now."""
        data = self.peek()
        if data is None:
            return
        size = _HEADER.size + len(data)
        self._head_off += size
        self.records -= 1
        self.bytes -= size
        if self.records == 0:
            self._reset()
        else:
            self._write_head()

    def _next_segment(self) -> None:
        later = [s for s in self._segments if s > self._head_seg]
        if not later:  # nothing further: the counts were off; start clean rather than spin
            self.records = 0
            self.bytes = 0
            self._reset()
            return
        self._path(self._head_seg).unlink(missing_ok=True)
        self._segments = later
        self._head_seg, self._head_off = later[0], 0
        self._write_head()

    def _reset(self) -> None:
        """Everything replayed: drop the segments so the spool takes no disk at all."""
        if self._tail is not None:
            self._tail.close()
            self._tail = None
        for seg in self._segments:
            self._path(seg).unlink(missing_ok=True)
        nxt = (self._segments[-1] + 1) if self._segments else self._head_seg + 1
        self._segments = []
        self._head_seg, self._head_off = nxt, 0
        self._write_head()

    def close(self) -> None:
        if self._tail is not None:
            self._tail.close()
            self._tail = None
