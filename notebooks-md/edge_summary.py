"""Categorical summary of run folders for the quick notebooks, robust to the chaotic
last digits of training at the edge: per setting (from `aeos compare --json`), its
threshold, whether the governing sharpness reached it (largest ratio λ/threshold
measured from step 100 on at least 0.95 — the early steps are left out because Adam's
first ν is tiny and its first ratio huge), and with --verdict the verdict of DESIGN.md.

    python3 edge_summary.py [--verdict] DIR...
"""
import json
import subprocess
import sys

args = sys.argv[1:]
show_verdict = "--verdict" in args
dirs = [a for a in args if a != "--verdict"]
rows = json.loads(subprocess.run(["aeos", "compare", "--json", *dirs], check=True, capture_output=True, text=True).stdout)["runs"]
for r in rows:
    largest = 0.0
    for d in r["dirs"]:
        with open(d + "/metrics.jsonl") as f:
            for line in f:
                m = json.loads(line)
                if m.get("ratio") is not None and m["step"] >= 100:
                    largest = max(largest, m["ratio"])
    symbol = "λ₁(P⁻¹H)" if r["quantity"] == "preconditioned sharpness" else "λ₁(H)"
    out = f"{r['label']}: {symbol} against {r['formula']} = {r['threshold']:.6g}: {'reaches it' if largest >= 0.95 else 'stays below it'}"
    if show_verdict:
        out += f", {r['verdict']}"
    print(out)
