#!/bin/sh
# Measures what one pipeline step, or one command of a manual delivery, uses, from its own process tree, and runs it
# unchanged (its exit code is this script's). POSIX sh and /proc only, so it runs in every step image (Debian's dash,
# Alpine's busybox ash, Fedora's bash) and on a workstation.
#
#   CPU-seconds         user + system time of the tree: the shell's `times` for its reaped children, minus what it
#                       had used before the child started;
#   memory byte-seconds resident set size (VmRSS) of every process of the tree (the child and its descendants, found
#                       by parent pid in /proc/*/stat), sampled after 0.1, 0.3 and 0.8 s, then every second, and
#                       integrated over the wall time;
#   GPU-seconds         GPUs held x wall time: MLOPS_STEP_GPUS when set, else the NVIDIA device nodes /dev/nvidia<N>
#                       the container sees (the device plugin's runtime injects only the GPUs the step's limit holds).
#
# Usage:
#   step_usage.sh step <step name> [last] <script   a Task step (pipelines/core/context.ts renders every step so):
#       runs the script read from stdin, adds its usage to $MLOPS_USAGE_DIR/usage (default /stage, the Task's shared
#       emptyDir), and when it is the Task's last step, or it failed (Tekton then skips the rest), pushes the usage of
#       the Task's steps so far to the Pushgateway: group job=mlops-delivery, run=<PipelineRun> (MLOPS_PIPELINE_RUN;
#       the TaskRun when empty), pipeline_task=<PipelineTask> (MLOPS_PIPELINE_TASK; MLOPS_TASK_RUN when empty), metric
#       names from the contract (MLOPS_METRIC_TASKRUN_*). The report step of the run sums these groups.
#   step_usage.sh exec <step name> last|not-last -- <command> [args]   the same for a step that runs a command.
#   step_usage.sh command <log> -- <command> [args]   a command of a manual delivery (docs/manual-runbook.md): runs it
#       with this terminal, and appends one line to <log>:
#       <start unix s> <wall cs> <cpu ms> <memory kB x cs> <GPU cs> <exit code> <command...>
set -u

# Sampling intervals in seconds: short at first, so a step of a second is sampled too, then every SAMPLE seconds.
FIRST_SAMPLES="0.1 0.2 0.5"
SAMPLE=${MLOPS_USAGE_SAMPLE_SECONDS:-1}

# Uptime in centiseconds (/proc/uptime has two decimals): a monotonic clock in integers.
now_cs() {
    read -r up _ </proc/uptime
    echo "${up%.*}${up#*.}"
}

# Strips leading zeros, so sh arithmetic does not read "08" as octal.
dec() {
    n=$1
    while [ "${n#0}" != "$n" ]; do n=${n#0}; done
    echo "${n:-0}"
}

# The children's CPU time in ms from the output of `times` (file $1): the second line, "XmY.Zs XmY.Zs" in dash,
# bash and busybox alike (the fraction has 2, 3 or 6 digits).
children_cpu_ms() {
    total=0
    line=0
    while read -r user sys; do
        line=$((line + 1))
        [ "$line" -eq 2 ] || continue
        for t in "$user" "$sys"; do
            m=${t%%m*}
            s=${t#*m}
            s=${s%s}
            case $s in
                *.*) whole=${s%%.*} frac=${s#*.} ;;
                *) whole=$s frac=0 ;;
            esac
            frac=$(printf '%.3s' "${frac}000")
            total=$((total + $(dec "$m") * 60000 + $(dec "$whole") * 1000 + $(dec "$frac")))
        done
    done <"$1"
    echo "$total"
}

# The pids of process $1 and all its descendants, space-separated.
tree() {
    root=$1
    pairs=""
    for d in /proc/[0-9]*; do
        { read -r stat <"$d/stat"; } 2>/dev/null || continue
        set -f
        # shellcheck disable=SC2086 # the fields after "(comm) ": state, ppid, ...
        set -- ${stat##*) }
        set +f
        pairs="$pairs ${d#/proc/}:$2"
    done
    found=" $root "
    changed=1
    while [ "$changed" -eq 1 ]; do
        changed=0
        for pair in $pairs; do
            case $found in
                *" ${pair#*:} "*)
                    case $found in
                        *" ${pair%%:*} "*) ;;
                        *) found="$found${pair%%:*} " changed=1 ;;
                    esac
                    ;;
            esac
        done
    done
    echo "$found"
}

# Resident set size of the tree of $1, in kB.
tree_rss_kb() {
    kb=0
    for p in $(tree "$1"); do
        { while read -r key value _; do
            if [ "$key" = "VmRSS:" ]; then
                kb=$((kb + value))
                break
            fi
        done <"/proc/$p/status"; } 2>/dev/null
    done
    echo "$kb"
}

# Integrates the tree's RSS until process $1 is gone; prints "<kB x cs so far> <last RSS kB> <at cs>" after each sample.
sample() {
    acc=0
    last_kb=0
    prev=$(now_cs)
    intervals=$FIRST_SAMPLES
    while [ -d "/proc/$1" ]; do
        interval=${intervals%% *}
        [ "$interval" = "$intervals" ] && intervals="" || intervals=${intervals#* }
        [ -n "$interval" ] || interval=$SAMPLE
        sleep "$interval" 2>/dev/null || sleep 1
        [ -d "/proc/$1" ] || break
        kb=$(tree_rss_kb "$1")
        at=$(now_cs)
        acc=$((acc + kb * (at - prev)))
        prev=$at
        last_kb=$kb
        echo "$acc $last_kb $at"
    done
}

gpus() {
    if [ -n "${MLOPS_STEP_GPUS:-}" ]; then
        echo "$MLOPS_STEP_GPUS"
        return
    fi
    n=0
    for dev in /dev/nvidia[0-9]*; do
        [ -e "$dev" ] && n=$((n + 1))
    done
    echo "$n"
}

# Runs "$@" (stdin from fd 3) measured; sets rc, start_s, wall_cs, cpu_ms, mem_kbcs, gpu_cs.
measure() {
    times >"$work/times0"
    start_s=$(date +%s)
    start_cs=$(now_cs)
    "$@" <&3 &
    child=$!
    trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
    # Created here, not by the sampler's redirection: a sampler killed before its subshell got that far (a child that
    # ends at once on a busy node) left no file, and reading it below failed.
    : >"$work/rss"
    sample "$child" >>"$work/rss" &
    sampler=$!
    rc=0
    wait "$child" || rc=$?
    # A trapped signal interrupts wait before the child is gone: wait for it again.
    while [ -d "/proc/$child" ] && [ "$rc" -gt 128 ]; do
        rc=0
        wait "$child" || rc=$?
    done
    end_cs=$(now_cs)
    times >"$work/times1"
    kill "$sampler" 2>/dev/null
    wait "$sampler" 2>/dev/null
    trap - TERM INT HUP
    wall_cs=$((end_cs - start_cs))
    cpu_ms=$(($(children_cpu_ms "$work/times1") - $(children_cpu_ms "$work/times0")))
    [ "$cpu_ms" -ge 0 ] || cpu_ms=0
    mem_kbcs=0 last_kb=0 at=$start_cs
    while read -r acc kb t; do
        mem_kbcs=$acc last_kb=$kb at=$t
    done <"$work/rss"
    # The last sample's RSS holds until the child ended.
    [ "$end_cs" -gt "$at" ] && mem_kbcs=$((mem_kbcs + last_kb * (end_cs - at)))
    gpu_cs=$(($(gpus) * wall_cs))
}

# Seconds with three decimals from an integer and its divisor (100 for cs, 1000 for ms).
seconds() {
    whole=$(($1 / $2))
    part=$(($1 % $2 * 1000 / $2))
    printf '%d.%03d' "$whole" "$part"
}

# PUTs the exposition file $2 to the Pushgateway group path $1: with python3, curl or wget, whichever the image has.
push() {
    url="${PUSHGATEWAY_URL%/}$1"
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import sys, urllib.request as u
r = u.Request(sys.argv[1], data=open(sys.argv[2], "rb").read(), method="PUT", headers={"Content-Type": "text/plain; version=0.0.4"})
u.urlopen(r, timeout=10).close()' "$url" "$2"
    elif command -v curl >/dev/null 2>&1; then
        curl -fsS -m 10 -X PUT -H 'Content-Type: text/plain; version=0.0.4' --data-binary "@$2" "$url" >/dev/null
    elif command -v wget >/dev/null 2>&1; then
        # busybox wget only POSTs; POST replaces the metrics of the same names in the group, which are all of them.
        # Bounded by timeout(1), not wget's -T: Debian's busybox 1.35 wget crashes on -T.
        bound=""
        command -v timeout >/dev/null 2>&1 && bound="timeout 10"
        $bound wget -q -O /dev/null --header 'Content-Type: text/plain; version=0.0.4' --post-file "$2" "$url"
    else
        echo "step_usage: no python3, curl or wget to push with" >&2
        return 1
    fi
}

# Sums the Task's usage file and pushes it as the TaskRun's group.
push_task_usage() {
    if [ -z "${PUSHGATEWAY_URL:-}" ]; then
        echo "step_usage: PUSHGATEWAY_URL is not set; usage not pushed" >&2
        return 0
    fi
    cpu=0 mem=0 gpu=0 first=""
    while read -r _ s _ c m g; do
        cpu=$((cpu + c)) mem=$((mem + m)) gpu=$((gpu + g))
        if [ -z "$first" ] || [ "$s" -lt "$first" ]; then first=$s; fi
    done <"$usage_file"
    run=${MLOPS_PIPELINE_RUN:-}
    [ -n "$run" ] || run=${MLOPS_TASK_RUN:-unknown}
    task=${MLOPS_PIPELINE_TASK:-}
    [ -n "$task" ] || task=${MLOPS_TASK_RUN:-unknown}
    {
        for pair in "MLOPS_METRIC_TASKRUN_CPU_SECONDS:$(seconds "$cpu" 1000)" \
            "MLOPS_METRIC_TASKRUN_MEMORY_BYTE_SECONDS:$((mem * 1024 / 100))" \
            "MLOPS_METRIC_TASKRUN_GPU_SECONDS:$(seconds "$gpu" 100)" \
            "MLOPS_METRIC_TASKRUN_START:$first"; do
            eval "name=\${${pair%%:*}:-}"
            # shellcheck disable=SC2154 # name is set by the eval above
            if [ -z "$name" ]; then
                echo "step_usage: ${pair%%:*} is not set: the Task must pass the metric names of the contract" >&2
                return 1
            fi
            echo "# TYPE $name gauge"
            echo "$name ${pair#*:}"
        done
    } >"$work/exposition" || return 1
    push "/metrics/job/mlops-delivery/run/$run/pipeline_task/$task" "$work/exposition" ||
        echo "step_usage: the push to $PUSHGATEWAY_URL failed; usage of this Task not recorded" >&2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/step-usage.XXXXXX" 2>/dev/null || mktemp -d "${MLOPS_USAGE_DIR:-/stage}/step-usage.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# A Task step: records its usage, and pushes the Task's when it is the last step or failed. Uses name, last, rc.
record_step() {
    usage_dir=${MLOPS_USAGE_DIR:-/stage}
    if mkdir -p "$usage_dir" 2>/dev/null && [ -w "$usage_dir" ]; then
        usage_file="$usage_dir/usage"
    else
        usage_file="$work/usage"
    fi
    echo "$name $start_s $wall_cs $cpu_ms $mem_kbcs $gpu_cs" >>"$usage_file"
    if [ "$last" = last ] || [ "$rc" -ne 0 ]; then
        push_task_usage
    fi
}

case "${1:-}" in
    step)
        name=${2:?step name}
        last=${3:-}
        cat >"$work/script"
        chmod 700 "$work/script"
        exec 3</dev/null
        measure "$work/script"
        record_step
        exit "$rc"
        ;;
    exec)
        # A Task step that runs a command rather than a script (the promote step).
        name=${2:?step name}
        last=${3:-}
        [ "${4:-}" = "--" ] || {
            echo "usage: step_usage.sh exec <name> last|not-last -- <command> [args]" >&2
            exit 2
        }
        shift 4
        exec 3</dev/null
        measure "$@"
        record_step
        exit "$rc"
        ;;
    command)
        log=${2:?log file}
        [ "${3:-}" = "--" ] || {
            echo "usage: step_usage.sh command <log> -- <command> [args]" >&2
            exit 2
        }
        shift 3
        exec 3<&0
        measure "$@"
        echo "$start_s $wall_cs $cpu_ms $mem_kbcs $gpu_cs $rc $*" >>"$log"
        exit "$rc"
        ;;
    *)
        echo "usage: step_usage.sh step <name> [last] <script | exec <name> last|not-last -- <command> [args] |" >&2
        echo "       command <log> -- <command> [args]" >&2
        exit 2
        ;;
esac
