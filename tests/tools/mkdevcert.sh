#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Test certificates for the install rules (install-rules.md §1.1 code-signing
# EKU, §5 developer-certificate constraints, §10 AlternativeCodeSigningOID),
# made with the openssl CLI at test time.  Never ship them; they exist for
# tests only.
#
# One certificate:
#   mkdevcert.sh [OPTIONS] PREFIX
# writes PREFIX.key (unencrypted PEM key), PREFIX.pem (the certificate),
# PREFIX.der (the same in DER) and PREFIX.chain.pem (this certificate
# followed by its issuer's PREFIX.chain.pem: signer first, the whole chain
# for `sisign sign --key PREFIX.key --cert PREFIX.chain.pem`).
#   --issuer P       sign with P.key / P.pem (made by this script); default:
#                    self-signed
#   --ca             a CA certificate (basicConstraints CA:TRUE, keyCertSign)
#   --cn NAME        subject CN (default: the file name of PREFIX)
#   --key-type T     rsa (default) or dsa; --bits N (default 2048)
#   --eku LIST       extendedKeyUsage, comma-separated names or dotted OIDs,
#                    e.g. codeSigning, serverAuth, 1.3.6.1.4.1.94.1.49.1.2.2.1;
#                    default: none (no EKU extension at all)
#   --devices LIST   device-ID list extension (…1.1.1.1), comma-separated
#                    UTF8Strings; "" gives an empty list
#   --sids LIST      SID list (…1.1.1.4), comma-separated numbers (0x… or
#                    decimal; written as positive DER INTEGERs); "" = empty
#   --vids LIST      VID list (…1.1.1.5), as --sids
#   --caps LIST      capability set (…1.1.1.6), names or bit numbers joined
#                    by + or , (ReadUserData+WriteUserData, 15+16); "" gives
#                    an empty set (no capability, written 03 00 as the device
#                    wants it)
#   --ext OID=HEX    any extension with this raw DER value (hex, no
#                    separators), e.g. a malformed one:
#                    --ext 1.2.826.0.1.1796587.1.1.1.4=3003 (repeatable)
#   --days N         validity from now (default 3650)
#
# The standard set used by the install-rule tests:
#   mkdevcert.sh --set DIR
# writes into DIR (each NAME.key, NAME.pem, NAME.der, NAME.chain.pem):
#   self          self-signed, EKU codeSigning
#   self-noeku    self-signed, no EKU
#   self-caps     self-signed, EKU codeSigning, capability set ReadUserData+WriteUserData
#   root          self-signed CA (no constraints)
#   leaf          issued by root, EKU codeSigning (leaf.chain.pem = leaf + root)
#   leaf-noeku    issued by root, no EKU
#   leaf-serverauth  issued by root, EKU serverAuth only (lacks codeSigning)
#   leaf-alteku   issued by root, EKU 1.3.6.1.4.1.94.1.49.1.2.2.1 only (an
#                 AlternativeCodeSigningOID of the shipped swipolicy.ini)
#   leaf-devices  + device IDs 004400013622431, 354000000000001
#   leaf-sids     + SIDs 0xE0001234, 0xE0005678
#   leaf-vids     + VIDs 0x70000001
#   leaf-caps     + capabilities ReadUserData+WriteUserData+Location
#   leaf-allcons  + all four of the above
#   leaf-nosids   + an empty SID list (allows no protected UID)
#   leaf-badsids  + a SID list that does not decode (a UTF8String entry)
#   ca-sids       CA issued by root with SIDs 0xE0001234, 0xE0009999
#   leaf-under-ca issued by ca-sids, SIDs 0xE0001234, 0xE0005678, EKU
#                 codeSigning (chain: leaf-under-ca, ca-sids, root; the
#                 combined SID list is 0xE0001234 only)
# All leaves except the *eku ones carry EKU codeSigning.
# Exit status: 0, 1 on an openssl failure, 2 on bad usage.
set -u

die() { echo "mkdevcert.sh: $*" >&2; exit 1; }
usage() { echo "mkdevcert.sh: $*" >&2; echo "usage: mkdevcert.sh [OPTIONS] PREFIX | --set DIR" >&2; exit 2; }

command -v openssl >/dev/null || die "openssl not found"

CAPNAMES=(TCB CommDD PowerMgmt MultimediaDD ReadDeviceData WriteDeviceData DRM TrustedUI ProtServ DiskAdmin
	NetworkControl AllFiles SwEvent NetworkServices LocalServices ReadUserData WriteUserData Location
	SurroundingsDD UserEnvironment)
OIDBASE=1.2.826.0.1.1796587.1.1.1

# The helpers below leave their result (hex) in R, without subshells: a
# list of thousands of entries takes a moment, not minutes.
# tlv TAG HEXCONTENT: one DER element (definite length, shortest form).
tlv() {
	local n=$((${#2} / 2)) l
	if [ "$n" -lt 128 ]; then printf -v l '%02x' "$n"
	elif [ "$n" -lt 256 ]; then printf -v l '81%02x' "$n"
	elif [ "$n" -lt 65536 ]; then printf -v l '82%04x' "$n"
	else printf -v l '83%06x' "$n"; fi
	R=$1$l$2
}
# A positive DER INTEGER of a number (0x... or decimal, < 2^32).
der_int() {
	local v hex
	[[ $1 =~ ^(0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10})$ ]] || { echo "mkdevcert.sh: bad number $1" >&2; return 1; }
	v=$(($1))
	[ "$v" -le 4294967295 ] || { echo "mkdevcert.sh: $1 is over 32 bits" >&2; return 1; }
	printf -v hex '%x' "$v"
	[ $((${#hex} % 2)) -eq 1 ] && hex="0$hex"
	case $hex in [89abcdef]*) hex="00$hex" ;; esac
	tlv 02 "$hex"
}
int_list() {
	local body="" x
	IFS=, read -ra xs <<<"$1"
	for x in "${xs[@]}"; do
		[ -n "$x" ] || continue
		der_int "$x" || return 1
		body+=$R
	done
	tlv 30 "$body"
}
utf8_list() {
	local body="" x
	IFS=, read -ra xs <<<"$1"
	for x in "${xs[@]}"; do
		tlv 0c "$(printf '%s' "$x" | od -An -v -tx1 | tr -d ' \n')"
		body+=$R
	done
	tlv 30 "$body"
}
# Capability BIT STRING in named-bit order, trailing zero bits dropped (DER).
cap_bits() {
	local bits=0 x i k found nb nbytes unused hex="" b
	IFS='+,' read -ra xs <<<"$1"
	for x in "${xs[@]}"; do
		[ -n "$x" ] || continue
		if [[ $x =~ ^[0-9]{1,2}$ ]] && [ "$x" -lt 64 ]; then
			bits=$((bits | (1 << x)))
			continue
		fi
		found=""
		for i in "${!CAPNAMES[@]}"; do
			[ "${CAPNAMES[$i],,}" = "${x,,}" ] && found=$i
		done
		[ -n "$found" ] || { echo "mkdevcert.sh: unknown capability $x" >&2; return 1; }
		bits=$((bits | (1 << found)))
	done
	if [ "$bits" -eq 0 ]; then
		R=0300 # the empty set as the device reads it (it refuses DER's 030100)
		return
	fi
	nb=0
	for ((i = 0; i < 64; i++)); do (((bits >> i) & 1)) && nb=$((i + 1)); done
	nbytes=$(((nb + 7) / 8))
	unused=$((nbytes * 8 - nb))
	for ((i = 0; i < nbytes; i++)); do
		b=0
		for ((k = 0; k < 8; k++)); do (((bits >> (i * 8 + k)) & 1)) && b=$((b | (0x80 >> k))); done
		printf -v b '%02x' "$b"
		hex+=$b
	done
	printf -v unused '%02x' "$unused"
	tlv 03 "$unused$hex"
}
# "DER:aa:bb:..." for an openssl config value.
cfgder() { printf 'DER:%s' "$(printf '%s' "$1" | sed 's/../&:/g; s/:$//')"; }

make_one() {
	local prefix="" issuer="" ca=0 cn="" ktype=rsa bits=2048 eku="" days=3650
	local have_dev=0 dev="" have_sid=0 sid="" have_vid=0 vid="" have_cap=0 cap=""
	local -a raw=()
	while [ $# -gt 0 ]; do
		case $1 in
		--issuer) issuer=${2-}; shift 2 ;;
		--ca) ca=1; shift ;;
		--cn) cn=${2-}; shift 2 ;;
		--key-type) ktype=${2-}; shift 2 ;;
		--bits) bits=${2-}; shift 2 ;;
		--eku) eku=${2-}; shift 2 ;;
		--devices) have_dev=1; dev=${2-}; shift 2 ;;
		--sids) have_sid=1; sid=${2-}; shift 2 ;;
		--vids) have_vid=1; vid=${2-}; shift 2 ;;
		--caps) have_cap=1; cap=${2-}; shift 2 ;;
		--ext) raw+=("${2-}"); shift 2 ;;
		--days) days=${2-}; shift 2 ;;
		-*) usage "unknown option $1" ;;
		*) [ -z "$prefix" ] || usage "one PREFIX only"; prefix=$1; shift ;;
		esac
	done
	[ -n "$prefix" ] || usage "PREFIX missing"
	[ -n "$cn" ] || cn=$(basename "$prefix")
	if [ -n "$issuer" ]; then
		[ -f "$issuer.key" ] && [ -f "$issuer.pem" ] || die "issuer $issuer.key/.pem not found"
	fi
	local cfg="$prefix.cnf" v
	{
		echo "[req]"
		echo "distinguished_name = dn"
		echo "prompt = no"
		echo "[dn]"
		echo "CN = $cn"
		echo "O = sisign tests"
		echo "[ext]"
		echo "subjectKeyIdentifier = hash"
		if [ -n "$issuer" ]; then echo "authorityKeyIdentifier = keyid"; fi
		if [ "$ca" = 1 ]; then
			echo "basicConstraints = critical, CA:TRUE"
			echo "keyUsage = critical, keyCertSign, cRLSign, digitalSignature"
		else
			echo "basicConstraints = CA:FALSE"
			echo "keyUsage = critical, digitalSignature"
		fi
		[ -z "$eku" ] || echo "extendedKeyUsage = $eku"
		if [ "$have_dev" = 1 ]; then utf8_list "$dev" || exit 2; echo "$OIDBASE.1 = $(cfgder "$R")"; fi
		if [ "$have_sid" = 1 ]; then int_list "$sid" || exit 2; echo "$OIDBASE.4 = $(cfgder "$R")"; fi
		if [ "$have_vid" = 1 ]; then int_list "$vid" || exit 2; echo "$OIDBASE.5 = $(cfgder "$R")"; fi
		if [ "$have_cap" = 1 ]; then cap_bits "$cap" || exit 2; echo "$OIDBASE.6 = $(cfgder "$R")"; fi
		for v in ${raw[@]+"${raw[@]}"}; do echo "${v%%=*} = $(cfgder "${v#*=}")"; done
	} >"$cfg" || die "cannot write $cfg"
	case $ktype in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"$bits" -out "$prefix.key" 2>/dev/null ;;
	dsa)
		openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:"$bits" \
			-pkeyopt dsa_paramgen_q_bits:160 -out "$prefix.param" 2>/dev/null &&
			openssl genpkey -paramfile "$prefix.param" -out "$prefix.key" 2>/dev/null
		;;
	*) usage "key type $ktype: rsa or dsa" ;;
	esac || die "cannot make the key $prefix.key"
	if [ -z "$issuer" ]; then
		openssl req -new -x509 -config "$cfg" -extensions ext -key "$prefix.key" -days "$days" -sha256 \
			-set_serial "0x$(openssl rand -hex 8)" -out "$prefix.pem" 2>"$prefix.err" ||
			die "openssl req failed: $(cat "$prefix.err")"
		cp "$prefix.pem" "$prefix.chain.pem"
	else
		openssl req -new -config "$cfg" -key "$prefix.key" -out "$prefix.csr" 2>"$prefix.err" ||
			die "openssl req failed: $(cat "$prefix.err")"
		openssl x509 -req -in "$prefix.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -days "$days" -sha256 \
			-set_serial "0x$(openssl rand -hex 8)" -extfile "$cfg" -extensions ext -out "$prefix.pem" \
			2>"$prefix.err" || die "openssl x509 failed: $(cat "$prefix.err")"
		cat "$prefix.pem" "$issuer.chain.pem" >"$prefix.chain.pem"
	fi
	openssl x509 -in "$prefix.pem" -outform DER -out "$prefix.der" 2>/dev/null || die "cannot write $prefix.der"
	rm -f "$prefix.cnf" "$prefix.csr" "$prefix.err" "$prefix.param"
}

make_set() {
	local d=$1 cs=codeSigning
	mkdir -p "$d" || die "cannot make $d"
	make_one --eku $cs "$d/self"
	make_one "$d/self-noeku"
	make_one --eku $cs --caps ReadUserData+WriteUserData "$d/self-caps"
	make_one --ca "$d/root"
	make_one --issuer "$d/root" --eku $cs "$d/leaf"
	make_one --issuer "$d/root" "$d/leaf-noeku"
	make_one --issuer "$d/root" --eku serverAuth "$d/leaf-serverauth"
	make_one --issuer "$d/root" --eku 1.3.6.1.4.1.94.1.49.1.2.2.1 "$d/leaf-alteku"
	make_one --issuer "$d/root" --eku $cs --devices 004400013622431,354000000000001 "$d/leaf-devices"
	make_one --issuer "$d/root" --eku $cs --sids 0xE0001234,0xE0005678 "$d/leaf-sids"
	make_one --issuer "$d/root" --eku $cs --vids 0x70000001 "$d/leaf-vids"
	make_one --issuer "$d/root" --eku $cs --caps ReadUserData+WriteUserData+Location "$d/leaf-caps"
	make_one --issuer "$d/root" --eku $cs --devices 004400013622431,354000000000001 \
		--sids 0xE0001234,0xE0005678 --vids 0x70000001 --caps ReadUserData+WriteUserData+Location \
		"$d/leaf-allcons"
	make_one --issuer "$d/root" --eku $cs --sids "" "$d/leaf-nosids"
	make_one --issuer "$d/root" --eku $cs --ext "$OIDBASE.4=30030c0131" "$d/leaf-badsids"
	make_one --issuer "$d/root" --ca --sids 0xE0001234,0xE0009999 "$d/ca-sids"
	make_one --issuer "$d/ca-sids" --eku $cs --sids 0xE0001234,0xE0005678 "$d/leaf-under-ca"
}

if [ "${1-}" = "--set" ]; then
	[ $# -eq 2 ] || usage "--set DIR"
	make_set "$2"
else
	make_one "$@"
fi
