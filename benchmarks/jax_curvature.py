#!/usr/bin/env python3
"""Independent reference for the toolkit's curvature measurement: ARPACK on JAX HVPs.

What it does: reads a run folder written by `aeos train` (DIR/checkpoint.safetensors,
DIR/config.json, DIR/metrics.jsonl) WITHOUT importing anything from the toolkit:
the safetensors file is parsed here with numpy (8-byte little-endian header length,
JSON header, raw little-endian tensor data). It rebuilds the training loss on the
same data in JAX and computes

  * the top-k (default 2) eigenvalues of the Hessian H with
    scipy.sparse.linalg.eigsh (ARPACK, implicitly restarted Lanczos), which='LA';
  * the smallest eigenvalue λ_min(H) with eigsh, which='SA', ncv = 400 (λ_min sits in
    a tight cluster: at the 784-200-200-10 EoS checkpoint λ_min ≈ −0.0622 with the next
    ones at −0.0607 and −0.0601, against λ₁ ≈ 51; a short restarted ARPACK (ncv 20 or
    128) made no progress in 4000+ products, while one long Krylov space converges
    in a few hundred);

on a LinearOperator whose matvec is a jitted JAX Hessian-vector product (forward-
over-reverse: jax.jvp of jax.grad). The reference is computed in float64: the
checkpoint's weights (float32 for a float32 run) are cast UP to float64 and the data
are standardised in float64, so the Hessian is the one of the stored float32 iterate,
evaluated without float32 rounding. (--hvp-dtype float32 evaluates the products in
float32 instead, as the toolkit does, to separate rounding from solver error.)
For each Ritz pair it also reports the explicit residual ‖Hv − λv‖ (one more HVP).

Data and model conventions (DESIGN.md): Fashion-MNIST from Debian's
dataset-fashion-mnist, the first n training images (config.json data.n),
x ← (x/255 − mean)/max(std, 1e-8) per pixel with the subset's own statistics
(ddof 0); the fc net's input is the 784 pixels in file order; dense layers
a ← a·Wᵀ + b with W stored [out, in], the activation after every layer but the last;
MSE = (1/n)·Σ ½‖f(x) − y‖² on one-hot targets, CE = mean softmax cross-entropy.
Supported: fc models (any depth/width, identity/tanh/relu/elu/softplus/gelu(tanh
form)), losses mse and ce, data fashion-mnist with the first n images (not
--balanced, whose subset comes from the toolkit's own PRNG), --curvature-n.

What it is compared with:
  1. the toolkit's own measurement already in the run: the last line of
     DIR/metrics.jsonl that has "sharpness" (measured at that step's iterate). The
     checkpoint is the final iterate; when the final step is tracked (e.g. step 1000
     with --track-every 10) that line is at the same iterate. Reported as
     |λ₁(toolkit) − λ₁(ARPACK)|/λ₁ (target 1e-4: the toolkit's HVPs are float32, its
     Lanczos float64, and it stops at ‖Hv − θv‖ ≤ 1e-4·|θ₁| by default), plus its
     top_k / lambda_min when the run recorded them.
  2. with --compare: `AEOS curvature DIR --top-k K --json` (AEOS defaults to
     /tmp/aeos-ref), if that subcommand exists in that binary; skipped with a
     message otherwise. Relative differences of every eigenvalue are printed.

Run by hand, not in CI:
    python3 -m venv /tmp/jaxenv && /tmp/jaxenv/bin/pip install jax scipy numpy
    aeos train --out /tmp/run-gd --optimizer gd --lr 0.04 --steps 1000 --track-every 10 --test-n 0
    /tmp/jaxenv/bin/python benchmarks/jax_curvature.py /tmp/run-gd [--top-k 2] [--compare] [--json]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import time

DATA = "/usr/share/datasets/fashion-mnist"

SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1"}


def read_safetensors(path):
    """Returns ({name: numpy array}, metadata dict) of a safetensors file, parsed by hand."""
    import numpy as np

    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        sys.exit(f"{path}: too short for a safetensors file")
    header_len = int.from_bytes(raw[:8], "little")
    if header_len > len(raw) - 8:
        sys.exit(f"{path}: header length {header_len} exceeds the file")
    header = json.loads(raw[8 : 8 + header_len].decode("utf-8"))
    base = 8 + header_len
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        dtype = info["dtype"]
        if dtype not in SAFETENSORS_DTYPES:
            sys.exit(f"{path}: tensor {name} has unsupported dtype {dtype}")
        start, end = info["data_offsets"]
        arr = np.frombuffer(raw, dtype=SAFETENSORS_DTYPES[dtype], count=(end - start) // np.dtype(SAFETENSORS_DTYPES[dtype]).itemsize, offset=base + start)
        shape = tuple(info["shape"])
        if arr.size != int(np.prod(shape, dtype=np.int64)):
            sys.exit(f"{path}: tensor {name}: {arr.size} values for shape {shape}")
        tensors[name] = arr.reshape(shape)
    return tensors, metadata


def load_fashion_mnist(n, data_dir):
    import numpy as np

    path_i = os.path.join(data_dir, "train-images-idx3-ubyte.gz")
    path_l = os.path.join(data_dir, "train-labels-idx1-ubyte.gz")
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


def last_tracked_line(path):
    last = None
    final_step = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            final_step = rec.get("step", final_step)
            if rec.get("sharpness") is not None:
                last = rec
    return last, final_step


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--top-k", type=int, default=2)
    ap.add_argument("--tol", type=float, default=1e-12, help="ARPACK relative tolerance for the top-k (default 1e-12)")
    ap.add_argument("--min-tol", type=float, default=1e-8, help="ARPACK relative tolerance for λ_min (default 1e-8, relative to |λ_min|)")
    ap.add_argument("--maxiter", type=int, default=20000, help="ARPACK restarts at most")
    ap.add_argument("--min-ncv", type=int, default=400, help="ARPACK Lanczos vectors (ncv) for λ_min (default 400, about 640 MB for 2e5 parameters: the bottom of the spectrum is a tight cluster near 0, and with ncv 20 or 128 the implicit restarts stall for thousands of products)")
    ap.add_argument("--no-min", action="store_true", help="skip λ_min")
    ap.add_argument("--hvp-dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--data-dir", default=None, help=f"Fashion-MNIST folder (default: the run's, else {DATA})")
    ap.add_argument("--compare", action="store_true", help="also run AEOS curvature DIR --top-k K --json if it exists")
    ap.add_argument("--aeos", default="/tmp/aeos-ref", help="the toolkit binary for --compare (default /tmp/aeos-ref)")
    ap.add_argument("--seed", type=int, default=0, help="seed of ARPACK's start vector")
    ap.add_argument("--progress", type=int, default=0, help="report to stderr every this many HVPs (default: never)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import numpy as np

    ckpt = os.path.join(args.run_dir, "checkpoint.safetensors")
    tensors, meta = read_safetensors(ckpt)
    if "model" not in meta:
        sys.exit(f"{ckpt}: __metadata__ has no \"model\"")
    model = json.loads(meta["model"])
    ckpt_step = int(meta["step"]) if "step" in meta else None
    config_path = os.path.join(args.run_dir, "config.json")
    config = json.load(open(config_path)) if os.path.exists(config_path) else {}
    data = config.get("data", {})

    if model.get("kind") != "fc":
        sys.exit(f"model kind {model.get('kind')!r} is not supported here (fc only)")
    source = data.get("source", "fashion-mnist")
    if source != "fashion-mnist":
        sys.exit(f"data source {source!r} is not supported here (fashion-mnist only)")
    if data.get("balanced"):
        sys.exit("a --balanced subset comes from the toolkit's own PRNG; not reproducible here")
    if model.get("input_shape", [28, 28, 1]) != [28, 28, 1] or model.get("classes", 10) != 10:
        sys.exit(f"unexpected input_shape/classes {model.get('input_shape')}/{model.get('classes')}")
    loss_kind = model.get("loss", config.get("loss", "mse"))
    activation = model.get("activation", "tanh")
    n = int(data.get("n", 1000))
    curvature_n = config.get("curvature_n") or n
    data_dir = args.data_dir or data.get("data_dir") or config.get("data_dir") or DATA

    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree
    import scipy
    from scipy.sparse.linalg import LinearOperator, eigsh

    dt = np.float64 if args.hvp_dtype == "float64" else np.float32
    x_np, y_np = load_fashion_mnist(n, data_dir)
    x_np, y_np = x_np[:curvature_n], y_np[:curvature_n]
    x = jnp.asarray(x_np.astype(dt))
    y = jnp.asarray(y_np.astype(dt))

    layers = sorted({int(k[len("dense"):].split(".")[0]) for k in tensors if k.startswith("dense")})
    if layers != list(range(int(model.get("depth", len(layers) - 1)) + 1)):
        sys.exit(f"dense layers {layers} do not match depth {model.get('depth')}")
    stored_dtype = str(tensors["dense0.weight"].dtype)
    params = [(jnp.asarray(tensors[f"dense{i}.weight"].astype(dt)), jnp.asarray(tensors[f"dense{i}.bias"].astype(dt))) for i in layers]
    if params[0][0].shape[1] != 784:
        sys.exit(f"dense0.weight has shape {params[0][0].shape}, expected [*, 784]")

    acts = {
        "identity": lambda z: z,
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "elu": jax.nn.elu,
        "softplus": jax.nn.softplus,
        "gelu": lambda z: jax.nn.gelu(z, approximate=True),
    }
    if activation not in acts:
        sys.exit(f"activation {activation!r} not supported")
    act = acts[activation]

    def loss(ps, x, y):
        a = x
        for i, (w, b) in enumerate(ps):
            a = a @ w.T + b
            if i < len(ps) - 1:
                a = act(a)
        if loss_kind == "mse":
            return 0.5 * jnp.sum((a - y) ** 2) / x.shape[0]
        if loss_kind == "ce":
            return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(a, axis=1), axis=1))
        raise ValueError(loss_kind)

    flat0, unravel = ravel_pytree(params)
    dim = flat0.size
    # Weights and data are arguments, not closed-over constants (XLA would constant-fold them).
    hvp_jit = jax.jit(lambda ps, v, x, y: ravel_pytree(jax.jvp(lambda q: jax.grad(loss)(q, x, y), (ps,), (unravel(v),))[1])[0])
    loss_value = float(jax.jit(loss)(params, x, y))

    def hvp_flat(v):
        return hvp_jit(params, v, x, y)

    counter = {"hvps": 0}

    t_start = time.perf_counter()

    def matvec(v):
        counter["hvps"] += 1
        if args.progress and counter["hvps"] % args.progress == 0:
            print(f"  … {counter['hvps']} HVPs, {time.perf_counter() - t_start:.0f} s", file=sys.stderr, flush=True)
        v = np.asarray(v, dtype=np.float64).reshape(-1)
        return np.asarray(hvp_flat(jnp.asarray(v.astype(dt))), dtype=np.float64)

    op = LinearOperator((dim, dim), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(args.seed).standard_normal(dim)

    def residuals(vals, vecs):
        out = []
        for i in range(len(vals)):
            v = vecs[:, i] / np.linalg.norm(vecs[:, i])
            out.append(float(np.linalg.norm(matvec(v) - vals[i] * v)))
        return out

    t0 = time.perf_counter()
    vals, vecs = eigsh(op, k=args.top_k, which="LA", tol=args.tol, maxiter=args.maxiter, v0=v0)
    order = np.argsort(vals)[::-1]
    top_vals, top_vecs = vals[order], vecs[:, order]
    top_hvps = counter["hvps"]
    top_res = residuals(top_vals, top_vecs)
    top_s = time.perf_counter() - t0

    lmin = lmin_res = None
    lmin_hvps = 0
    lmin_s = 0.0
    if not args.no_min:
        counter["hvps"] = 0
        t0 = time.perf_counter()
        try:
            v, w = eigsh(op, k=1, which="SA", tol=args.min_tol, maxiter=args.maxiter, v0=v0, ncv=min(dim - 1, args.min_ncv))
            lmin = float(v[0])
            lmin_res = residuals(v, w)[0]
        except scipy.sparse.linalg.ArpackNoConvergence as e:
            print(f"λ_min: ARPACK did not converge ({e})", file=sys.stderr)
        lmin_hvps = counter["hvps"]
        lmin_s = time.perf_counter() - t0

    out = {
        "run_dir": args.run_dir,
        "checkpoint_step": ckpt_step,
        "stored_dtype": stored_dtype,
        "reference_dtype": args.hvp_dtype,
        "n": int(curvature_n),
        "loss": loss_kind,
        "loss_value": loss_value,
        "parameters": int(dim),
        "eigenvalues": [float(v) for v in top_vals],
        "residuals": top_res,
        "relative_residuals": [r / abs(float(top_vals[0])) for r in top_res],
        "hvps_top": top_hvps,
        "seconds_top": top_s,
        "lambda_min": lmin,
        "lambda_min_residual": lmin_res,
        "hvps_min": lmin_hvps,
        "seconds_min": lmin_s,
        "jax_version": jax.__version__,
        "scipy_version": scipy.__version__,
    }

    # The toolkit's own measurement in the run.
    metrics_path = os.path.join(args.run_dir, "metrics.jsonl")
    if os.path.exists(metrics_path):
        rec, final_step = last_tracked_line(metrics_path)
        if rec is not None:
            lam = float(top_vals[0])
            t = {
                "step": rec.get("step"),
                "same_iterate_as_checkpoint": rec.get("step") == ckpt_step,
                "sharpness": rec["sharpness"],
                "residual": rec.get("residual"),
                "hvps": rec.get("hvps"),
                "relative_difference": abs(rec["sharpness"] - lam) / abs(lam),
            }
            if rec.get("top_k"):
                t["top_k"] = rec["top_k"]
                t["top_k_relative_differences"] = [abs(a - float(b)) / abs(float(b)) for a, b in zip(rec["top_k"], top_vals)]
            if rec.get("lambda_min") is not None and lmin is not None:
                t["lambda_min"] = rec["lambda_min"]
                t["lambda_min_relative_difference"] = abs(rec["lambda_min"] - lmin) / abs(lmin)
            if rec.get("loss") is not None:
                t["loss"] = rec["loss"]
            out["metrics_jsonl"] = t

    if args.compare:
        cmp = {"command": f"{args.aeos} curvature {args.run_dir} --top-k {args.top_k} --json"}
        exists = False
        if os.access(args.aeos, os.X_OK):
            h = subprocess.run([args.aeos, "--help"], capture_output=True, text=True)
            exists = any(line.strip().startswith("curvature ") or line.strip() == "curvature" for line in h.stdout.splitlines())
        if not exists:
            cmp["skipped"] = f"{args.aeos} has no `curvature` subcommand (or is missing); not compared"
        else:
            r = subprocess.run([args.aeos, "curvature", args.run_dir, "--top-k", str(args.top_k), "--json"], capture_output=True, text=True)
            if r.returncode != 0:
                cmp["skipped"] = f"exit {r.returncode}: {r.stderr.strip()[:500]}"
            else:
                theirs = json.loads(r.stdout)
                cmp["eigenvalues"] = theirs.get("eigenvalues")
                cmp["residuals"] = theirs.get("residuals")
                cmp["hvps"] = theirs.get("hvps")
                cmp["relative_differences"] = [abs(a - float(b)) / abs(float(b)) for a, b in zip(theirs.get("eigenvalues") or [], top_vals)]
                if theirs.get("lambda_min") is not None and lmin is not None:
                    cmp["lambda_min"] = theirs["lambda_min"]
                    cmp["lambda_min_relative_difference"] = abs(theirs["lambda_min"] - lmin) / abs(lmin)
        out["aeos_curvature"] = cmp

    if args.json:
        print(json.dumps(out, indent=2))
        return
    how = "cast up to float64 (the reference)" if args.hvp_dtype == "float64" and stored_dtype != "float64" else f"evaluated in {args.hvp_dtype}"
    print(f"run {args.run_dir}: checkpoint step {ckpt_step}, weights stored {stored_dtype}, {how}")
    print(f"fc {model.get('depth')}×{model.get('width')} {activation}, {loss_kind}, n = {curvature_n}, {dim} parameters; loss {loss_value:.12g}")
    print(f"ARPACK eigsh (scipy {scipy.__version__}) on jitted JAX HVPs (jax {jax.__version__}, {args.hvp_dtype}):")
    for i, (v, r) in enumerate(zip(top_vals, top_res)):
        print(f"  λ{i + 1} = {v:.12g}   ‖Hv − λv‖ = {r:.3g} ({r / abs(top_vals[0]):.2e} relative)")
    print(f"  top-{args.top_k}: {top_hvps} HVPs, {top_s:.1f} s (tol {args.tol:g})")
    if lmin is not None:
        print(f"  λ_min = {lmin:.12g}   ‖Hv − λv‖ = {lmin_res:.3g};  {lmin_hvps} HVPs, {lmin_s:.1f} s (tol {args.min_tol:g})")
    elif not args.no_min:
        print(f"  λ_min: not converged after {lmin_hvps} HVPs")
    t = out.get("metrics_jsonl")
    if t:
        note = "" if t["same_iterate_as_checkpoint"] else f"  (WARNING: not the checkpoint's iterate, step {ckpt_step})"
        print(f"toolkit (metrics.jsonl, step {t['step']}): λ₁ = {t['sharpness']:.12g}, residual {t['residual']}, {t['hvps']} HVPs{note}")
        print(f"  |λ₁(toolkit) − λ₁(ARPACK)|/λ₁ = {t['relative_difference']:.3e}  (target 1e-4)")
        if "loss" in t:
            print(f"  loss there {t['loss']:.12g} vs here {loss_value:.12g} (relative {abs(t['loss'] - loss_value) / abs(loss_value):.1e}: same data and model)")
        if "top_k_relative_differences" in t:
            print(f"  top-k relative differences: {', '.join(f'{d:.3e}' for d in t['top_k_relative_differences'])}")
        if "lambda_min_relative_difference" in t:
            print(f"  λ_min: toolkit {t['lambda_min']:.12g}, relative difference {t['lambda_min_relative_difference']:.3e}")
    c = out.get("aeos_curvature")
    if c:
        if "skipped" in c:
            print(f"--compare: {c['skipped']}")
        else:
            print(f"{c['command']}: eigenvalues {c['eigenvalues']}, {c['hvps']} HVPs")
            print(f"  relative differences: {', '.join(f'{d:.3e}' for d in c['relative_differences'])}")
            if "lambda_min_relative_difference" in c:
                print(f"  λ_min: {c['lambda_min']:.12g}, relative difference {c['lambda_min_relative_difference']:.3e}")


if __name__ == "__main__":
    main()
