/* SPDX-License-Identifier: Apache-2.0 */
/* E32 image headers: what a file bound for \sys\bin\ says about itself
 * (kind, SID, VID, capabilities), read from its first bytes.  Offsets and
 * rules: install-rules.md §3.1. */
#include "format/format_private.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define E32_UID_EXE 0x1000007Au    /* KExecutableImageUid */
#define E32_UID_DLL 0x10000079u    /* KDynamicLibraryUid */
#define E32_SIGNATURE 0x434F5045u  /* 'E','P','O','C' at 0x10 */
#define E32_FMT_MASK 0x0F000000u   /* header format bits of the flags word */
#define E32_FMT_V 0x02000000u      /* KImageHdrFmt_V: EKA2 with security info */

/* zlib input read per step, and the most read in all while looking for a
 * header: deflate needs a few hundred bytes for 144 bytes of output, so a
 * stream that has not given them after 1 MiB is not honest file data. */
#define E32_ZCHUNK ((size_t)4096)
#define E32_ZMAX_INPUT ((uint64_t)1 << 20)

void sisign_exe_decode(const uint8_t *p, size_t n, struct sisign_exe_info *out)
{
	uint8_t h[SISIGN_EXE_HEADER_BYTES];
	uint32_t sig;

	/* Work on a zero-padded copy of the whole words there are (every
	 * field is a word at a multiple of 4), so a short input fills what
	 * it has and leaves the rest 0. */
	memset(h, 0, sizeof h);
	if (p && n >= 4)
		memcpy(h, p, (n < sizeof h ? n : sizeof h) & ~(size_t)3);
	memset(out, 0, sizeof *out);
	out->uid1 = le32(h + 0x00);
	out->uid2 = le32(h + 0x04);
	out->uid3 = le32(h + 0x08);
	sig = le32(h + 0x10);
	out->flags = le32(h + 0x2C);
	out->sid = le32(h + 0x80);
	out->vid = le32(h + 0x84);
	out->caps[0] = le32(h + 0x88);
	out->caps[1] = le32(h + 0x8C);

	if (!p || n < 0x14 || sig != E32_SIGNATURE) {
		out->kind = SISIGN_EXE_NONE;
		out->reason = "no 'EPOC' signature at offset 0x10: not an E32 image";
		return;
	}
	if (n < SISIGN_EXE_HEADER_BYTES) {
		out->kind = SISIGN_EXE_NONE;
		out->reason = "shorter than an E32 image header (144 bytes)";
		return;
	}
	if (out->uid1 == E32_UID_EXE)
		out->kind = SISIGN_EXE_EXE;
	else if (out->uid1 == E32_UID_DLL)
		out->kind = SISIGN_EXE_DLL;
	else
		out->kind = SISIGN_EXE_OTHER;

	/* The same checked-UID CRC as a SISX header (sis-format.md §2). */
	if (sis_uid_checksum(out->uid1, out->uid2, out->uid3) != le32(h + 0x0C)) {
		out->reason = "UID checksum at offset 0x0C does not match UID1-3";
		return;
	}
	if ((out->flags & E32_FMT_MASK) != E32_FMT_V) {
		out->reason = "header is not the V format (flags & 0x0F000000 != 0x02000000)";
		return;
	}
	out->header_ok = 1;
}

/* pkg_read, with the file's target in the message. */
static int e32_read(struct sisign_pkg *pkg, const struct sisign_file *f, uint64_t off, uint8_t *buf, size_t n,
	struct sisign_error *err)
{
	struct sisign_error e;
	int r;

	sisign_error_clear(&e);
	if ((r = pkg_read(pkg, off, buf, n, &e)) == SISIGN_OK)
		return SISIGN_OK;
	(void)err_set(err, r, e.offset, "%s: %s", f->target, e.message);
	if (err)
		err->sys_errno = e.sys_errno;
	return r;
}

/* Up to `want` bytes of a zlib stream's output into h; *got says how many.
 * Reads the input in small steps and stops as soon as it has them. */
static int e32_inflate_head(struct sisign_pkg *pkg, const struct sisign_file *f, uint8_t *h, size_t want,
	size_t *got, struct sisign_error *err)
{
	uint8_t in[E32_ZCHUNK];
	z_stream zs;
	uint64_t done = 0;
	int zr = Z_OK, r = SISIGN_ERR_INTERNAL;

	*got = 0;
	memset(&zs, 0, sizeof zs);
	if (inflateInit(&zs) != Z_OK)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "%s: zlib initialisation failed", f->target);
	zs.next_out = h;
	zs.avail_out = (uInt)want;
	while (zs.avail_out > 0 && zr != Z_STREAM_END) {
		if (zs.avail_in == 0) {
			size_t n = E32_ZCHUNK;
			if (done >= f->data_stored)
				break; /* input ends before the stream does: a short header */
			if (done >= E32_ZMAX_INPUT) {
				r = err_set(err, SISIGN_ERR_CORRUPT_DATA, (long long)f->data_offset,
					"%s: the first %llu bytes of zlib data give only %zu bytes", f->target,
					(unsigned long long)done, want - (size_t)zs.avail_out);
				goto out;
			}
			if (f->data_stored - done < n)
				n = (size_t)(f->data_stored - done);
			if ((r = e32_read(pkg, f, f->data_offset + done, in, n, err)) != SISIGN_OK)
				goto out;
			done += n;
			zs.next_in = in;
			zs.avail_in = (uInt)n;
		}
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			r = err_set(err, SISIGN_ERR_CORRUPT_DATA, (long long)f->data_offset,
				"%s: file data is not valid zlib data%s%s", f->target, zs.msg ? ": " : "",
				zs.msg ? zs.msg : "");
			goto out;
		}
	}
	*got = want - (size_t)zs.avail_out;
	r = SISIGN_OK;
out:
	inflateEnd(&zs);
	return r;
}

int sisign_pkg_file_exe(struct sisign_pkg *pkg, const struct sisign_file *f, struct sisign_exe_info *out,
	struct sisign_error *err)
{
	uint8_t h[SISIGN_EXE_HEADER_BYTES];
	size_t got = 0;
	int r;

	sisign_exe_decode(NULL, 0, out);
	if (!pkg || !f)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "no package or file");
	/* data_offset is 0 when the description names no data entry (set at
	 * parse, package.c link_file). */
	if (f->hash_len == 0 || f->data_offset == 0) {
		out->reason = "the file has no data in the package";
		return SISIGN_OK;
	}
	if (f->data_algorithm == 0) {
		got = f->data_stored < sizeof h ? (size_t)f->data_stored : sizeof h;
		r = e32_read(pkg, f, f->data_offset, h, got, err);
	} else if (f->data_algorithm == 1) {
		r = e32_inflate_head(pkg, f, h, sizeof h, &got, err);
	} else {
		r = err_set(err, SISIGN_ERR_UNSUPPORTED, (long long)f->data_offset,
			"%s: file data compression algorithm %u is not supported", f->target, f->data_algorithm);
	}
	if (r != SISIGN_OK)
		return r;
	sisign_exe_decode(h, got, out);
	return SISIGN_OK;
}

int sis_target_in_sys_bin(const char *t)
{
	static const char dir[] = "\\sys\\bin\\";
	size_t n = sizeof dir - 1;

	if (!t)
		return 0;
	if (t[0] && t[1] == ':')
		t += 2;
	if (strncasecmp(t, dir, n) != 0)
		return 0;
	t += n;
	return *t != '\0' && strchr(t, '\\') == NULL;
}

void sis_caps_text(const uint32_t caps[2], char *out, size_t size)
{
	size_t len = 0;

	if (!size)
		return;
	out[0] = '\0';
	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name;
		char num[16];
		int w;
		if (!(caps[bit / 32] & (1u << (bit % 32))))
			continue;
		name = sisign_capability_name(bit);
		if (!name) {
			snprintf(num, sizeof num, "bit%u", bit);
			name = num;
		}
		w = snprintf(out + len, size - len, "%s%s", len ? "+" : "", name);
		if (w < 0 || (size_t)w >= size - len) {
			out[len] = '\0';
			return; /* cut at the last whole name */
		}
		len += (size_t)w;
	}
	if (!len)
		snprintf(out, size, "none");
}
