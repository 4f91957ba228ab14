#!/usr/bin/python3
"""Generate ConvKit's PyTorch golden fixtures for training: losses, optimizers, lr schedulers.

Run with Debian's interpreter and python3-torch (never a venv python):

    /usr/bin/python3 tools/golden/gen_golden_train.py              # loss, optim, sched
    /usr/bin/python3 tools/golden/gen_golden_train.py loss sched   # only these families

Writes tests/ConvKit.Tests/Fixtures/golden/{loss,optim,sched}.json.gz. The PRNG, the JSON writer and the
case machinery come from gen_golden.py; loss.json.gz uses its case layout (FORMAT.md) with class targets as
"ints"; optim.json.gz and sched.json.gz hold trajectories (layouts in FORMAT.md, "Training fixtures").
Deterministic like gen_golden.py: re-running rewrites byte-identical files.
"""

import itertools
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_golden import F32Data, Family, Spec, first_line, numel, prng, prng_self_check, write_and_report  # noqa: E402

# Family indices continue gen_golden.py's (0..12) so rngs and seed ranges never overlap.
LOSS_INDEX, OPTIM_INDEX, SCHED_INDEX = 20, 21, 22


# --------------------------------------------------------------------------------------------
# 1. losses
# --------------------------------------------------------------------------------------------
def add_with_ints(fam, op, args, inputs, ints, fn, err=False):
    """fam.add with int64 inputs as well: ints maps name -> (shape, values), stored as "ints"."""
    def run(T, a):
        T = dict(T)
        for name, (shape, vals) in ints.items():
            T[name] = torch.tensor(vals, dtype=torch.long).reshape(shape)
        return fn(T, a)

    ok = fam.add(op, args, inputs, run, expect_error=err)
    if ok:
        for name, (shape, vals) in ints.items():
            fam.cases[-1]["inputs"][name] = {"shape": list(shape), "ints": [int(v) for v in vals]}
    return ok


def dice_loss_ref(input, target, smooth=1.0, ignore_index=-100):
    """The soft multi-class Dice loss of F.DiceLoss (ConvKit), written with PyTorch ops."""
    if input.dim() < 2:
        raise ValueError(f"dice_loss: expected input [N, C, ...], got {list(input.shape)}")
    C = input.shape[1]
    if list(target.shape) != [input.shape[0]] + list(input.shape[2:]):
        raise ValueError(f"dice_loss: target {list(target.shape)} does not match input {list(input.shape)}")
    keep = target != ignore_index
    if ((target[keep] < 0) | (target[keep] >= C)).any():
        raise IndexError("dice_loss: Target is out of bounds.")
    t = torch.where(keep, target, torch.zeros_like(target))
    mask = keep.unsqueeze(1).to(input.dtype)
    onehot = F.one_hot(t, C).movedim(-1, 1).to(input.dtype) * mask
    p = torch.softmax(input, 1) * mask
    dims = [0] + list(range(2, input.dim()))
    inter = (p * onehot).sum(dims)
    den = p.sum(dims) + onehot.sum(dims) + smooth
    dice = (2 * inter + smooth) / den
    return (1 - dice).mean()


CLASS_KINDS = ["1d", "2d", "2d", "3d", "4d", "4d", "5d"]


def class_shapes(rng, kind):
    """(input shape, target shape, C) for scores [N, C, d...] against targets [N, d...]."""
    if kind == "1d":
        C = rng.randint(1, 6)
        return [C], [], C
    N, C = rng.randint(1, 4), rng.randint(2, 6)
    if kind == "2d":
        N = rng.randint(1, 7)
        return [N, C], [N], C
    spatial = {"3d": 1, "4d": 2, "5d": 3}[kind]
    ds = [rng.randint(1, 5) for _ in range(spatial)]
    return [N, C] + ds, [N] + ds, C


def pick_ignore(rng, C):
    r = rng.random()
    if r < 0.65:
        return -100
    if r < 0.75:
        return -1
    return rng.randrange(C)


def class_targets(rng, tshape, C, ignore_index):
    p_ignore = rng.choice([0.0, 0.0, 0.2]) if ignore_index < 0 else 0.0
    return [ignore_index if rng.random() < p_ignore else rng.randrange(C) for _ in range(numel(tshape))]


CLASS_ERRORS = ["target_high", "target_neg", "batch", "spatial", "rank", "weight", "reduction"]


def class_case(fam, rng, op, kind, err=None):
    ishape, tshape, C = class_shapes(rng, kind if err not in ("batch", "spatial") else "4d")
    ii = pick_ignore(rng, C)
    args = {"ignore_index": ii, "reduction": rng.choice(["mean", "sum", "none"])}
    if op == "cross_entropy":
        # PyTorch 1.13 only rejects label_smoothing > 1; a negative value means no smoothing
        args["label_smoothing"] = rng.choice([0.0, 0.0, 0.0, 0.0625, 0.125, 0.25, 0.5, 1.0, -0.25])
    weight = Spec([C], lo=0.25, hi=2.0, grad=False) if rng.random() < 0.5 else None
    if op == "cross_entropy":
        scale = rng.choice([3.0, 3.0, 3.0, 30.0])  # large logits exercise the stable log-softmax
        lo, hi = -scale, scale
    else:
        lo, hi = -4.0, 0.0  # log-probability-like values
    tvals = class_targets(rng, tshape, C, ii)
    if err == "target_high":
        tvals[rng.randrange(len(tvals))] = C + rng.randint(0, 2)
    elif err == "target_neg":
        tvals[rng.randrange(len(tvals))] = -2 if ii == -1 else -1
    elif err == "batch":
        tshape = [tshape[0] + 1] + tshape[1:]
    elif err == "spatial":
        tshape = tshape[:-1] + [tshape[-1] + 1]
    elif err == "rank":
        tshape = tshape + [1]
    elif err == "weight":
        weight = Spec([C + 1], lo=0.25, hi=2.0, grad=False)
    elif err == "reduction":
        args["reduction"] = "avg"
    elif err == "smoothing":
        args["label_smoothing"] = rng.choice([1.5, 2.0])
    if err in ("batch", "spatial", "rank"):
        tvals = [rng.randrange(C) for _ in range(numel(tshape))]
    f = F.cross_entropy if op == "cross_entropy" else F.nll_loss
    fn = lambda T, a: f(T["input"], T["target"], weight=T["weight"], **a)  # noqa: E731
    return add_with_ints(fam, op, args, {"input": Spec(ishape, lo=lo, hi=hi), "weight": weight},
                         {"target": (tshape, tvals)}, fn, err is not None)


def bce_case(fam, rng, err=None):
    shape = [rng.randint(1, 5) for _ in range(rng.randint(1, 4))]
    scale = rng.choice([6.0, 6.0, 40.0])
    weight = pos_weight = None
    r = rng.random()
    if r < 0.3:
        weight = Spec(shape, lo=0.0, hi=2.0, grad=False)
    elif r < 0.6:  # broadcast: fewer leading dims, some dims 1
        k = rng.randint(1, len(shape))
        weight = Spec([d if rng.random() < 0.6 else 1 for d in shape[-k:]], lo=0.0, hi=2.0, grad=False)
    r = rng.random()
    if r < 0.35:
        pos_weight = Spec([shape[-1]], lo=0.25, hi=4.0, grad=False)
    elif r < 0.5 and len(shape) == 4:
        pos_weight = Spec([shape[1], 1, 1], lo=0.25, hi=4.0, grad=False)
    args = {"reduction": rng.choice(["mean", "sum", "none"])}
    tshape = shape
    if err == "target":
        tshape = shape[:-1] + [shape[-1] + 1]
    elif err == "weight":
        weight = Spec([shape[-1] + 1], lo=0.0, hi=2.0, grad=False)
    elif err == "pos_weight":
        pos_weight = Spec([2] + shape, lo=0.25, hi=4.0, grad=False)  # would broadcast the loss up
    elif err == "reduction":
        args["reduction"] = "average"
    inputs = {"input": Spec(shape, lo=-scale, hi=scale), "target": Spec(tshape, lo=0.0, hi=1.0, grad=False),
              "weight": weight, "pos_weight": pos_weight}
    fn = lambda T, a: F.binary_cross_entropy_with_logits(  # noqa: E731
        T["input"], T["target"], weight=T["weight"], pos_weight=T["pos_weight"], **a)
    return fam.add("binary_cross_entropy_with_logits", args, inputs, fn, expect_error=err is not None)


def mse_case(fam, rng, err=None):
    shape = [rng.randint(1, 5) for _ in range(rng.randint(0, 4))]
    tshape = list(shape)
    if shape and rng.random() < 0.3:  # PyTorch broadcasts (with a warning)
        k = rng.randint(1, len(shape))
        tshape = [d if rng.random() < 0.5 else 1 for d in shape[-k:]]
        if rng.random() < 0.5:
            shape, tshape = tshape, shape
    args = {"reduction": rng.choice(["mean", "sum", "none"])}
    if err == "shape":
        shape = (shape or [2])[:-1] + [max((shape or [2])[-1], 2)]
        tshape = shape[:-1] + [shape[-1] + 1]
    elif err == "reduction":
        args["reduction"] = "avg"
    fn = lambda T, a: F.mse_loss(T["input"], T["target"], **a)  # noqa: E731
    return fam.add("mse_loss", args, {"input": Spec(shape), "target": Spec(tshape)}, fn, expect_error=err is not None)


def dice_case(fam, rng, err=None):
    kind = rng.choice(["4d", "4d", "4d", "3d", "2d"])
    ishape, tshape, C = class_shapes(rng, kind)
    ii = pick_ignore(rng, C)
    args = {"smooth": rng.choice([1.0, 1.0, 0.5, 1e-5, 0.0]), "ignore_index": ii}
    tvals = class_targets(rng, tshape, C, ii)
    if err == "target_high":
        tvals[rng.randrange(len(tvals))] = C
    elif err == "shape":
        tshape = tshape[:-1] + [tshape[-1] + 1]
        tvals = [rng.randrange(C) for _ in range(numel(tshape))]
    elif err == "rank":
        ishape, tshape, tvals = [C], [], [0]
    fn = lambda T, a: dice_loss_ref(T["input"], T["target"], **a)  # noqa: E731
    return add_with_ints(fam, "dice_loss", args, {"input": Spec(ishape, lo=-3.0, hi=3.0)},
                         {"target": (tshape, tvals)}, fn, err is not None)


def repeat_until(fam, count, make):
    start, guard = len(fam.cases), 0
    while len(fam.cases) - start < count:
        guard += 1
        assert guard < count * 50, f"{fam.name}: too many dropped cases"
        make()


def gen_loss(fam):
    rng = fam.rng
    kinds = itertools.cycle(CLASS_KINDS)
    repeat_until(fam, 200, lambda: class_case(fam, rng, "cross_entropy", next(kinds)))
    repeat_until(fam, 80, lambda: class_case(fam, rng, "nll_loss", next(kinds)))
    repeat_until(fam, 80, lambda: bce_case(fam, rng))
    repeat_until(fam, 60, lambda: mse_case(fam, rng))
    repeat_until(fam, 60, lambda: dice_case(fam, rng))
    for op in ["cross_entropy", "nll_loss"]:
        for err in CLASS_ERRORS + (["smoothing"] if op == "cross_entropy" else []):
            for _ in range(3):
                class_case(fam, rng, op, rng.choice(["2d", "4d", "3d"]), err)
    for err in ["target", "weight", "pos_weight", "reduction"]:
        for _ in range(3):
            bce_case(fam, rng, err)
    for err in ["shape", "reduction"]:
        for _ in range(3):
            mse_case(fam, rng, err)
    for err in ["target_high", "shape", "rank"]:
        for _ in range(3):
            dice_case(fam, rng, err)


# --------------------------------------------------------------------------------------------
# 2. optimizers: parameter trajectories under seeded gradients
# --------------------------------------------------------------------------------------------
OPTIMIZERS = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW}


def tensor_json(t):
    return {"shape": list(t.shape), "data": F32Data(t.detach().clone().numpy())}  # a copy: steps update in place


def optim_case(fam, name, args, shapes=([3, 4], [5], [2, 3, 3]), steps=5, groups=None, grad_range=1.0, no_grad=()):
    """One optimizer run: seeded parameters, `steps` seeded gradients (None where (step, param) is in no_grad)."""
    params, params_json = [], []
    for shape in shapes:
        s = fam.seed()
        params.append(torch.from_numpy(prng(numel(shape), s).reshape(shape).copy()).requires_grad_())
        params_json.append({"shape": list(shape), "seed": s})
    case = {"id": f"{fam.name}/{len(fam.cases)}", "optimizer": name, "args": args, "groups": groups,
            "params": params_json}
    fam.cases.append(case)
    try:
        if groups:
            pg = [dict({k: v for k, v in g.items() if k != "params"}, params=[params[i] for i in g["params"]])
                  for g in groups]
        else:
            pg = params
        opt = OPTIMIZERS[name](pg, foreach=False, **args)
    except Exception as e:  # noqa: BLE001
        case["error"] = first_line(e)
        fam.stats[(name, "error")] += 1
        return
    grads_json, steps_json = [], []
    for k in range(steps):
        row = []
        for i, p in enumerate(params):
            if (k, i) in no_grad:
                p.grad = None
                row.append(None)
                continue
            s = fam.seed()
            p.grad = torch.from_numpy(prng(p.numel(), s, -grad_range, grad_range).reshape(p.shape).copy())
            row.append({"shape": list(p.shape), "seed": s, "lo": -grad_range, "hi": grad_range})
        opt.step()
        grads_json.append(row)
        steps_json.append([tensor_json(p) for p in params])
    case["grads"] = grads_json
    case["steps"] = steps_json
    case["state"] = [{key: tensor_json(v) for key, v in opt.state[p].items() if v is not None} for p in params]
    case["error"] = None
    fam.stats[(name, "ok")] += 1


def gen_optim(fam):
    for args in [
        {"lr": 0.1},
        {"lr": 0.01, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.1},
        {"lr": 0.1, "momentum": 0.5, "dampening": 0.5, "weight_decay": 0.01},
        {"lr": 0.01, "momentum": 0.9, "nesterov": True},
        {"lr": 0.2, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
        {"lr": 1.0, "weight_decay": 0.1},
        {"lr": 0.003, "momentum": 0.99, "weight_decay": 5e-4},
    ]:
        optim_case(fam, "SGD", args)
    optim_case(fam, "SGD", {"lr": 0.1, "momentum": 0.9}, shapes=([67], [2, 33], [8, 8]))
    optim_case(fam, "SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}, no_grad={(0, 1), (2, 0), (2, 1), (3, 2)})
    optim_case(fam, "SGD", {"lr": 0.01, "momentum": 0.9}, groups=[
        {"params": [0]}, {"params": [1, 2], "lr": 0.1, "weight_decay": 0.01, "nesterov": True}])
    for args in [{"lr": -0.1}, {"lr": 0.1, "momentum": -0.5}, {"lr": 0.1, "weight_decay": -1.0},
                 {"lr": 0.1, "nesterov": True}, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}]:
        optim_case(fam, "SGD", args)

    for name in ["Adam", "AdamW"]:
        for args in [
            {},
            {"lr": 0.01, "betas": [0.8, 0.99]},
            {"lr": 0.1, "eps": 1e-6, "weight_decay": 0.01},
            {"lr": 0.05, "amsgrad": True},
            {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "betas": [0.5, 0.9]},
            {"lr": 0.001, "eps": 0.1},
            {"lr": 0.02, "betas": [0.0, 0.5], "weight_decay": 0.05},
        ]:
            optim_case(fam, name, args)
        optim_case(fam, name, {"lr": 0.01}, grad_range=1e-4)  # gradients near eps
        optim_case(fam, name, {"lr": 0.01, "amsgrad": True}, shapes=([67], [2, 33], [8, 8]), steps=4)
        optim_case(fam, name, {"lr": 0.01, "weight_decay": 0.01}, no_grad={(0, 1), (1, 2), (2, 1), (4, 0)})
        optim_case(fam, name, {"lr": 0.01}, groups=[
            {"params": [0, 2]}, {"params": [1], "lr": 0.003, "betas": [0.85, 0.95], "amsgrad": True, "weight_decay": 0.02}])
        for args in [{"lr": -1.0}, {"eps": -1e-8}, {"betas": [1.0, 0.999]}, {"betas": [0.9, -0.1]},
                     {"weight_decay": -0.1}]:
            optim_case(fam, name, args)


# --------------------------------------------------------------------------------------------
# 3. lr schedulers: lr (and momentum) sequences
# --------------------------------------------------------------------------------------------
SCHEDULERS = {"StepLR": torch.optim.lr_scheduler.StepLR,
              "CosineAnnealingLR": torch.optim.lr_scheduler.CosineAnnealingLR,
              "OneCycleLR": torch.optim.lr_scheduler.OneCycleLR}


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


def sched_case(fam, name, args, optimizer="SGD", optimizer_args=None, group_lrs=(0.1,), steps=40):
    """The lrs after construction and after each of `steps` scheduler steps (each after an optimizer step)."""
    optimizer_args = optimizer_args or {}
    params = [torch.zeros(2, requires_grad=True) for _ in group_lrs]
    opt = OPTIMIZERS[optimizer]([{"params": [p], "lr": lr} for p, lr in zip(params, group_lrs)],
                                foreach=False, **optimizer_args)
    case = {"id": f"{fam.name}/{len(fam.cases)}", "scheduler": name, "args": args, "optimizer": optimizer,
            "optimizer_args": optimizer_args, "group_lrs": list(group_lrs)}
    fam.cases.append(case)
    try:
        sched = SCHEDULERS[name](opt, **args)
    except Exception as e:  # noqa: BLE001
        case["error"], case["error_step"] = first_line(e), 0
        fam.stats[(name, "error")] += 1
        return
    lrs, momenta = [list(sched.get_last_lr())], [[momentum_of(g) for g in opt.param_groups]]
    case["error"], case["error_step"] = None, None
    for k in range(1, steps + 1):
        opt.step()
        try:
            sched.step()
        except Exception as e:  # noqa: BLE001
            case["error"], case["error_step"] = first_line(e), k
            break
        lrs.append(list(sched.get_last_lr()))
        momenta.append([momentum_of(g) for g in opt.param_groups])
    case["lr"] = lrs
    case["momentum"] = momenta
    fam.stats[(name, "ok" if case["error"] is None else "error")] += 1


def gen_sched(fam):
    for step_size, gamma in [(1, 0.9), (3, 0.5), (7, 0.1), (10, 0.1), (40, 0.5), (5, 1.5)]:
        sched_case(fam, "StepLR", {"step_size": step_size, "gamma": gamma})
    sched_case(fam, "StepLR", {"step_size": 4, "gamma": 0.3}, group_lrs=(0.1, 0.02))
    for t_max, eta_min in [(10, 0.0), (40, 0.0), (13, 1e-4), (1, 0.0), (7, 0.01), (100, 1e-3), (3, 0.05)]:
        sched_case(fam, "CosineAnnealingLR", {"T_max": t_max, "eta_min": eta_min})
    sched_case(fam, "CosineAnnealingLR", {"T_max": 6, "eta_min": 0.001}, optimizer="Adam", group_lrs=(0.01, 0.003))
    sgd_m = {"momentum": 0.9}
    for args, opt, opt_args, lrs in [
        ({"max_lr": 0.1, "total_steps": 40}, "SGD", sgd_m, (0.1,)),
        ({"max_lr": 0.01, "total_steps": 50, "pct_start": 0.25, "anneal_strategy": "linear"}, "Adam", {}, (0.001,)),
        ({"max_lr": 1.0, "total_steps": 40, "three_phase": True}, "SGD", sgd_m, (0.1,)),
        ({"max_lr": 0.05, "total_steps": 100, "div_factor": 10.0, "final_div_factor": 100.0}, "Adam", {}, (0.001,)),
        ({"max_lr": [0.1, 0.01], "total_steps": 45, "cycle_momentum": False}, "SGD", sgd_m, (0.1, 0.01)),
        ({"max_lr": 0.1, "total_steps": 30}, "SGD", sgd_m, (0.1,)),  # raises on step 31
        ({"max_lr": 0.3, "total_steps": 41, "pct_start": 0.5, "three_phase": True, "anneal_strategy": "linear",
          "base_momentum": 0.8, "max_momentum": 0.9}, "Adam", {}, (0.001,)),
        ({"max_lr": 0.1, "total_steps": 40, "pct_start": 0.0}, "SGD", sgd_m, (0.1,)),
        ({"max_lr": 0.2, "total_steps": 40}, "SGD", {}, (0.1,)),  # momentum 0 becomes 0.95
        ({"max_lr": [0.02, 0.004], "total_steps": 60, "pct_start": 0.4}, "AdamW", {}, (0.001, 0.001)),
        ({"max_lr": 0.1, "total_steps": 0}, "SGD", sgd_m, (0.1,)),
        ({"max_lr": 0.1, "total_steps": 40, "pct_start": 1.5}, "SGD", sgd_m, (0.1,)),
        ({"max_lr": 0.1, "total_steps": 40, "anneal_strategy": "exp"}, "SGD", sgd_m, (0.1,)),
    ]:
        sched_case(fam, "OneCycleLR", args, opt, opt_args, lrs)


# --------------------------------------------------------------------------------------------
FAMILIES = [("loss", LOSS_INDEX, gen_loss), ("optim", OPTIM_INDEX, gen_optim), ("sched", SCHED_INDEX, gen_sched)]


def main(argv):
    prng_self_check(verbose=False)
    wanted = [a for a in argv if not a.startswith("-")]
    unknown = set(wanted) - {n for n, _, _ in FAMILIES}
    if unknown:
        print(f"unknown families: {sorted(unknown)}", file=sys.stderr)
        return 2
    for name, index, gen in FAMILIES:
        if wanted and name not in wanted:
            continue
        fam = Family(name, index)
        gen(fam)
        write_and_report(fam, op_width=34)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
