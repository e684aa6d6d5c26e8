#!/usr/bin/env bash
# check_reports_cluster: a sweep run beyond the local runner gives the same
# table as a local sweep. `allocsim sweep --emit parallel` runs under GNU
# parallel; `--emit slurm` runs as a Slurm array job on a real single-node
# Slurm (munged, slurmctld and slurmd on localhost with a private
# configuration, key and ports, started here and stopped at the end); each
# is merged with `--collect` and its compare.csv, compare.json and figure
# data must equal the local sweep's byte for byte (figures are not rendered
# here: --no-render; check_reports_sweep renders them). A half-done emitted sweep is collected
# with exit 1, and --emit lists only the runs still missing.
# Skipped (exit 77) only when GNU parallel or Slurm is not installed
# (`make deps` installs parallel, slurm-wlm and munge).
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u
. "$(dirname "$0")/checklib.sh"
for tool in parallel sbatch slurmctld slurmd munged munge; do
  if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
    echo "SKIP: $tool is not installed (apt-get install parallel slurm-wlm munge, or make deps)"
    exit 77
  fi
done
PATH=$PATH:/usr/sbin
chmod 700 "$T"
pids=()
stop_slurm() { # TERM, then KILL whatever has not stopped within 5 s
  local p i
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for i in $(seq 1 50); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  pids=()
}
cleanup() {
  stop_slurm
  if [ -s "$T/munged.pid" ]; then
    local m i
    m=$(cat "$T/munged.pid")
    kill "$m" 2>/dev/null
    for i in $(seq 1 50); do kill -0 "$m" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$T"
}
trap cleanup EXIT # replaces checklib's: removes $T too
cd "$T"
"$A" gen server-mix --events 20000 --seed 21 -o a.ast >/dev/null &&
"$A" gen larson --events 20000 --seed 22 -o b.ast >/dev/null || { echo "FAIL gen"; exit 1; }
cat > spec.json <<'JSON'
{ "traces": ["a.ast", "b.ast"], "policies": ["bestfit", "hoard"],
  "params": {"bestfit.grow_bytes": [65536, 262144], "os.thp": ["always", "never"]},
  "run_args": ["--no-check"] }
JSON
"$A" sweep spec.json -o local -q -j 2 --no-render >/dev/null || { echo "FAIL local sweep"; exit 1; }
same_as_local() { # same_as_local DIR NAME
  local same=1 f
  for f in compare.csv compare.json $(cd local && ls *.dat); do cmp -s "local/$f" "$1/$f" || same=0; done
  if [ $same = 1 ]; then
    echo "ok   $2: collected table equals the local sweep's"
  else
    echo "FAIL $2: collected table differs from the local sweep's"; diff local/compare.csv "$1/compare.csv" | head; fail=1
  fi
}

# GNU parallel, in two halves: collect after the first half fails (exit 1,
# names what is missing), a second --emit lists only the rest.
"$A" sweep spec.json -o par --emit parallel > out || { echo "FAIL --emit parallel"; cat out; exit 1; }
grep -q "12 of 12 runs to do: parallel < par/jobs.txt" out || { echo "FAIL --emit message"; cat out; fail=1; }
head -n 5 par/jobs.txt | parallel -j 2 || { echo "FAIL parallel (first half)"; fail=1; }
"$A" sweep spec.json --collect par --no-render >out 2>err; rc=$?
[ $rc = 1 ] && grep -q "7 of 12 runs are not in par/runs yet" err &&
  echo "ok   collect of a half-done sweep: exit 1, names the missing runs" ||
  { echo "FAIL collect half-done: exit $rc"; cat err; fail=1; }
"$A" sweep spec.json -o par --emit parallel > out
grep -q "7 of 12 runs to do" out && [ "$(wc -l < par/jobs.txt)" = 7 ] ||
  { echo "FAIL second --emit: $(cat out)"; fail=1; }
parallel -j 2 < par/jobs.txt || { echo "FAIL parallel (second half)"; fail=1; }
"$A" sweep spec.json --collect par --no-render >out 2>err || { echo "FAIL collect"; cat err; fail=1; }
same_as_local par "GNU parallel"

# Slurm: private munge key and socket, free ports, state in $T.
dd if=/dev/urandom of=munge.key bs=1 count=1024 2>/dev/null && chmod 400 munge.key
mkdir -m 700 munge-run state spool
munged --socket="$T/munge-run/munge.sock" --key-file="$T/munge.key" \
  --pid-file="$T/munged.pid" --log-file="$T/munged.log" --seed-file="$T/munged.seed" -f ||
  { echo "FAIL munged did not start"; cat "$T/munged.log"; exit 1; }
# Two free ports below the ephemeral range (32768 and up), so that no
# outgoing connection takes one between the check and slurmctld's bind.
free_ports() {
  python3 -c 'import random, socket
ports = []
while len(ports) < 2:
    p = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); ports.append(p)
    except OSError:
        pass
    s.close()
print(*ports)'
}
H=$(hostname -s)
CPUS=12  # more than the machine has (config_overrides): one wave of tasks
start_slurm() { # writes slurm.conf, starts slurmctld and slurmd; 0 when up
  read -r p1 p2 < <(free_ports)
  cat > slurm.conf <<CONF
ClusterName=allocsimtest
SlurmctldHost=$H(127.0.0.1)
SlurmctldPort=$p1
SlurmdPort=$p2
AuthType=auth/munge
AuthInfo=socket=$T/munge-run/munge.sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
SlurmUser=$(id -un)
SlurmdUser=root
ReturnToService=2
SlurmdParameters=config_overrides
SchedulerParameters=sched_interval=1
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$H NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=allocsim Nodes=$H Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$T/slurm.conf
  slurmctld -D -f "$SLURM_CONF" >ctld.out 2>&1 & pids+=($!)
  slurmd -D -f "$SLURM_CONF" -N "$H" >slurmd.out 2>&1 & pids+=($!)
  local i
  for i in $(seq 1 100); do
    kill -0 "${pids[0]}" 2>/dev/null || return 1   # slurmctld exited
    timeout 5 sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)' && return 0
    sleep 0.2
  done
  return 1
}
up=0
for try in 1 2 3; do
  if start_slurm; then up=1; break; fi
  echo "note: Slurm did not come up (try $try):"; tail -n 2 ctld.out slurmd.out 2>/dev/null
  stop_slurm
done
if [ $up = 0 ]; then
  echo "FAIL Slurm did not come up"; tail -n 5 slurmctld.log slurmd.log 2>/dev/null; exit 1
fi
echo "ok   single-node Slurm up (ports $p1, $p2)"
"$A" sweep spec.json -o sl --emit slurm > out || { echo "FAIL --emit slurm"; cat out; exit 1; }
grep -q "#SBATCH --array=1-12" sl/sweep.sbatch || { echo "FAIL sweep.sbatch"; cat sl/sweep.sbatch; fail=1; }
if timeout 300 sbatch --wait sl/sweep.sbatch > out 2>&1; then
  echo "ok   the array job ran ($(head -1 out))"
else
  echo "FAIL sbatch --wait:"; cat out; tail -5 slurmctld.log slurmd.log; fail=1
fi
"$A" sweep spec.json --collect sl --no-render >out 2>err || { echo "FAIL collect after Slurm"; cat err; fail=1; }
same_as_local sl "Slurm"
exit $fail
