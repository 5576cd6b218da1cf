#!/usr/bin/env bash
# `aeos sweep --slurm` on a real (single-node) Slurm cluster, as .ci/run runs it:
#
#   1. brings up the cluster (scripts/slurm-local.sh; needs root and `make slurm-deps`);
#   2. submits a sweep of 4 tiny runs (2 learning rates × 2 seeds, 20 steps each) with
#      --slurm --submit and, while task 1 is midway, cancels it with
#      `scancel --signal=TERM` (its run must checkpoint as interrupted);
#   3. checks `aeos sweep status`, submits the same command again (only task 1 goes
#      out) and waits for it;
#   4. makes the same sweep here with --jobs 2 and checks every run folder is complete
#      and its metrics.jsonl equals the Slurm one line for line except wall_s.
#
# AEOS=path/to/aeos selects the binary (default: the test build, .build/debug/aeos).
# Ends with "slurm-integration: N passed, M failed"; exits 1 if any check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
aeos=${AEOS:-$root/.build/debug/aeos}
[ -x "$aeos" ] || { echo "slurm-integration: $aeos not found: build first (make test, or swift build --build-tests -Xswiftc -O)" >&2; exit 1; }

export AEOS_SLURM_DIR=${AEOS_SLURM_DIR:-$(mktemp -d /tmp/aeos-slurm.XXXXXX)}
work=$(mktemp -d /tmp/aeos-slurm-test.XXXXXX)
started=$(date +%s)
passed=0
failed=0

cleanup() {
  status=$?
  if [ "$failed" -gt 0 ] || [ "$status" -ne 0 ]; then
    echo "--- logs (kept in $work and $AEOS_SLURM_DIR) ---"
    tail -n 20 "$work"/slurm/slurm/*.out "$work"/slurm/slurm/*.err "$work"/slurm/logs/*.log 2>/dev/null || true
    tail -n 20 "$AEOS_SLURM_DIR"/log/*.log 2>/dev/null || true
    scripts/slurm-local.sh stop || true
  else
    scripts/slurm-local.sh stop || true
    rm -rf "$work" "$AEOS_SLURM_DIR"
  fi
}
trap cleanup EXIT

check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "✓ $what"
  else
    failed=$((failed + 1))
    echo "✗ $what"
  fi
}

elapsed() { echo "$(($(date +%s) - started)) s"; }

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local deadline=$(($(date +%s) + limit))
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "slurm-integration: timed out after ${limit} s waiting for $what" >&2
      squeue >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

eval "$(scripts/slurm-local.sh start)"
echo "cluster up ($(elapsed)): $(sinfo -h -o '%P %D nodes, %c CPUs, %T')"

# Tiny runs, each slowed by a full Lanczos run every step (tolerance 0: 150
# iterations), so a task is still running when it is cancelled.
flags=(--grid lr=0.02,0.05 --seeds 0,1 --optimizer gd --data synthetic --n 200 --test-n 0 --depth 1 --width 16
  --steps 20 --track-every 1 --lanczos-tolerance 0 --lanczos-iterations 150 --checkpoint-every 5 --threads 1)
sweep=$work/slurm
run1=$sweep/runs/lr=0.02/seed=1

no_jobs_of() { [ -z "$(squeue -h -j "$1" 2>/dev/null)" ]; }
lines_of() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

out=$("$aeos" sweep --out "$sweep" "${flags[@]}" --slurm --submit)
echo "$out"
job=$(sed -n 's/^submitted job \([0-9]*\).*/\1/p' <<<"$out")
check "the sweep is submitted as a job array of 4 tasks" bash -c "[ -n '$job' ] && [ -f '$sweep/slurm/sweep.sbatch' ] && grep -q -- '4 of 4 tasks (--array=0-3)' <<<'$out'"

# Cancel task 1 once it has made 5 of its 21 lines.
midway() { [ "$(lines_of "$run1/metrics.jsonl")" -ge 5 ]; }
wait_for 240 "task 1 to be midway" midway
# scancel may answer "Job can not be altered now, try again later" (and retry) while the
# signal has reached the job step; what counts is the run's own record, checked below.
scancel --signal=TERM "${job}_1" || echo "(scancel exited $?)"
echo "sent SIGTERM to task ${job}_1 at line $(lines_of "$run1/metrics.jsonl") of 21 ($(elapsed))"
wait_for 300 "job $job to end" no_jobs_of "$job"
echo "job $job ended ($(elapsed))"
check "the cancelled task's run checkpointed as interrupted, midway" \
  bash -c "grep -q '\"status\": \"interrupted\"' '$run1/summary.json' && [ \$(wc -l <'$run1/metrics.jsonl') -lt 21 ]"
status=$("$aeos" sweep status "$sweep")
echo "$status"
check "status: 3 done, 1 pending" grep -q "done 3, running 0, failed 0, pending 1" <<<"$status"

out=$("$aeos" sweep --out "$sweep" "${flags[@]}" --slurm --submit)
echo "$out"
job2=$(sed -n 's/^submitted job \([0-9]*\).*/\1/p' <<<"$out")
check "the re-submission sends only task 1" grep -q -- "1 of 4 tasks (--array=1)" <<<"$out"
wait_for 300 "job $job2 to end" no_jobs_of "${job2:-0}"
echo "job $job2 ended ($(elapsed))"
status=$("$aeos" sweep status "$sweep")
echo "$status"
check "status: 4 done" grep -q "done 4, running 0, failed 0, pending 0" <<<"$status"
check "task 1 resumed from its checkpoint" grep -q "resume" "$sweep/logs/1.log"
check "the tasks' logs are under DIR/slurm/" bash -c "ls '$sweep'/slurm/${job}_1.out '$sweep'/slurm/${job2}_1.out >/dev/null"

"$aeos" sweep --out "$work/local" "${flags[@]}" --jobs 2 --quiet
echo "local sweep done ($(elapsed))"
strip() { sed -E 's/"wall_s":[^,}]*,?//g' "$1"; }
same=0
for r in lr=0.02/seed=0 lr=0.02/seed=1 lr=0.05/seed=0 lr=0.05/seed=1; do
  a=$sweep/runs/$r b=$work/local/runs/$r
  if grep -q '"status": "completed"' "$a/summary.json" && [ "$(wc -l <"$a/metrics.jsonl")" -eq 21 ] \
    && diff <(strip "$a/metrics.jsonl") <(strip "$b/metrics.jsonl") >/dev/null; then
    same=$((same + 1))
  else
    echo "run $r: the Slurm run folder is incomplete or differs from the local one"
  fi
done
check "every Slurm run is complete and equals the --jobs 2 run (metrics.jsonl but wall_s)" test "$same" -eq 4

echo "slurm-integration took $(elapsed)"
echo "slurm-integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
