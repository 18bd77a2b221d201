"""A paho client tuned for one high-volume QoS 1 consumer; same API, same protocol, less work per message.

Measured on the 2-core box (bench/ingest.py, docs/ingest.md): stock paho spends one `select()`
and three or four `recv()` calls on every incoming message (it reads the fixed header byte by
byte), builds a `Properties` object for every MQTT 5 PUBLISH even when it carries none, and sends
one PUBACK per `send()`. Here:
- incoming bytes are read 256 KiB at a time; a packet that is whole in the buffer is cut out
  directly, and the loop drains the buffer before it selects again;
- a QoS 0/1 PUBLISH without properties becomes an `MQTTMessage` with no further parsing; anything
  else (properties, QoS 2, filtered callbacks, a packet split across reads) takes paho's own path;
- PUBACKs for a batch go out as one write (`ack_many`).
paho-mqtt is pinned below 3 in pyproject.toml because this leans on its 2.x internals;
tests/test_ingest_fastmqtt.py checks it against the stock client.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterable

import paho.mqtt.client as mqtt
from paho.mqtt.client import PUBACK, MQTTMessage, MQTTv5
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

_READ_CHUNK = 256 * 1024
_PUBACK = struct.Struct("!BBH")
_OK = MQTTErrorCode.MQTT_ERR_SUCCESS
# Shared by every fast-path message; the consumer reads message properties, never changes them.
_NO_PROPERTIES = Properties(PacketTypes.PUBLISH)


class BufferedClient(mqtt.Client):
    _rbuf: bytes = b""
    _rpos: int = 0

    # --- reading --------------------------------------------------------------------------------

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(_READ_CHUNK)  # BlockingIOError when nothing is there
            if not data:
                return data  # connection closed
            self._rbuf, self._rpos = data, 0
            with self._msgtime_mutex:
                self._last_bytes_received = time.monotonic()
        start = self._rpos
        self._rpos = min(start + bufsize, len(self._rbuf))
        # paho accepts fewer bytes than asked for and asks again for the rest.
        return self._rbuf[start:self._rpos]

    def _packet_read(self) -> MQTTErrorCode:
        if self._in_packet["command"] == 0:
            whole = self._whole_packet()
            if whole is not None:
                command, packet = whole
                # Exactly the state paho's own reader leaves before handling a packet (bytes, not a
                # bytearray copy: every handler only slices and unpacks it).
                self._in_packet = {
                    "command": command, "have_remaining": 1, "remaining_count": [], "remaining_mult": 1,
                    "remaining_length": len(packet), "packet": packet,  # type: ignore[typeddict-item]
                    "to_process": 0, "pos": 0,
                }
                try:
                    rc = self._packet_handle()
                except mqtt.MalformedPacket:
                    rc = MQTTErrorCode.MQTT_ERR_PROTOCOL
                self._in_packet = {
                    "command": 0, "have_remaining": 0, "remaining_count": [], "remaining_mult": 1,
                    "remaining_length": 0, "packet": bytearray(b""), "to_process": 0, "pos": 0,
                }
                return rc
        return super()._packet_read()

    def _whole_packet(self) -> tuple[int, bytes] | None:
        """(command, body) of the packet at the buffer's read position, if it is all there."""
        buf, pos = self._rbuf, self._rpos
        end = len(buf)
        if pos + 2 > end:
            return None
        length, mult, i = 0, 1, pos + 1
        while True:
            if i >= end or i - pos > 4:
                return None  # length split across reads, or malformed: paho's path decides
            b = buf[i]
            length += (b & 127) * mult
            mult *= 128
            i += 1
            if not b & 128:
                break
        if i + length > end:
            return None
        self._rpos = i + length
        return buf[pos], buf[i:i + length]

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        # Bytes already in our buffer never wake select(): drain them before going back to it.
        while rc == _OK and self._sock is not None and self._rpos < len(self._rbuf):
            rc = super().loop_read(max_packets)
        return rc

    def _sock_close(self) -> None:
        # What is left of the old connection's bytes must never be parsed as the new one's.
        self._rbuf, self._rpos = b"", 0
        super()._sock_close()

    # --- PUBLISH --------------------------------------------------------------------------------

    def _handle_publish(self) -> MQTTErrorCode:
        header: int = self._in_packet["command"]
        packet = self._in_packet["packet"]
        qos = (header & 0x06) >> 1
        if self._protocol != MQTTv5 or qos == 2 or self._on_message_filtered._root._children:
            return super()._handle_publish()
        n = len(packet)
        if n < 3:
            return super()._handle_publish()
        pos = 2 + ((packet[0] << 8) | packet[1])
        mid = 0
        if qos:
            if pos + 2 > n:
                return super()._handle_publish()
            mid = (packet[pos] << 8) | packet[pos + 1]
            pos += 2
        if pos >= n or packet[pos] != 0:
            return super()._handle_publish()  # it has properties (or is malformed): the full parser
        msg = MQTTMessage(mid, bytes(packet[2:2 + ((packet[0] << 8) | packet[1])]))
        msg.dup = bool(header & 0x08)
        msg.qos = qos
        msg.retain = bool(header & 0x01)
        msg.properties = _NO_PROPERTIES
        msg.payload = bytes(packet[pos + 1:])
        msg.timestamp = time.monotonic()
        on_message = self.on_message
        if on_message is not None:
            with self._in_callback_mutex:
                try:
                    on_message(self, self._userdata, msg)
                except Exception as err:
                    self._easy_log(mqtt.MQTT_LOG_ERR, "Caught exception in on_message: %s", err)
                    if not self.suppress_exceptions:
                        raise
        if qos == 1 and not self._manual_ack:
            return self._send_puback(mid)
        return _OK

    # --- acknowledging --------------------------------------------------------------------------

    def ack_many(self, mids: Iterable[int]) -> None:
        """PUBACK (success) for QoS 1 messages, in the order given, queued as a single write."""
        blob = b"".join([_PUBACK.pack(PUBACK, 2, mid) for mid in mids])
        if blob:
            self._packet_queue(PUBACK, blob, 0, 0)



