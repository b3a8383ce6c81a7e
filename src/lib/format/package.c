/* SPDX-License-Identifier: Apache-2.0 */
/* Package-level parsing: file kinds, the UID header, SISContents, the
 * compressed controller and the data-unit layout (sis-format.md §1-§6). */
#include "format/format_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

int pkg_warn(struct sisign_pkg *pkg, const char *fmt, ...)
{
	char buf[512], **w;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (pkg->nwarn >= 256)
		return SISIGN_OK; /* enough said */
	w = realloc(pkg->warn, (pkg->nwarn + 1) * sizeof *w);
	if (!w)
		return SISIGN_ERR_NOMEM;
	pkg->warn = w;
	w[pkg->nwarn] = strdup(buf);
	if (!w[pkg->nwarn])
		return SISIGN_ERR_NOMEM;
	pkg->nwarn++;
	return SISIGN_OK;
}

int pkg_read(const struct sisign_pkg *pkg, uint64_t off, void *buf, size_t n, struct sisign_error *err)
{
	if (off > pkg->size || n > pkg->size - off)
		return err_set(err, SISIGN_ERR_TRUNCATED, (long long)off, "file ends at %llu, inside a field",
			(unsigned long long)pkg->size);
	if (pkg->fd < 0) {
		memcpy(buf, pkg->mem + off, n);
		return SISIGN_OK;
	}
	ssize_t got = pread_full(pkg->fd, buf, n, (off_t)off);
	if (got < 0)
		return err_sys(err, errno, "read failed");
	if ((size_t)got != n)
		return err_set(err, SISIGN_ERR_TRUNCATED, (long long)off, "file shrank while being read");
	return SISIGN_OK;
}

/* Read a field header at file offset `off` (typed or not). */
static int read_hdr(struct sisign_pkg *pkg, uint64_t off, uint64_t limit, int typed, struct sisf_hdr *h,
	struct sisign_error *err)
{
	uint8_t buf[12];
	struct sbuf b;
	size_t n = sizeof buf;
	if (off > limit)
		return err_set(err, SISIGN_ERR_TRUNCATED, (long long)off, "field header beyond its container");
	if (limit - off < n)
		n = (size_t)(limit - off);
	if (pkg_read(pkg, off, buf, n, err))
		return err ? err->code : SISIGN_ERR_TRUNCATED;
	sbuf_init(&b, buf, n, off);
	return sisf_get_hdr(&b, typed, h, err);
}

static void link_file(const struct sisign_pkg *pkg, const struct sisign_controller *c, struct sisign_file *f)
{
	const struct sis_unit *u;
	if (c->abs_data_unit >= pkg->nunits)
		return;
	u = &pkg->units[c->abs_data_unit];
	if (f->file_index >= u->nfiles)
		return;
	f->data_offset = u->files[f->file_index].payload_off;
	f->data_stored = u->files[f->file_index].payload_len;
	f->data_algorithm = u->files[f->file_index].algorithm;
}

/* Absolute data units (§5.13) and where each file's data is. */
static void assign_units(const struct sisign_pkg *pkg, struct sisign_controller *c, uint32_t parent_abs)
{
	c->abs_data_unit = parent_abs + c->data_index;
	if (c->logo)
		link_file(pkg, c, (struct sisign_file *)c->logo);
	for (size_t i = 0; i < c->nfiles; i++)
		link_file(pkg, c, &c->files[i]);
	for (size_t i = 0; i < c->nembedded; i++)
		assign_units(pkg, &c->embedded[i], c->abs_data_unit);
}

/* The controller is the package's structure, not file data: a compressed
 * controller that does not inflate to exactly its declared size (longer,
 * shorter, bytes after the stream, not zlib) leaves nothing to parse, so it
 * is SISIGN_ERR_MALFORMED like any other broken structure.
 * SISIGN_ERR_CORRUPT_DATA is kept for file data (write.c), where the
 * package itself is readable. */
static int inflate_exact(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen, uint64_t at,
	struct sisign_error *err)
{
	z_stream zs;
	int zr;
	memset(&zs, 0, sizeof zs);
	if (inflateInit(&zs) != Z_OK)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "zlib initialisation failed");
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)inlen;
	zs.next_out = out;
	zs.avail_out = (uInt)outlen;
	zr = inflate(&zs, Z_FINISH);
	if (zr == Z_STREAM_END && zs.total_out == outlen && zs.avail_in == 0) {
		inflateEnd(&zs);
		return SISIGN_OK;
	}
	if (zr == Z_STREAM_END && zs.total_out == outlen) {
		inflateEnd(&zs);
		return err_set(err, SISIGN_ERR_MALFORMED, (long long)at,
			"%u bytes follow the compressed controller's zlib stream inside its field", zs.avail_in);
	}
	inflateEnd(&zs);
	if (zr == Z_STREAM_END)
		return err_set(err, SISIGN_ERR_MALFORMED, (long long)at,
			"compressed controller inflates to %lu bytes, %zu declared", zs.total_out, outlen);
	if (zr == Z_BUF_ERROR && zs.avail_out == 0)
		return err_set(err, SISIGN_ERR_MALFORMED, (long long)at,
			"compressed controller inflates to more than the %zu bytes declared", outlen);
	return err_set(err, SISIGN_ERR_MALFORMED, (long long)at, "compressed controller is not valid zlib data%s%s",
		zs.msg ? ": " : "", zs.msg ? zs.msg : "");
}

/* Walk SISData: record where each data unit's files are (headers only). */
static int parse_data_units(struct sisign_pkg *pkg, uint64_t off, uint64_t end, struct sisign_error *err)
{
	struct sisf_hdr h;
	uint8_t w[4];
	uint64_t pos, aend;
	size_t ucap = 0, total = 0;
	int r;

	if ((r = read_hdr(pkg, off, end, 1, &h, err)))
		return r;
	if (h.type != SISF_DATA)
		return err_set(err, SISIGN_ERR_MALFORMED, (long long)off, "expected SISData, found %s (type %u)",
			sisf_type_name(h.type), h.type);
	if (h.len > end - off - h.hdrlen)
		return err_set(err, SISIGN_ERR_TRUNCATED, (long long)off,
			"SISData declares %llu bytes, more than the file holds", (unsigned long long)h.len);
	pkg->data_off = off;
	pkg->data_len = h.hdrlen + h.len + sisf_pad(h.len);
	if (pkg->data_len > end - off)
		pkg->data_len = end - off;
	pos = off + h.hdrlen;
	end = pos + h.len;
	/* Array<SISDataUnit> */
	if ((r = read_hdr(pkg, pos, end, 1, &h, err)))
		return r;
	if (h.type != SISF_ARRAY || h.len < 4 || h.len > end - pos - h.hdrlen)
		return err_set(err, SISIGN_ERR_MALFORMED, (long long)pos, "SISData does not hold a valid SISArray");
	aend = pos + h.hdrlen + h.len;
	pos += h.hdrlen;
	if ((r = pkg_read(pkg, pos, w, 4, err)))
		return r;
	if (le32(w) != SISF_DATA_UNIT)
		return err_set(err, SISIGN_ERR_MALFORMED, (long long)pos, "SISData array holds type %u, not SISDataUnit",
			le32(w));
	pos += 4;
	while (pos < aend) {
		struct sis_unit *u;
		uint64_t uend, fend, ulen;
		size_t fcap = 0;
		if ((r = read_hdr(pkg, pos, aend, 0, &h, err)))
			return r;
		if (h.len > aend - pos - h.hdrlen)
			return err_set(err, SISIGN_ERR_TRUNCATED, (long long)pos, "SISDataUnit runs past SISData");
		if (pkg->nunits >= SIS_MAX_DATA_UNITS)
			return err_set(err, SISIGN_ERR_TOO_LARGE, (long long)pos, "more than %u data units",
				SIS_MAX_DATA_UNITS);
		if (pkg->nunits == ucap) {
			size_t nc = ucap ? ucap * 2 : 4;
			void *p = realloc(pkg->units, nc * sizeof *pkg->units);
			if (!p)
				return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			pkg->units = p;
			ucap = nc;
		}
		u = &pkg->units[pkg->nunits++];
		memset(u, 0, sizeof *u);
		uend = pos + h.hdrlen + h.len;
		ulen = h.len;
		pos += h.hdrlen;
		/* Array<SISFileData> */
		if ((r = read_hdr(pkg, pos, uend, 1, &h, err)))
			return r;
		if (h.type != SISF_ARRAY || h.len < 4 || h.len > uend - pos - h.hdrlen)
			return err_set(err, SISIGN_ERR_MALFORMED, (long long)pos, "SISDataUnit does not hold a valid SISArray");
		fend = pos + h.hdrlen + h.len;
		pos += h.hdrlen;
		if ((r = pkg_read(pkg, pos, w, 4, err)))
			return r;
		if (le32(w) != SISF_FILE_DATA)
			return err_set(err, SISIGN_ERR_MALFORMED, (long long)pos,
				"SISDataUnit array holds type %u, not SISFileData", le32(w));
		pos += 4;
		while (pos < fend) {
			struct sisf_hdr ch;
			struct sis_unit_file *f;
			uint8_t cbuf[12];
			uint64_t eend, cpos;
			if ((r = read_hdr(pkg, pos, fend, 0, &h, err)))
				return r;
			if (h.len > fend - pos - h.hdrlen)
				return err_set(err, SISIGN_ERR_TRUNCATED, (long long)pos, "SISFileData runs past its data unit");
			eend = pos + h.hdrlen + h.len;
			cpos = pos + h.hdrlen;
			if ((r = read_hdr(pkg, cpos, eend, 1, &ch, err)))
				return r;
			if (ch.type != SISF_COMPRESSED)
				return err_set(err, SISIGN_ERR_MALFORMED, (long long)cpos,
					"SISFileData holds %s (type %u), not SISCompressed", sisf_type_name(ch.type), ch.type);
			if (ch.len < 12 || ch.len > eend - cpos - ch.hdrlen)
				return err_set(err, SISIGN_ERR_MALFORMED, (long long)cpos,
					"file data SISCompressed has an impossible length %llu", (unsigned long long)ch.len);
			if ((r = pkg_read(pkg, cpos + ch.hdrlen, cbuf, 12, err)))
				return r;
			if (++total > SIS_MAX_FILE_ENTRIES)
				return err_set(err, SISIGN_ERR_TOO_LARGE, (long long)pos, "more than %u file data entries",
					SIS_MAX_FILE_ENTRIES);
			if (u->nfiles == fcap) {
				size_t nc = fcap ? fcap * 2 : 4;
				void *p = realloc(u->files, nc * sizeof *u->files);
				if (!p)
					return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
				u->files = p;
				fcap = nc;
			}
			f = &u->files[u->nfiles++];
			memset(f, 0, sizeof *f);
			f->algorithm = le32(cbuf);
			f->uncompressed = le64(cbuf + 4);
			f->payload_off = cpos + ch.hdrlen + 12;
			f->payload_len = ch.len - 12;
			pos = eend + sisf_pad(h.len);
		}
		pos = uend + sisf_pad(ulen);
		if (pos > aend)
			pos = aend;
	}
	pkg->info.ndata_units = pkg->nunits;
	return SISIGN_OK;
}

static int parse_sisx(struct sisign_pkg *pkg, struct sisign_error *err)
{
	struct sisf_hdr h;
	uint64_t pos, cend;
	uint8_t *payload = NULL;
	int r;

	pkg->info.kind = SISIGN_PKG_SISX;
	pkg->info.uid1 = le32(pkg->header);
	pkg->info.uid2 = le32(pkg->header + 4);
	pkg->info.uid3 = le32(pkg->header + 8);
	pkg->info.uid_checksum = le32(pkg->header + 12);
	pkg->info.uid_checksum_ok =
		sis_uid_checksum(pkg->info.uid1, pkg->info.uid2, pkg->info.uid3) == pkg->info.uid_checksum;

	if ((r = read_hdr(pkg, 16, pkg->size, 1, &h, err)))
		return r;
	if (h.type != SISF_CONTENTS)
		return err_set(err, SISIGN_ERR_MALFORMED, 16, "expected SISContents after the header, found %s (type %u)",
			sisf_type_name(h.type), h.type);
	if (h.len > pkg->size - 16 - h.hdrlen)
		return err_set(err, SISIGN_ERR_TRUNCATED, 16,
			"SISContents declares %llu bytes but the file has %llu after its header",
			(unsigned long long)h.len, (unsigned long long)(pkg->size - 16 - h.hdrlen));
	pkg->contents_hdrlen = h.hdrlen;
	if ((r = pkg_read(pkg, 16, pkg->contents_hdr, h.hdrlen, err)))
		return r;
	pos = 16 + h.hdrlen;
	cend = pos + h.len;
	pkg->contents_vend = cend;
	pkg->contents_end = cend + sisf_pad(h.len);
	if (pkg->contents_end > pkg->size)
		pkg->contents_end = pkg->size;
	if (pkg->size > pkg->contents_end) /* kept as they are when written */
		(void)pkg_warn(pkg, "%llu bytes after SISContents are ignored",
			(unsigned long long)(pkg->size - pkg->contents_end));

	/* Optional checksums (§5.2, §5.3). */
	for (int pass = 0; pass < 2; pass++) {
		uint32_t want = pass == 0 ? SISF_CONTROLLER_CHECKSUM : SISF_DATA_CHECKSUM;
		uint8_t **field = pass == 0 ? &pkg->ctl_crc_field : &pkg->data_crc_field;
		size_t *flen = pass == 0 ? &pkg->ctl_crc_field_len : &pkg->data_crc_field_len;
		uint64_t total;
		if ((r = read_hdr(pkg, pos, cend, 1, &h, err)))
			return r;
		if (h.type != want)
			continue;
		if (h.len != 2 || h.len > cend - pos - h.hdrlen)
			return err_set(err, SISIGN_ERR_MALFORMED, (long long)pos, "%s has an invalid length %llu",
				sisf_type_name(want), (unsigned long long)h.len);
		total = h.hdrlen + h.len + sisf_pad(h.len);
		if (total > cend - pos)
			total = cend - pos;
		*field = malloc((size_t)total);
		if (!*field)
			return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		*flen = (size_t)total;
		if ((r = pkg_read(pkg, pos, *field, (size_t)total, err)))
			return r;
		if (pass == 0) {
			pkg->info.has_controller_crc = 1;
			pkg->info.controller_crc = le16(*field + h.hdrlen);
		} else {
			pkg->info.has_data_crc = 1;
			pkg->info.data_crc = le16(*field + h.hdrlen);
		}
		pos += total;
	}

	/* The compressed controller (§3.6). */
	{
		uint64_t total, uncompressed;
		uint32_t alg;
		size_t plen;
		if ((r = read_hdr(pkg, pos, cend, 1, &h, err)))
			return r;
		if (h.type != SISF_COMPRESSED)
			return err_set(err, SISIGN_ERR_MALFORMED, (long long)pos,
				"expected the compressed controller (SISCompressed), found %s (type %u)",
				sisf_type_name(h.type), h.type);
		if (h.len < 12 || h.len > cend - pos - h.hdrlen)
			return err_set(err, SISIGN_ERR_TRUNCATED, (long long)pos,
				"controller SISCompressed declares %llu bytes, more than SISContents holds",
				(unsigned long long)h.len);
		if (h.len - 12 > pkg->opts.max_controller)
			return err_set(err, SISIGN_ERR_TOO_LARGE, (long long)pos,
				"compressed controller of %llu bytes is over the %llu-byte limit",
				(unsigned long long)(h.len - 12), (unsigned long long)pkg->opts.max_controller);
		total = h.hdrlen + h.len + sisf_pad(h.len);
		if (total > cend - pos)
			total = cend - pos;
		pkg->raw_compressed = malloc((size_t)total);
		if (!pkg->raw_compressed)
			return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		pkg->raw_compressed_len = (size_t)total;
		if ((r = pkg_read(pkg, pos, pkg->raw_compressed, (size_t)total, err)))
			return r;
		alg = le32(pkg->raw_compressed + h.hdrlen);
		uncompressed = le64(pkg->raw_compressed + h.hdrlen + 4);
		pkg->info.controller_compression = alg;
		if (alg > 1)
			return err_set(err, SISIGN_ERR_UNSUPPORTED, (long long)pos,
				"controller compression algorithm %u is not supported", alg);
		if (uncompressed > pkg->opts.max_controller)
			return err_set(err, SISIGN_ERR_TOO_LARGE, (long long)(pos + h.hdrlen + 4),
				"controller declares an uncompressed size of %llu bytes (limit %llu)",
				(unsigned long long)uncompressed, (unsigned long long)pkg->opts.max_controller);
		plen = (size_t)(h.len - 12);
		payload = pkg->raw_compressed + h.hdrlen + 12;
		pkg->ctrl_buf_len = (size_t)uncompressed;
		pkg->ctrl = malloc(pkg->ctrl_buf_len ? pkg->ctrl_buf_len : 1);
		if (!pkg->ctrl)
			return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		if (alg == 0) {
			if (plen != uncompressed)
				return err_set(err, SISIGN_ERR_MALFORMED, (long long)pos,
					"stored controller is %zu bytes but declares %llu", plen, (unsigned long long)uncompressed);
			memcpy(pkg->ctrl, payload, plen);
		} else if ((r = inflate_exact(payload, plen, pkg->ctrl, pkg->ctrl_buf_len, (long long)pos, err))) {
			return r;
		}
		pkg->info.controller_crc_computed = crc16_update(0, pkg->raw_compressed, pkg->raw_compressed_len);
		pkg->info.controller_crc_ok = pkg->info.has_controller_crc &&
			pkg->info.controller_crc == pkg->info.controller_crc_computed;
		if (pkg->info.has_controller_crc && !pkg->info.controller_crc_ok)
			(void)pkg_warn(pkg, "controller CRC is stale (stored 0x%04x, computed 0x%04x); the device ignores it",
				pkg->info.controller_crc, pkg->info.controller_crc_computed);
		pos += total;
	}

	/* SISData (§5.12) */
	if ((r = parse_data_units(pkg, pos, cend, err)))
		return r;
	pos = pkg->data_off + pkg->data_len;
	if (pos < cend)
		(void)pkg_warn(pkg, "%llu unknown bytes after SISData inside SISContents",
			(unsigned long long)(cend - pos));
	pkg->info.data_crc_ok = -1;
	return SISIGN_OK;
}

/* Parse buf (a whole controller field, header first; typed unless .ctl) and
 * make it the package's controller: the model, the bytes (pkg takes buf,
 * also on failure) and the data-unit links.  Shared by parsing and by
 * sign/unsign, which hand over a rebuilt controller. */
static int adopt_controller(struct sisign_pkg *pkg, uint8_t *buf, size_t len, int typed, struct sisign_error *err)
{
	struct sisign_controller nc;
	size_t used = 0;
	int r;

	memset(&nc, 0, sizeof nc);
	r = ctrl_parse(pkg, buf, len, typed, 0, &nc, &used, err);
	if (r != SISIGN_OK) {
		ctrl_free(&nc);
		if (buf != pkg->ctrl)
			free(buf);
		return r;
	}
	ctrl_free(&pkg->top);
	pkg->top = nc;
	if (buf != pkg->ctrl) {
		free(pkg->ctrl);
		pkg->ctrl = buf;
	}
	pkg->ctrl_len = used;
	pkg->ctrl_buf_len = len;
	pkg->info.controller_size = used;
	assign_units(pkg, &pkg->top, 0);
	return SISIGN_OK;
}

static int parse_controller_bytes(struct sisign_pkg *pkg, int typed, struct sisign_error *err)
{
	int r = adopt_controller(pkg, pkg->ctrl, pkg->ctrl_buf_len, typed, err);
	if (r != SISIGN_OK)
		return r;
	if (pkg->info.kind == SISIGN_PKG_SISX && pkg->ctrl_len != pkg->ctrl_buf_len)
		(void)pkg_warn(pkg, "decompressed controller has %zu bytes after the SISController field",
			pkg->ctrl_buf_len - pkg->ctrl_len);
	if (pkg->top.trailing)
		(void)pkg_warn(pkg, "%zu unsigned bytes follow SISDataIndex in the controller", pkg->top.trailing);
	return SISIGN_OK;
}

static int parse_all(struct sisign_pkg *pkg, struct sisign_error *err)
{
	int r;
	uint32_t w0;

	if (pkg->opts.max_controller == 0)
		pkg->opts.max_controller = SIS_DEFAULT_MAX_CONTROLLER;
	if (pkg->opts.max_file == 0)
		pkg->opts.max_file = SIS_DEFAULT_MAX_FILE;
	if (pkg->opts.max_depth <= 0)
		pkg->opts.max_depth = SIS_DEFAULT_MAX_DEPTH;

	if (pkg->size < 4)
		return err_set(err, SISIGN_ERR_NOT_SIS, 0, "not a SIS file (only %llu bytes)",
			(unsigned long long)pkg->size);
	memset(pkg->header, 0, sizeof pkg->header);
	if ((r = pkg_read(pkg, 0, pkg->header, pkg->size < 16 ? (size_t)pkg->size : 16, err)))
		return r;
	w0 = le32(pkg->header);
	if (pkg->size >= 16 && le32(pkg->header + 8) == SIS_LEGACY_UID3 && w0 != SIS_UID1)
		return err_set(err, SISIGN_ERR_UNSUPPORTED_VERSION, 8,
			"pre-v9 SIS file (S60 1st/2nd edition, UID3 0x10000419); sisign handles Symbian OS 9 and later only");
	if (w0 == SIS_UID1) {
		if (pkg->size < 16)
			return err_set(err, SISIGN_ERR_TRUNCATED, 0, "file ends inside the 16-byte UID header");
		if ((r = parse_sisx(pkg, err)))
			return r;
		if (!pkg->info.uid_checksum_ok)
			(void)pkg_warn(pkg, "UID checksum 0x%08x is wrong (expected 0x%08x); the device rejects this",
				pkg->info.uid_checksum, sis_uid_checksum(pkg->info.uid1, pkg->info.uid2, pkg->info.uid3));
		if ((r = parse_controller_bytes(pkg, 1, err)))
			return r;
		pkg->info.uid3_matches = pkg->info.uid3 == pkg->top.uid;
		if (!pkg->info.uid3_matches)
			(void)pkg_warn(pkg, "header UID3 0x%08x differs from the package UID 0x%08x", pkg->info.uid3,
				pkg->top.uid);
		return SISIGN_OK;
	}

	/* Bare controllers (§1): type-prefixed ROM stub, or length-prefixed .ctl. */
	if (w0 == SISF_CONTROLLER || (uint64_t)w0 + 4 == pkg->size ||
		(pkg->size >= 8 && (w0 & 0x80000000u) && le32(pkg->header + 4) == 0 &&
			(uint64_t)(w0 & 0x7FFFFFFFu) + 8 == pkg->size)) {
		int typed = w0 == SISF_CONTROLLER;
		if (pkg->size > pkg->opts.max_controller)
			return err_set(err, SISIGN_ERR_TOO_LARGE, 0, "controller file of %llu bytes is over the %llu-byte limit",
				(unsigned long long)pkg->size, (unsigned long long)pkg->opts.max_controller);
		pkg->info.kind = typed ? SISIGN_PKG_STUB : SISIGN_PKG_CTL;
		pkg->ctrl_buf_len = (size_t)pkg->size;
		pkg->ctrl = malloc(pkg->ctrl_buf_len);
		if (!pkg->ctrl)
			return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		if ((r = pkg_read(pkg, 0, pkg->ctrl, pkg->ctrl_buf_len, err)))
			return r;
		if ((r = parse_controller_bytes(pkg, typed, err)))
			return r;
		if (pkg->ctrl_len < pkg->ctrl_buf_len)
			(void)pkg_warn(pkg, "%zu bytes after the controller are ignored", pkg->ctrl_buf_len - pkg->ctrl_len);
		pkg->info.uid3 = pkg->top.uid;
		pkg->info.uid3_matches = 1;
		pkg->info.data_crc_ok = -1;
		return SISIGN_OK;
	}
	if (pkg->size >= 8 && le32(pkg->header + 4) == SISF_INFO)
		return err_set(err, SISIGN_ERR_TRUNCATED, 0,
			"controller file (.ctl) whose length word (%u) does not match the file size (%llu bytes)", w0,
			(unsigned long long)pkg->size);
	return err_set(err, SISIGN_ERR_NOT_SIS, 0,
		"not a SIS file (starts 0x%08x; a Symbian 9 package starts 0x10201a7a)", w0);
}

static int pkg_new(struct sisign_pkg **out, const struct sisign_parse_opts *opts, const char *path)
{
	struct sisign_pkg *pkg = calloc(1, sizeof *pkg);
	if (!pkg)
		return SISIGN_ERR_NOMEM;
	pkg->fd = -1;
	if (opts)
		pkg->opts = *opts;
	pkg->path = strdup(path);
	if (!pkg->path) {
		free(pkg);
		return SISIGN_ERR_NOMEM;
	}
	*out = pkg;
	return SISIGN_OK;
}

/* Open path for reading into pkg->fd, refusing anything but a regular
 * file.  O_NONBLOCK: opening a FIFO (or a device) must not wait for a
 * writer; on a regular file the flag changes nothing. */
static int open_regular(struct sisign_pkg *pkg, const char *path, struct stat *st, struct sisign_error *err)
{
	pkg->fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (pkg->fd < 0)
		return err_sys(err, errno, "cannot open");
	if (fstat(pkg->fd, st) != 0)
		return err_sys(err, errno, "cannot stat");
	if (!S_ISREG(st->st_mode))
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "not a regular file");
	return SISIGN_OK;
}

int sisign_pkg_open(const char *path, const struct sisign_parse_opts *opts, struct sisign_pkg **out,
	struct sisign_error *err)
{
	struct sisign_pkg *pkg = NULL;
	struct stat st;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	if (pkg_new(&pkg, opts, path))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if ((r = open_regular(pkg, path, &st, err)) != SISIGN_OK)
		goto out;
	pkg->size = (uint64_t)st.st_size;
	pkg->info.file_size = pkg->size;
	if ((r = parse_all(pkg, err)) != SISIGN_OK)
		goto out;
	*out = pkg;
	pkg = NULL; /* transferred */
	r = SISIGN_OK;
out:
	sisign_pkg_free(pkg);
	return r;
}

/* Take an exclusive flock on the file path names now.  The lock is on the
 * open file, and a writer before us may have renamed its output over the
 * path while we waited: then the path names a newer file, and that is the
 * one to lock and read.  So after each lock, the path must still name the
 * locked file, else try again with what it names now. */
static int lock_current(struct sisign_pkg *pkg, const char *real, int nowait, struct stat *st,
	struct sisign_error *err)
{
	for (int tries = 0;; tries++) {
		struct stat now;
		int r, lr;
		if ((r = open_regular(pkg, real, st, err)) != SISIGN_OK)
			return r;
		while ((lr = flock(pkg->fd, LOCK_EX | (nowait ? LOCK_NB : 0))) != 0 && errno == EINTR)
			;
		if (lr != 0) {
			int e = errno;
			if (e != EWOULDBLOCK)
				return err_sys(err, e, "cannot lock");
			r = err_set(err, SISIGN_ERR_SYSTEM, -1, "locked by another process (another sisign replacing it?)");
			if (err)
				err->sys_errno = e;
			return r;
		}
		if (lstat(real, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino)
			return SISIGN_OK;
		close(pkg->fd);
		pkg->fd = -1;
		if (tries >= 1000)
			return err_set(err, SISIGN_ERR_SYSTEM, -1, "cannot lock: the file keeps being replaced");
	}
}

int sisign_pkg_open_exclusive(const char *path, const struct sisign_parse_opts *opts, int nowait,
	struct sisign_pkg **out, struct sisign_error *err)
{
	struct sisign_pkg *pkg = NULL;
	struct stat st;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	if (!path)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_pkg_open_exclusive: NULL path");
	if (pkg_new(&pkg, opts, path))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	/* A symlink stays a symlink: the file it leads to is the one read,
	 * locked and replaced. */
	if (!(pkg->lock_path = realpath(path, NULL))) {
		r = err_sys(err, errno, "cannot open");
		goto out;
	}
	if ((r = lock_current(pkg, pkg->lock_path, nowait, &st, err)) != SISIGN_OK)
		goto out;
	pkg->lock_mode = (int)(st.st_mode & 0777);
	pkg->size = (uint64_t)st.st_size;
	pkg->info.file_size = pkg->size;
	if ((r = parse_all(pkg, err)) != SISIGN_OK)
		goto out;
	*out = pkg;
	pkg = NULL; /* transferred */
	r = SISIGN_OK;
out:
	sisign_pkg_free(pkg);
	return r;
}

int sisign_pkg_parse_mem(const void *data, size_t len, const struct sisign_parse_opts *opts,
	struct sisign_pkg **out, struct sisign_error *err)
{
	struct sisign_pkg *pkg = NULL;
	int r;
	*out = NULL;
	if (pkg_new(&pkg, opts, "(memory)"))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	pkg->mem = data;
	pkg->size = data ? len : 0;
	pkg->info.file_size = pkg->size;
	if ((r = parse_all(pkg, err)) != SISIGN_OK) {
		sisign_pkg_free(pkg);
		return r;
	}
	*out = pkg;
	return SISIGN_OK;
}

void sisign_pkg_free(struct sisign_pkg *pkg)
{
	if (!pkg)
		return;
	if (pkg->fd >= 0)
		close(pkg->fd);
	ctrl_free(&pkg->top);
	for (size_t i = 0; i < pkg->nunits; i++)
		free(pkg->units[i].files);
	free(pkg->units);
	for (size_t i = 0; i < pkg->nwarn; i++)
		free(pkg->warn[i]);
	free(pkg->warn);
	free(pkg->ctl_crc_field);
	free(pkg->data_crc_field);
	free(pkg->raw_compressed);
	free(pkg->ctrl);
	free(pkg->path);
	free(pkg->lock_path);
	free(pkg);
}

const struct sisign_pkg_info *sisign_pkg_info(const struct sisign_pkg *pkg)
{
	return &pkg->info;
}

const struct sisign_controller *sisign_pkg_controller(const struct sisign_pkg *pkg)
{
	return &pkg->top;
}

static const struct sisign_controller *first_damage(const struct sisign_controller *c)
{
	if (c->damage)
		return c;
	for (size_t i = 0; i < c->nembedded; i++) {
		const struct sisign_controller *d = first_damage(&c->embedded[i]);
		if (d)
			return d;
	}
	return NULL;
}

const struct sisign_controller *sisign_pkg_damaged(const struct sisign_pkg *pkg)
{
	return first_damage(&pkg->top);
}

size_t sisign_pkg_nwarnings(const struct sisign_pkg *pkg)
{
	return pkg->nwarn;
}

const char *sisign_pkg_warning(const struct sisign_pkg *pkg, size_t i)
{
	return i < pkg->nwarn ? pkg->warn[i] : NULL;
}

int pkg_replace_controller(struct sisign_pkg *pkg, uint8_t *buf, size_t len, struct sisign_error *err)
{
	/* File data does not change, so a data check already made still
	 * holds (pkg->data_checked); the new model's per-file hash_status
	 * starts unchecked. */
	int r = adopt_controller(pkg, buf, len, pkg->info.kind != SISIGN_PKG_CTL, err);
	if (r == SISIGN_OK)
		pkg->dirty = 1;
	return r;
}
