#!/usr/bin/env python3
"""Side-by-side reference for `aeos bench`: the same workload in jax.jit on CPU.

Workload (as `aeos bench`): the first n Fashion-MNIST training images from Debian's
dataset-fashion-mnist, x/255 standardised per pixel with the subset's own mean and
std (ddof 0, std floored at 1e-8), an MLP with tanh (weights N(0, 1/fan_in), zero
biases, W stored [out, in]), MSE (1/n)·Σ½‖f(x) − y‖² on one-hot targets.

Times: loss + gradient (jax.value_and_grad) and the Hessian-vector product
(forward-over-reverse: jax.jvp of jax.grad), medians of repeats after warm-up,
block_until_ready on every result.

Run by hand, not in CI:
    python3 -m venv /tmp/jaxenv && /tmp/jaxenv/bin/pip install jax
    /tmp/jaxenv/bin/python benchmarks/jax_mlp.py [--dtype float32|float64] [--n 5000] [--json]
Compare with `aeos bench` run right before or after on the same machine.
"""
import argparse
import gzip
import json
import os
import statistics
import sys
import time

DATA = "/usr/share/datasets/fashion-mnist"


def load_fashion_mnist(n):
    path_i = os.path.join(DATA, "train-images-idx3-ubyte.gz")
    path_l = os.path.join(DATA, "train-labels-idx1-ubyte.gz")
    if not os.path.exists(path_i):
        sys.exit(f"{path_i} not found; install the Debian package dataset-fashion-mnist")
    import numpy as np

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
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--widths", default="784,200,200,200,10")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import jax

    if args.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    dt = np.float32 if args.dtype == "float32" else np.float64
    widths = [int(w) for w in args.widths.split(",")]
    x_np, y_np = load_fashion_mnist(args.n)
    x = jnp.asarray(x_np.astype(dt))
    y = jnp.asarray(y_np.astype(dt))
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(widths, widths[1:]):
        params.append((jnp.asarray((rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in)).astype(dt)), jnp.zeros(fan_out, dt)))
    vec = [(jnp.asarray(rng.standard_normal(w.shape).astype(dt) * 0.01), jnp.full(b.shape, 0.01, dt)) for w, b in params]

    def loss(ps):
        a = x
        for i, (w, b) in enumerate(ps):
            a = a @ w.T + b
            if i < len(ps) - 1:
                a = jnp.tanh(a)
        return 0.5 * jnp.sum((a - y) ** 2) / x.shape[0]

    value_and_grad = jax.jit(jax.value_and_grad(loss))
    hvp = jax.jit(lambda ps, v: jax.jvp(jax.grad(loss), (ps,), (v,))[1])

    def timed(fn, *a):
        times = []
        for r in range(args.repeats + 2):
            t0 = time.perf_counter()
            jax.block_until_ready(fn(*a))
            t1 = time.perf_counter()
            if r >= 2:
                times.append((t1 - t0) * 1000)
        return statistics.median(times), min(times)

    grad_ms, grad_min = timed(value_and_grad, params)
    hvp_ms, hvp_min = timed(hvp, params, vec)

    # Same-run GEMM 1024³ through numpy's BLAS, for context.
    a = rng.standard_normal((1024, 1024)).astype(dt)
    b = rng.standard_normal((1024, 1024)).astype(dt)
    ts = []
    for r in range(7):
        t0 = time.perf_counter()
        a @ b
        t1 = time.perf_counter()
        if r >= 2:
            ts.append(t1 - t0)
    peak = 2 * 1024**3 / statistics.median(ts) / 1e9

    out = {
        "workload": f"Fashion-MNIST n = {args.n}, MLP {'-'.join(map(str, widths))} tanh, MSE",
        "dtype": args.dtype,
        "jax_version": jax.__version__,
        "jax_gradient_ms": grad_ms,
        "jax_hvp_ms": hvp_ms,
        "jax_gradient_min_ms": grad_min,
        "jax_hvp_min_ms": hvp_min,
        "numpy_gemm_gflops": peak,
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {args.dtype}, {out['workload']}")
        print(f"loss + gradient: {grad_ms:.2f} ms (min {grad_min:.2f})")
        print(f"Hessian-vector product: {hvp_ms:.2f} ms (min {hvp_min:.2f}) ({hvp_ms / grad_ms:.2f}× the gradient)")
        print(f"numpy GEMM 1024³ (same run): {peak:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
