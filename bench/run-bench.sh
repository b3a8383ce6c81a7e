#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# run-bench.sh [--quick] [--no-docs] [--jobs N] — every benchmark, one command:
#
#   1. sisign_bench (bench/sisign_bench.c): raw C_Sign rate of a throw-away
#      SoftHSM token (softhsm-config/make-token.sh), before and after the
#      batches, against a batch of 1000 small packages with the default
#      settings, outputs on BENCH_DIR's filesystem and again on /dev/shm
#      (sisign's own cost without the filesystem's), and the batch at 10,
#      100, 1000 and 10000 packages (time per package, peak RSS);
#   2. bench_big (bench/bench_big.c, when built): one big package of 10 MB,
#      100 MB and 1 GiB, signed and verified;
#   3. bench/remote-latency.sh (when present and built): a batch against a
#      token whose signatures take 20 ms, N sessions in flight.
#
# Each prints rows "name<TAB>value<TAB>baseline<TAB>ratio<TAB>goal"; this
# script prints them as they come and then, unless --quick or --no-docs,
# writes docs/performance.md from bench/performance.md.in (the tables, the
# machine's details, the load average at start and end, how long the run
# took) and the charts docs/perf-batch.png and docs/perf-big.png (gnuplot:
# `scripts/deps.sh --bench` installs it; without it the charts are skipped
# with a message).
#
# --quick: small sizes, checks that every program runs and prints its rows
# (ctest bench.smoke); the numbers mean nothing and no file is written.
# --no-docs: full sizes, but docs/ is left alone.
#
# Environment: SISIGN_BUILDDIR (default: build/ beside bench/), BENCH
# (sisign_bench, default BUILD/bench/sisign_bench), BENCH_BIG (default
# bench_big beside BENCH), BENCH_DIR (scratch space, default a temp dir
# under /tmp; the 1 GiB package needs about 2.5 GiB there), DOCS (output
# directory, default docs/ beside bench/), SOFTHSM2_MODULE, SISIGN_PIN.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
quick=0
docs=1
jobs=()
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; docs=0 ;;
	--no-docs) docs=0 ;;
	--jobs) jobs=(--jobs "${2:?--jobs wants a number}"); shift ;;
	*) echo "usage: run-bench.sh [--quick] [--no-docs] [--jobs N]" >&2; exit 2 ;;
	esac
	shift
done
if [ -n "${BENCH:-}" ] && [ -z "${SISIGN_BUILDDIR:-}" ]; then
	build=$(cd "$(dirname "$(command -v "$BENCH")")/.." && pwd)
else
	build=${SISIGN_BUILDDIR:-$here/../build}
fi
export SISIGN_BUILDDIR=$build
bench=${BENCH:-$build/bench/sisign_bench}
bench_big=${BENCH_BIG:-$(dirname "$(command -v "$bench" || echo "$bench")")/bench_big}
docdir=$(cd "${DOCS:-$here/../docs}" && pwd)
[ -x "$(command -v "$bench" || true)" ] || { echo "run-bench.sh: $bench not built (set BENCH or SISIGN_BUILDDIR)" >&2; exit 1; }

work=$(mktemp -d "${BENCH_DIR:-/tmp}/sisign-run-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
start_utc=$(date -u '+%Y-%m-%d %H:%M UTC')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

export SISIGN_PIN=${SISIGN_PIN:-1234}
export SOFTHSM2_MODULE=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
[ -x "$build/src/sisign" ] && export SISIGN=${SISIGN:-$build/src/sisign}
if "$here/../softhsm-config/make-token.sh" "$work/hsm" bench > "$work/token.env" 2>"$work/token.err"; then
	export SOFTHSM2_CONF=$work/hsm/softhsm2.conf
	export BENCH_TOKEN_URI="pkcs11:token=bench;object=sisign;type=private"
else
	echo "run-bench.sh: no SoftHSM token ($(head -c 300 "$work/token.err")); token rows skipped" >&2
fi

# One benchmark: its rows to $work/NAME.tsv (and stdout), "skipped: why"
# when it is not there or fails.
section() {
	local name=$1; shift
	echo "== $name"
	if "$@" > "$work/$name.tsv" 2> "$work/$name.err"; then
		cat "$work/$name.tsv"
	else
		local rc=$?
		cat "$work/$name.tsv"
		if [ $rc -eq 77 ]; then
			printf '%s\tskipped: %s\t-\t-\t-\n' "$name" "$(grep -v '^$' "$work/$name.err" | tail -n 1 | tr '\t' ' ')" |
				tee -a "$work/$name.tsv"
		else
			echo "run-bench.sh: $name failed (exit $rc):" >&2
			tail -n 5 "$work/$name.err" >&2
			printf '%s\tfailed: exit %d\t-\t-\t-\n' "$name" "$rc" | tee -a "$work/$name.tsv"
		fi
	fi
}
skip() {
	echo "== $1"
	printf '%s\tskipped: not built\t-\t-\t-\n' "$1" | tee "$work/$1.tsv"
}

q=()
[ $quick -eq 1 ] && q=(--quick)
section batch "$bench" --dir "$work" "${q[@]}" "${jobs[@]}"
if [ -x "$bench_big" ]; then
	if [ $quick -eq 1 ]; then
		section big "$bench_big" --quick --dir "$work"
	else
		section big "$bench_big" --sizes 10M,100M,1G --dir "$work"
	fi
else
	skip big
fi
if [ -x "$here/remote-latency.sh" ]; then
	section remote bash "$here/remote-latency.sh" "${q[@]}"
else
	skip remote
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
took=$(( $(date +%s) - start ))
echo "== took ${took} s; load average at start ${load_start}, at end ${load_end}"
[ $docs -eq 1 ] || exit 0

# ---- docs/performance.md and the charts -------------------------------------

# Rows as a Markdown table; "#" lines are notes under it.
table() {
	echo "| measurement | value | baseline | ratio | goal |"
	echo "|---|---|---|---|---|"
	grep -v '^#' "$1" | awk -F'\t' 'NF >= 2 { printf "| %s | %s | %s | %s | %s |\n", $1, $2, ($3 == "" ? "-" : $3), ($4 == "" ? "-" : $4), ($5 == "" ? "-" : $5) }'
	if grep -q '^#' "$1"; then
		echo
		grep '^#' "$1" | sed 's/^# */- /'
	fi
}
pkgver() {
	dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"
}
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mhz=$(grep -m1 '^cpu MHz' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'sha_ni|avx2|avx512f|aes' | tr '\n' ' ' | sed 's/ $//')
{
	echo "- CPU: $cpu, ${mhz:-?} MHz; flags of note: ${flags:-none}; \`nproc\`: $(nproc)"
	echo "- memory (\`free -m\`): $(free -m | awk '/^Mem:/ { print $2 " MiB total, " $7 " MiB available" } /^Swap:/ { print "; swap " $2 " MiB" }' | tr -d '\n')"
	echo "- kernel: $(uname -srm); $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
	echo "- scratch filesystem: $(df -T "$work" | awk 'NR == 2 { print $2 " on " $1 }')"
	echo "- OpenSSL $(openssl version 2>/dev/null | awk '{ print $2 }'), zlib $(pkgver zlib1g), SoftHSM $(pkgver softhsm2), p11-kit $(pkgver p11-kit), libp11 $(pkgver libp11-3)"
	echo "- build: $(grep -m1 '^CMAKE_BUILD_TYPE' "$build/CMakeCache.txt" 2>/dev/null | cut -d= -f2 || echo '?') ($build)"
	echo "- run: $start_utc, took $took s; load average (1, 5, 15 min) at start $load_start, at end $load_end"
} > "$work/machine.md"
table "$work/batch.tsv" > "$work/batch.md"
table "$work/big.tsv" > "$work/big.md"
table "$work/remote.tsv" > "$work/remote.md"

charts="docs/perf-batch.png and docs/perf-big.png"
if command -v gnuplot > /dev/null; then
	# scaling rows: "scaling: ... batch of N, ms per package ..." / "... peak RSS (MiB) ..."
	awk -F'\t' '/^scaling: .*ms per package/ { n = $1; sub(/.* of /, "", n); sub(/,.*/, "", n); print n, $2 }' "$work/batch.tsv" > "$work/ms.dat"
	awk -F'\t' '/^scaling: .*peak RSS/ { n = $1; sub(/.* of /, "", n); sub(/,.*/, "", n); print n, $2 }' "$work/batch.tsv" > "$work/rss.dat"
	gnuplot <<EOF || charts="no charts (gnuplot failed)"
set terminal pngcairo size 900,420 font ",10"
set output "$docdir/perf-batch.png"
set multiplot layout 1,2 title "sisign batch on SoftHSM, default settings ($start_utc, $(nproc) cores)"
set logscale x
set xlabel "packages in the batch"
set grid
set key off
set yrange [0:*]
set title "time per package (ms)"
plot "$work/ms.dat" using 1:2 with linespoints pt 7 lw 2
set title "peak RSS (MiB)"
plot "$work/rss.dat" using 1:2 with linespoints pt 7 lw 2 lc rgb "dark-red"
unset multiplot
EOF
	# big rows: any whose name carries a size (10M, 100 MB, 1G, 1 GiB):
	# seconds ("(s)" in the name or a value like "2.85s") and RSS ("RSS" or
	# "6.9MiB"), one line per kind; "vs 1 thread" rows repeat a value.
	awk -F'\t' '
		{ v = $2; unit = "" }
		v ~ /^[0-9.]+MiB$/ { unit = "MiB"; sub(/MiB$/, "", v) }
		v ~ /^[0-9.]+s$/ { unit = "s"; sub(/s$/, "", v) }
		v !~ /^[0-9.]+$/ || $1 ~ /vs 1 thread/ { next }
		match($1, /[0-9]+ ?(MiB|MB|M|GiB|GB|G)([^A-Za-z]|$)/) {
			s = substr($1, RSTART, RLENGTH); n = s + 0; mb = (s ~ /G/) ? n * 1024 : n
			kind = substr($1, 1, RSTART - 1) "*" substr($1, RSTART + RLENGTH)
			gsub(/[ \t]+/, " ", kind)
			f = ($1 ~ /RSS/ || unit == "MiB") ? "rss" : (($1 ~ /\(s\)/ || unit == "s") ? "time" : "")
			if (f != "") print f "\t" kind "\t" mb "\t" v
		}' "$work/big.tsv" > "$work/big.dat"
	if [ -s "$work/big.dat" ]; then
		plots() {
			cut -f1,2 "$work/big.dat" | grep "^$1	" | sort -u | cut -f2 | while IFS= read -r k; do
				grep -F "$1	$k	" "$work/big.dat" | cut -f3,4 > "$work/big-$1-$(echo "$k" | md5sum | cut -c1-8).dat"
				printf '"%s" using 1:2 with linespoints pt 7 lw 2 title "%s", ' \
					"$work/big-$1-$(echo "$k" | md5sum | cut -c1-8).dat" "$(echo "$k" | sed 's/"/'"'"'/g')"
			done | sed 's/, $//'
		}
		tplot=$(plots time)
		rplot=$(plots rss)
		gnuplot <<EOF || charts="no charts (gnuplot failed)"
set terminal pngcairo size 900,420 font ",9"
set output "$docdir/perf-big.png"
set multiplot layout 1,2 title "one big package (bench_big, $start_utc, $(nproc) cores)"
set logscale xy
set xlabel "package data (MiB)"
set grid
set key top left
set title "time (s)"
${tplot:+plot $tplot}
unset logscale y
set yrange [0:*]
set title "peak RSS (MiB)"
${rplot:+plot $rplot}
unset multiplot
EOF
	else
		rm -f "$docdir/perf-big.png"
		charts="docs/perf-batch.png (no big-package rows: bench_big $(cut -f2 "$work/big.tsv" | head -n 1))"
	fi
else
	echo "run-bench.sh: gnuplot not found (scripts/deps.sh --bench installs it): charts not redrawn" >&2
	charts="no charts redrawn (gnuplot missing)"
fi

# The template: lines "@BATCH@", "@BIG@", "@REMOTE@", "@MACHINE@" become
# those blocks; @DATE@, @TOOK@, @LOAD_START@, @LOAD_END@, @CHARTS@ inline.
tmp=$(mktemp "$docdir/.performance.md.XXXXXX")
while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	*SPDX-License-Identifier*) ;; # the template's, not the page's
	@BATCH@) cat "$work/batch.md" ;;
	@BIG@) cat "$work/big.md" ;;
	@REMOTE@) cat "$work/remote.md" ;;
	@MACHINE@) cat "$work/machine.md" ;;
	*)
		line=${line//@DATE@/$start_utc}
		line=${line//@TOOK@/$took}
		line=${line//@LOAD_START@/$load_start}
		line=${line//@LOAD_END@/$load_end}
		line=${line//@CHARTS@/$charts}
		printf '%s\n' "$line"
		;;
	esac
done < "$here/performance.md.in" > "$tmp"
mv "$tmp" "$docdir/performance.md"
echo "run-bench.sh: wrote $docdir/performance.md ($charts)"
