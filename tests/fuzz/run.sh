#!/bin/sh
# run.sh: run a libFuzzer target on a scratch copy of its corpus.
# Usage: run.sh FUZZER CORPUS SECONDS [WORKDIR [libFuzzer options...]]
#
# New inputs that reach new code go to WORKDIR/corpus (a copy of CORPUS,
# which is never written), crashers, leaks and timeouts to WORKDIR/crashes.
# Without WORKDIR (or with ""), a temporary one is used and removed after
# a clean run; after a failure it is kept and named.
set -eu
fuzzer=$1 corpus=$2 seconds=$3
work=${4:-}
[ $# -ge 4 ] && shift 4 || shift $#
temp=
if [ -z "$work" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/tend-fuzz.XXXXXX")
	temp=1
fi
mkdir -p "$work/corpus" "$work/crashes"
cp -R "$corpus/." "$work/corpus/"

status=0
# libFuzzer's own exit codes (77 for a crash) would read as a skip to meson.
"$fuzzer" -max_total_time="$seconds" -timeout=10 -error_exitcode=1 \
    -timeout_exitcode=1 -print_final_stats=1 \
    -artifact_prefix="$work/crashes/" "$@" "$work/corpus" || status=$?

# 77 is what meson reads as a skip, whoever exits with it.
[ "$status" -ne 77 ] || status=1
if [ "$status" -ne 0 ]; then
	echo "run.sh: $(basename "$fuzzer") failed (exit $status);" \
	    "crashers in $work/crashes:" >&2
	ls -l "$work/crashes" >&2
elif [ -n "$temp" ]; then
	rm -rf "$work"
fi
exit "$status"
