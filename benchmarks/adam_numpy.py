#!/usr/bin/env python3
"""The quadratic-laboratory benchmark of `aeos bench`, in vectorised NumPy.

Adam (beta1 0.9, beta2 0.999, eps 1e-7, no bias correction, lr 1e-3) for 1000 steps
on f(x) = 1/2 sum a_i x_i^2 with a_i = 1 + i/n, n = 10^6, x0 = 1, float64: each step
computes g = a*x and the Adam update, with in-place ufuncs (no temporaries beyond
one scratch array). Prints the median wall-clock milliseconds of the whole loop
(set-up included) over --repeats runs after a 50-step warm-up. The Swift side is
Experiments.SimulateBench.

    python3 benchmarks/adam_numpy.py [--json] [--repeats 3]
"""
import json
import sys
import time

import numpy as np

N = 1_000_000
STEPS = 1000


def run(n=N, steps=STEPS, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
    a = 1.0 + np.arange(n, dtype=np.float64) / n
    x = np.ones(n)
    m = np.zeros(n)
    v = np.zeros(n)
    g = np.empty(n)
    t = np.empty(n)
    for _ in range(steps):
        np.multiply(a, x, out=g)            # g = a*x
        m *= b1                             # m = b1*m + (1-b1)*g
        m += (1 - b1) * g
        np.multiply(g, g, out=t)            # v = b2*v + (1-b2)*g^2
        t *= 1 - b2
        v *= b2
        v += t
        np.sqrt(v, out=t)                   # x -= lr*m/(sqrt(v)+eps)
        t += eps
        np.divide(m, t, out=t)
        t *= lr
        x -= t
    return x


def main():
    repeats = 3
    if "--repeats" in sys.argv:
        repeats = max(1, int(sys.argv[sys.argv.index("--repeats") + 1]))
    run(steps=50)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        x = run()
        times.append((time.perf_counter() - t0) * 1e3)
        assert np.isfinite(x).all()
    ms = float(np.median(times))
    if "--json" in sys.argv:
        print(json.dumps({"quadratic_adam_1e6_ms": ms, "numpy": np.__version__}))
    else:
        print(f"numpy Adam, 1000 steps on a 1e6-dimensional diagonal quadratic: {ms:.1f} ms")


if __name__ == "__main__":
    main()
