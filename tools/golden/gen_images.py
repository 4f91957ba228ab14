#!/usr/bin/python3
"""Golden fixtures for ConvKit.Vision.Imaging: image files and the pixels PIL decodes from them.

Run with Debian's python3-pil (and cjpeg from libjpeg-turbo-progs for restart intervals, odd
sampling factors, non-interleaved scans, RGB and arithmetic-coded JPEGs):

    /usr/bin/python3 tools/golden/gen_images.py

Writes tests/ConvKit.Vision.Tests/Fixtures/images/: each image file, its expected pixels as
<name>.pix.gz (raw 8-bit HWC bytes, gzip) and manifest.txt with one line per case:

    <file> <expect> <mode> <width> <height> <channels>

<expect> is <name>.pix.gz or, for large images, sha256:<hex digest of the raw pixels>.

<mode> is the PIL mode the pixels were converted to (L, LA, RGB, RGBA) or P for palette indices
(read with ImageFile.ReadIndexed). PNGs in every colour type, bit depth and interlace method are
written by the small encoder below (PIL cannot write Adam7 or most bit depths); it cycles through
all five filter types and splits the data over several IDAT chunks. Files listed in unsupported.txt
must raise UnsupportedImageException.
"""
import gzip
import hashlib
import io
import os
import struct
import subprocess
import zlib

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "ConvKit.Vision.Tests", "Fixtures", "images")
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    if depth == 16:
        return b"".join(struct.pack(">H", int(v)) for v in samples)
    if depth == 8:
        return bytes(int(v) for v in samples)
    per = 8 // depth
    out = bytearray((len(samples) + per - 1) // per)
    for i, v in enumerate(samples):
        out[i // per] |= int(v) << (8 - depth * (i % per + 1))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def filter_row(kind, row, prior, bpp):
    out = bytearray(len(row))
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        c = prior[i - bpp] if i >= bpp else 0
        b = prior[i]
        pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][kind]
        out[i] = (row[i] - pred) & 0xFF
    return bytes([kind]) + bytes(out)


def write_png(path, samples, color_type, depth, interlace, palette=None, trns=None, idat_size=97):
    """samples: array [H, W, S] of sample values at the bit depth."""
    h, w, s = samples.shape
    bpp = max(1, s * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = bytearray()
    n = 0
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        prior = bytes(len(pack_row(sub[0].reshape(-1), depth)))
        for row in sub:
            packed = pack_row(row.reshape(-1), depth)
            raw += filter_row(n % 5, packed, prior, bpp)
            prior = packed
            n += 1
    data = zlib.compress(bytes(raw), 9)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, interlace))
    out += chunk(b"tEXt", b"Comment\x00ConvKit golden")
    if palette is not None:
        out += chunk(b"PLTE", bytes(palette))
    if trns is not None:
        out += chunk(b"tRNS", bytes(trns))
    for i in range(0, len(data), idat_size):
        out += chunk(b"IDAT", data[i:i + idat_size])
    out += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(out)


def photo(w, h, channels, seed, maximum=255):
    """A smooth gradient with a disc and noise: photo-like content that exercises every filter."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(channels):
        base = (x / max(w - 1, 1) * (0.3 + 0.2 * c) + y / max(h - 1, 1) * (0.6 - 0.15 * c)) * 0.8
        disc = ((x - w * (0.3 + 0.1 * c)) ** 2 + (y - h * 0.5) ** 2) < (min(w, h) * 0.3) ** 2
        v = base + 0.25 * disc + rng.normal(0, 0.06, (h, w))
        planes.append(np.clip(v, 0, 1))
    return np.rint(np.stack(planes, axis=-1) * maximum).astype(np.int64)


class Fixtures:
    def __init__(self):
        os.makedirs(OUT, exist_ok=True)
        for f in os.listdir(OUT):
            os.remove(os.path.join(OUT, f))
        self.manifest = []
        self.unsupported = []

    def expect(self, file, mode, tag="", digest=False):
        im = Image.open(os.path.join(OUT, file))
        a = np.asarray(im if mode == "P" else im.convert(mode), dtype=np.uint8)
        if a.ndim == 2:
            a = a[:, :, None]
        if digest:  # large images: only the SHA-256 of the pixels, to keep the fixtures small
            name = "sha256:" + hashlib.sha256(a.tobytes()).hexdigest()
        else:
            name = os.path.splitext(file)[0] + tag + ".pix.gz"
            with gzip.GzipFile(os.path.join(OUT, name), "wb", mtime=0) as g:
                g.write(a.tobytes())
        self.manifest.append(f"{file} {name} {mode} {a.shape[1]} {a.shape[0]} {a.shape[2]}")

    def png(self, color_type, depth, interlace, w, h, seed, trns=False):
        s = SAMPLES[color_type]
        maximum = (1 << depth) - 1
        palette = trns_bytes = None
        if color_type == 3:
            entries = min(256, 1 << depth) - (1 if depth == 8 else 0)  # a short palette for 8-bit
            samples = np.random.RandomState(seed).randint(0, entries, (h, w, 1))
            palette = np.random.RandomState(seed + 1).randint(0, 256, entries * 3).astype(np.uint8)
            if trns:
                trns_bytes = np.random.RandomState(seed + 2).randint(0, 256, max(1, entries // 2)).astype(np.uint8)
        else:
            if depth == 16 and color_type == 0:
                maximum = 600  # PIL clamps 16-bit grey to 255: keep values on both sides
            samples = photo(w, h, s, seed, maximum)
            if trns:
                trns_bytes = struct.pack(">" + "H" * (1 if color_type == 0 else 3), *([3] * (1 if color_type == 0 else 3)))
        name = f"png_c{color_type}_d{depth}_{'adam7' if interlace else 'plain'}_{w}x{h}{'_trns' if trns else ''}.png"
        write_png(os.path.join(OUT, name), samples, color_type, depth, interlace, palette, trns_bytes)
        mode = {0: "L", 2: "RGB", 4: "LA", 6: "RGBA"}.get(color_type)
        if color_type == 3:
            mode = "RGBA" if trns else "RGB"
        self.expect(name, mode)
        if color_type == 3:
            self.expect(name, "P", ".idx")

    def pil_jpeg(self, name, arr, digest=False, **options):
        Image.fromarray(arr).save(os.path.join(OUT, name), "JPEG", **options)
        self.expect(name, "L" if arr.ndim == 2 else "RGB", digest=digest)

    def cjpeg(self, name, arr, *args, expect=True, digest=False):
        ppm = os.path.join(OUT, "input.pnm")
        Image.fromarray(arr).save(ppm)
        subprocess.run(["cjpeg", *args, "-outfile", os.path.join(OUT, name), ppm], check=True)
        os.remove(ppm)
        if expect:
            self.expect(name, "L" if arr.ndim == 2 else "RGB", digest=digest)
        else:
            self.unsupported.append(name)

    def write_lists(self):
        with open(os.path.join(OUT, "manifest.txt"), "w") as f:
            f.write("\n".join(self.manifest) + "\n")
        with open(os.path.join(OUT, "unsupported.txt"), "w") as f:
            f.write("\n".join(self.unsupported) + "\n")


def main():
    fx = Fixtures()
    depths = {0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]}
    seed = 1
    for color_type, ds in depths.items():
        for depth in ds:
            for interlace in (0, 1):
                w, h = (13, 9) if interlace == 0 else (17, 11)
                fx.png(color_type, depth, interlace, w, h, seed)
                seed += 1
    fx.png(3, 2, 1, 13, 9, 90, trns=True)
    fx.png(3, 8, 0, 17, 11, 91, trns=True)
    fx.png(0, 8, 0, 13, 9, 92, trns=True)
    fx.png(2, 16, 1, 13, 9, 93, trns=True)
    for w, h in [(1, 1), (3, 2), (5, 9)]:
        fx.png(2, 8, 1, w, h, 100 + w)
        fx.png(0, 1, 1, w, h, 110 + w)
    fx.png(6, 8, 1, 64, 48, 120)
    # indices beyond a short palette: PIL shows index i as (i, i, i)
    short = np.random.RandomState(130).randint(0, 16, (9, 13, 1))
    write_png(os.path.join(OUT, "png_c3_d4_short_palette.png"), short, 3, 4, 0, palette=list(range(30, 60)), trns=[7, 9])
    fx.expect("png_c3_d4_short_palette.png", "RGBA")
    fx.expect("png_c3_d4_short_palette.png", "P", ".idx")

    # PIL's own encoder: a photo and a VOC-style mask with the 256-entry colour map
    big = photo(64, 48, 3, 7).astype(np.uint8)
    Image.fromarray(big).save(os.path.join(OUT, "pil_rgb_64x48.png"), optimize=True)
    fx.expect("pil_rgb_64x48.png", "RGB")
    mask = np.zeros((11, 17), np.uint8)
    mask[2:8, 3:9] = 1
    mask[5:10, 7:15] = 15
    mask[0, :] = 255
    voc = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        voc += [r, g, b]
    m = Image.fromarray(mask, "P")
    m.putpalette(voc)
    m.save(os.path.join(OUT, "voc_mask_17x11.png"))
    fx.expect("voc_mask_17x11.png", "P", ".idx")
    fx.expect("voc_mask_17x11.png", "RGB")

    # JPEG from PIL: chroma subsampling, qualities, odd sizes not multiples of the MCU, grey
    for (w, h), q, sub in [((13, 9), 75, 0), ((17, 11), 75, 1), ((17, 11), 75, 2), ((64, 48), 90, 2),
                           ((64, 48), 50, 1), ((33, 17), 95, 0), ((3, 2), 80, 2), ((2, 5), 80, 1), ((1, 1), 80, 2),
                           ((64, 48), 100, 2), ((31, 23), 30, 2)]:
        fx.pil_jpeg(f"jpeg_pil_{w}x{h}_q{q}_s{sub}.jpg", photo(w, h, 3, w * h + q).astype(np.uint8), quality=q, subsampling=sub)
    for (w, h), q in [((13, 9), 75), ((64, 48), 85), ((1, 1), 60)]:
        fx.pil_jpeg(f"jpeg_pil_grey_{w}x{h}_q{q}.jpg", photo(w, h, 1, q)[:, :, 0].astype(np.uint8), quality=q)
    fx.pil_jpeg("jpeg_pil_optimized_33x21.jpg", photo(33, 21, 3, 5).astype(np.uint8), quality=85, optimize=True)

    # larger JPEGs, many blocks per image; compared by pixel digest
    for (w, h), q, sub in [((320, 240), 90, 2), ((250, 187), 75, 1), ((199, 131), 95, 0)]:
        fx.pil_jpeg(f"jpeg_pil_large_{w}x{h}_q{q}_s{sub}.jpg", photo(w, h, 3, q).astype(np.uint8), digest=True, quality=q, subsampling=sub)
    fx.cjpeg("jpeg_cjpeg_large_restart_420.jpg", photo(203, 157, 3, 3).astype(np.uint8), "-restart", "5B", "-quality", "80", digest=True)
    fx.pil_jpeg("jpeg_pil_large_grey_211x99.jpg", photo(211, 99, 1, 4)[:, :, 0].astype(np.uint8), digest=True, quality=70)

    # JPEG from cjpeg: restart intervals, other sampling factors, non-interleaved scans, RGB (Adobe)
    img = photo(37, 21, 3, 11).astype(np.uint8)
    fx.cjpeg("jpeg_cjpeg_restart1_420.jpg", img, "-restart", "1B", "-sample", "2x2,1x1,1x1")
    fx.cjpeg("jpeg_cjpeg_restart3_444.jpg", img, "-restart", "3B", "-sample", "1x1,1x1,1x1")
    fx.cjpeg("jpeg_cjpeg_restartrow_422.jpg", img, "-restart", "1", "-sample", "2x1,1x1,1x1", "-quality", "60")
    fx.cjpeg("jpeg_cjpeg_440.jpg", img, "-sample", "1x2,1x1,1x1")
    fx.cjpeg("jpeg_cjpeg_411.jpg", img, "-sample", "4x1,1x1,1x1")
    fx.cjpeg("jpeg_cjpeg_2x4.jpg", img, "-sample", "2x4,1x1,1x1")
    fx.cjpeg("jpeg_cjpeg_mixed_2x2_1x2_1x1.jpg", img, "-sample", "2x2,1x2,1x1")
    fx.cjpeg("jpeg_cjpeg_chroma2x2_luma1x1_wide.jpg", photo(41, 19, 3, 12).astype(np.uint8), "-sample", "2x2,2x2,1x1", "-quality", "92")
    fx.cjpeg("jpeg_cjpeg_rgb.jpg", img, "-rgb", "-quality", "90")
    fx.cjpeg("jpeg_cjpeg_grey_2x2.jpg", img[:, :, 0].copy(), "-grayscale", "-sample", "2x2", "-restart", "2B")
    fx.cjpeg("jpeg_cjpeg_optimize_q100.jpg", img, "-optimize", "-quality", "100")
    scans = os.path.join(OUT, "scans.txt")
    with open(scans, "w") as f:
        f.write("0;\n2;\n1;\n")
    fx.cjpeg("jpeg_cjpeg_noninterleaved_420.jpg", photo(29, 19, 3, 13).astype(np.uint8), "-scans", scans, "-restart", "2B")
    os.remove(scans)
    fx.cjpeg("jpeg_cjpeg_progressive.jpg", img, "-progressive", expect=False)
    fx.cjpeg("jpeg_cjpeg_arithmetic.jpg", img, "-arithmetic", expect=False)
    Image.fromarray(img).save(os.path.join(OUT, "jpeg_pil_progressive.jpg"), "JPEG", progressive=True)
    fx.unsupported.append("jpeg_pil_progressive.jpg")
    Image.fromarray(img).convert("CMYK").save(os.path.join(OUT, "jpeg_pil_cmyk.jpg"), "JPEG")
    fx.unsupported.append("jpeg_pil_cmyk.jpg")
    fx.write_lists()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(fx.manifest)} golden cases, {len(fx.unsupported)} unsupported files, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
