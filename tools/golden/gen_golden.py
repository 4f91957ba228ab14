#!/usr/bin/python3
"""Generate ConvKit's PyTorch golden fixtures.

Run with Debian's interpreter and python3-torch (never a venv python):

    /usr/bin/python3 tools/golden/gen_golden.py            # all families
    /usr/bin/python3 tools/golden/gen_golden.py conv2d pad # only these families
    /usr/bin/python3 tools/golden/gen_golden.py --prng     # PRNG self-check only

Writes tests/ConvKit.Tests/Fixtures/golden/<family>.json.gz (relative to the repo root, found
from this file's location). The format and the shared input PRNG (splitmix64) are described in
tools/golden/FORMAT.md. The script is deterministic: every family draws its configurations from
its own random.Random(fixed seed), input seeds come from a per-family counter, PyTorch runs
single-threaded in float32 and the gzip header carries no timestamp or file name, so re-running
it rewrites byte-identical files.
"""

import collections
import gzip
import io
import json
import math
import random
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

REPO_ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = REPO_ROOT / "tests" / "ConvKit.Tests" / "Fixtures" / "golden"

torch.set_num_threads(1)
torch.manual_seed(0)  # unused (inputs come from the shared PRNG), but keeps torch deterministic
warnings.filterwarnings("ignore")

# --------------------------------------------------------------------------------------------
# Shared PRNG (FORMAT.md): splitmix64, top 24 bits -> double in [0,1) -> lo + (hi-lo)*u -> f32
# --------------------------------------------------------------------------------------------
MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB


def prng_reference(count, seed, lo=-1.0, hi=1.0):
    """Straight transcription of FORMAT.md in pure Python (used to check prng())."""
    state = seed & MASK64
    out = []
    for _ in range(count):
        state = (state + GOLDEN_GAMMA) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * MIX1) & MASK64
        z = ((z ^ (z >> 27)) * MIX2) & MASK64
        z = z ^ (z >> 31)
        u = (z >> 40) / 16777216.0
        out.append(np.float32(lo + (hi - lo) * u))
    return np.array(out, dtype=np.float32)


def prng(count, seed, lo=-1.0, hi=1.0):
    """Vectorised splitmix64 (uint64 numpy arrays wrap modulo 2^64 silently)."""
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    i = np.arange(1, count + 1, dtype=np.uint64)
    state = i * np.uint64(GOLDEN_GAMMA) + np.uint64(seed & MASK64)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float64) / 16777216.0
    return (float(lo) + (float(hi) - float(lo)) * u).astype(np.float32)


def prng_self_check(verbose=True):
    for seed, n, lo, hi in [(42, 64, -1.0, 1.0), (0, 17, 0.5, 2.0), (1701, 33, -8.0, 8.0),
                            (2 ** 63 + 12345, 9, -1.0, 1.0), (MASK64, 5, -3.0, 3.0)]:
        a, b = prng(n, seed, lo, hi), prng_reference(n, seed, lo, hi)
        assert a.tobytes() == b.tobytes(), f"vectorised PRNG disagrees with reference for seed {seed}"
    if verbose:
        v = prng(5, 42)
        print("PRNG seed 42, lo -1, hi 1, first 5 values:")
        for x in v:
            print(f"  {str(x):>12}  0x{x.view(np.uint32):08X}")


# --------------------------------------------------------------------------------------------
# JSON writing: float32 data as shortest round-trip repr, compact
# --------------------------------------------------------------------------------------------
class F32Data:
    """Marker for a float32 array that is written as a JSON list of shortest float32 reprs."""
    __slots__ = ("a",)

    def __init__(self, a):
        self.a = np.ascontiguousarray(a, dtype=np.float32).reshape(-1)


def _fmt_f32(a):
    strs = [str(v) for v in a]  # numpy >= 1.14: shortest repr that round-trips to this float32
    back = np.array([float(s) for s in strs], dtype=np.float64).astype(np.float32)
    # float(s) is a double; rounding it to float32 must give the original bits back
    assert back.tobytes() == a.tobytes(), "float32 repr does not round-trip"
    return "[" + ",".join(strs) + "]"


def to_json(o, parts):
    if isinstance(o, F32Data):
        parts.append(_fmt_f32(o.a))
    elif o is None or isinstance(o, (bool, str)):
        parts.append(json.dumps(o))
    elif isinstance(o, int):
        parts.append(str(int(o)))
    elif isinstance(o, float):
        assert math.isfinite(o)
        parts.append(repr(float(o)))
    elif isinstance(o, dict):
        parts.append("{")
        first = True
        for k, v in o.items():
            if not first:
                parts.append(",")
            first = False
            parts.append(json.dumps(k))
            parts.append(":")
            to_json(v, parts)
        parts.append("}")
    elif isinstance(o, (list, tuple)):
        parts.append("[")
        for i, v in enumerate(o):
            if i:
                parts.append(",")
            to_json(v, parts)
        parts.append("]")
    else:
        raise TypeError(f"cannot serialise {type(o)}")


# --------------------------------------------------------------------------------------------
# Case machinery
# --------------------------------------------------------------------------------------------
class Spec:
    """A seeded input tensor to create: shape, PRNG range, grad flag and tie-avoidance."""

    def __init__(self, shape, lo=-1.0, hi=1.0, grad=True, distinct=False, avoid=()):
        self.shape = [int(s) for s in shape]
        self.lo, self.hi, self.grad = float(lo), float(hi), grad
        self.distinct, self.avoid = distinct, tuple(avoid)


def S(*shape, **kw):
    return Spec(shape, **kw)


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


class Family:
    def __init__(self, name, index):
        self.name = name
        self.rng = random.Random(0xC0FFEE + 7919 * index)
        self.next_seed = (index + 1) * 1_000_000
        self.cases = []
        self.stats = collections.Counter()
        self.dropped = collections.Counter()

    def seed(self):
        self.next_seed += 1
        return self.next_seed

    def _materialise(self, spec):
        """Pick the next seed whose data satisfies the spec's tie-avoidance constraints."""
        for _ in range(1000):
            s = self.seed()
            data = prng(numel(spec.shape), s, spec.lo, spec.hi)
            if spec.distinct and np.unique(data).size != data.size:
                continue
            if spec.avoid and np.isin(data, np.array(spec.avoid, dtype=np.float32)).any():
                continue
            return s, data
        raise RuntimeError("could not satisfy input constraints")

    def add(self, op, args, inputs, fn, expect_error=False, reject=None):
        """Run one case; returns True when a case was recorded.

        inputs: dict name -> Spec | None | list[Spec]. fn(tensors: dict, args) -> Tensor or tuple.
        reject(datas) -> bool lets the caller resample inputs (e.g. to avoid cross-tensor ties).
        """
        for _attempt in range(50):
            specs_json, tensors, datas, grad_targets = {}, {}, {}, []
            for name, sp in inputs.items():
                if sp is None:
                    specs_json[name] = None
                    tensors[name] = None
                    continue
                lst = sp if isinstance(sp, list) else [sp]
                js, ts = [], []
                for j, one in enumerate(lst):
                    seed, data = self._materialise(one)
                    d = {"shape": one.shape, "seed": seed}
                    if one.lo != -1.0 or one.hi != 1.0:
                        d["lo"], d["hi"] = one.lo, one.hi
                    js.append(d)
                    t = torch.from_numpy(data.reshape(one.shape).copy())
                    if one.grad and not expect_error:
                        t.requires_grad_(True)
                        grad_targets.append((name, j if isinstance(sp, list) else None, t))
                    ts.append(t)
                    datas[(name, j)] = data.reshape(one.shape)
                specs_json[name] = js if isinstance(sp, list) else js[0]
                tensors[name] = ts if isinstance(sp, list) else ts[0]
            if reject is None or not reject(datas):
                break
        else:
            raise RuntimeError("reject() never satisfied")

        case = {"id": f"{self.name}/{len(self.cases)}", "op": op, "args": args, "inputs": specs_json}
        try:
            with torch.no_grad() if expect_error else _nullctx():
                res = fn(tensors, args)
        except Exception as e:  # noqa: BLE001 - PyTorch raises RuntimeError/ValueError/IndexError/...
            if not expect_error:
                self.dropped[f"{op}: unexpected error: {first_line(e)}"] += 1
                return False
            case["error"] = first_line(e)
            self.cases.append(case)
            self.stats[(op, "error")] += 1
            return True
        if expect_error:
            self.dropped[f"{op}: expected error not raised"] += 1
            return False

        outs = list(res) if isinstance(res, (tuple, list)) else [res]
        out_json, seeds, diff_outs, gouts = [], [], [], []
        for o in outs:
            if o.is_floating_point():
                arr = o.detach().contiguous().numpy()
                if not np.isfinite(arr).all():
                    self.dropped[f"{op}: non-finite output"] += 1
                    return False
                out_json.append({"shape": list(o.shape), "data": F32Data(arr)})
                if o.requires_grad:
                    s = self.seed()
                    seeds.append(s)
                    diff_outs.append(o)
                    gouts.append(torch.from_numpy(prng(o.numel(), s).reshape(tuple(o.shape)).copy()))
                else:
                    seeds.append(None)
            else:
                out_json.append({"shape": list(o.shape), "ints": [int(v) for v in o.reshape(-1).tolist()]})
                seeds.append(None)
        case["outputs"] = out_json
        case["grad_output_seeds"] = seeds
        if diff_outs and grad_targets:
            gs = torch.autograd.grad(diff_outs, [t for _, _, t in grad_targets], grad_outputs=gouts,
                                     allow_unused=True)
            grads = {}
            for (name, j, t), g in zip(grad_targets, gs):
                if g is None:
                    g = torch.zeros_like(t)
                ga = g.detach().contiguous().numpy()
                assert np.isfinite(ga).all(), f"non-finite gradient in {case['id']}"
                gj = {"shape": list(t.shape), "data": F32Data(ga)}
                if j is None:
                    grads[name] = gj
                else:
                    grads.setdefault(name, []).append(gj)
            case["grads"] = grads
        case["error"] = None
        self.cases.append(case)
        self.stats[(op, "ok")] += 1
        return True

    def write(self):
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        parts = []
        to_json({"family": self.name, "torch": torch.__version__, "cases": self.cases}, parts)
        text = "".join(parts).encode("utf-8")
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
            gz.write(text)
        path = OUT_DIR / f"{self.name}.json.gz"
        path.write_bytes(buf.getvalue())
        return path, len(text), len(buf.getvalue())


class _nullctx:
    def __enter__(self):
        return None

    def __exit__(self, *a):
        return False


def first_line(e):
    for line in str(e).splitlines():
        if line.strip():
            return line.strip()
    return type(e).__name__


def fill(fam, target, valid, errors, err_frac):
    """Call valid(fam, rng) / a random errors[i](fam, rng) until `target` cases were recorded."""
    rng = fam.rng
    start = len(fam.cases)
    guard = 0
    while len(fam.cases) - start < target:
        guard += 1
        assert guard < target * 50, f"{fam.name}: too many dropped cases"
        if errors and rng.random() < err_frac:
            rng.choice(errors)(fam, rng)
        else:
            valid(fam, rng)


def pi(rng, a, b, p_int=0.5):
    """int when both values are equal (with probability p_int), else a 2-list."""
    if a == b and rng.random() < p_int:
        return a
    return [a, b]


def pair(v):
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def spatial_batched(rng, p_batched=0.75):
    return rng.random() < p_batched


# --------------------------------------------------------------------------------------------
# 1. conv2d (+ conv2d_padmode)
# --------------------------------------------------------------------------------------------
def conv_groups(rng, max_c=6):
    kind = rng.choice(["1", "1", "1", "g", "g", "dw"])
    if kind == "1":
        return 1, rng.randint(1, max_c), rng.randint(1, max_c)
    if kind == "g":
        g = rng.choice([2, 2, 3, 4])
        return g, g * rng.randint(1, 2), g * rng.randint(1, 2)
    cin = rng.randint(1, max_c)
    return cin, cin, cin * rng.choice([1, 1, 2])


def pick_dil(rng, k, max_eff=9):
    d = rng.choice([1, 1, 1, 1, 2, 2, 3])
    while d > 1 and d * (k - 1) + 1 > max_eff:
        d -= 1
    return d


def conv2d_cfg(rng, pmode=None):
    g, cin, cout = conv_groups(rng)
    kh, kw = rng.randint(1, 5), rng.randint(1, 5)
    dh, dw = pick_dil(rng, kh), pick_dil(rng, kw)
    if pmode is None:
        pmode = rng.choices(["int", "pair", "same", "valid"], weights=[35, 25, 25, 15])[0]
    if pmode == "same":
        sh = sw = 1
        # bias towards even kernels / dilation so the asymmetric 'same' split shows up
        if rng.random() < 0.5:
            kh = rng.choice([2, 4])
        if rng.random() < 0.3:
            dh = dw = 2
            kh, kw = min(kh, 4), min(kw, 4)
        padding = "same"
        ph = pw = 0
        stride = rng.choice([1, [1, 1]])
    else:
        sh, sw = rng.choice([1, 1, 2, 3]), rng.choice([1, 1, 2, 3])
        stride = pi(rng, sh, sw)
        if pmode == "valid":
            ph = pw = 0
            padding = "valid"
        else:
            ph, pw = rng.choice([0, 0, 1, 1, 2, 3]), rng.choice([0, 0, 1, 1, 2, 3])
            if pmode == "int":
                pw = ph
                padding = ph
            else:
                padding = [ph, pw]
    effh, effw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    minh, minw = max(1, effh - 2 * ph), max(1, effw - 2 * pw)
    H = rng.randint(minh, min(10, minh + 6))
    W = rng.randint(minw, min(10, minw + 6))
    batched = spatial_batched(rng)
    N = rng.choice([1, 1, 2, 3])
    ishape = [N, cin, H, W] if batched else [cin, H, W]
    return dict(ishape=ishape, wshape=[cout, cin // g, kh, kw], bias=rng.random() < 0.7, cout=cout,
                args={"stride": stride, "padding": padding, "dilation": pi(rng, dh, dw), "groups": g})


def conv2d_run(fam, c, expect_error=False):
    inputs = {"input": Spec(c["ishape"]), "weight": Spec(c["wshape"]),
              "bias": Spec(c.get("bshape", [c["cout"]])) if c["bias"] else None}
    return fam.add("conv2d", c["args"], inputs,
                   lambda T, a: F.conv2d(T["input"], T["weight"], T["bias"], **a), expect_error)


def conv2d_valid(fam, rng):
    conv2d_run(fam, conv2d_cfg(rng))


def conv2d_err(kind):
    def f(fam, rng):
        c = conv2d_cfg(rng, pmode="int" if kind in ("kernel_big", "neg_pad") else None)
        a = c["args"]
        if kind == "rank2":
            c["ishape"] = c["ishape"][-2:]
        elif kind == "rank5":
            c["ishape"] = [1, 1] + c["ishape"][-3:]
        elif kind == "channels":
            c["ishape"][-3] += a["groups"] if rng.random() < 0.5 else 1
        elif kind == "out_not_div_groups":
            g = rng.choice([2, 3])
            cin = g * rng.randint(1, 2)
            a["groups"] = g
            c["ishape"][-3] = cin
            c["wshape"] = [g * rng.randint(1, 2) + 1, cin // g] + c["wshape"][2:]
            c["cout"] = c["wshape"][0]
        elif kind == "in_not_div_groups":
            g = rng.choice([2, 3])
            a["groups"] = g
            c["ishape"][-3] = g + 1
            c["wshape"] = [g, 1] + c["wshape"][2:]
            c["cout"] = g
        elif kind == "kernel_big":
            kh = rng.randint(2, 5)
            c["wshape"][2] = kh
            a["padding"] = 0
            a["dilation"] = 1
            c["ishape"][-2] = rng.randint(1, kh - 1)
        elif kind == "stride":
            a["stride"] = rng.choice([0, -1, [1, 0], [0, 2], [-2, 1]])
            if a["padding"] == "same":
                a["padding"] = 1
        elif kind == "neg_pad":
            a["padding"] = rng.choice([-1, [0, -1], [-2, 1]])
        elif kind == "same_strided":
            a["padding"] = "same"
            a["stride"] = rng.choice([2, [1, 2], [3, 1]])
        elif kind == "dilation":
            a["dilation"] = rng.choice([0, [1, 0], -1])
        elif kind == "groups0":
            a["groups"] = 0
        elif kind == "bias_size":
            c["bias"] = True
            c["bshape"] = [c["cout"] + 1]
        elif kind == "weight_rank":
            c["wshape"] = c["wshape"][:3]
        conv2d_run(fam, c, expect_error=True)
    return f


CONV2D_ERRORS = [conv2d_err(k) for k in
                 ["rank2", "rank5", "channels", "channels", "out_not_div_groups", "in_not_div_groups",
                  "kernel_big", "kernel_big", "stride", "neg_pad", "same_strided", "same_strided",
                  "dilation", "groups0", "bias_size", "weight_rank"]]


def conv2d_padmode_valid(fam, rng):
    mode = rng.choice(["reflect", "replicate", "circular"])
    g, cin, cout = conv_groups(rng)
    kh, kw = rng.randint(1, 5), rng.randint(1, 5)
    dh, dw = pick_dil(rng, kh, 7), pick_dil(rng, kw, 7)
    ph, pw = rng.choice([0, 1, 1, 2, 2, 3]), rng.choice([0, 1, 1, 2, 2, 3])
    if rng.random() < 0.4:
        pw = ph
    sh, sw = rng.choice([1, 1, 2, 3]), rng.choice([1, 1, 2, 3])
    effh, effw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    # reflect needs pad < dim; circular needs pad <= dim; padded input must hold the kernel
    minh = max(ph + 1, effh - 2 * ph, 1)
    minw = max(pw + 1, effw - 2 * pw, 1)
    H, W = rng.randint(minh, min(10, minh + 5)), rng.randint(minw, min(10, minw + 5))
    N = rng.choice([1, 1, 2])
    args = {"stride": pi(rng, sh, sw), "padding": ph if ph == pw and rng.random() < 0.6 else [ph, pw],
            "dilation": pi(rng, dh, dw), "groups": g, "padding_mode": mode}
    inputs = {"input": S(N, cin, H, W), "weight": S(cout, cin // g, kh, kw),
              "bias": S(cout) if rng.random() < 0.7 else None}

    def fn(T, a):
        p_h, p_w = pair(a["padding"])
        x = F.pad(T["input"], (p_w, p_w, p_h, p_h), mode=a["padding_mode"])
        return F.conv2d(x, T["weight"], T["bias"], a["stride"], 0, a["dilation"], a["groups"])
    fam.add("conv2d_padmode", args, inputs, fn)


def gen_conv2d(fam):
    fill(fam, 400, conv2d_valid, CONV2D_ERRORS, 0.10)
    fill(fam, 60, conv2d_padmode_valid, [], 0)


# --------------------------------------------------------------------------------------------
# 2. conv_transpose2d
# --------------------------------------------------------------------------------------------
def convt_cfg(rng):
    g, cin, cout = conv_groups(rng, max_c=5)
    style = rng.choices(["random", "k_eq_s", "fcn"], weights=[80, 10, 10])[0]
    if style == "k_eq_s":
        sh = sw = rng.choice([2, 2, 3])
        kh, kw = sh, sw
        dh = dw = 1
        ph = pw = 0
        oph = opw = 0
    elif style == "fcn":
        kh = kw = 4
        sh = sw = 2
        ph = pw = 1
        dh = dw = 1
        oph = opw = rng.choice([0, 0, 1])
    else:
        kh, kw = rng.randint(1, 5), rng.randint(1, 5)
        sh, sw = rng.choice([1, 1, 2, 2, 3]), rng.choice([1, 1, 2, 3])
        dh, dw = pick_dil(rng, kh, 9), pick_dil(rng, kw, 9)
        ph, pw = rng.choice([0, 0, 1, 1, 2, 3]), rng.choice([0, 0, 1, 2])
        # output_padding must be < stride or < dilation (per dim), i.e. < max(stride, dilation)
        oph = rng.randint(0, max(sh, dh) - 1) if rng.random() < 0.5 else 0
        opw = rng.randint(0, max(sw, dw) - 1) if rng.random() < 0.5 else 0
    H, W = rng.randint(1, 6), rng.randint(1, 6)
    # keep the output size positive: (H-1)*s - 2p + d(k-1) + op + 1 >= 1
    while (H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1 < 1:
        H += 1
    while (W - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1 < 1:
        W += 1
    batched = spatial_batched(rng)
    N = rng.choice([1, 1, 2, 3])
    ishape = [N, cin, H, W] if batched else [cin, H, W]
    args = {"stride": pi(rng, sh, sw), "padding": pi(rng, ph, pw), "output_padding": pi(rng, oph, opw),
            "groups": g, "dilation": pi(rng, dh, dw)}
    return dict(ishape=ishape, wshape=[cin, cout // g, kh, kw], cout=cout, bias=rng.random() < 0.7,
                args=args, H=H, W=W)


def convt_run(fam, c, expect_error=False):
    inputs = {"input": Spec(c["ishape"]), "weight": Spec(c["wshape"]),
              "bias": Spec([c["cout"]]) if c["bias"] else None}
    return fam.add("conv_transpose2d", c["args"], inputs,
                   lambda T, a: F.conv_transpose2d(T["input"], T["weight"], T["bias"], **a), expect_error)


def convt_valid(fam, rng):
    convt_run(fam, convt_cfg(rng))


def convt_err(kind):
    def f(fam, rng):
        c = convt_cfg(rng)
        a = c["args"]
        if kind == "output_padding":
            sh, sw = pair(a["stride"])
            dh, dw = pair(a["dilation"])
            if rng.random() < 0.5:
                a["output_padding"] = [max(sh, dh), 0]
            else:
                a["output_padding"] = max(sh, dh, sw, dw) + rng.randint(0, 1)
        elif kind == "channels":
            c["ishape"][-3] += 1
        elif kind == "groups":
            g = rng.choice([2, 3])
            a["groups"] = g
            cin = g * rng.randint(1, 2) + 1
            c["ishape"][-3] = cin
            c["wshape"] = [cin, 1] + c["wshape"][2:]
        elif kind == "neg_pad":
            a["padding"] = rng.choice([-1, [0, -1]])
        elif kind == "stride":
            a["stride"] = rng.choice([0, [1, 0], -1])
            a["output_padding"] = 0
        elif kind == "rank":
            c["ishape"] = c["ishape"][-2:] if rng.random() < 0.5 else [1, 1] + c["ishape"][-3:]
        elif kind == "too_small":
            a["stride"] = 1
            a["dilation"] = 1
            a["output_padding"] = 0
            c["wshape"][2] = 1
            c["ishape"][-2] = 1
            a["padding"] = [rng.randint(1, 2), 0]
        convt_run(fam, c, expect_error=True)
    return f


CONVT_ERRORS = [convt_err(k) for k in ["output_padding", "output_padding", "output_padding", "channels",
                                        "groups", "neg_pad", "stride", "rank", "too_small"]]


def gen_conv_transpose2d(fam):
    fill(fam, 300, convt_valid, CONVT_ERRORS, 0.10)


# --------------------------------------------------------------------------------------------
# 3. pool
# --------------------------------------------------------------------------------------------
def pool_out(H, k, s, p, d, ceil):
    """PyTorch's pooling_output_shape (floor division rounds towards -inf like div_rtn)."""
    num = H + 2 * p - d * (k - 1) - 1
    o = (num + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= H + p:
        o -= 1
    return o


def pool_input_shape(rng, C=None):
    C = C or rng.randint(1, 4)
    if spatial_batched(rng):
        return [rng.choice([1, 1, 2]), C]
    return [C]


def max_pool_cfg(rng):
    kh, kw = rng.randint(1, 4), rng.randint(1, 4)
    if rng.random() < 0.4:
        kw = kh
    has_stride = rng.random() < 0.7
    sh, sw = (rng.choice([1, 1, 2, 2, 3]), rng.choice([1, 1, 2, 2, 3])) if has_stride else (kh, kw)
    ph, pw = rng.randint(0, kh // 2), rng.randint(0, kw // 2)
    dh, dw = rng.choice([1, 1, 1, 2, 3]), rng.choice([1, 1, 1, 2])
    ceil = rng.random() < 0.4
    while True:
        H, W = rng.randint(1, 10), rng.randint(1, 10)
        if pool_out(H, kh, sh, ph, dh, ceil) >= 1 and pool_out(W, kw, sw, pw, dw, ceil) >= 1:
            break
    args = {"kernel_size": pi(rng, kh, kw)}
    if has_stride:
        args["stride"] = pi(rng, sh, sw)
    args["padding"] = pi(rng, ph, pw)
    args["dilation"] = pi(rng, dh, dw)
    args["ceil_mode"] = ceil
    args["return_indices"] = rng.random() < 0.5
    return pool_input_shape(rng) + [H, W], args


def max_pool_run(fam, shape, args, expect_error=False):
    return fam.add("max_pool2d", args, {"input": Spec(shape, distinct=True)},
                   lambda T, a: F.max_pool2d(T["input"], **a), expect_error)


def max_pool_valid(fam, rng):
    max_pool_run(fam, *max_pool_cfg(rng))


def max_pool_err(kind):
    def f(fam, rng):
        shape, a = max_pool_cfg(rng)
        if kind == "pad":
            kh, kw = pair(a["kernel_size"])
            a["padding"] = [kh // 2 + 1, 0] if rng.random() < 0.5 else kw // 2 + 1 + (kw == 1)
        elif kind == "too_small":
            a["kernel_size"] = rng.randint(4, 6)
            a["padding"] = 0
            a["dilation"] = 1
            a["ceil_mode"] = False
            shape[-2] = rng.randint(1, 3)
        elif kind == "stride0":
            a["stride"] = rng.choice([0, [1, 0]])
        elif kind == "kernel0":
            a["kernel_size"] = rng.choice([0, [2, 0]])
            a["padding"] = 0
        elif kind == "dilation0":
            a["dilation"] = 0
        elif kind == "rank":
            shape = shape[-2:] if rng.random() < 0.5 else [1, 1] + shape[-3:]
        max_pool_run(fam, shape, a, expect_error=True)
    return f


def avg_pool_cfg(rng):
    kh, kw = rng.randint(1, 4), rng.randint(1, 4)
    if rng.random() < 0.4:
        kw = kh
    has_stride = rng.random() < 0.7
    sh, sw = (rng.choice([1, 1, 2, 2, 3]), rng.choice([1, 1, 2, 2, 3])) if has_stride else (kh, kw)
    ph, pw = rng.randint(0, kh // 2), rng.randint(0, kw // 2)
    ceil = rng.random() < 0.4
    while True:
        H, W = rng.randint(1, 10), rng.randint(1, 10)
        if pool_out(H, kh, sh, ph, 1, ceil) >= 1 and pool_out(W, kw, sw, pw, 1, ceil) >= 1:
            break
    args = {"kernel_size": pi(rng, kh, kw)}
    if has_stride:
        args["stride"] = pi(rng, sh, sw)
    args["padding"] = pi(rng, ph, pw)
    args["ceil_mode"] = ceil
    args["count_include_pad"] = rng.random() < 0.5
    args["divisor_override"] = rng.choice([1, 2, 3, 5, 7]) if rng.random() < 0.2 else None
    return pool_input_shape(rng) + [H, W], args


def avg_pool_run(fam, shape, args, expect_error=False):
    return fam.add("avg_pool2d", args, {"input": Spec(shape)},
                   lambda T, a: F.avg_pool2d(T["input"], **a), expect_error)


def avg_pool_valid(fam, rng):
    avg_pool_run(fam, *avg_pool_cfg(rng))


def avg_pool_err(kind):
    def f(fam, rng):
        shape, a = avg_pool_cfg(rng)
        if kind == "pad":
            kh, kw = pair(a["kernel_size"])
            a["padding"] = [kh // 2 + 1, kw // 2]
        elif kind == "divisor0":
            a["divisor_override"] = 0
        elif kind == "too_small":
            a["kernel_size"] = rng.randint(4, 6)
            a["padding"] = 0
            a["ceil_mode"] = False  # with ceil_mode a window may start inside and overhang
            shape[-1] = rng.randint(1, 3)
        elif kind == "stride0":
            a["stride"] = 0
        elif kind == "rank":
            shape = shape[-2:] if rng.random() < 0.5 else [1, 1] + shape[-3:]
        avg_pool_run(fam, shape, a, expect_error=True)
    return f


def adaptive_cfg(rng):
    H, W = rng.randint(1, 10), rng.randint(1, 10)
    oh = rng.choice([1, 2, 3, 4, 5, 7, H, H + rng.randint(1, 4), max(1, H // 2), max(1, H - 1)])
    ow = rng.choice([1, 2, 3, 5, 6, W, W + rng.randint(1, 3), max(1, W // 3), max(1, W - 1)])
    return pool_input_shape(rng) + [H, W], pi(rng, oh, ow, 0.35)


def adaptive_avg_valid(fam, rng):
    shape, osz = adaptive_cfg(rng)
    fam.add("adaptive_avg_pool2d", {"output_size": osz}, {"input": Spec(shape)},
            lambda T, a: F.adaptive_avg_pool2d(T["input"], **a))


def adaptive_max_valid(fam, rng, kind=None):
    shape, osz = adaptive_cfg(rng)
    args = {"output_size": osz, "return_indices": rng.random() < 0.5}
    if kind == "rank":
        shape = shape[-2:] if rng.random() < 0.5 else [1, 1] + shape[-3:]
    elif kind == "negative":
        args["output_size"] = rng.choice([-1, [2, -2]])
    fam.add("adaptive_max_pool2d", args, {"input": Spec(shape, distinct=True)},
            lambda T, a: F.adaptive_max_pool2d(T["input"], **a), expect_error=kind is not None)


def adaptive_avg_err(kind):
    def f(fam, rng):
        shape, osz = adaptive_cfg(rng)
        if kind == "rank":
            shape = shape[-2:] if rng.random() < 0.5 else [1, 1] + shape[-3:]
        else:
            osz = rng.choice([-1, [3, -1]])
        fam.add("adaptive_avg_pool2d", {"output_size": osz}, {"input": Spec(shape)},
                lambda T, a: F.adaptive_avg_pool2d(T["input"], **a), expect_error=True)
    return f


def gen_pool(fam):
    fill(fam, 130, max_pool_valid, [max_pool_err(k) for k in
                                    ["pad", "pad", "too_small", "stride0", "kernel0", "dilation0", "rank"]], 0.10)
    fill(fam, 110, avg_pool_valid, [avg_pool_err(k) for k in
                                    ["pad", "pad", "divisor0", "too_small", "stride0", "rank"]], 0.10)
    fill(fam, 55, adaptive_avg_valid, [adaptive_avg_err("rank"), adaptive_avg_err("negative")], 0.08)
    fill(fam, 55, adaptive_max_valid, [lambda fa, r: adaptive_max_valid(fa, r, "rank"),
                                       lambda fa, r: adaptive_max_valid(fa, r, "negative")], 0.08)


# --------------------------------------------------------------------------------------------
# 4. interpolate
# --------------------------------------------------------------------------------------------
SCALES = [0.5, 0.6, 0.75, 1.0, 1.3, 1.5, 1.7, 2.0, 2.0, 2.5, 3.0, 3.0, 0.4, 1.25]


def interp_cfg(rng):
    mode = rng.choice(["nearest", "nearest-exact", "bilinear", "bilinear"])
    N, C = rng.choice([1, 1, 2]), rng.randint(1, 3)
    H, W = rng.randint(1, 8), rng.randint(1, 8)
    args = {}
    if rng.random() < 0.5:
        oh = rng.choice([1, 2, 3, 5, 7, 8, 11, 12, H, 2 * H, max(1, H // 2), H + 1])
        ow = rng.choice([1, 2, 4, 6, 9, 10, W, 3 * W, max(1, W // 2), max(1, W - 1)])
        oh, ow = min(oh, 16), min(ow, 16)
        args["size"] = pi(rng, oh, ow, 0.35)
    else:
        while True:
            s1, s2 = rng.choice(SCALES), rng.choice(SCALES)
            if math.floor(H * s1) >= 1 and math.floor(W * s2) >= 1:
                break
        args["scale_factor"] = s1 if (s1 == s2 or rng.random() < 0.4) and math.floor(W * s1) >= 1 else [s1, s2]
    args["mode"] = mode
    if mode == "bilinear":
        args["align_corners"] = rng.choice([True, False, None])
    return [N, C, H, W], args


def interp_run(fam, shape, args, expect_error=False):
    return fam.add("interpolate", args, {"input": Spec(shape)},
                   lambda T, a: F.interpolate(T["input"], **a), expect_error)


def interp_valid(fam, rng):
    interp_run(fam, *interp_cfg(rng))


def interp_err(kind):
    def f(fam, rng):
        shape, a = interp_cfg(rng)
        if kind == "both":
            a = {"size": 4, "scale_factor": 2.0, "mode": a["mode"]}
        elif kind == "neither":
            a = {"mode": a["mode"]}
        elif kind == "align_nearest":
            a["mode"] = rng.choice(["nearest", "nearest-exact"])
            a["align_corners"] = rng.choice([True, False])
        elif kind == "size_len":
            a.pop("scale_factor", None)
            a["size"] = [3, 4, 5]
        elif kind == "zero_out":
            a.pop("size", None)
            a["scale_factor"] = 0.1
            shape[2] = min(shape[2], 5)
        elif kind == "zero_size":
            a.pop("scale_factor", None)
            a["size"] = [0, 3]
        elif kind == "rank_bilinear":
            a["mode"] = "bilinear"
            a.setdefault("align_corners", None)
            shape = shape[1:] if rng.random() < 0.5 else [1] + shape
        interp_run(fam, shape, a, expect_error=True)
    return f


def gen_interpolate(fam):
    fill(fam, 250, interp_valid, [interp_err(k) for k in
                                  ["both", "neither", "align_nearest", "size_len", "zero_out", "zero_size",
                                   "rank_bilinear"]], 0.09)


# --------------------------------------------------------------------------------------------
# 5. unfold / fold
# --------------------------------------------------------------------------------------------
def blocks(size, k, d, p, s):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def unfold_cfg(rng):
    kh, kw = rng.randint(1, 4), rng.randint(1, 4)
    dh, dw = rng.choice([1, 1, 1, 2]), rng.choice([1, 1, 2])
    ph, pw = rng.choice([0, 0, 1, 2]), rng.choice([0, 0, 1])
    sh, sw = rng.choice([1, 1, 2, 3]), rng.choice([1, 1, 2])
    while True:
        H, W = rng.randint(1, 9), rng.randint(1, 9)
        if H + 2 * ph >= dh * (kh - 1) + 1 and W + 2 * pw >= dw * (kw - 1) + 1:
            break
    C = rng.randint(1, 3)
    shape = [rng.choice([1, 2]), C, H, W] if spatial_batched(rng, 0.6) else [C, H, W]
    args = {"kernel_size": pi(rng, kh, kw), "dilation": pi(rng, dh, dw), "padding": pi(rng, ph, pw),
            "stride": pi(rng, sh, sw)}
    return shape, args


def unfold_run(fam, shape, args, expect_error=False):
    return fam.add("unfold", args, {"input": Spec(shape)}, lambda T, a: F.unfold(T["input"], **a), expect_error)


def unfold_valid(fam, rng):
    unfold_run(fam, *unfold_cfg(rng))


def unfold_err(kind):
    def f(fam, rng):
        shape, a = unfold_cfg(rng)
        if kind == "too_small":
            a["kernel_size"] = [shape[-2] + 1 + 2 * pair(a["padding"])[0], 1]
            a["dilation"] = 1
        elif kind == "stride0":
            a["stride"] = 0
        elif kind == "neg_pad":
            a["padding"] = -1
        elif kind == "rank":
            shape = shape[-2:] if rng.random() < 0.5 else [1, 1] + shape[-3:]
        unfold_run(fam, shape, a, expect_error=True)
    return f


def fold_cfg(rng):
    kh, kw = rng.randint(1, 3), rng.randint(1, 3)
    dh, dw = rng.choice([1, 1, 2]), rng.choice([1, 1, 2])
    ph, pw = rng.choice([0, 0, 1]), rng.choice([0, 0, 1, 2])
    sh, sw = rng.choice([1, 1, 2, 3]), rng.choice([1, 1, 2])
    while True:
        oh, ow = rng.randint(1, 8), rng.randint(1, 8)
        bh, bw = blocks(oh, kh, dh, ph, sh), blocks(ow, kw, dw, pw, sw)
        if bh >= 1 and bw >= 1:
            break
    C = rng.randint(1, 3)
    L = bh * bw
    shape = [rng.choice([1, 2]), C * kh * kw, L] if spatial_batched(rng, 0.6) else [C * kh * kw, L]
    args = {"output_size": pi(rng, oh, ow), "kernel_size": pi(rng, kh, kw), "dilation": pi(rng, dh, dw),
            "padding": pi(rng, ph, pw), "stride": pi(rng, sh, sw)}
    return shape, args


def fold_run(fam, shape, args, expect_error=False):
    return fam.add("fold", args, {"input": Spec(shape)}, lambda T, a: F.fold(T["input"], **a), expect_error)


def fold_valid(fam, rng):
    fold_run(fam, *fold_cfg(rng))


def fold_err(kind):
    def f(fam, rng):
        shape, a = fold_cfg(rng)
        if kind == "L":
            shape[-1] += rng.choice([1, -1]) if shape[-1] > 1 else 1
        elif kind == "C":
            kh, kw = pair(a["kernel_size"])
            if kh * kw == 1:
                a["kernel_size"] = [2, 1] if rng.random() < 0.5 else 2
                kh, kw = pair(a["kernel_size"])
            shape[-2] = kh * kw + 1
        elif kind == "rank":
            shape = [1] + shape if len(shape) == 3 else shape[-1:]
        fold_run(fam, shape, a, expect_error=True)
    return f


def gen_unfold_fold(fam):
    fill(fam, 80, unfold_valid, [unfold_err(k) for k in ["too_small", "stride0", "neg_pad", "rank"]], 0.09)
    fill(fam, 70, fold_valid, [fold_err(k) for k in ["L", "L", "C", "rank"]], 0.09)


# --------------------------------------------------------------------------------------------
# 6. batch_norm
# --------------------------------------------------------------------------------------------
def bn_cfg(rng):
    rank = rng.choice([2, 3, 4, 4])
    N, C = rng.randint(1, 4), rng.randint(1, 5)
    if rank == 2:
        shape = [max(N, 2), C]
    elif rank == 3:
        shape = [N, C, rng.randint(1, 6)]
    else:
        shape = [N, C, rng.randint(1, 5), rng.randint(1, 5)]
    training = rng.random() < 0.55
    if training and numel(shape) // C < 2:
        shape[0] = 2
    args = {"training": training, "momentum": rng.choice([0.1, 0.1, 0.3, 0.01, 0.5, 1.0]),
            "eps": rng.choice([1e-5, 1e-5, 1e-3, 0.1])}
    return dict(shape=shape, C=C, args=args, weight=rng.random() < 0.7, bias=rng.random() < 0.7,
                wlen=C, blen=C, rmlen=C, rvlen=C)


def bn_run(fam, c, expect_error=False):
    inputs = {"input": Spec(c["shape"]),
              "running_mean": S(c["rmlen"], grad=False),
              "running_var": S(c["rvlen"], lo=0.5, hi=2.0, grad=False),
              "weight": S(c["wlen"], lo=0.5, hi=1.5) if c["weight"] else None,
              "bias": S(c["blen"]) if c["bias"] else None}

    def fn(T, a):
        rm, rv = T["running_mean"].clone(), T["running_var"].clone()
        out = F.batch_norm(T["input"], rm, rv, T["weight"], T["bias"], **a)
        return (out, rm, rv) if a["training"] else out
    return fam.add("batch_norm", c["args"], inputs, fn, expect_error)


def bn_valid(fam, rng):
    bn_run(fam, bn_cfg(rng))


def bn_err(kind):
    def f(fam, rng):
        c = bn_cfg(rng)
        if kind == "one_value":
            c["args"]["training"] = True
            c["shape"] = [1, c["C"]] + [1] * rng.choice([0, 1, 2])
        elif kind == "running_mean":
            c["rmlen"] = c["C"] + 1
        elif kind == "running_var":
            c["rvlen"] = c["C"] + 1
        elif kind == "weight":
            c["weight"] = True
            c["wlen"] = c["C"] + rng.choice([1, -1]) if c["C"] > 1 else 2
        elif kind == "bias":
            c["bias"] = True
            c["blen"] = c["C"] + 1
        elif kind == "rank1":
            c["shape"] = [c["C"]]
        bn_run(fam, c, expect_error=True)
    return f


def gen_batch_norm(fam):
    fill(fam, 150, bn_valid, [bn_err(k) for k in
                              ["one_value", "one_value", "running_mean", "running_var", "weight", "bias",
                               "rank1"]], 0.10)


# --------------------------------------------------------------------------------------------
# 7. pad
# --------------------------------------------------------------------------------------------
def pad_cfg(rng, mode=None):
    mode = mode or rng.choice(["constant", "constant", "reflect", "replicate", "circular"])
    rank = rng.choice([3, 4])
    if rank == 4:
        shape = [rng.randint(1, 2), rng.randint(1, 3), rng.randint(1, 6), rng.randint(1, 6)]
    else:
        shape = [rng.randint(1, 3), rng.randint(1, 5), rng.randint(1, 6)]
    if mode == "constant":
        plen = rng.choice([2, 4])
    elif mode == "circular":
        plen = 2 if rank == 3 else 4  # circular pads 3-D as [N, C, W] and 4-D as [N, C, H, W]
    elif rank == 3:
        plen = rng.choice([2, 4])     # 3-D: len 2 = batched 1-D, len 4 = unbatched 2-D
    else:
        plen = 4
    pads = []
    for i in range(plen // 2):
        dim = shape[-1 - i]
        for _ in range(2):
            if mode == "constant":
                p = rng.choice([0, 1, 2, 3, -1, -2, 1])
            elif mode == "reflect":
                p = rng.randint(0, dim - 1) if rng.random() < 0.9 else -rng.randint(0, (dim - 1) // 2)
            elif mode == "replicate":
                p = rng.randint(0, 4) if rng.random() < 0.9 else -rng.randint(0, (dim - 1) // 2)
            else:
                p = rng.randint(0, dim) if rng.random() < 0.9 else -rng.randint(0, (dim - 1) // 2)
            pads.append(p)
        # keep every output dimension >= 1; constant mode crops (negative pads) before padding,
        # so the negative parts alone must leave something of the input
        while dim + pads[-1] + pads[-2] < 1 or dim + min(pads[-1], 0) + min(pads[-2], 0) < 1:
            if pads[-1] < 0:
                pads[-1] += 1
            else:
                pads[-2] += 1
    args = {"pad": pads, "mode": mode}
    if mode == "constant":
        args["value"] = rng.choice([0.0, 0.0, 1.5, -0.25, 2.0, -3.0])
    return shape, args


def pad_run(fam, shape, args, expect_error=False):
    return fam.add("pad", args, {"input": Spec(shape)}, lambda T, a: F.pad(T["input"], **a), expect_error)


def pad_valid(fam, rng):
    pad_run(fam, *pad_cfg(rng))


def pad_err(kind):
    def f(fam, rng):
        if kind == "reflect_too_big":
            shape, a = pad_cfg(rng, "reflect")
            a["pad"][0] = shape[-1] + rng.randint(0, 1)
        elif kind == "circular_too_big":
            shape, a = pad_cfg(rng, "circular")
            a["pad"][1] = shape[-1] + 1
        elif kind == "odd":
            shape, a = pad_cfg(rng)
            a["pad"] = a["pad"][:-1]
        elif kind == "value_nonconstant":
            shape, a = pad_cfg(rng, rng.choice(["reflect", "replicate"]))
            a["value"] = 1.0
        elif kind == "len2_4d":
            shape, a = pad_cfg(rng, rng.choice(["reflect", "replicate", "circular"]))
            shape = [1, 2, 4, 5]
            a["pad"] = [1, 1]
        elif kind == "circular_3d_len4":
            shape, a = pad_cfg(rng, "circular")
            shape = [2, 4, 5]
            a["pad"] = [1, 1, 1, 1]
        elif kind == "crop_too_much":
            # constant mode crops first: cropping more than the dimension holds is rejected even
            # when the opposite pad would make the final size positive
            shape, a = pad_cfg(rng, "constant")
            a["pad"][0] = -(shape[-1] + rng.randint(1, 2))
            a["pad"][1] = shape[-1] + 2
        elif kind == "too_long":
            shape, a = pad_cfg(rng, "constant")
            shape = shape[-2:] if rng.random() < 0.5 else shape
            a["pad"] = [1] * (2 * len(shape) + 2)
        pad_run(fam, shape, a, expect_error=True)
    return f


def gen_pad(fam):
    fill(fam, 150, pad_valid, [pad_err(k) for k in
                               ["reflect_too_big", "circular_too_big", "odd", "value_nonconstant", "len2_4d",
                                "circular_3d_len4", "too_long", "crop_too_much"]], 0.10)


# --------------------------------------------------------------------------------------------
# 8. activation
# --------------------------------------------------------------------------------------------
def rand_shape(rng, rmin, rmax, dmax=5):
    r = rng.randint(rmin, rmax)
    return [rng.randint(1, dmax) for _ in range(r)]


ACT_OPS = ["relu", "leaky_relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax"]


def act_valid(fam, rng, err=False, op=None, rank=None):
    op = op or rng.choice(ACT_OPS if not err else ["softmax", "log_softmax"])
    shape = rand_shape(rng, 1, 4) if rank is None else [rng.randint(1, 5) for _ in range(rank)]
    args = {}
    lo, hi, avoid = -3.0, 3.0, ()
    if op == "relu":
        avoid = (0.0,)
        fn = lambda T, a: F.relu(T["input"])  # noqa: E731
    elif op == "leaky_relu":
        args["negative_slope"] = rng.choice([0.01, 0.01, 0.1, 0.2, 0.3, 0.5])
        avoid = (0.0,)
        fn = lambda T, a: F.leaky_relu(T["input"], **a)  # noqa: E731
    elif op == "relu6":
        lo, hi, avoid = -8.0, 8.0, (0.0, 6.0)
        fn = lambda T, a: F.relu6(T["input"])  # noqa: E731
    elif op == "sigmoid":
        lo, hi = -6.0, 6.0
        fn = lambda T, a: torch.sigmoid(T["input"])  # noqa: E731
    elif op == "tanh":
        fn = lambda T, a: torch.tanh(T["input"])  # noqa: E731
    else:
        r = len(shape)
        args["dim"] = rng.randint(-r, r - 1) if not err else rng.choice([r, -r - 1, r + 1])
        f = F.softmax if op == "softmax" else F.log_softmax
        lo, hi = -4.0, 4.0
        fn = lambda T, a: f(T["input"], **a)  # noqa: E731
    fam.add(op, args, {"input": Spec(shape, lo=lo, hi=hi, avoid=avoid)}, fn, expect_error=err)


def round_robin(fam, target, ops, ranks, case, err_case, err_frac):
    """Valid cases cycle through ops x ranks (so every combination appears); errors interleaved."""
    rng = fam.rng
    start, i, guard = len(fam.cases), 0, 0
    while len(fam.cases) - start < target:
        guard += 1
        assert guard < target * 50
        if rng.random() < err_frac:
            err_case(fam, rng)
            continue
        before = len(fam.cases)
        case(fam, rng, ops[i % len(ops)], ranks[(i // len(ops)) % len(ranks)])
        if len(fam.cases) > before:
            i += 1


def gen_activation(fam):
    round_robin(fam, 250, ACT_OPS, [1, 2, 3, 4], lambda f, r, op, rank: act_valid(f, r, False, op, rank),
                lambda f, r: act_valid(f, r, True), 0.07)


# --------------------------------------------------------------------------------------------
# 9. linear
# --------------------------------------------------------------------------------------------
def linear_case(fam, rng, err=None):
    r = rng.randint(1, 4)
    fin, fout = rng.randint(1, 8), rng.randint(1, 8)
    shape = [rng.randint(1, 3) for _ in range(r - 1)] + [fin]
    wshape = [fout, fin]
    bias = rng.random() < 0.7
    blen = fout
    if err == "in":
        wshape = [fout, fin + 1]
    elif err == "bias":
        bias, blen = True, fout + 1
    elif err == "rank0":
        shape = []
        wshape = [fout, 1]
    inputs = {"input": Spec(shape), "weight": Spec(wshape), "bias": S(blen) if bias else None}
    fam.add("linear", {}, inputs, lambda T, a: F.linear(T["input"], T["weight"], T["bias"]), err is not None)


def gen_linear(fam):
    fill(fam, 60, linear_case, [lambda f, r: linear_case(f, r, "in"), lambda f, r: linear_case(f, r, "bias"),
                                lambda f, r: linear_case(f, r, "rank0")], 0.10)


# --------------------------------------------------------------------------------------------
# 10. elementwise
# --------------------------------------------------------------------------------------------
def bcast_shapes(rng, r=None):
    r = rng.randint(0, 4) if r is None else r
    out = [rng.randint(1, 4) for _ in range(r)]
    shapes = []
    for _ in range(2):
        if rng.random() < 0.3:
            shapes.append(list(out))
            continue
        ri = rng.randint(0, r)
        s = out[r - ri:]
        s = [1 if (d > 1 and rng.random() < 0.3) else d for d in s]
        shapes.append(s)
    # make sure the result has the full output shape somewhere: pad with the other operand
    return shapes[0], shapes[1]


def non_bcast_shapes(rng):
    r = rng.randint(1, 3)
    a = [rng.randint(1, 4) for _ in range(r)]
    b = list(a[rng.randint(0, r - 1):])
    i = rng.randrange(len(b))
    d = a[len(a) - len(b) + i]
    b[i] = d + 1 if d > 1 else rng.randint(2, 4)
    if d == 1:
        a[len(a) - len(b) + i] = b[i] + 1
    return a, b


def no_ties(datas):
    vals = [v.reshape(-1) for v in datas.values()]
    return len(vals) == 2 and np.intersect1d(vals[0], vals[1]).size > 0


BINARY = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
          "maximum": torch.maximum, "minimum": torch.minimum}


ELEMENTWISE_OPS = ["add", "sub", "mul", "div", "pow", "pow", "maximum", "minimum", "clamp", "clamp",
                   "exp", "log", "sqrt", "abs"]


def elementwise_case(fam, rng, err=False, op=None, rank=None):
    op = op or (rng.choice(ELEMENTWISE_OPS) if not err else
                rng.choice(["add", "sub", "mul", "div", "pow", "maximum", "minimum", "clamp"]))
    if op in BINARY or op == "pow":
        tensor_other = op in ("maximum", "minimum") or rng.random() < 0.7
        if err:
            tensor_other = op != "clamp"
        a_shape, b_shape = (non_bcast_shapes(rng) if err else bcast_shapes(rng, rank))
        if rng.random() < 0.5:
            a_shape, b_shape = b_shape, a_shape
        f = BINARY.get(op, torch.pow)
        if op == "pow":
            if tensor_other:
                inputs = {"input": Spec(a_shape, lo=0.5, hi=2.0), "exponent": Spec(b_shape, lo=-2.0, hi=2.0)}
                fam.add(op, {}, inputs, lambda T, a: torch.pow(T["input"], T["exponent"]), err)
            else:
                e = rng.choice([2.0, 3.0, 0.5, -1.0, 1.7, -2.5, 0.0, 1.0])
                lohi = (-2.0, 2.0) if e in (2.0, 3.0, 1.0) else (0.5, 2.0)
                inputs = {"input": Spec(a_shape, lo=lohi[0], hi=lohi[1], avoid=(0.0,))}
                fam.add(op, {"exponent": e}, inputs, lambda T, a: torch.pow(T["input"], a["exponent"]), err)
            return
        if tensor_other:
            olo, ohi = (0.5, 2.0) if op == "div" else (-1.0, 1.0)
            if op == "div" and rng.random() < 0.3:
                olo, ohi = -2.0, -0.5
            inputs = {"input": Spec(a_shape, lo=-2.0, hi=2.0), "other": Spec(b_shape, lo=olo, hi=ohi)}
            fam.add(op, {}, inputs, lambda T, a: f(T["input"], T["other"]), err,
                    reject=no_ties if op in ("maximum", "minimum") else None)
        else:
            other = rng.choice([1.5, -2.25, 0.3, 3.0, -0.7, 2.0]) if op != "div" else rng.choice([2.0, -0.5, 3.3, 0.7])
            fam.add(op, {"other": other}, {"input": Spec(a_shape, lo=-2.0, hi=2.0)},
                    lambda T, a: f(T["input"], a["other"]), err)
        return
    shape = rand_shape(rng, 0, 4, 4) if rank is None else [rng.randint(1, 4) for _ in range(rank)]
    if op == "clamp":
        kind = rng.choices(["both", "min", "max", "inverted"], weights=[50, 20, 20, 10])[0] if not err else "none"
        lo_v = rng.choice([-0.5, -0.3, 0.1, -0.8, 0.0])
        hi_v = rng.choice([0.3, 0.5, 0.7, 0.9, 0.2])
        if kind == "both" and hi_v < lo_v:
            hi_v = lo_v + 0.6
        args = {"min": lo_v if kind in ("both", "min", "inverted") else None,
                "max": hi_v if kind in ("both", "max") else None}
        if kind == "inverted":  # min > max: PyTorch returns max everywhere (and zero gradient)
            args["min"], args["max"] = 0.5, -0.2
        if kind == "none":
            args = {"min": None, "max": None}
        avoid = tuple(v for v in args.values() if v is not None)
        fam.add(op, args, {"input": Spec(shape, lo=-1.5, hi=1.5, avoid=avoid)},
                lambda T, a: torch.clamp(T["input"], **a), err)
        return
    lo, hi, avoid = -1.0, 1.0, ()
    if op == "exp":
        lo, hi = -3.0, 3.0
    elif op in ("log", "sqrt"):
        lo, hi = 0.1, 4.0
    elif op == "abs":
        avoid = (0.0,)
    f = {"exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs}[op]
    fam.add(op, {}, {"input": Spec(shape, lo=lo, hi=hi, avoid=avoid)}, lambda T, a: f(T["input"]))


def gen_elementwise(fam):
    round_robin(fam, 300, ELEMENTWISE_OPS, [0, 1, 2, 3, 4],
                lambda f, r, op, rank: elementwise_case(f, r, False, op, rank),
                lambda f, r: elementwise_case(f, r, True), 0.08)


# --------------------------------------------------------------------------------------------
# 11. reduction
# --------------------------------------------------------------------------------------------
def rand_dim(rng, r):
    d = rng.randrange(r)
    return d - r if rng.random() < 0.3 else d


def rand_dims(rng, r):
    k = rng.randint(1, r)
    ds = rng.sample(range(r), k)
    return [d - r if rng.random() < 0.3 else d for d in ds]


def reduction_case(fam, rng, err=None):
    op = rng.choice(["sum", "sum", "mean", "mean", "amax", "amin", "max_dim", "min_dim", "argmax",
                     "var", "var"])
    shape = rand_shape(rng, 1, 4, 5)
    r = len(shape)
    distinct = op in ("amax", "amin", "max_dim", "min_dim", "argmax")
    keepdim = rng.random() < 0.4
    if op in ("sum", "mean", "var"):
        kind = rng.choices(["int", "list", "none"], weights=[40, 40, 20])[0]
        dim = rand_dim(rng, r) if kind == "int" else rand_dims(rng, r) if kind == "list" else None
        if op == "var":
            args = {"dim": dim, "unbiased": rng.random() < 0.6, "keepdim": keepdim}
        else:
            args = {"dim": dim, "keepdim": keepdim}
    elif op in ("amax", "amin"):
        args = {"dim": rand_dim(rng, r) if rng.random() < 0.5 else rand_dims(rng, r), "keepdim": keepdim}
    elif op in ("max_dim", "min_dim"):
        args = {"dim": rand_dim(rng, r), "keepdim": keepdim}
    else:
        args = {"dim": rand_dim(rng, r) if rng.random() < 0.75 else None, "keepdim": keepdim}
    if err == "range":
        bad = rng.choice([r, -r - 1, r + 2])
        if isinstance(args["dim"], list):
            args["dim"][0] = bad
        else:
            args["dim"] = bad
    elif err == "dup":
        if op in ("max_dim", "min_dim", "argmax"):
            return False
        d = rand_dim(rng, r)
        args["dim"] = [d, d] if rng.random() < 0.5 else [d, d - r if d >= 0 else d + r]
    if op == "var" and not err:
        # keep the reduced count > 1 when unbiased so the result stays finite
        dims = range(r) if args["dim"] is None else [args["dim"]] if isinstance(args["dim"], int) else args["dim"]
        cnt = numel([shape[d] for d in dims])
        if cnt < 2:
            d0 = list(dims)[0]
            shape[d0] = rng.randint(2, 4)
    fns = {"sum": torch.sum, "mean": torch.mean, "amax": torch.amax, "amin": torch.amin, "max_dim": torch.max,
           "min_dim": torch.min, "argmax": torch.argmax, "var": torch.var}
    f = fns[op]
    lo, hi = (-2.0, 2.0)
    fam.add(op, args, {"input": Spec(shape, lo=lo, hi=hi, distinct=distinct)},
            lambda T, a: tuple(f(T["input"], **a)) if op in ("max_dim", "min_dim") else f(T["input"], **a),
            err is not None)


def gen_reduction(fam):
    fill(fam, 250, reduction_case, [lambda f, r: reduction_case(f, r, "range"),
                                    lambda f, r: reduction_case(f, r, "dup")], 0.08)


# --------------------------------------------------------------------------------------------
# 12. matmul
# --------------------------------------------------------------------------------------------
def matmul_case(fam, rng, ra, rb, err=None):
    n, k, m = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5)
    nb = max(ra - 2, rb - 2, 0)
    batch = [rng.randint(1, 3) for _ in range(nb)]

    def bshape(cnt):
        b = batch[nb - cnt:] if cnt > 0 else []
        return [1 if (d > 1 and rng.random() < 0.3) else d for d in b]
    ka, kb = k, k
    if err == "inner":
        kb = k + rng.randint(1, 2)
    a = [ka] if ra == 1 else bshape(ra - 2) + [n, ka]
    b = [kb] if rb == 1 else bshape(rb - 2) + [kb, m]
    if err == "batch":
        if ra < 3 or rb < 3:
            return False
        i = rng.randrange(ra - 2)
        a[i] = 2
        b[rb - ra + i if rb >= ra else i] = 3
        j = len(b) - 2 - (len(a) - 2 - i)
        if j < 0:
            return False
        b[j] = 3
    fam.add("matmul", {}, {"input": Spec(a), "other": Spec(b)},
            lambda T, _a: torch.matmul(T["input"], T["other"]), err is not None)


def gen_matmul(fam):
    rng = fam.rng
    combos = [(ra, rb) for ra in range(1, 5) for rb in range(1, 5)]
    # every rank combination, ~8 valid each, then error cases spread over the combos
    for ra, rb in combos:
        for _ in range(8):
            matmul_case(fam, rng, ra, rb)
    for ra, rb in combos:
        matmul_case(fam, rng, ra, rb, "inner")
    count = 0
    while count < 6:
        ra, rb = rng.randint(3, 4), rng.randint(3, 4)
        before = len(fam.cases)
        matmul_case(fam, rng, ra, rb, "batch")
        count += len(fam.cases) - before


# --------------------------------------------------------------------------------------------
# 13. views
# --------------------------------------------------------------------------------------------
def views_case(fam, rng, op, err=False):
    shape = rand_shape(rng, 1, 4, 4)
    r = len(shape)
    inputs = {"input": Spec(shape)}
    if op == "permute":
        dims = list(range(r))
        rng.shuffle(dims)
        dims = [d - r if rng.random() < 0.3 else d for d in dims]
        if err:
            dims = dims[:-1] if (r > 1 and rng.random() < 0.5) else dims[:-1] + [dims[0]] if r > 1 else [0, 0]
        args = {"dims": dims}
        fn = lambda T, a: torch.permute(T["input"], a["dims"])  # noqa: E731
    elif op == "transpose":
        args = {"dim0": rand_dim(rng, r), "dim1": rand_dim(rng, r)}
        if err:
            args["dim1"] = r + rng.randint(0, 1)
        fn = lambda T, a: torch.transpose(T["input"], a["dim0"], a["dim1"])  # noqa: E731
    elif op == "narrow":
        d = rand_dim(rng, r)
        size = shape[d]
        start = rng.randint(0, size - 1)
        length = rng.randint(1, size - start)
        if rng.random() < 0.2:
            start -= size  # negative start counts from the end
        if err:
            length = size - (start % size) + 1
        args = {"dim": d, "start": start, "length": length}
        fn = lambda T, a: torch.narrow(T["input"], a["dim"], a["start"], a["length"])  # noqa: E731
    elif op == "select":
        d = rand_dim(rng, r)
        idx = rng.randint(-shape[d], shape[d] - 1)
        if err:
            idx = shape[d] if rng.random() < 0.5 else -shape[d] - 1
        args = {"dim": d, "index": idx}
        fn = lambda T, a: torch.select(T["input"], a["dim"], a["index"])  # noqa: E731
    elif op == "flatten":
        s, e = sorted([rng.randrange(r), rng.randrange(r)])
        if err:
            if s == e:
                return False
            s, e = e, s
        args = {"start_dim": s - r if rng.random() < 0.3 else s, "end_dim": e - r if rng.random() < 0.4 else e}
        fn = lambda T, a: torch.flatten(T["input"], a["start_dim"], a["end_dim"])  # noqa: E731
    elif op in ("cat", "stack"):
        cnt = rng.randint(1, 4) if op == "cat" else rng.randint(1, 3)
        if err:
            cnt = max(cnt, 2)
        if op == "cat":
            d = rand_dim(rng, r)
            shapes = []
            for _ in range(cnt):
                s = list(shape)
                s[d] = rng.randint(1, 3)
                shapes.append(s)
            if err:
                other = [i for i in range(r) if i != d % r]
                if not other:
                    return False
                shapes[-1][rng.choice(other)] += 1
        else:
            d = rng.randint(-r - 1, r)
            shapes = [list(shape) for _ in range(cnt)]
            if err:
                shapes[-1][rng.randrange(r)] += 1
        args = {"dim": d}
        inputs = {"tensors": [Spec(s) for s in shapes]}
        f = torch.cat if op == "cat" else torch.stack
        fn = lambda T, a: f(T["tensors"], a["dim"])  # noqa: E731
    elif op == "split":
        d = rand_dim(rng, r)
        size = shape[d]
        if size < 2:
            shape[d] = size = rng.randint(2, 4)
        if rng.random() < 0.5:
            sp = rng.randint(1, size)
        else:
            sp = []
            left = size
            while left > 0:
                x = rng.randint(1, left)
                sp.append(x)
                left -= x
            if rng.random() < 0.2:
                sp.insert(rng.randrange(len(sp) + 1), 0)  # zero-size pieces are allowed in a list
        if err:
            sp = [size + 1] if rng.random() < 0.5 else [1, size]
        args = {"split_size_or_sections": sp, "dim": d}
        fn = lambda T, a: torch.split(T["input"], a["split_size_or_sections"], a["dim"])  # noqa: E731
    elif op == "chunk":
        d = rand_dim(rng, r)
        args = {"chunks": rng.randint(1, 5) if not err else 0, "dim": d}
        fn = lambda T, a: torch.chunk(T["input"], a["chunks"], a["dim"])  # noqa: E731
    else:
        raise ValueError(op)
    if "input" in inputs:
        inputs["input"] = Spec(shape)  # shape may have been adjusted above
    return fam.add(op, args, inputs, fn, err)


VIEW_OPS = ["permute", "transpose", "narrow", "select", "flatten", "cat", "stack", "split", "chunk"]


def gen_views(fam):
    rng = fam.rng
    for op in VIEW_OPS:
        for _ in range(11):
            views_case(fam, rng, op)
    for op in VIEW_OPS:
        views_case(fam, rng, op, err=True)


# --------------------------------------------------------------------------------------------
FAMILIES = [
    ("conv2d", gen_conv2d),
    ("conv_transpose2d", gen_conv_transpose2d),
    ("pool", gen_pool),
    ("interpolate", gen_interpolate),
    ("unfold_fold", gen_unfold_fold),
    ("batch_norm", gen_batch_norm),
    ("pad", gen_pad),
    ("activation", gen_activation),
    ("linear", gen_linear),
    ("elementwise", gen_elementwise),
    ("reduction", gen_reduction),
    ("matmul", gen_matmul),
    ("views", gen_views),
]


def write_and_report(fam, op_width=22):
    """Writes the family's fixture file and prints its case counts per op; returns the gzip size."""
    path, raw, gz = fam.write()
    ops = collections.OrderedDict()
    for (op, kind), n in fam.stats.items():
        ops.setdefault(op, [0, 0])[0 if kind == "ok" else 1] += n
    errs = sum(v[1] for v in ops.values())
    print(f"{fam.name}: {len(fam.cases)} cases ({errs} errors), {gz / 1024:.1f} KiB gz "
          f"({raw / 1024:.0f} KiB json) -> {path.relative_to(REPO_ROOT)}")
    for op, (ok, er) in ops.items():
        print(f"    {op:<{op_width}} {ok:4d} ok {er:3d} error")
    for why, n in sorted(fam.dropped.items()):
        print(f"    dropped {n}x: {why}")
    return gz


def main(argv):
    prng_self_check(verbose=True)
    if "--prng" in argv:
        return 0
    wanted = [a for a in argv if not a.startswith("-")]
    unknown = set(wanted) - {n for n, _ in FAMILIES}
    if unknown:
        print(f"unknown families: {sorted(unknown)}", file=sys.stderr)
        return 2
    total_gz = 0
    for index, (name, gen) in enumerate(FAMILIES):
        if wanted and name not in wanted:
            continue
        fam = Family(name, index)
        gen(fam)
        total_gz += write_and_report(fam)
    print(f"total: {total_gz / 1024 / 1024:.2f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
