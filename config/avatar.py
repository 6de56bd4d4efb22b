#!/usr/bin/env python3
"""Writes config/avatar.png, the bot's avatar: a white speech bubble with
three dots on a calm blue-green, 96x96, anti-aliased by 4x4 supersampling.
Deterministic (no dates in the file): run it again, get the same bytes."""
import os
import struct
import zlib

SIZE, SS = 96, 4
BG, FG = (47, 127, 134), (255, 255, 255)


def inside(x, y):
    """1 where the point (in 0..96 units) is white, else 0."""
    bx, by, rx, ry = 48.0, 44.0, 32.0, 24.0         # the bubble
    bubble = ((x - bx) / rx) ** 2 + ((y - by) / ry) ** 2 <= 1.0
    # the tail: a triangle below the bubble's left half
    tail = 60.0 <= y <= 80.0 and 28.0 <= x <= 44.0 - (y - 60.0) * 0.6 \
        and x >= 28.0 + (y - 60.0) * 0.2
    dot = any((x - cx) ** 2 + (y - 44.0) ** 2 <= 4.5 ** 2
              for cx in (34.0, 48.0, 62.0))
    return 1 if (bubble or tail) and not dot else 0


def main():
    rows = []
    for py in range(SIZE):
        row = bytearray([0])                           # filter: none
        for px in range(SIZE):
            n = sum(inside(px + (i + 0.5) / SS, py + (j + 0.5) / SS)
                    for i in range(SS) for j in range(SS))
            a = n / (SS * SS)
            row += bytes(round(b + (f - b) * a) for b, f in zip(BG, FG))
        rows.append(bytes(row))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    png = (b"\x89PNG\r\n\x1a\n" +
           chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) +
           chunk(b"IEND", b""))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "avatar.png")
    with open(out, "wb") as f:
        f.write(png)


if __name__ == "__main__":
    main()
