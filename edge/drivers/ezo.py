"""Atlas Scientific EZO pH / DO / EC circuits in I2C mode, with temperature compensation.

Protocol (EZO datasheets): write an ASCII command, wait its processing time, read; the first byte is
a response code — 1 OK, 2 syntax error, 254 still processing, 255 no data — followed by ASCII ending
in NUL. `T,<°C>` sets the compensation temperature (300 ms); `R` reads (pH 900 ms, DO and EC 600 ms).
EC answers in µS/cm (first field when several outputs are enabled) and is published in dS/m.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edge.drivers.base import SensorError
from edge.drivers.hardware import Hardware
from edge.drivers.i2c_errors import bus_errors
from edge.drivers.options import Options

OK, SYNTAX_ERROR, PENDING, NO_DATA = 1, 2, 254, 255
READ_LEN = 40
T_WAIT_S = 0.3


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    default_address: int
    read_wait_s: float
    quantities: tuple[str, ...]
    scale: float  # published value = first field × scale


KINDS = {
    "ph": Kind("EZO-pH", 0x63, 0.9, ("water_ph", "soil_ph"), 1.0),
    "do": Kind("EZO-DO", 0x61, 0.6, ("dissolved_oxygen",), 1.0),
    "ec": Kind("EZO-EC", 0x64, 0.6, ("soil_ec",), 0.001),  # µS/cm → dS/m
}


class EZO:
    def __init__(
        self, hw: Hardware, bus: int, address: int, kind: Kind, quantity: str, temp_source: str | None
    ) -> None:
        self.hw = hw
        self.bus_number = bus
        self.address = address
        self.kind = kind
        self.quantities = (quantity,)
        self.temp_source = temp_source

    def command(self, text: str, wait_s: float) -> str:
        bus = self.hw.i2c_bus(self.bus_number)
        bus.write(self.address, text.encode("ascii"))
        self.hw.sleep(wait_s)
        for _ in range(3):
            reply = bus.read(self.address, READ_LEN)
            code = reply[0] if reply else NO_DATA
            if code != PENDING:
                break
            self.hw.sleep(wait_s / 3)
        if code == OK:
            return reply[1:].split(b"\0", 1)[0].decode("ascii", "replace").strip()
        if code == PENDING:
            raise SensorError(f"{self.kind.name} still processing {text!r}", "circuit overloaded or probe disconnected")
        if code == SYNTAX_ERROR:
            raise SensorError(
                f"{self.kind.name} refused {text!r} as a syntax error", "firmware too old for this command"
            )
        raise SensorError(f"{self.kind.name} has no data (code {code})", "check the probe and its isolation board")

    def read(self, env: Mapping[str, float]) -> dict[str, float]:
        with bus_errors(self.kind.name, self.address):
            if self.temp_source and self.temp_source in env:
                self.command(f"T,{env[self.temp_source]:.1f}", T_WAIT_S)
            text = self.command("R", self.kind.read_wait_s)
        try:
            value = float(text.split(",")[0])
        except ValueError:
            raise SensorError(f"{self.kind.name} answered {text!r}, not a number") from None
        return {self.quantities[0]: round(value * self.kind.scale, 4)}

    def close(self) -> None:
        pass


def _build(kind: Kind, opts: Options, hw: Hardware) -> EZO:
    address = opts.integer("address", kind.default_address, 0x01, 0x7F)
    quantity = opts.choice("quantity", kind.quantities, kind.quantities[0])
    temp_source = opts.raw("compensate_with", "water_temp")
    if temp_source is not None and temp_source not in ("water_temp", "soil_temp", "air_temp"):
        raise opts.error("compensate_with", f"{temp_source!r} is not water_temp, soil_temp, air_temp or null")
    return EZO(hw, opts.integer("bus", 1, 0, 31), address, kind, quantity, temp_source)


def build_ph(opts: Options, hw: Hardware) -> EZO:
    return _build(KINDS["ph"], opts, hw)


def build_do(opts: Options, hw: Hardware) -> EZO:
    return _build(KINDS["do"], opts, hw)


def build_ec(opts: Options, hw: Hardware) -> EZO:
    return _build(KINDS["ec"], opts, hw)
