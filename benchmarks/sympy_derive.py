#!/usr/bin/env python3
"""The derivation `aeos bench` times, done in SymPy for comparison (import included).

For each Table-1 method: build the state matrix on the quadratic ½λx² (g = λx),
the characteristic polynomial det(zI − A), p(−1) and the threshold solving p(−1) = 0
for λ, simplified and factored. Prints milliseconds (wall clock, one process, from
before `import sympy` to the last threshold).

    python3 benchmarks/sympy_derive.py [--json]
"""
import json
import sys
import time

t0 = time.perf_counter()
from sympy import Matrix, symbols, eye, solve, factor, simplify  # noqa: E402

eta, beta, lamda, z = symbols("eta beta lamda z")
b = beta
matrices = {
    "gd": Matrix([[1 - eta * lamda]]),
    "hb": Matrix([[b, lamda], [-eta * b, 1 - eta * lamda]]),
    "ema-hb": Matrix([[b, (1 - b) * lamda], [-eta * b, 1 - eta * (1 - b) * lamda]]),
    "nesterov": Matrix([[b, lamda], [-eta * b * b, 1 - eta * (1 + b) * lamda]]),
    "ema-nesterov": Matrix([[b, (1 - b) * lamda], [-eta * b * b, 1 - eta * (1 - b) * (1 + b) * lamda]]),
}
thresholds = {}
for name, a in matrices.items():
    n = a.shape[0]
    p = (z * eye(n) - a).det()
    at_minus_one = p.subs(z, -1)
    roots = solve(at_minus_one, lamda)
    thresholds[name] = str(factor(simplify(roots[0])))
t1 = time.perf_counter()
ms = (t1 - t0) * 1000
if "--json" in sys.argv:
    print(json.dumps({"derive_builtins_ms": ms, "thresholds": thresholds}))
else:
    for k, v in thresholds.items():
        print(f"{k:14s} {v}")
    print(f"SymPy, import included: {ms:.0f} ms")
