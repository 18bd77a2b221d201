"""Checksums of the sensor buses, exactly as the datasheets define them."""

from __future__ import annotations


def sensirion_crc8(data: bytes) -> int:
    """CRC-8, polynomial 0x31 (x^8+x^5+x^4+1), init 0xFF, no reflection (SHT3x/SHT4x; CRC(BE EF) = 0x92)."""
    crc = 0xFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def dallas_crc8(data: bytes) -> int:
    """1-Wire CRC-8 (Maxim), polynomial 0x31 reflected (0x8C), init 0: the DS18B20 scratchpad's 9th byte."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def mhz19_checksum(frame: bytes) -> int:
    """Winsen MH-Z19: 0xFF − (sum of bytes 1..7) + 1, modulo 256."""
    return (0xFF - (sum(frame[1:8]) & 0xFF) + 1) & 0xFF


def jsn_checksum(frame: bytes) -> int:
    """JSN-SR04T UART frame `FF H L SUM`: SUM is the low byte of FF + H + L."""
    return sum(frame[:3]) & 0xFF
