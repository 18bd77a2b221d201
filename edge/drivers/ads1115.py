"""TI ADS1115 16-bit ADC over I2C: one single-shot conversion of one input against GND.

Config register (0x01): OS=1 starts a conversion, MUX 100+ch = AINch vs GND, PGA sets full scale,
MODE=1 single-shot, DR 100 = 128 SPS (7.8 ms), comparator off. OS reads 1 again when done; the
result is in the conversion register (0x00), big-endian two's complement. Full scale (32767 or
−32768) means the input is clipped — a wrong gain or a broken probe — and is never published.
"""

from __future__ import annotations

from edge.drivers.base import SensorError
from edge.drivers.hardware import Hardware
from edge.drivers.i2c_errors import bus_errors
from edge.drivers.options import Options

CONVERSION, CONFIG = 0x00, 0x01
PGA = {6.144: 0b000, 4.096: 0b001, 2.048: 0b010, 1.024: 0b011, 0.512: 0b100, 0.256: 0b101}
ADDRESSES = (0x48, 0x49, 0x4A, 0x4B)


def config_word(channel: int, full_scale: float) -> int:
    return (1 << 15) | ((0b100 | channel) << 12) | (PGA[full_scale] << 9) | (1 << 8) | (0b100 << 5) | 0b11


class ADS1115Input:
    def __init__(self, hw: Hardware, bus: int, address: int, channel: int, full_scale: float) -> None:
        self.hw = hw
        self.bus_number = bus
        self.address = address
        self.channel = channel
        self.full_scale = full_scale

    def volts(self) -> float:
        with bus_errors("ADS1115", self.address):
            bus = self.hw.i2c_bus(self.bus_number)
            bus.write(self.address, bytes([CONFIG]) + config_word(self.channel, self.full_scale).to_bytes(2, "big"))
            self.hw.sleep(0.009)
            for _ in range(10):
                bus.write(self.address, bytes([CONFIG]))
                if bus.read(self.address, 2)[0] & 0x80:
                    break
                self.hw.sleep(0.002)
            else:
                raise SensorError("ADS1115 conversion did not finish", "power-cycle the ADC board")
            bus.write(self.address, bytes([CONVERSION]))
            raw = int.from_bytes(bus.read(self.address, 2), "big", signed=True)
        if raw in (32767, -32768):
            raise SensorError(
                f"ADC input AIN{self.channel} clipped at full scale ({raw})",
                f"input above ±{self.full_scale} V: raise `gain`, or the probe is disconnected/shorted",
            )
        return raw * self.full_scale / 32768


def build_input(opts: Options, hw: Hardware) -> ADS1115Input:
    address = opts.i2c_address("address", 0x48, ADDRESSES)
    channel = opts.integer("channel", 0, 0, 3)
    gain = opts.number("gain", 4.096)
    if gain not in PGA:
        raise opts.error("gain", f"{gain} is not an ADS1115 full scale ({', '.join(map(str, PGA))} V)")
    return ADS1115Input(hw, opts.integer("bus", 1, 0, 31), address, channel, gain)
