/* SPDX-License-Identifier: Apache-2.0 */
/* sisign info — describe SIS packages for people (text) or programs (JSON
 * Lines: one document per input file). */
#include "cli.h"
#include "fe.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sisign/package.h>

struct info_opts {
	int json;
	int check;
};

/* ---- shared formatting --------------------------------------------------- */

static void fmt_version_part(int32_t v, char *out, size_t size)
{
	if (v < 0)
		snprintf(out, size, "*");
	else
		snprintf(out, size, "%" PRId32, v);
}

static void fmt_version(const struct sisign_version *v, char *out, size_t size)
{
	char a[16], b[16], c[16];

	fmt_version_part(v->major, a, sizeof a);
	fmt_version_part(v->minor, b, sizeof b);
	fmt_version_part(v->build, c, sizeof c);
	snprintf(out, size, "%s.%s.%s", a, b, c);
}

static const char *lang_name(uint32_t lang, char *buf, size_t size)
{
	const char *n = sisign_language_name(lang);
	if (n)
		return n;
	snprintf(buf, size, "language %" PRIu32, lang);
	return buf;
}

/* Language of the i-th per-language string, if the counts line up. */
static int lang_of(const struct sisign_controller *c, size_t i, uint32_t *lang)
{
	if (i < c->nlanguages) {
		*lang = c->languages[i];
		return 1;
	}
	return 0;
}

static const char *const flag_names[] = { "ShutdownApps", "NonRemovable", "ROMUpgrade", "Hide" };

/* Capability numbers set in capability words (a file description's, or an
 * E32 header's two). */
static size_t caps_list(const uint32_t *words, size_t nwords, unsigned *out, size_t max)
{
	size_t n = 0, w;
	unsigned b;

	for (w = 0; w < nwords; w++)
		for (b = 0; b < 32; b++)
			if ((words[w] >> b) & 1u) {
				if (n < max)
					out[n] = (unsigned)(w * 32 + b);
				n++;
			}
	return n < max ? n : max;
}

static const char *cap_name(unsigned cap, char *buf, size_t size)
{
	const char *n = sisign_capability_name(cap);
	if (n)
		return n;
	snprintf(buf, size, "Cap%u", cap);
	return buf;
}

static const char *kind_code(enum sisign_pkg_kind k)
{
	switch (k) {
	case SISIGN_PKG_SISX: return "sisx";
	case SISIGN_PKG_STUB: return "stub";
	case SISIGN_PKG_CTL: return "ctl";
	default: return "unknown";
	}
}

static const char *kind_text(enum sisign_pkg_kind k)
{
	switch (k) {
	case SISIGN_PKG_SISX: return "SIS package (SISX)";
	case SISIGN_PKG_STUB: return "stub SIS controller (no file data)";
	case SISIGN_PKG_CTL: return "SIS controller file (.ctl, no file data)";
	default: return "unknown";
	}
}

/* What info says about a file as an executable (install-rules.md §3): shown
 * for every E32 image, and for every file going to \sys\bin\, where the
 * installer takes nothing else.  Files without data (a "null" operation,
 * a preinstalled package) have nothing to read. */
struct exe_view {
	int shown;
	struct sisign_exe_info x;
	int caps_match;            /* the description's Capabilities == the header's */
	const char *problems[3];
	size_t nproblems;
	char readerr[600];
};

static void exe_view(struct sisign_pkg *pkg, const struct sisign_file *f, struct exe_view *v)
{
	struct sisign_error e;
	int sysbin = sisign_target_in_sys_bin(f->target);
	uint32_t fc[2] = { 0, 0 };

	memset(v, 0, sizeof *v);
	if (f->hash_len == 0 || f->data_offset == 0)
		return;
	sisign_error_clear(&e);
	if (sisign_pkg_file_exe(pkg, f, &v->x, &e) != SISIGN_OK) {
		if (!sysbin)
			return; /* the data check reports broken data */
		v->shown = 1;
		snprintf(v->readerr, sizeof v->readerr, "cannot read its header: %s", e.message);
		v->problems[v->nproblems++] = v->readerr;
		return;
	}
	if (v->x.kind == SISIGN_EXE_NONE && !sysbin)
		return;
	v->shown = 1;
	if (v->x.kind == SISIGN_EXE_NONE) {
		v->problems[v->nproblems++] = v->x.reason;
		v->problems[v->nproblems++] = "the installer refuses a file in \\sys\\bin\\ that is not an "
					      "executable (IR-EXE-1)";
		return;
	}
	if (v->x.kind == SISIGN_EXE_OTHER && sysbin)
		v->problems[v->nproblems++] = "UID1 is neither an EXE's nor a DLL's: the installer refuses it in "
					      "\\sys\\bin\\ (IR-EXE-1)";
	if (!v->x.header_ok)
		v->problems[v->nproblems++] = v->x.reason;
	for (size_t w = 0; w < f->ncaps; w++)
		if (w < 2)
			fc[w] = f->caps[w];
		else if (f->caps[w])
			fc[0] = ~v->x.caps[0]; /* bits the header cannot have: never equal */
	v->caps_match = fc[0] == v->x.caps[0] && fc[1] == v->x.caps[1];
	if (!v->caps_match && v->x.kind != SISIGN_EXE_OTHER)
		v->problems[v->nproblems++] = "the package's capabilities for it differ from its header's: "
					      "the installer refuses it (IR-EXE-4)";
}

static const char *exe_kind_code(enum sisign_exe_kind k)
{
	switch (k) {
	case SISIGN_EXE_EXE: return "exe";
	case SISIGN_EXE_DLL: return "dll";
	case SISIGN_EXE_OTHER: return "other";
	default: return "none";
	}
}

/* ---- text output ------------------------------------------------------------ */

/* One output line: indentation, then the text with control characters made
 * harmless (names and paths come from the file). */
static void line(int ind, const char *fmt, ...) SISIGN_PRINTF(2, 3);

static void line(int ind, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	printf("%*s", ind, "");
	fe_fputs_safe(s ? s : "(out of memory)", stdout);
	putchar('\n');
	free(s);
}

static const char *hash_text(int st)
{
	switch (st) {
	case SISIGN_HASH_OK: return "hash ok";
	case SISIGN_HASH_MISMATCH: return "HASH MISMATCH";
	case SISIGN_HASH_NO_DATA: return "no data";
	case SISIGN_HASH_MISSING: return "DATA MISSING";
	case SISIGN_HASH_CORRUPT: return "DATA CORRUPT";
	default: return "hash not checked";
	}
}

/* "A+B" for capability words, "none" when empty. */
static void caps_text(const uint32_t *words, size_t nwords, char *out, size_t size)
{
	unsigned caps[256];
	size_t ncaps = caps_list(words, nwords, caps, sizeof caps / sizeof caps[0]), i, used = 0;
	char buf[32];

	snprintf(out, size, "none");
	for (i = 0; i < ncaps && used < size; i++) {
		int w = snprintf(out + used, size - used, "%s%s", i ? "+" : "", cap_name(caps[i], buf, sizeof buf));
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static void text_exe(int ind, struct sisign_pkg *pkg, const struct sisign_file *f)
{
	struct exe_view v;
	char caps[2048];

	exe_view(pkg, f, &v);
	if (!v.shown)
		return;
	if (v.x.kind == SISIGN_EXE_NONE) {
		line(ind, "NOT AN EXECUTABLE:");
	} else {
		caps_text(v.x.caps, 2, caps, sizeof caps);
		line(ind, "%s: SID 0x%08" PRIx32 ", VID 0x%08" PRIx32 ", capabilities %s",
			v.x.kind == SISIGN_EXE_EXE ? "EXE" : v.x.kind == SISIGN_EXE_DLL ? "DLL" : "E32 image (other)",
			v.x.sid, v.x.vid, caps);
	}
	for (size_t i = 0; i < v.nproblems; i++)
		line(ind + 2, "PROBLEM: %s", v.problems[i]);
}

static void text_file(int ind, struct sisign_pkg *pkg, const struct sisign_file *f)
{
	char capstr[2048];

	caps_text(f->caps, f->ncaps, capstr, sizeof capstr);
	line(ind, "%s", f->target && *f->target ? f->target : "(no target path)");
	line(ind + 4, "%" PRIu64 " bytes (%s, %" PRIu64 " stored), %s%s%s, %s%s%s", f->uncompressed_length,
		fe_compression_name(f->data_algorithm), f->data_stored, fe_file_operation_name(f->operation),
		f->mime && *f->mime ? " " : "", f->mime && *f->mime ? f->mime : "", hash_text(f->hash_status),
		f->ncaps && strcmp(capstr, "none") ? ", capabilities " : "", f->ncaps && strcmp(capstr, "none") ? capstr : "");
	if (f->conditional)
		line(ind + 4, "conditional (inside an IF block)");
	text_exe(ind + 4, pkg, f);
}

static void text_deps(int ind, const char *label, const struct sisign_dependency *d, size_t n,
	int platforms)
{
	size_t i;

	if (n == 0) {
		line(ind, "%-14snone", label);
		return;
	}
	line(ind, "%s", label);
	for (i = 0; i < n; i++) {
		char from[48], to[48], range[128] = "";
		const char *pname = platforms ? fe_platform_name(d[i].uid) : NULL;

		if (d[i].has_from) {
			fmt_version(&d[i].from, from, sizeof from);
			if (d[i].has_to) {
				fmt_version(&d[i].to, to, sizeof to);
				snprintf(range, sizeof range, ", versions %s to %s", from, to);
			} else {
				snprintf(range, sizeof range, ", version %s or later", from);
			}
		}
		line(ind + 2, "0x%08" PRIx32 "%s%s%s%s%s%s", d[i].uid, pname ? " " : "", pname ? pname : "",
			range, d[i].nnames ? " \"" : "", d[i].nnames ? d[i].names[0] : "",
			d[i].nnames ? "\"" : "");
	}
}

/* What each certificate of the chain limits the package to (developer
 * certificates, install-rules.md §5), one line per certificate that does. */
static void text_constraints(int ind, const struct sisign_chain *ch)
{
	struct sisign_cert_constraints *cons = NULL;
	size_t n = 0;

	if (sisign_certs_constraints(ch->certs, ch->certs_len, &cons, &n, NULL) != SISIGN_OK)
		return; /* the certificates themselves do not decode: said above */
	for (size_t i = 0; i < n; i++) {
		char *s = fe_cert_constraints_text(i, &cons[i]);
		if (s != NULL)
			line(ind, "Limits:     %s", s);
		free(s);
	}
	sisign_cert_constraints_free(cons, n);
}

static void text_chain(int ind, size_t idx, const struct sisign_chain *ch)
{
	struct sisign_cert_info *certs = NULL;
	struct sisign_error cerr;
	size_t ncerts = 0, i;
	char buf[128], nb[FE_TIME_BUFSIZE], na[FE_TIME_BUFSIZE];
	int r;

	line(ind, "Chain %zu:", idx + 1);
	for (i = 0; i < ch->nsigs; i++)
		line(ind + 2, "Signature:  %s, %zu bytes (OID %s)",
			fe_sig_algorithm_name(ch->sigs[i].algorithm, NULL, buf, sizeof buf), ch->sigs[i].siglen,
			ch->sigs[i].algorithm ? ch->sigs[i].algorithm : "?");
	if (ch->nsigs == 0)
		line(ind + 2, "Signature:  none in this chain");
	r = sisign_certs_describe(ch->certs, ch->certs_len, &certs, &ncerts, &cerr);
	if (ncerts > 0) {
		const struct sisign_cert_info *s = &certs[0];
		line(ind + 2, "Signer:     %s", s->subject);
		line(ind + 2, "Issuer:     %s%s", s->issuer, s->self_issued ? " (self-signed)" : "");
		line(ind + 2, "Serial:     %s", s->serial);
		fe_time_format(s->not_before, nb, sizeof nb);
		fe_time_format(s->not_after, na, sizeof na);
		line(ind + 2, "Valid:      %s to %s", nb, na);
		if (s->key_bits)
			line(ind + 2, "Key:        %s %d bits", s->key_type, s->key_bits);
		else
			line(ind + 2, "Key:        %s", s->key_type);
		line(ind + 2, "SHA-256:    %s", s->sha256);
		for (i = 1; i < ncerts; i++)
			line(ind + 2, "Cert %zu:     %s", i + 1, certs[i].subject);
		text_constraints(ind + 2, ch);
	} else if (r == SISIGN_OK) {
		line(ind + 2, "Certificates: none");
	}
	if (r != SISIGN_OK)
		line(ind + 2, "Certificates: cannot decode: %s%s%s", cerr.message, cerr.ossl_reason[0] ? " \xe2\x80\x94 " : "",
			cerr.ossl_reason);
	sisign_cert_info_free(certs);
}

static void text_controller(int ind, struct sisign_pkg *pkg, const struct sisign_controller *c)
{
	char buf[64], ver[64], when[FE_TIME_BUFSIZE], tmp[512];
	size_t i, used;
	uint32_t lang;

	if (c->damage)
		line(ind, "DAMAGED:      %s (controller offset %lld); the device would refuse this package",
			c->damage_message ? c->damage_message : "unreadable member field", c->damage_offset);
	if (c->nnames == 0)
		line(ind, "Name:         (none)");
	for (i = 0; i < c->nnames; i++)
		if (lang_of(c, i, &lang))
			line(ind, "%-14s%s [%s]", i ? "" : "Name:", c->names[i], lang_name(lang, buf, sizeof buf));
		else
			line(ind, "%-14s%s", i ? "" : "Name:", c->names[i]);
	line(ind, "UID:          0x%08" PRIx32, c->uid);
	fmt_version(&c->version, ver, sizeof ver);
	line(ind, "Version:      %s", ver);
	line(ind, "Vendor:       %s", c->vendor_unique ? c->vendor_unique : "");
	for (i = 0; i < c->nvendors; i++)
		if (lang_of(c, i, &lang))
			line(ind, "%-14s%s [%s]", i ? "" : "  localised:", c->vendors[i],
				lang_name(lang, buf, sizeof buf));
		else
			line(ind, "%-14s%s", i ? "" : "  localised:", c->vendors[i]);
	fe_datetime_format(&c->created, when, sizeof when);
	line(ind, "Created:      %s", when);
	tmp[0] = '\0';
	used = 0;
	for (i = 0; i < 8; i++)
		if ((c->install_flags >> i) & 1u) {
			int w;
			if (i < 4)
				w = snprintf(tmp + used, sizeof tmp - used, "%s%s", used ? ", " : "", flag_names[i]);
			else
				w = snprintf(tmp + used, sizeof tmp - used, "%sbit%zu", used ? ", " : "", i);
			if (w > 0 && (size_t)w < sizeof tmp - used)
				used += (size_t)w;
		}
	line(ind, "Install type: %s (%s)%s%s", fe_install_type_code(c->install_type),
		fe_install_type_name(c->install_type), used ? "; flags: " : "", tmp);
	tmp[0] = '\0';
	used = 0;
	for (i = 0; i < c->nlanguages; i++) {
		int w = snprintf(tmp + used, sizeof tmp - used, "%s%s (%" PRIu32 ")", i ? ", " : "",
			lang_name(c->languages[i], buf, sizeof buf), c->languages[i]);
		if (w < 0 || (size_t)w >= sizeof tmp - used)
			break;
		used += (size_t)w;
	}
	line(ind, "Languages:    %s", c->nlanguages ? tmp : "none");
	for (i = 0; i < c->noptions; i++)
		line(ind, "%-14s%s", i ? "" : "Options:", c->options[i]);
	text_deps(ind, "Targets:", c->targets, c->ntargets, 1);
	text_deps(ind, "Dependencies:", c->deps, c->ndeps, 0);
	if (c->nproperties)
		line(ind, "Properties:   %zu", c->nproperties);
	if (c->logo) {
		line(ind, "Logo:");
		text_file(ind + 2, pkg, c->logo);
	}
	if (c->nfiles == 0)
		line(ind, "Files:        none");
	else
		line(ind, "Files (%zu):", c->nfiles);
	for (i = 0; i < c->nfiles; i++)
		text_file(ind + 2, pkg, &c->files[i]);
	if (c->nembedded) {
		line(ind, "Embedded packages (%zu):", c->nembedded);
		for (i = 0; i < c->nembedded; i++) {
			line(ind + 2, "Embedded package %zu (data unit %" PRIu32 "):", i + 1,
				c->embedded[i].abs_data_unit);
			text_controller(ind + 4, pkg, &c->embedded[i]);
		}
	}
	if (c->nchains == 0)
		line(ind, "Signatures:   none (unsigned)");
	else
		line(ind, "Signatures:   %zu chain%s", c->nchains, c->nchains == 1 ? "" : "s");
	for (i = 0; i < c->nchains; i++)
		text_chain(ind + 2, i, &c->chains[i]);
	if (c->trailing)
		line(ind, "Trailing:     %zu unsigned bytes after the data index", c->trailing);
}

static void text_header(const struct sisign_pkg_info *in)
{
	char ctl[96], dat[96];

	if (in->kind != SISIGN_PKG_SISX) {
		line(0, "Header:       none (bare controller)");
		return;
	}
	line(0, "Header:       UIDs 0x%08" PRIx32 " 0x%08" PRIx32 " 0x%08" PRIx32 ", checksum 0x%08" PRIx32 " %s%s",
		in->uid1, in->uid2, in->uid3, in->uid_checksum, in->uid_checksum_ok ? "ok" : "WRONG",
		in->uid3_matches ? "" : "; UID3 differs from the package UID");
	if (in->has_controller_crc)
		snprintf(ctl, sizeof ctl, "controller CRC 0x%04x %s", in->controller_crc,
			in->controller_crc_ok ? "ok" : "stale");
	else
		snprintf(ctl, sizeof ctl, "no controller CRC field");
	if (!in->has_data_crc)
		snprintf(dat, sizeof dat, "no data CRC field");
	else if (in->data_crc_ok < 0)
		snprintf(dat, sizeof dat, "data CRC 0x%04x not checked", in->data_crc);
	else
		snprintf(dat, sizeof dat, "data CRC 0x%04x %s", in->data_crc, in->data_crc_ok ? "ok" : "stale");
	line(0, "Checksums:    %s; %s (the device ignores them)", ctl, dat);
	line(0, "Controller:   %" PRIu64 " bytes, %s; %zu data unit%s", in->controller_size,
		fe_compression_name(in->controller_compression), in->ndata_units, in->ndata_units == 1 ? "" : "s");
}

/* Files whose hash was checked against their data, and files with no data
 * (a stub's, a preinstalled package's, empty ones), over the whole tree. */
static void count_hashes(const struct sisign_controller *c, size_t *ok, size_t *nodata)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		if (c->files[i].hash_status == SISIGN_HASH_OK)
			(*ok)++;
		else if (c->files[i].hash_status == SISIGN_HASH_NO_DATA)
			(*nodata)++;
	}
	for (size_t i = 0; i < c->nembedded; i++)
		count_hashes(&c->embedded[i], ok, nodata);
}

static void text_report(const char *path, struct sisign_pkg *pkg, int checked, int dr,
	const struct sisign_error *derr)
{
	const struct sisign_pkg_info *in = sisign_pkg_info(pkg);
	size_t i, nw = sisign_pkg_nwarnings(pkg);

	line(0, "File:         %s", path);
	line(0, "Kind:         %s, %" PRIu64 " bytes", kind_text(in->kind), in->file_size);
	text_controller(0, pkg, sisign_pkg_controller(pkg));
	text_header(in);
	if (!checked)
		line(0, "Data check:   %s", in->kind == SISIGN_PKG_SISX ? "skipped (--no-check)" : "no file data");
	else if (dr == SISIGN_OK) {
		size_t ok = 0, nodata = 0;
		count_hashes(sisign_pkg_controller(pkg), &ok, &nodata);
		if (nodata == 0)
			line(0, "Data check:   ok (every file hash matches)");
		else if (ok == 0)
			line(0, "Data check:   ok (no file data to check: a stub or preinstalled package)");
		else
			line(0, "Data check:   ok (%zu file hash%s match%s; %zu file%s without data)", ok, ok == 1 ? "" : "es",
				ok == 1 ? "es" : "", nodata, nodata == 1 ? "" : "s");
	}
	else
		line(0, "Data check:   FAILED: %s", derr->message[0] ? derr->message : sisign_strerror(dr));
	if (nw) {
		line(0, "Warnings:");
		for (i = 0; i < nw; i++)
			line(2, "- %s", sisign_pkg_warning(pkg, i));
	}
}

/* ---- JSON output ------------------------------------------------------------ */

static void json_hex32(struct fe_json *j, const char *key, uint32_t v)
{
	char buf[16];
	snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
	fe_json_kv_string(j, key, buf);
}

static void json_lang_strings(struct fe_json *j, const char *key, const struct sisign_controller *c,
	char **s, size_t n)
{
	size_t i;
	uint32_t lang;

	fe_json_key(j, key);
	fe_json_begin_array(j);
	for (i = 0; i < n; i++) {
		fe_json_begin_object(j);
		if (lang_of(c, i, &lang)) {
			fe_json_kv_int(j, "language", lang);
			fe_json_kv_string(j, "language_name", sisign_language_name(lang));
		} else {
			fe_json_key(j, "language");
			fe_json_null(j);
			fe_json_key(j, "language_name");
			fe_json_null(j);
		}
		fe_json_kv_string(j, "name", s[i]);
		fe_json_end_object(j);
	}
	fe_json_end_array(j);
}

static void json_caps(struct fe_json *j, const char *key, const uint32_t *words, size_t nwords)
{
	unsigned caps[256];
	size_t ncaps = caps_list(words, nwords, caps, sizeof caps / sizeof caps[0]), i;
	char buf[32];

	fe_json_key(j, key);
	fe_json_begin_array(j);
	for (i = 0; i < ncaps; i++)
		fe_json_string(j, cap_name(caps[i], buf, sizeof buf));
	fe_json_end_array(j);
}

static void json_hex32_or_null(struct fe_json *j, const char *key, int present, uint32_t v)
{
	char buf[16];

	fe_json_key(j, key);
	if (!present) {
		fe_json_null(j);
		return;
	}
	snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
	fe_json_string(j, buf);
}

/* "executable": null, or what the file's E32 header says (exe_view). */
static void json_exe(struct fe_json *j, struct sisign_pkg *pkg, const struct sisign_file *f)
{
	struct exe_view v;
	int img;

	exe_view(pkg, f, &v);
	fe_json_key(j, "executable");
	if (!v.shown) {
		fe_json_null(j);
		return;
	}
	img = v.x.kind != SISIGN_EXE_NONE;
	fe_json_begin_object(j);
	fe_json_kv_string(j, "kind", exe_kind_code(v.x.kind));
	fe_json_kv_bool(j, "header_ok", v.x.header_ok);
	json_hex32_or_null(j, "uid1", img, v.x.uid1);
	json_hex32_or_null(j, "uid2", img, v.x.uid2);
	json_hex32_or_null(j, "uid3", img, v.x.uid3);
	json_hex32_or_null(j, "flags", img, v.x.flags);
	json_hex32_or_null(j, "sid", img, v.x.sid);
	json_hex32_or_null(j, "vid", img, v.x.vid);
	if (img) {
		json_caps(j, "capabilities", v.x.caps, 2);
		fe_json_kv_bool(j, "capabilities_match", v.caps_match);
	} else {
		fe_json_key(j, "capabilities");
		fe_json_null(j);
		fe_json_key(j, "capabilities_match");
		fe_json_null(j);
	}
	fe_json_key(j, "problems");
	fe_json_begin_array(j);
	for (size_t i = 0; i < v.nproblems; i++)
		fe_json_string(j, v.problems[i]);
	fe_json_end_array(j);
	fe_json_end_object(j);
}

static void json_file(struct fe_json *j, struct sisign_pkg *pkg, const struct sisign_file *f, int checked)
{
	char buf[64];

	fe_json_begin_object(j);
	fe_json_kv_string(j, "target", f->target ? f->target : "");
	fe_json_kv_string(j, "mime", f->mime ? f->mime : "");
	fe_json_kv_uint64(j, "size", f->uncompressed_length);
	fe_json_kv_uint64(j, "stored_size", f->data_stored);
	fe_json_kv_string(j, "compression", fe_compression_name(f->data_algorithm));
	fe_json_kv_string(j, "operation", fe_file_operation_name(f->operation));
	fe_json_kv_uint64(j, "operation_options", f->options);
	json_caps(j, "capabilities", f->caps, f->ncaps);
	fe_json_key(j, "sha1");
	if (f->hash_len == 20) {
		(void)sisign_hex(f->hash, 20, buf, sizeof buf);
		fe_json_string(j, buf);
	} else {
		fe_json_null(j);
	}
	fe_json_kv_string(j, "hash", checked ? fe_hash_status_name(f->hash_status) : "unchecked");
	fe_json_kv_bool(j, "conditional", f->conditional);
	fe_json_kv_uint64(j, "file_index", f->file_index);
	json_exe(j, pkg, f);
	fe_json_end_object(j);
}

static void json_deps(struct fe_json *j, const char *key, const struct sisign_dependency *d, size_t n,
	int platforms)
{
	size_t i, k;
	char buf[48];

	fe_json_key(j, key);
	fe_json_begin_array(j);
	for (i = 0; i < n; i++) {
		fe_json_begin_object(j);
		json_hex32(j, "uid", d[i].uid);
		if (platforms) {
			fe_json_kv_string(j, "platform", fe_platform_name(d[i].uid));
		}
		fe_json_key(j, "from");
		if (d[i].has_from) {
			fmt_version(&d[i].from, buf, sizeof buf);
			fe_json_string(j, buf);
		} else {
			fe_json_null(j);
		}
		fe_json_key(j, "to");
		if (d[i].has_to) {
			fmt_version(&d[i].to, buf, sizeof buf);
			fe_json_string(j, buf);
		} else {
			fe_json_null(j);
		}
		fe_json_key(j, "names");
		fe_json_begin_array(j);
		for (k = 0; k < d[i].nnames; k++)
			fe_json_string(j, d[i].names[k]);
		fe_json_end_array(j);
		fe_json_end_object(j);
	}
	fe_json_end_array(j);
}

static void json_cert(struct fe_json *j, const struct sisign_cert_info *ci,
	const struct sisign_cert_constraints *cons)
{
	char t[FE_TIME_BUFSIZE];

	fe_json_begin_object(j);
	fe_json_kv_string(j, "subject", ci->subject);
	fe_json_kv_string(j, "issuer", ci->issuer);
	fe_json_kv_string(j, "serial", ci->serial);
	fe_time_format(ci->not_before, t, sizeof t);
	fe_json_kv_string(j, "not_before", t);
	fe_time_format(ci->not_after, t, sizeof t);
	fe_json_kv_string(j, "not_after", t);
	fe_json_kv_string(j, "key_type", ci->key_type);
	fe_json_kv_int(j, "key_bits", ci->key_bits);
	fe_json_kv_bool(j, "self_issued", ci->self_issued);
	fe_json_kv_string(j, "signature_algorithm", ci->sig_alg);
	fe_json_kv_string(j, "sha256", ci->sha256);
	fe_json_key(j, "constraints");
	fe_json_cert_constraints(j, cons);
	fe_json_end_object(j);
}

static void json_chain(struct fe_json *j, const struct sisign_chain *ch)
{
	struct sisign_cert_info *certs = NULL;
	struct sisign_cert_constraints *cons = NULL;
	struct sisign_error cerr;
	size_t ncerts = 0, ncons = 0, i;
	char buf[128];
	int r, supported;

	fe_json_begin_object(j);
	fe_json_key(j, "signatures");
	fe_json_begin_array(j);
	for (i = 0; i < ch->nsigs; i++) {
		fe_json_begin_object(j);
		fe_json_kv_string(j, "algorithm", ch->sigs[i].algorithm);
		fe_json_kv_string(j, "algorithm_name",
			fe_sig_algorithm_name(ch->sigs[i].algorithm, &supported, buf, sizeof buf));
		fe_json_kv_bool(j, "supported", supported);
		fe_json_kv_uint64(j, "signature_bytes", ch->sigs[i].siglen);
		fe_json_end_object(j);
	}
	fe_json_end_array(j);
	r = sisign_certs_describe(ch->certs, ch->certs_len, &certs, &ncerts, &cerr);
	if (sisign_certs_constraints(ch->certs, ch->certs_len, &cons, &ncons, NULL) != SISIGN_OK)
		ncons = 0;
	fe_json_key(j, "certificates");
	fe_json_begin_array(j);
	for (i = 0; i < ncerts; i++)
		json_cert(j, &certs[i], i < ncons ? &cons[i] : NULL);
	fe_json_end_array(j);
	fe_json_key(j, "certificates_error");
	if (r != SISIGN_OK)
		fe_json_string(j, cerr.message);
	else
		fe_json_null(j);
	fe_json_end_object(j);
	sisign_cert_info_free(certs);
	sisign_cert_constraints_free(cons, ncons);
}

static void json_controller(struct fe_json *j, struct sisign_pkg *pkg, const struct sisign_controller *c, int checked)
{
	char buf[64];
	size_t i;

	fe_json_begin_object(j);
	fe_json_kv_int(j, "depth", c->depth);
	fe_json_key(j, "damage");
	if (c->damage) {
		fe_json_begin_object(j);
		fe_json_kv_int(j, "code", c->damage);
		fe_json_kv_string(j, "message", c->damage_message ? c->damage_message : "");
		fe_json_kv_int(j, "offset", c->damage_offset);
		fe_json_end_object(j);
	} else {
		fe_json_null(j);
	}
	json_hex32(j, "uid", c->uid);
	json_lang_strings(j, "names", c, c->names, c->nnames);
	fe_json_kv_string(j, "vendor", c->vendor_unique ? c->vendor_unique : "");
	json_lang_strings(j, "localised_vendors", c, c->vendors, c->nvendors);
	fmt_version(&c->version, buf, sizeof buf);
	fe_json_kv_string(j, "version", buf);
	fe_datetime_format(&c->created, buf, sizeof buf);
	fe_json_kv_string(j, "created", buf);
	fe_json_kv_string(j, "install_type", fe_install_type_code(c->install_type));
	fe_json_kv_string(j, "install_type_name", fe_install_type_name(c->install_type));
	fe_json_key(j, "install_flags");
	fe_json_begin_array(j);
	for (i = 0; i < 8; i++)
		if ((c->install_flags >> i) & 1u) {
			if (i < 4) {
				fe_json_string(j, flag_names[i]);
			} else {
				snprintf(buf, sizeof buf, "bit%zu", i);
				fe_json_string(j, buf);
			}
		}
	fe_json_end_array(j);
	fe_json_key(j, "languages");
	fe_json_begin_array(j);
	for (i = 0; i < c->nlanguages; i++) {
		fe_json_begin_object(j);
		fe_json_kv_int(j, "code", c->languages[i]);
		fe_json_kv_string(j, "name", sisign_language_name(c->languages[i]));
		fe_json_end_object(j);
	}
	fe_json_end_array(j);
	fe_json_key(j, "options");
	fe_json_begin_array(j);
	for (i = 0; i < c->noptions; i++)
		fe_json_string(j, c->options[i]);
	fe_json_end_array(j);
	json_deps(j, "targets", c->targets, c->ntargets, 1);
	json_deps(j, "dependencies", c->deps, c->ndeps, 0);
	fe_json_kv_uint64(j, "properties", c->nproperties);
	fe_json_key(j, "logo");
	if (c->logo)
		json_file(j, pkg, c->logo, checked);
	else
		fe_json_null(j);
	fe_json_key(j, "files");
	fe_json_begin_array(j);
	for (i = 0; i < c->nfiles; i++)
		json_file(j, pkg, &c->files[i], checked);
	fe_json_end_array(j);
	fe_json_key(j, "embedded");
	fe_json_begin_array(j);
	for (i = 0; i < c->nembedded; i++)
		json_controller(j, pkg, &c->embedded[i], checked);
	fe_json_end_array(j);
	fe_json_key(j, "signature_chains");
	fe_json_begin_array(j);
	for (i = 0; i < c->nchains; i++)
		json_chain(j, &c->chains[i]);
	fe_json_end_array(j);
	fe_json_kv_uint64(j, "data_index", c->data_index);
	fe_json_kv_uint64(j, "data_unit", c->abs_data_unit);
	fe_json_kv_uint64(j, "trailing_bytes", c->trailing);
	fe_json_end_object(j);
}

static void json_crc(struct fe_json *j, const char *key, int present, uint16_t stored, uint16_t computed,
	int ok)
{
	char buf[16];

	fe_json_key(j, key);
	fe_json_begin_object(j);
	fe_json_kv_bool(j, "present", present);
	fe_json_key(j, "stored");
	if (present) {
		snprintf(buf, sizeof buf, "0x%04x", stored);
		fe_json_string(j, buf);
	} else {
		fe_json_null(j);
	}
	fe_json_key(j, "computed");
	if (ok >= 0) {
		snprintf(buf, sizeof buf, "0x%04x", computed);
		fe_json_string(j, buf);
	} else {
		fe_json_null(j);
	}
	fe_json_key(j, "ok");
	if (ok >= 0)
		fe_json_bool(j, ok);
	else
		fe_json_null(j);
	fe_json_end_object(j);
}

/* The record of a described package (docs/json.md): the envelope (exit
 * and error: the data check's or the damage's, see info_one), then the
 * description. */
static int json_report(const char *path, struct sisign_pkg *pkg, int checked, int dr,
	const struct sisign_error *derr, int ex, const struct sisign_error *xerr)
{
	const struct sisign_pkg_info *in = sisign_pkg_info(pkg);
	struct fe_json j;
	size_t i, nw = sisign_pkg_nwarnings(pkg);

	cli_json_begin(&j, stdout, "info", path, ex == EXIT_OK ? "done" : "error", ex, ex == EXIT_OK ? NULL : xerr);
	fe_json_kv_string(&j, "kind", kind_code(in->kind));
	fe_json_kv_uint64(&j, "file_size", in->file_size);
	fe_json_key(&j, "header");
	if (in->kind == SISIGN_PKG_SISX) {
		fe_json_begin_object(&j);
		json_hex32(&j, "uid1", in->uid1);
		json_hex32(&j, "uid2", in->uid2);
		json_hex32(&j, "uid3", in->uid3);
		json_hex32(&j, "uid_checksum", in->uid_checksum);
		fe_json_kv_bool(&j, "uid_checksum_ok", in->uid_checksum_ok);
		fe_json_kv_bool(&j, "uid3_matches", in->uid3_matches);
		json_crc(&j, "controller_crc", in->has_controller_crc, in->controller_crc,
			in->controller_crc_computed, in->controller_crc_ok ? 1 : 0);
		json_crc(&j, "data_crc", in->has_data_crc, in->data_crc, in->data_crc_computed,
			in->data_crc_ok);
		fe_json_kv_string(&j, "controller_compression", fe_compression_name(in->controller_compression));
		fe_json_kv_uint64(&j, "controller_size", in->controller_size);
		fe_json_kv_uint64(&j, "data_units", in->ndata_units);
		fe_json_end_object(&j);
	} else {
		fe_json_null(&j);
	}
	fe_json_key(&j, "package");
	json_controller(&j, pkg, sisign_pkg_controller(pkg), checked);
	fe_json_kv_string(&j, "data_check", !checked ? "skipped" : dr == SISIGN_OK ? "ok" : "failed");
	fe_json_key(&j, "data_check_error");
	if (checked && dr != SISIGN_OK)
		fe_json_string(&j, derr->message[0] ? derr->message : sisign_strerror(dr));
	else
		fe_json_null(&j);
	fe_json_key(&j, "warnings");
	fe_json_begin_array(&j);
	for (i = 0; i < nw; i++)
		fe_json_string(&j, sisign_pkg_warning(pkg, i));
	fe_json_end_array(&j);
	return cli_json_end(&j);
}

/* An input that could not be described: the envelope only. */
static void json_failed(const char *path, const struct sisign_error *err)
{
	struct fe_json j;

	cli_json_begin(&j, stdout, "info", path, "error", cli_exit_for_error(err->code), err);
	(void)cli_json_end(&j);
}

/* ---- the command ------------------------------------------------------------ */

static int info_one(const char *path, const struct info_opts *o)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err, derr, de;
	const struct sisign_controller *dc;
	void *mem = NULL;
	int r, dr = SISIGN_OK, checked = 0, rc = EXIT_OK, ex;

	sisign_error_clear(&err);
	sisign_error_clear(&derr);
	sisign_error_clear(&de);
	r = cli_pkg_open(path, &pkg, &mem, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		if (o->json)
			json_failed(path, &err);
		return cli_report(path, &err);
	}
	if (o->check && sisign_pkg_info(pkg)->kind == SISIGN_PKG_SISX) {
		checked = 1;
		struct sisign_error cerr;
		int cr;
		dr = sisign_pkg_check_data(pkg, &derr);
		/* the CRCs are reported whatever the hashes say */
		sisign_error_clear(&cerr);
		cr = sisign_pkg_check_checksums(pkg, &cerr);
		if (cr != SISIGN_OK && dr == SISIGN_OK) {
			dr = cr;
			derr = cerr;
		}
		if (dr != SISIGN_OK && derr.code == 0)
			derr.code = dr;
	}
	if ((dc = sisign_pkg_damaged(pkg)) != NULL) {
		de.code = SISIGN_ERR_MALFORMED;
		de.offset = -1;
		snprintf(de.message, sizeof de.message, "damaged: %s (controller offset %lld)",
			dc->damage_message ? dc->damage_message : "unreadable member field", dc->damage_offset);
	}
	/* This input's status: a described package may still have failed its
	 * data check (8) or be damaged (4); the record carries the worse. */
	ex = dr != SISIGN_OK ? cli_exit_for_error(derr.code) : EXIT_OK;
	if (dc)
		ex = cli_worst(ex, cli_exit_for_error(de.code));
	if (o->json) {
		const struct sisign_error *xerr = dc && cli_exit_for_error(de.code) >= ex ? &de : &derr;
		rc = json_report(path, pkg, checked, dr, &derr, ex, xerr) == 0 ? EXIT_OK : EXIT_ERROR;
	} else {
		text_report(path, pkg, checked, dr, &derr);
	}
	fflush(stdout);
	if (dr != SISIGN_OK)
		rc = cli_worst(rc, cli_report(path, &derr));
	if (dc)
		rc = cli_worst(rc, cli_report(path, &de));
	sisign_pkg_free(pkg);
	free(mem);
	return rc;
}

static int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "check", no_argument, NULL, 'c' },
		{ "no-check", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct info_opts o = { 0, 1 };
	struct cli_tally t;
	int c, i;

	opterr = 0;
	optind = 0; /* full reset: GNU permutation, options after operands too */
	while ((c = getopt_long(argc, argv, ":jqv", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o.json = 1; break;
		case 'c': o.check = 1; break;
		case 'n': o.check = 0; break;
		case 'q':
		case 'v': (void)cli_common_opt(c); break;
		default: return cli_getopt_error(argv[0], c, argv, longopts);
		}
	}
	if (optind >= argc)
		return cli_usage_error(argv[0], "no input file");
	for (i = optind; i < argc; i++)
		if (cli_stdio_check(argv[0], argv[i], NULL) != EXIT_OK)
			return EXIT_USAGE;
	/* An input goes through when it is described without a problem; a
	 * hash mismatch or damage counts as a failure of that input. */
	cli_tally_init(&t);
	for (i = optind; i < argc; i++) {
		int r;
		if (!o.json && i > optind)
			putchar('\n');
		r = info_one(argv[i], &o);
		if (r == EXIT_OK)
			cli_tally_result(&t, r);
		else
			cli_tally_failed(&t, r);
	}
	return cli_tally_exit(&t);
}

const struct cli_command cli_cmd_info = {
	"info", "[--json] [--check | --no-check] FILE...", "describe SIS packages", cmd_info,
	"Shows, for each FILE: the kind of file, package names per language, UID,\n"
	"version, vendor, install type, languages, target platforms, dependencies,\n"
	"every file (target path, size, capabilities, hash status), embedded\n"
	"packages, each signature chain (algorithm and the signer certificate,\n"
	"and the device IDs, SIDs, VIDs and capabilities a developer certificate\n"
	"limits the package to: the \"Limits:\" lines), header checksums and\n"
	"anything odd the reader noticed.\n"
	"\n"
	"Executables: for every E32 image, and every file going to \\sys\\bin\\\n"
	"(where the installer takes nothing else), the kind (EXE, DLL), SID, VID\n"
	"and capabilities of its E32 header, read from its first 144 bytes (also\n"
	"with --no-check), and each problem the installer would refuse it for:\n"
	"not an E32 image in \\sys\\bin\\, a bad UID checksum, a header format\n"
	"other than V, capabilities that differ from the package's.  These are\n"
	"shown, not judged: they do not change the exit status.\n"
	"\n"
	"Options:\n"
	"  -j, --json       one JSON record per input file, one per line: the\n"
	"                   schema of docs/json.md (\"schema\": 1; input, status,\n"
	"                   exit, error, then the description)\n"
	"      --check      check every file's SHA-1 against its data (default)\n"
	"      --no-check   skip the hash check (executables' headers are still\n"
	"                   read)\n"
	"  -q, --quiet      no notes on stderr (errors and warnings still shown)\n"
	"  -v, --verbose    notes on stderr: each file read\n"
	"A FILE '-' is standard input (read into memory, at most 1 GiB; not a\n"
	"terminal).\n"
	"\n"
	"A file whose data does not match its hash is still described, and the\n"
	"exit status is 8 (INVALID).  A file that is not a valid SIS v9 package\n"
	"(including a compressed controller that inflates to more or less than it\n"
	"declares) gives a one-line error and exit status 4 (BAD_INPUT); a file\n"
	"that cannot be read gives 3 (IO).  The remaining files are still\n"
	"processed.  With several files: 0 when all were described without a\n"
	"problem, 12 (PARTIAL) when some were and others were not, otherwise\n"
	"the highest status (see 'sisign help exit-codes').\n",
};
