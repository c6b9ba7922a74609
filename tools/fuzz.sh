#!/bin/sh
# fuzz.sh runs every fuzz target of the module, one after the other, for
# FUZZTIME each (go test -fuzz takes one target per run and package).
# Targets are found with go test -list, in the packages whose tests
# declare a func Fuzz..., so new ones are picked up. Each run's output
# goes to FUZZLOGS/<package>.<target>.log; a summary line per target
# says how long it ran, how many inputs it executed and what it found.
# A failing input is written by go test to the package's
# testdata/fuzz/<target>/ (it then runs as a test case). The status is
# non-zero when any target failed.
#
#   FUZZTIME      time per target (go test -fuzztime), default 2m
#   FUZZPARALLEL  fuzzing workers per target, default 1
#   FUZZMINTIME   time to minimize each new input, default 10s
#   FUZZLOGS      folder of the logs, default bin/fuzz
set -u
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-2m}
FUZZPARALLEL=${FUZZPARALLEL:-1}
FUZZMINTIME=${FUZZMINTIME:-10s}
FUZZLOGS=${FUZZLOGS:-bin/fuzz}
mkdir -p "$FUZZLOGS" || exit 1

pkgs=$($GO list -f '{{$d := .Dir}}{{.ImportPath}}{{range .TestGoFiles}} {{$d}}/{{.}}{{end}}{{range .XTestGoFiles}} {{$d}}/{{.}}{{end}}' ./... |
	while read -r pkg files; do
		[ -n "$files" ] && grep -q '^func Fuzz' $files && echo "$pkg"
	done)
if ! list=$($GO test -list '^Fuzz' $pkgs); then
	echo "$list"
	exit 1
fi
targets="$FUZZLOGS/targets"
printf '%s\n' "$list" | awk '/^Fuzz/ {n[++k] = $1; next} /^ok/ {for (i = 1; i <= k; i++) print $2, n[i]; k = 0}' >"$targets"
echo "fuzz: $(wc -l <"$targets") targets, $FUZZTIME each, $FUZZPARALLEL worker(s)"

status=0
while read -r pkg target; do
	log="$FUZZLOGS/$(echo "$pkg" | tr / _).$target.log"
	if $GO test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINTIME" \
		-parallel "$FUZZPARALLEL" "$pkg" >"$log" 2>&1 </dev/null; then
		result=ok
	else
		result="FAILED (see $log)"
		status=1
	fi
	last=$(grep '^fuzz: elapsed' "$log" | tail -n 1 | sed -e 's/^fuzz: //' -e 's# ([0-9]*/sec)##')
	echo "$pkg $target: $result; ${last:-no fuzzing progress}"
done <"$targets"
exit $status
