"""Small valid images made in memory: a user's "photo" needs real bytes.

``make_jpeg`` writes a baseline grayscale JPEG of one flat shade (any decoder
opens it); ``make_png`` an RGB PNG with a gradient. ``image_size`` reads the
width and height back from JPEG or PNG bytes, as Telegram does for PhotoSize.
"""

from __future__ import annotations

import struct
import zlib


def make_png(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows += bytes(((x * 4 + seed * 37) % 256, (y * 5 + seed * 11) % 256, (seed * 53) % 256))

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )


class _Bits:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value: int, length: int) -> None:
        for k in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> k) & 1)
            self.n += 1
            if self.n == 8:
                self._emit()

    def _emit(self) -> None:
        self.out.append(self.acc)
        if self.acc == 0xFF:
            self.out.append(0)  # byte stuffing
        self.acc = 0
        self.n = 0

    def flush(self) -> bytes:
        while self.n:
            self.put(1, 1)  # pad with ones
        return bytes(self.out)


def make_jpeg(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """A baseline JPEG of one grey shade chosen by ``seed``."""
    shade = 40 + (seed * 67) % 176
    dc = 8 * (shade - 128)  # DCT of a flat 8x8 block, quantizer 1
    size = abs(dc).bit_length()
    first, rest = (size, 0) if size else (0, 1)

    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">HH", marker, len(body) + 2) + body

    jfif = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\x00" + b"\x01" * 64
    sof = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    counts = [0] * 16
    counts[1] = 2  # two DC codes of two bits: 00 -> first, 01 -> rest
    dht_dc = b"\x00" + bytes(counts) + bytes((first, rest))
    ac_counts = [0] * 16
    ac_counts[0] = 1  # one AC code of one bit: 0 -> end of block
    dht_ac = b"\x10" + bytes(ac_counts) + b"\x00"
    sos = b"\x01\x01\x00\x00\x3f\x00"

    bits = _Bits()
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    for k in range(blocks):
        if k == 0:
            bits.put(0b00, 2)
            if size:
                bits.put(dc if dc > 0 else (dc - 1) & ((1 << size) - 1), size)
        else:
            bits.put(0b01, 2)  # difference 0 from the previous block
        bits.put(0, 1)  # end of block
    return (
        b"\xff\xd8"
        + segment(0xFFE0, jfif)
        + segment(0xFFDB, dqt)
        + segment(0xFFC0, sof)
        + segment(0xFFC4, dht_dc)
        + segment(0xFFC4, dht_ac)
        + segment(0xFFDA, sos)
        + bits.flush()
        + b"\xff\xd9"
    )


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of JPEG or PNG bytes, or None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + length
    return None


def sniff_mime(data: bytes) -> str:
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"%PDF"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        return "application/zip"
    return "application/octet-stream"
