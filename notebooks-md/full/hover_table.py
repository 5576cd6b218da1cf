"""Prediction against measurement for hover-or-oscillate.md: per setting of
`aeos compare DIR --json`, the slope s = dρ/d(λ/λ*) at the threshold
(`aeos growth --slope`), the prediction (oscillate if s > 10: any cut between the
Nesterov's 2.88 and heavy ball's 38 splits them the same way), the plateau median, the
spread p90 − p10 of the ratio after the onset, and the mean jump |r_{k+1} − r_k|
between consecutive measurements after the onset.

    python3 hover_table.py DIR
"""
import json
import subprocess
import sys


def aeos(*args):
    return json.loads(subprocess.run(["aeos", *args], check=True, capture_output=True, text=True).stdout)


for r in aeos("compare", "--json", *sys.argv[1:])["runs"]:
    slope = aeos("growth", r["optimizer"], "--lr", repr(r["lr"]), "--slope", "--json")["slope"]
    with open(r["dirs"][0] + "/metrics.jsonl") as f:
        ratios = [m["ratio"] for m in map(json.loads, f) if m.get("ratio") is not None and r["onset_step"] is not None and m["step"] >= r["onset_step"]]
    jump = sum(abs(a - b) for a, b in zip(ratios, ratios[1:])) / max(len(ratios) - 1, 1)
    p = r["plateau"]
    measured = f"median {p['median']:.3f}  spread {p['p90'] - p['p10']:.3f}  mean jump {jump:.3f}" if p else "no onset"
    print(f"{r['label']:22s} slope {slope:5.2f}  predicted {'oscillate' if slope > 10 else 'hover':9s}  {r['verdict']:11s}  {measured}")
