#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for tests/test_slurm.py (root only).
#   tests/slurm/cluster.sh install   apt-install munge, slurmctld, slurmd, slurm-client if missing
#   tests/slurm/cluster.sh start     write /etc/slurm/slurm.conf + gres.conf, start munged,
#                                    slurmctld and slurmd, wait until the node is idle
#   tests/slurm/cluster.sh stop      stop the daemons and remove the config, keep the packages
#                                    (with a slurm.conf but no slurmctld, every `scontrol` waits
#                                    ~9 s for the controller, and the SLURM executor plugin calls
#                                    it whenever Snakemake starts)
# No slurmdbd: sacct does not work, so the profile asks for `--slurm-status-command squeue` and
# MinJobAge keeps finished jobs visible to squeue for 3 x the first status-check delay and more.
# The node advertises two fake GPUs (gres gpu, no device behind them) so that the training
# rules' `--gpus=1` requests schedule as on a real GPU node, two at a time.
# slurm.conf must be at /etc/slurm: the jobstep plugin strips SLURM_* variables (SLURM_CONF too).
set -euo pipefail
ETC=/etc/slurm
SPOOL=/var/spool/hpotext-slurm
NODE=$(hostname -s)
CPUS=${SLURM_TEST_CPUS:-4}
MEM_MB=${SLURM_TEST_MEM_MB:-64000}

install() {
  local missing=()
  command -v munged >/dev/null || missing+=(munge)
  command -v slurmctld >/dev/null || missing+=(slurmctld)
  command -v slurmd >/dev/null || missing+=(slurmd)
  command -v sbatch >/dev/null || missing+=(slurm-client)
  [ ${#missing[@]} -eq 0 ] && return 0
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

write_conf() {
  mkdir -p "$ETC" "$SPOOL/ctld" "$SPOOL/d" "$SPOOL/log"
  cat >"$ETC/slurm.conf" <<EOF
# Written by hpotext tests/slurm/cluster.sh: one node, no accounting database.
ClusterName=hpotext
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=$SPOOL/slurmctld.pid
SlurmdPidFile=$SPOOL/slurmd.pid
SlurmctldLogFile=$SPOOL/log/slurmctld.log
SlurmdLogFile=$SPOOL/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=600
SlurmdParameters=config_overrides
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$NODE CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:2 State=UNKNOWN
PartitionName=main Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  cat >"$ETC/gres.conf" <<EOF
AutoDetect=off
Name=gpu File=/dev/null
Name=gpu File=/dev/zero
EOF
}

start() {
  install
  write_conf
  mkdir -p /run/munge /var/log/munge
  chown munge:munge /run/munge /var/log/munge
  if ! pgrep -x munged >/dev/null; then
    runuser -u munge -- /usr/sbin/munged
  fi
  pgrep -x slurmctld >/dev/null || slurmctld
  pgrep -x slurmd >/dev/null || slurmd
  for _ in $(seq 60); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1)
    case "$state" in
      idle | mix) return 0 ;;
      down* | drain*) scontrol update nodename="$NODE" state=resume 2>/dev/null || true ;;
    esac
    sleep 1
  done
  echo "the test SLURM node did not become idle; see $SPOOL/log" >&2
  exit 1
}

stop() {
  scancel --user="$(id -un)" 2>/dev/null || true
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
  for _ in $(seq 20); do
    pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || break
    sleep 0.5
  done
  rm -rf "$SPOOL/ctld" "$SPOOL/d"
  rm -f "$ETC/slurm.conf" "$ETC/gres.conf"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
