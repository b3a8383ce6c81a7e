/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: sisign pack's options.  The input bytes are read as a
 * small program that fills struct sisign_pack_opts: UID, languages, a name
 * and maybe a vendor per language, the unique vendor, version, install
 * type and flags, platform, store, creation time, and up to four files
 * (contents, target path, MIME type, a "Cap1+Cap2" capability string turned
 * into bits with sisign_capability_from_name, operation, options).  The
 * files are made in a private temp directory and the package is packed
 * there, then opened from the file (the streamed parser).  With flag bit
 * 16 each file's contents start with an E32 image header made from the
 * input (kind, SID, VID, capability words, optionally a bad UID checksum
 * or another header format), so the executable paths are reached.
 *
 * Invariants: pack refuses only with SISIGN_ERR_INVALID_ARG (text that is
 * not UTF-8, a month outside 1-12, capabilities given for an executable
 * bound for \sys\bin\ that differ from its header's: always refused) and
 * a filled error record, leaving no output; what it packs parses
 * undamaged, every file's data matches its hash, and the model holds
 * exactly the options given, except that an EXE or DLL bound for
 * \sys\bin\ has its header's capabilities; a warning, one non-empty
 * line, comes exactly for each file bound for \sys\bin\ that is not an
 * EXE or DLL or has a header the installer refuses. */
#include <fcntl.h>

#include "fuzz_model.h"
#include "format/format_private.h" /* put_le32, sis_uid_checksum: the test header */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FZ_MAXLANG 4
#define FZ_MAXFILES 4
#define FZ_MAXSTR 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_make_dir();
	return 0;
}

/* The input, read front to back; past its end everything reads as 0. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

static unsigned fz_u8(struct fz_in *in)
{
	unsigned v = 0;

	if (in->n) {
		v = in->p[0];
		in->p++;
		in->n--;
	}
	return v;
}

static uint32_t fz_u32(struct fz_in *in)
{
	uint32_t v = fz_u8(in);

	v |= (uint32_t)fz_u8(in) << 8;
	v |= (uint32_t)fz_u8(in) << 16;
	return v | (uint32_t)fz_u8(in) << 24;
}

/* A length byte, then that many bytes (NULs become '?': the options are C
 * strings). */
static char *fz_str(struct fz_in *in, char *buf)
{
	size_t len = fz_u8(in) % (FZ_MAXSTR + 1), i;

	if (len > in->n)
		len = in->n;
	for (i = 0; i < len; i++)
		buf[i] = in->p[i] ? (char)in->p[i] : '?';
	buf[len] = '\0';
	in->p += len;
	in->n -= len;
	return buf;
}

static uint32_t caps_from_string(char *s)
{
	uint32_t caps = 0;
	char *tok, *save = NULL;
	int c;

	for (tok = strtok_r(s, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
		c = sisign_capability_from_name(tok);
		if (c >= 0) {
			FZ_ASSERT(c < 32);
			FZ_ASSERT(sisign_capability_name((unsigned)c) != NULL);
			caps |= 1u << c;
		}
	}
	return caps;
}

static int write_source(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = n ? write(fd, p, n) : 0;
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

/* A minimal V-format E32 header from the input (install-rules.md §3.1). */
static void e32_header(struct fz_in *in, uint8_t h[0x9C])
{
	static const uint32_t uid1s[4] = { 0x1000007Au, 0x10000079u, 0x10000080u, 0x12345678u };
	unsigned e = fz_u8(in);
	uint32_t uid1 = uid1s[e & 3], uid3 = fz_u32(in);
	uint8_t u[12];

	memset(h, 0, 0x9C);
	put_le32(u, uid1);
	put_le32(u + 4, 0x100039CEu);
	put_le32(u + 8, uid3);
	memcpy(h, u, 12);
	put_le32(h + 12, sis_uid_checksum(uid1, 0x100039CEu, uid3) ^ ((e >> 2) & 1u));
	memcpy(h + 0x10, "EPOC", 4);
	put_le32(h + 0x2C, (e >> 3) & 1u ? 0x01000000u : 0x02000000u);
	put_le32(h + 0x80, fz_u32(in));
	put_le32(h + 0x84, fz_u32(in));
	put_le32(h + 0x88, fz_u32(in) & ((e >> 5) & 1u ? 0xffffffffu : 0x000fffffu));
	put_le32(h + 0x8C, (e >> 4) & 1u ? fz_u32(in) : 0);
}

static size_t fz_nwarnings;

static void on_warning(void *ud, const char *msg)
{
	(void)ud;
	FZ_ASSERT(msg && *msg && !strchr(msg, '\n'));
	fz_touch_str(msg);
	fz_nwarnings++;
}

static void same_str(const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "fuzz_pack: string \"%s\" came back as \"%s\"\n", want, got);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	char names[FZ_MAXLANG][FZ_MAXSTR + 1], vendors[FZ_MAXLANG][FZ_MAXSTR + 1], vendor[FZ_MAXSTR + 1];
	char targets[FZ_MAXFILES][FZ_MAXSTR + 1], mimes[FZ_MAXFILES][FZ_MAXSTR + 1], capstr[FZ_MAXSTR + 1];
	char srcs[FZ_MAXFILES][300], out[300];
	const char *name_v[FZ_MAXLANG], *vendor_v[FZ_MAXLANG];
	uint32_t langs[FZ_MAXLANG];
	uint64_t flen[FZ_MAXFILES];
	uint32_t want_caps[FZ_MAXFILES][2];
	size_t want_warnings = 0;
	int must_refuse = 0;
	struct sisign_pack_file files[FZ_MAXFILES];
	struct sisign_pack_opts o;
	struct sisign_datetime when;
	struct sisign_pkg *pkg = NULL;
	const struct sisign_controller *c;
	const struct sisign_pkg_info *info;
	struct sisign_error err;
	size_t nl, nf, nmade = 0, i, n;
	unsigned flags;
	int r;

	fz_make_dir();
	memset(&o, 0, sizeof o);
	memset(files, 0, sizeof files);
	o.uid = fz_u32(&in);
	flags = fz_u8(&in);
	o.nlanguages = fz_u8(&in) % (FZ_MAXLANG + 1);
	nl = o.nlanguages ? o.nlanguages : 1;
	for (i = 0; i < o.nlanguages; i++)
		langs[i] = fz_u32(&in) & 0x3ff;
	o.languages = o.nlanguages ? langs : NULL;
	for (i = 0; i < nl; i++)
		name_v[i] = fz_str(&in, names[i]);
	o.names = name_v;
	if (flags & 1) {
		for (i = 0; i < nl; i++)
			vendor_v[i] = fz_str(&in, vendors[i]);
		o.vendors = vendor_v;
	}
	o.vendor = fz_str(&in, vendor);
	o.version.major = (int32_t)fz_u32(&in);
	o.version.minor = (int32_t)fz_u32(&in);
	o.version.build = (int32_t)fz_u32(&in);
	o.install_type = (uint8_t)fz_u8(&in);
	o.install_flags = (uint8_t)fz_u8(&in);
	o.platform = (flags >> 1) & 1;
	o.store = (flags >> 2) & 1;
	/* A fixed creation time always: "now" would make runs differ. */
	when.year = (uint16_t)(fz_u8(&in) | fz_u8(&in) << 8);
	when.month = (uint8_t)fz_u8(&in);
	when.day = (uint8_t)fz_u8(&in);
	when.hour = (uint8_t)fz_u8(&in);
	when.minute = (uint8_t)fz_u8(&in);
	when.second = (uint8_t)fz_u8(&in);
	o.created = &when;

	nf = fz_u8(&in) % (FZ_MAXFILES + 1);
	for (i = 0; i < nf; i++) {
		struct sisign_pack_file *f = &files[i];
		/* Contents: a length (up to 64 KiB), the bytes that are left
		 * (repeated, so large files stay cheap to describe). */
		size_t len = (fz_u8(&in) | fz_u8(&in) << 8), k, hl = (flags & 16) ? 0x9C : 0;
		uint8_t *buf = malloc(hl + len ? hl + len : 1), *body;
		struct sisign_exe_info x;

		if (!buf)
			goto out;
		if (hl)
			e32_header(&in, buf);
		body = buf + hl;
		if (in.n) {
			/* The rest of the input, repeated: whole copies, so
			 * the fill costs a few memcpy calls, not a
			 * per-byte loop the fuzzer instruments. */
			for (k = 0; k < len; k += in.n)
				memcpy(body + k, in.p, len - k < in.n ? len - k : in.n);
		} else {
			for (k = 0; k < len; k++)
				body[k] = (uint8_t)k;
		}
		len += hl;
		sisign_exe_decode(buf, len, &x);
		snprintf(srcs[i], sizeof srcs[i], "%s/src%zu", fz_dir, i);
		r = write_source(srcs[i], buf, len);
		free(buf);
		FZ_ASSERT(r == 0);
		nmade++;
		flen[i] = len;
		f->source = srcs[i];
		f->target = fz_str(&in, targets[i]);
		f->mime = (flags & 8) ? fz_str(&in, mimes[i]) : NULL;
		f->capabilities = caps_from_string(fz_str(&in, capstr));
		f->operation = fz_u8(&in) & 0x0f;
		f->options = fz_u32(&in);
		/* what pack must make of it */
		want_caps[i][0] = f->capabilities;
		want_caps[i][1] = 0;
		if (sisign_target_in_sys_bin(f->target)) {
			if (x.kind == SISIGN_EXE_EXE || x.kind == SISIGN_EXE_DLL) {
				if (f->capabilities && (f->capabilities != x.caps[0] || x.caps[1]))
					must_refuse = 1;
				want_caps[i][0] = x.caps[0];
				want_caps[i][1] = x.caps[1];
				want_warnings += !x.header_ok;
			} else {
				want_warnings++;
			}
		}
	}
	o.files = files;
	o.nfiles = nf;
	o.warning = on_warning;
	fz_nwarnings = 0;

	snprintf(out, sizeof out, "%s/out.sis", fz_dir);
	sisign_error_clear(&err);
	r = sisign_pack(&o, out, &err);
	if (r != SISIGN_OK) {
		fz_check_error(r, &err);
		FZ_ASSERT(r == SISIGN_ERR_INVALID_ARG);
		FZ_ASSERT(access(out, F_OK) != 0);
		goto out;
	}
	FZ_ASSERT(!must_refuse);
	FZ_ASSERT(fz_nwarnings == want_warnings);

	sisign_error_clear(&err);
	r = sisign_pkg_open(out, NULL, &pkg, &err);
	if (r != SISIGN_OK) {
		fprintf(stderr, "fuzz_pack: the packed package does not parse: %s\n", err.message);
		abort();
	}
	info = sisign_pkg_info(pkg);
	c = sisign_pkg_controller(pkg);
	FZ_ASSERT(sisign_pkg_damaged(pkg) == NULL);
	FZ_ASSERT(info->kind == SISIGN_PKG_SISX);
	FZ_ASSERT(info->uid3 == o.uid && info->uid_checksum_ok && info->uid3_matches);
	/* Like makesis, pack leaves out a CRC field whose value is 0
	 * (sis-format.md §5.2): seeds/pack/zero-controller-crc is one. */
	FZ_ASSERT(info->has_controller_crc ? info->controller_crc_ok : info->controller_crc_computed == 0);
	FZ_ASSERT(c->uid == o.uid);
	FZ_ASSERT(c->nchains == 0 && c->nembedded == 0);
	same_str(c->vendor_unique, o.vendor);
	FZ_ASSERT(c->nnames == nl && c->nvendors == nl && c->nlanguages == nl);
	for (i = 0; i < nl; i++) {
		same_str(c->names[i], o.names[i]);
		same_str(c->vendors[i], o.vendors ? o.vendors[i] : o.vendor);
		FZ_ASSERT(c->languages[i] == (o.nlanguages ? langs[i] : 1));
	}
	FZ_ASSERT(c->version.major == o.version.major && c->version.minor == o.version.minor &&
		c->version.build == o.version.build);
	FZ_ASSERT(c->created.year == when.year && c->created.month == when.month && c->created.day == when.day &&
		c->created.hour == when.hour && c->created.minute == when.minute &&
		c->created.second == when.second);
	FZ_ASSERT(c->install_type == o.install_type && c->install_flags == o.install_flags);
	FZ_ASSERT(c->ntargets == (size_t)o.platform && c->ndeps == 0);
	FZ_ASSERT(c->nfiles == nf);
	for (i = 0; i < nf; i++) {
		const struct sisign_file *g = &c->files[i];

		same_str(g->target, files[i].target);
		same_str(g->mime, files[i].mime ? files[i].mime : "");
		FZ_ASSERT(g->ncaps == (want_caps[i][1] ? 2u : want_caps[i][0] ? 1u : 0u));
		if (g->ncaps)
			FZ_ASSERT(g->caps[0] == want_caps[i][0]);
		if (g->ncaps > 1)
			FZ_ASSERT(g->caps[1] == want_caps[i][1]);
		FZ_ASSERT(g->operation == (files[i].operation ? files[i].operation : 1));
		FZ_ASSERT(g->options == files[i].options);
		FZ_ASSERT(g->uncompressed_length == flen[i]);
		FZ_ASSERT(g->hash_len == 20);
		FZ_ASSERT(!g->conditional);
	}
	n = sisign_pkg_nwarnings(pkg);
	for (i = 0; i < n; i++)
		fz_touch_str(sisign_pkg_warning(pkg, i));
	sisign_error_clear(&err);
	r = sisign_pkg_check_data(pkg, &err);
	if (r != SISIGN_OK) {
		fprintf(stderr, "fuzz_pack: the packed data does not match its hashes: %s\n", err.message);
		abort();
	}
	for (i = 0; i < nf; i++)
		FZ_ASSERT(c->files[i].hash_status == SISIGN_HASH_OK);
out:
	sisign_pkg_free(pkg);
	(void)unlink(out);
	for (i = 0; i < nmade; i++)
		(void)unlink(srcs[i]);
	return 0;
}
