#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue #12 item 3: shell completion.  The bash completion built from --help
# (build/completions/sisign) is sourced with bash-completion and driven the
# way bash drives it (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT): it must
# offer the commands, every option each command's --help lists, package
# and key files, and for --key the pkcs11: URIs of two SoftHSM tokens made
# by softhsm-config/make-token.sh (through `sisign keys --uris`, no PIN).
# zsh: the file parses, compinit binds it to all three programs, and
# _sisign, run with zsh's completion builtins replaced by stubs that print
# their arguments, offers commands, options, file patterns and the URIs.
# fish: the file parses and `complete -C` answers with commands, options
# and the URIs.  Each shell's part runs when that shell is installed.
set -u
if [ -z "${SISIGN:-}" ] || [ ! -x "$SISIGN" ]; then echo "SKIP: \$SISIGN not set"; exit 77; fi
if [ -z "${SISIGN_BUILDDIR:-}" ]; then echo "SKIP: \$SISIGN_BUILDDIR not set"; exit 77; fi
if grep -qx 'SISIGN_BUILD_DOCS:BOOL=OFF' "$SISIGN_BUILDDIR/CMakeCache.txt" 2>/dev/null; then
	echo "SKIP: built with -DSISIGN_BUILD_DOCS=OFF"; exit 77
fi
. "$(dirname "$0")/lib/common.sh"
tu_init completion
C=$SISIGN_BUILDDIR/completions
S=${SISIGN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BC=/usr/share/bash-completion/bash_completion
ran=0

for f in sisign _sisign sisign.fish; do
	check '[ -s "$C/$f" ]' "the build made completions/$f"
done

# Two tokens, so --key has URIs on more than one to offer.
tokens=0
M=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
if [ -r "$M" ] && command -v softhsm2-util >/dev/null; then
	for label in comp-a comp-b; do
		SISIGN_PIN=1234 SISIGN=$SISIGN "$S/softhsm-config/make-token.sh" "$T/tok" "$label" >"$T/out" 2>"$T/err" ||
			{ fail "make-token.sh $label"; break; }
	done
	export SOFTHSM2_CONF=$T/tok/softhsm2.conf
	tokens=1
else
	echo "note: no SoftHSM; the pkcs11: URI checks are skipped"
fi
# The URIs `sisign keys --uris` gives for them, through the module
# directly (the completion uses the p11-kit proxy, or --module if given).
if [ "$tokens" = 1 ]; then
	run env -u SISIGN_PIN "$SISIGN" keys --uris --module "$M"
	expect_rc 0 "keys --uris"
	expect_no_stderr "keys --uris"
	check '[ "$(grep -c "^pkcs11:.*token=comp-[ab];.*type=private$" "$T/out")" -eq 2 ]' \
		"keys --uris: one key URI a token, without a PIN"
	cp "$T/out" "$T/uris"
	# The URI it gives is one to sign with.
	printf 'x\n' >"$T/x.txt"
	(cd "$T" && "$SISIGN" pack --uid 0xE0001238 --name C --vendor V -f 'x.txt=!:\data\x.txt' -o in.sis >/dev/null 2>&1)
	run env SISIGN_PIN=1234 "$SISIGN" sign --key "$(head -n 1 "$T/uris")" --module "$M" -o "$T/s.sis" "$T/in.sis"
	expect_rc 0 "sign with the first URI keys --uris gave"
	run "$SISIGN" keys --uris --json --module "$M"
	expect_rc 2 "keys --uris --json is a usage error"
	run "$SISIGN" keys --uris --module "$T/no-such-module.so"
	expect_rc 6 "keys --uris with a module that does not load"
	check '[ ! -s "$T/out" ]' "keys --uris with a module that does not load: no output"
	expect_stderr_has "no-such-module.so" "keys --uris names the module that failed"
fi

has() { grep -qxF -- "$2" "$T/$1"; }

# Files to complete.
mkdir -p "$T/files/sub"
touch "$T/files/app.sis" "$T/files/b.sisx" "$T/files/dev.key" "$T/files/dev.p12" "$T/files/dev.pem" \
	"$T/files/notes.txt"

# ---- bash ----------------------------------------------------------------
if [ -r "$BC" ]; then
	ran=1
	cat >"$T/drive.bash" <<'EOF'
# comp LINE WORD...: complete the last of WORD... (the words of LINE as
# bash splits them, COMP_WORDBREAKS included) with the cursor at the end of
# LINE; print the candidates, one a line.
comp() {
	COMP_LINE=$1
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_sisign
	printf '%s\n' "${COMPREPLY[@]}"
}
EOF
	# bashl OUTFILE LINE WORD...: one completion in a fresh bash, in
	# $T/files; bashc OUTFILE WORD...: the same with LINE the words joined.
	bashl() {
		local out=$1
		shift
		(cd "$T/files" && PATH="$(dirname "$SISIGN"):$PATH" bash --norc --noprofile -c \
			'. "$1"; . "$2"; . "$3"; shift 3; comp "$@"' bash "$BC" "$C/sisign" "$T/drive.bash" "$@") \
			>"$T/$out" 2>"$T/err"
	}
	bashc() {
		local out=$1
		shift
		bashl "$out" "$*" "$@"
	}

	bashc c1 sisign ""
	for w in info sign verify keys export-cert makekeys help; do
		check 'has c1 "$w"' "bash: 'sisign ' offers the command $w"
	done
	bashc c2 sisign si
	check 'has c2 sign && has c2 signsis && ! has c2 verify' "bash: 'sisign si' offers sign and signsis only"
	bashc c3 sisign sign --k
	check 'has c3 --key && ! has c3 --cert' "bash: 'sisign sign --k' offers --key"
	bashc c4 sisign verify ""
	check 'has c4 app.sis && has c4 b.sisx && ! has c4 notes.txt && ! has c4 dev.key' \
		"bash: verify offers *.sis and *.sisx files, not others"
	bashc c5 sisign sign --key ""
	check 'has c5 dev.key && has c5 dev.p12 && has c5 dev.pem && ! has c5 notes.txt && ! has c5 app.sis' \
		"bash: --key offers key files (*.key, *.p12, *.pem), not others"
	bashc c6 sisign keygen --digest ""
	check 'has c6 sha1 && has c6 sha256' "bash: keygen --digest offers sha1 and sha256"
	bashc c7 signsis -
	check 'has c7 -s && has c7 -u' "bash: signsis offers its own options"
	bashc c8 makekeys -
	check 'has c8 -cert && has c8 -dname' "bash: makekeys offers -cert and -dname"
	bashc c9 sisign help ""
	check 'has c9 exit-codes && has c9 sign' "bash: help offers commands and exit-codes"
	bashc c10 sisign sign --out-dir ""
	check 'has c10 sub && ! has c10 app.sis' "bash: --out-dir offers directories only"

	# Every option each command's --help lists as an item is offered.
	cmds=$("$SISIGN" help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p')
	check '[ "$(echo "$cmds" | wc -w)" -ge 10 ]' "sisign help lists the commands"
	for cmd in $cmds; do
		[ "$cmd" = signsis ] || [ "$cmd" = makekeys ] && continue
		bashc opts sisign "$cmd" -
		for o in $("$SISIGN" help "$cmd" | grep -E '^ +-' | sed -E 's/  +[^-].*//' | grep -oE '(^|[ ,])--?[A-Za-z0-9?][A-Za-z0-9-]*' |
			tr -d ' ,' | sort -u); do
			check 'has opts "$o"' "bash: 'sisign $cmd -' lacks $o from its --help"
		done
	done

	if [ "$tokens" = 1 ]; then
		bashc u1 sisign sign --key ""
		while IFS= read -r u; do
			check 'has u1 "$u"' "bash: --key offers $u"
		done <"$T/uris"
		# As bash splits it: "pkcs11" ":" "" — the candidates are the
		# rest of each URI after "pkcs11:".
		bashl u2 "sisign sign --key pkcs11:" sisign sign --key pkcs11 : ""
		while IFS= read -r u; do
			check 'has u2 "${u#pkcs11:}"' "bash: --key pkcs11: offers ${u#pkcs11:}"
		done <"$T/uris"
		check '! grep -q "^pkcs11:" "$T/u2" && ! has u2 dev.key' "bash: after 'pkcs11:' only URI tails"
		# --module on the line is passed on.
		bashc u3 sisign sign --module "$M" --key ""
		check '[ "$(grep -c "type=private" "$T/u3")" -eq 2 ]' "bash: --key with --module offers both keys"
		bashc u4 sisign sign --module /nonexistent.so --key ""
		check '! grep -q "pkcs11:" "$T/u4" && has u4 dev.key' "bash: a module that does not load: files only"
	fi
else
	echo "note: bash-completion not installed ($BC); bash part skipped"
fi

# ---- zsh -----------------------------------------------------------------
if command -v zsh >/dev/null; then
	ran=1
	run zsh -n "$C/_sisign"
	expect_rc 0 "zsh -n _sisign"
	mkdir -p "$T/zfunc"
	cp "$C/_sisign" "$T/zfunc/"
	run env HOME="$T" zsh -f -c 'fpath=("$1" $fpath); autoload -U compinit; compinit -u -D
		for p in sisign signsis makekeys; do print -r -- "$p=$_comps[$p]"; done' zsh "$T/zfunc"
	expect_rc 0 "zsh compinit with _sisign"
	for p in sisign signsis makekeys; do
		expect_stdout_has "$p=_sisign" "zsh: compinit binds $p to _sisign"
	done
	# _sisign's own logic, with zsh's completion builtins replaced by
	# stubs that print what they are given.
	cat >"$T/z.zsh" <<'EOF'
compadd() { print -rl -- "$@" }
_describe() { print -rl -- ${(P)argv[-1]} }
_files() { print -r -- "_files $*" }
_message() { :; }
fpath=($1 $fpath)
autoload -Uz _sisign
words=("${@[2,-1]}"); CURRENT=$#words; PREFIX=$words[-1]; _sisign
EOF
	zshc() { # OUT WORD...
		local out=$1
		shift
		(cd "$T/files" && PATH="$(dirname "$SISIGN"):$PATH" zsh -f "$T/z.zsh" "$T/zfunc" "$@") >"$T/$out" 2>"$T/err"
	}
	zshc z1 sisign si
	check 'has z1 sign && has z1 signsis' "zsh: 'sisign si' offers sign and signsis"
	zshc z2 sisign sign --k
	check 'grep -q "^--key:" "$T/z2"' "zsh: 'sisign sign --k' offers --key"
	zshc z3 sisign verify ""
	check 'grep -qF "_files -g *.(sis|sisx)(-.)" "$T/z3"' "zsh: verify completes *.sis and *.sisx files"
	zshc z4 makekeys -
	check 'grep -q "^-dname:" "$T/z4"' "zsh: makekeys offers -dname"
	if [ "$tokens" = 1 ]; then
		zshc z5 sisign sign --key ""
		while IFS= read -r u; do
			check 'has z5 "${u//;/\\;}"' "zsh: --key offers $u"
		done <"$T/uris"
	fi
else
	echo "note: zsh not installed; zsh part skipped"
fi

# ---- fish ----------------------------------------------------------------
if command -v fish >/dev/null; then
	ran=1
	run fish -n "$C/sisign.fish"
	expect_rc 0 "fish -n sisign.fish"
	fishc() { # OUT LINE
		(cd "$T/files" && HOME="$T" XDG_CONFIG_HOME="$T/cfg" XDG_DATA_HOME="$T/data" PATH="$(dirname "$SISIGN"):$PATH" \
			fish --no-config -c 'source $argv[1]; complete -C $argv[2]' "$C/sisign.fish" "$2") >"$T/$1" 2>"$T/err"
	}
	fhas() { cut -f1 "$T/$1" | grep -qxF -- "$2"; }
	fishc f1 "sisign si"
	check 'fhas f1 sign && fhas f1 signsis && ! fhas f1 verify' "fish: 'sisign si' offers sign and signsis"
	fishc f2 "sisign sign --k"
	check 'fhas f2 --key' "fish: 'sisign sign --k' offers --key"
	fishc f3 "sisign keygen --digest "
	check 'fhas f3 sha1 && fhas f3 sha256' "fish: keygen --digest offers sha1 and sha256"
	fishc f4 "signsis -"
	check 'fhas f4 -s' "fish: signsis offers -s"
	if [ "$tokens" = 1 ]; then
		fishc f5 "sisign sign --key "
		while IFS= read -r u; do
			check 'fhas f5 "$u"' "fish: --key offers $u"
		done <"$T/uris"
		check 'fhas f5 dev.key' "fish: --key offers key files too"
	fi
else
	echo "note: fish not installed; fish part skipped"
fi

if [ "$ran" = 0 ]; then
	echo "SKIP: none of bash-completion, zsh, fish is installed"
	exit 77
fi
echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
