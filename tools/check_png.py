#!/usr/bin/env python3
"""Decode PNG files with Python's zlib, independently of our writer (src/data/png.cpp).

    python3 tools/check_png.py FILE.png [FILE.rgb]

Checks the signature, every chunk's CRC, and that IDAT inflates to rows of the declared size
with valid filters; with FILE.rgb (raw 8-bit RGB), that the pixels are exactly those. Prints
the size and the compression ratio. A manual check (the C++ tests check the pieces by hand).
"""
import struct
import sys
import zlib


def decode(path):
    png = open(path, "rb").read()
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("%s: not a PNG signature" % path)
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        n, = struct.unpack(">I", png[pos:pos + 4])
        kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(kind + data) & 0xFFFFFFFF != crc:
            sys.exit("%s: bad CRC in chunk %s" % (path, kind))
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", data[:10])
            if (depth, colour) != (8, 2):
                sys.exit("%s: expected 8-bit RGB, found depth %d colour type %d" % (path, depth, colour))
        elif kind == b"IDAT":
            idat += data
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * 3
    if len(raw) != height * (stride + 1):
        sys.exit("%s: %d inflated bytes, expected %d" % (path, len(raw), height * (stride + 1)))
    out, prev = bytearray(), bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            if f == 1:
                row[x] = (row[x] + (row[x - 3] if x >= 3 else 0)) & 255
            elif f == 2:
                row[x] = (row[x] + prev[x]) & 255
            elif f != 0:
                sys.exit("%s: row %d has filter %d (we write 0, 1, 2)" % (path, y, f))
        out += row
        prev = row
    return width, height, bytes(out), len(png)


def main():
    w, h, pixels, size = decode(sys.argv[1])
    if len(sys.argv) > 2 and open(sys.argv[2], "rb").read() != pixels:
        sys.exit("%s: the pixels differ from %s" % (sys.argv[1], sys.argv[2]))
    print("%s: %d x %d, %d bytes (%.1f%% of the raw pixels), decodes%s" %
          (sys.argv[1], w, h, size, 100.0 * size / (w * h * 3), " to the expected pixels" if len(sys.argv) > 2 else ""))


if __name__ == "__main__":
    main()
