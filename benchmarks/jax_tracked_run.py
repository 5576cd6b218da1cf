#!/usr/bin/env python3
"""JAX reference for the toolkit's tracked-run benchmark: GD at the Edge of Stability
with the sharpness measured every k steps by a cold Lanczos.

Workload (as the toolkit's `aeos train --optimizer gd --lr 0.04 --steps 1000
--track-every 10 --test-n 0`, DESIGN.md conventions): full batch, the first n = 1000
Fashion-MNIST training images from Debian's dataset-fashion-mnist, x/255
standardised per pixel with the subset's own mean and std (ddof 0, std floored at
1e-8), fc 784-200-200-10 with tanh (weights N(0, 1/fan_in) drawn with numpy's
default_rng(seed), zero biases, W stored [out, in]), MSE (1/n)·Σ½‖f(x) − y‖² on
one-hot targets, float32. GD x ← x − η∇L with η = 0.04 for N = 1000 steps; steps
0…N are recorded (loss, accuracy, ‖g‖ per step, as the toolkit's metrics.jsonl) and
N updates applied. Every k = 10 steps (0, 10, …, N) the sharpness λ₁(H) at x_t,
before step t, is measured by a COLD m = 20-step Lanczos: a fresh random start each
time, full reorthogonalisation (twice) in float64 numpy, Ritz values from the
tridiagonal (scipy.linalg.eigh_tridiagonal), Hessian-vector products jitted in
float32 JAX (jax.jvp of jax.grad). Each measurement costs exactly m HVPs; its
residual is the Lanczos bound |β_m·s_m| = ‖Hy − θ₁y‖ of the top Ritz pair (the
same definition as the toolkit's "residual"), also reported relative to θ₁.
--check-residual additionally computes ‖Hy − θ₁y‖ explicitly (one more HVP per
measurement, timed separately and not counted in the HVPs per measurement).

Times: the whole process (since interpreter start, read from /proc/self/stat on
Linux; also since the top of this script), and the training loop alone (after the
data are loaded, including JIT compilation on first use). Time it as a whole process
too (e.g. `/usr/bin/time -v`), like the toolkit.

What it is compared with: `aeos train --out DIR --optimizer gd --lr 0.04 --steps 1000
--track-every 10 --test-n 0 --quiet --force` timed as a whole process right before
and after on the same machine; its metrics.jsonl records per tracked step "hvps"
(the toolkit warm-starts Lanczos from the previous eigenvector and stops at
‖Hv − θv‖ ≤ 1e-4·|θ₁|, up to 100 products) and "residual". The trajectories need not
be identical (different initial draws; the dynamics at the edge are chaotic): the
final loss and the last sharpness show that both runs are at the edge (λ₁ ≈ 2/η).

Run by hand, not in CI:
    python3 -m venv /tmp/jaxenv && /tmp/jaxenv/bin/pip install jax scipy numpy
    /tmp/jaxenv/bin/python benchmarks/jax_tracked_run.py [--steps 1000] [--every 10] [--lanczos 20] [--json]
"""
import time

_T_SCRIPT = time.perf_counter()
_T_WALL = time.time()

import argparse
import gzip
import json
import os
import statistics
import sys

DATA = "/usr/share/datasets/fashion-mnist"


def process_age_s():
    """Seconds since this process started (Linux /proc), or None."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat, counted after the command name
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def load_fashion_mnist(n):
    import numpy as np

    path_i = os.path.join(DATA, "train-images-idx3-ubyte.gz")
    path_l = os.path.join(DATA, "train-labels-idx1-ubyte.gz")
    if not os.path.exists(path_i):
        sys.exit(f"{path_i} not found; install the Debian package dataset-fashion-mnist")
    with gzip.open(path_i) as f:
        raw = f.read()
    if raw[:4] != b"\x00\x00\x08\x03":
        sys.exit("unexpected IDX magic")
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(path_l) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    x = images[:n].astype(np.float64) / 255.0
    x = (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-8)
    y = np.eye(10)[labels[:n]]
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--every", type=int, default=10, help="measure every k steps (default 10)")
    ap.add_argument("--lanczos", type=int, default=20, help="Lanczos steps = HVPs per measurement (default 20)")
    ap.add_argument("--lr", type=float, default=0.04)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--widths", default="784,200,200,10")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-residual", action="store_true", help="also compute ‖Hy − θy‖ explicitly (one more HVP each, not counted)")
    ap.add_argument("--out", default=None, help="write the per-step records as JSON lines here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree
    import numpy as np
    import scipy
    from scipy.linalg import eigh_tridiagonal

    t_imports = time.perf_counter()
    dt = np.float32
    widths = [int(w) for w in args.widths.split(",")]
    x_np, y_np = load_fashion_mnist(args.n)
    x = jnp.asarray(x_np.astype(dt))
    y = jnp.asarray(y_np.astype(dt))
    labels = jnp.asarray(y_np.argmax(axis=1))
    rng = np.random.default_rng(args.seed)
    params = []
    for fan_in, fan_out in zip(widths, widths[1:]):
        params.append((jnp.asarray((rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in)).astype(dt)), jnp.zeros(fan_out, dt)))
    flat, unravel = ravel_pytree(params)
    dim = flat.size

    def forward(ps, x):
        a = x
        for i, (w, b) in enumerate(ps):
            a = a @ w.T + b
            if i < len(ps) - 1:
                a = jnp.tanh(a)
        return a

    def loss_flat(p, x, y):
        a = forward(unravel(p), x)
        return 0.5 * jnp.sum((a - y) ** 2) / x.shape[0]

    lr = dt(args.lr)

    @jax.jit
    def step(p, x, y, labels):
        (value, g) = jax.value_and_grad(loss_flat)(p, x, y)
        acc = jnp.mean(jnp.argmax(forward(unravel(p), x), axis=1) == labels)
        return p - lr * g, value, acc, jnp.linalg.norm(g)

    @jax.jit
    def hvp(p, v, x, y):
        return jax.jvp(lambda q: jax.grad(loss_flat)(q, x, y), (p,), (v,))[1]

    lanczos_rng = np.random.default_rng(args.seed + 1)
    m = args.lanczos

    def measure(p):
        """Cold m-step Lanczos, full reorthogonalisation in float64, HVPs in float32."""
        q = lanczos_rng.standard_normal(dim)
        q /= np.linalg.norm(q)
        basis = np.empty((m, dim))
        basis[0] = q
        alpha, beta = [], []
        bnorm = 0.0
        for j in range(m):
            w = np.asarray(hvp(p, jnp.asarray(basis[j].astype(dt)), x, y), dtype=np.float64)
            alpha.append(float(w @ basis[j]))
            for _ in range(2):
                w -= basis[: j + 1].T @ (basis[: j + 1] @ w)
            bnorm = float(np.linalg.norm(w))
            if j < m - 1:
                beta.append(bnorm)
                basis[j + 1] = w / bnorm
        theta, s = eigh_tridiagonal(np.array(alpha), np.array(beta))
        top = int(np.argmax(theta))
        residual = abs(bnorm * s[-1, top])
        out = {"sharpness": float(theta[top]), "residual": residual, "hvps": m}
        if args.check_residual:
            yv = basis.T @ s[:, top]
            yv /= np.linalg.norm(yv)
            hy = np.asarray(hvp(p, jnp.asarray(yv.astype(dt)), x, y), dtype=np.float64)
            out["explicit_residual"] = float(np.linalg.norm(hy - theta[top] * yv))
        return out

    p = flat
    records = []
    measure_s = 0.0
    check_s = 0.0
    t_loop = time.perf_counter()
    for t in range(args.steps + 1):
        p_next, value, acc, gnorm = step(p, x, y, labels)
        rec = {"step": t, "loss": float(value), "accuracy": float(acc), "grad_norm": float(gnorm), "lr": args.lr,
               "wall_s": time.perf_counter() - t_loop}
        if not np.isfinite(rec["loss"]):
            records.append(rec)
            print(f"diverged at step {t}", file=sys.stderr)
            break
        if t % args.every == 0 or t == args.steps:
            t0 = time.perf_counter()
            rec.update(measure(p))
            dtm = time.perf_counter() - t0
            measure_s += dtm
            rec["threshold"] = 2 / args.lr
            rec["ratio"] = rec["sharpness"] / rec["threshold"]
        records.append(rec)
        if t < args.steps:
            p = p_next
    jax.block_until_ready(p)
    t_end = time.perf_counter()

    tracked = [r for r in records if "sharpness" in r]
    rel = [r["residual"] / abs(r["sharpness"]) for r in tracked]
    out = {
        "workload": f"Fashion-MNIST n = {args.n}, fc {'-'.join(map(str, widths))} tanh, MSE, float32, GD η = {args.lr}, "
                    f"{args.steps} steps, cold {m}-step Lanczos every {args.every}",
        "jax_version": jax.__version__,
        "scipy_version": scipy.__version__,
        "numpy_version": np.__version__,
        "cpu_count": os.cpu_count(),
        "process_s": process_age_s(),
        "script_s": t_end - _T_SCRIPT,
        "imports_s": t_imports - _T_SCRIPT,
        "loop_s": t_end - t_loop,
        "measure_s": measure_s,
        "measurements": len(tracked),
        "hvps_per_measurement": m,
        "hvps_total": sum(r["hvps"] for r in tracked),
        "final_loss": records[-1]["loss"],
        "final_accuracy": records[-1]["accuracy"],
        "last_sharpness": tracked[-1]["sharpness"] if tracked else None,
        "last_step": records[-1]["step"],
        "threshold": 2 / args.lr,
        "residual_mean": statistics.mean(r["residual"] for r in tracked),
        "residual_median": statistics.median(r["residual"] for r in tracked),
        "residual_max": max(r["residual"] for r in tracked),
        "relative_residual_mean": statistics.mean(rel),
        "relative_residual_median": statistics.median(rel),
        "relative_residual_max": max(rel),
        "measurements_within_1e-4": sum(1 for r in rel if r <= 1e-4),
        "sharpness_last10_median": statistics.median(r["sharpness"] for r in tracked[-10:]),
    }
    if args.check_residual:
        ex = [r["explicit_residual"] for r in tracked]
        out["explicit_residual_mean"] = statistics.mean(ex)
        out["explicit_over_bound_median"] = statistics.median(e / r["residual"] for e, r in zip(ex, tracked))
    if args.out:
        with open(args.out, "w") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
    out["process_s_at_exit"] = process_age_s()
    if args.json:
        out["measurements_detail"] = [{k: r[k] for k in ("step", "loss", "sharpness", "residual", "hvps") if k in r} for r in tracked]
        print(json.dumps(out, indent=2))
        return
    print(f"jax {jax.__version__} on {jax.devices()[0].platform} ({os.cpu_count()} cores): {out['workload']}")
    ps = out["process_s_at_exit"]
    print(f"whole process: {ps:.2f} s since interpreter start" if ps is not None else "whole process: (no /proc)")
    print(f"script: {out['script_s']:.2f} s (imports {out['imports_s']:.2f} s), loop {out['loop_s']:.2f} s, of which Lanczos {measure_s:.2f} s")
    print(f"{len(tracked)} measurements × {m} HVPs = {out['hvps_total']} HVPs")
    print(f"residual ‖Hy − θy‖ of the top Ritz pair: mean {out['residual_mean']:.3g}, median {out['residual_median']:.3g}, "
          f"max {out['residual_max']:.3g}; relative to θ₁: mean {out['relative_residual_mean']:.2e}, "
          f"median {out['relative_residual_median']:.2e}, max {out['relative_residual_max']:.2e} "
          f"({out['measurements_within_1e-4']}/{len(tracked)} within 1e-4)")
    if args.check_residual:
        print(f"explicit ‖Hy − θy‖: mean {out['explicit_residual_mean']:.3g}; explicit/bound median {out['explicit_over_bound_median']:.3g}")
    print(f"final loss {out['final_loss']:.12g} (accuracy {out['final_accuracy']:.3f}) at step {out['last_step']}; "
          f"last sharpness {out['last_sharpness']:.12g} (2/η = {out['threshold']:g}); median of the last 10: {out['sharpness_last10_median']:.6g}")


if __name__ == "__main__":
    main()
