/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming file-data checks and the package writer. */
#include "format/format_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <openssl/evp.h>

#define CHUNK ((size_t)256 << 10)

int sis_build_compressed(const uint8_t *p, size_t n, int store, struct wbuf *out, struct sisign_error *err)
{
	uint8_t hdr[12];
	uint8_t *z = NULL;
	size_t zlen = 0;
	uint32_t alg = 0;
	const uint8_t *payload = p;
	size_t plen = n, hl;

	if (!store) {
		zlen = compressBound((uLong)n);
		z = malloc(zlen ? zlen : 1);
		if (!z)
			return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		/* zlib's default level with default window and memory, as signsis
		 * does; stored instead when deflate does not make it smaller. */
		if (sis_deflate_default(p, n, z, &zlen) != 0) {
			free(z);
			return err_set(err, SISIGN_ERR_INTERNAL, -1, "zlib compression failed");
		}
		if (zlen < n) {
			alg = 1;
			payload = z;
			plen = zlen;
		}
	}
	hl = sisf_put_hdr(hdr, 1, SISF_COMPRESSED, 12 + (uint64_t)plen);
	wbuf_put(out, hdr, hl);
	wbuf_put_u32le(out, alg);
	wbuf_put_u64le(out, n);
	wbuf_put(out, payload, plen);
	wbuf_put_zeros(out, (size_t)sisf_pad(12 + (uint64_t)plen));
	free(z);
	if (wbuf_failed(out))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	return SISIGN_OK;
}

/* ---- data checks -------------------------------------------------------- */

/* Hash got bytes of inflated output, refusing more than cap in all. */
static int hash_inflated(EVP_MD_CTX *ctx, const uint8_t *obuf, size_t got, uint64_t cap, uint64_t *produced,
	const struct sis_unit_file *uf, struct sisign_error *err)
{
	if (got > cap - *produced)
		return err_set(err, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
			"file data inflates to more than the %llu bytes declared", (unsigned long long)cap);
	*produced += got;
	if (got && EVP_DigestUpdate(ctx, obuf, got) != 1)
		return err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-1 failed");
	return SISIGN_OK;
}

static int hash_file_data(struct sisign_pkg *pkg, const struct sis_unit_file *uf, uint8_t md[20],
	uint64_t *outlen, uint8_t *buf, uint8_t *obuf, struct sisign_error *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	z_stream zs;
	int zinit = 0, r = SISIGN_ERR_INTERNAL, zr = Z_OK;
	uint64_t done = 0, produced = 0;
	uint64_t cap = uf->uncompressed;
	unsigned int mdlen = 0;

	memset(&zs, 0, sizeof zs);
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-1 unavailable");
		goto out;
	}
	if (uf->algorithm == 1) {
		if (inflateInit(&zs) != Z_OK) {
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "zlib initialisation failed");
			goto out;
		}
		zinit = 1;
	} else if (uf->algorithm != 0) {
		r = err_set(err, SISIGN_ERR_UNSUPPORTED, (long long)uf->payload_off,
			"file data compression algorithm %u is not supported", uf->algorithm);
		goto out;
	} else if (uf->payload_len != uf->uncompressed) {
		r = err_set(err, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
			"stored file data is %llu bytes but declares %llu", (unsigned long long)uf->payload_len,
			(unsigned long long)uf->uncompressed);
		goto out;
	}
	while (done < uf->payload_len) {
		size_t n = uf->payload_len - done < CHUNK ? (size_t)(uf->payload_len - done) : CHUNK;
		if ((r = pkg_read(pkg, uf->payload_off + done, buf, n, err)))
			goto out;
		done += n;
		if (!zinit) {
			if (EVP_DigestUpdate(ctx, buf, n) != 1) {
				r = err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-1 failed");
				goto out;
			}
			produced += n;
			continue;
		}
		if (zr == Z_STREAM_END) {
			r = err_set(err, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
				"file data continues after its zlib stream ends");
			goto out;
		}
		zs.next_in = buf;
		zs.avail_in = (uInt)n;
		while (zs.avail_in > 0 && zr != Z_STREAM_END) {
			zs.next_out = obuf;
			zs.avail_out = (uInt)CHUNK;
			zr = inflate(&zs, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				r = err_set(err, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
					"file data is not valid zlib data%s%s", zs.msg ? ": " : "", zs.msg ? zs.msg : "");
				goto out;
			}
			size_t got = CHUNK - zs.avail_out;
			if ((r = hash_inflated(ctx, obuf, got, cap, &produced, uf, err)) != SISIGN_OK)
				goto out;
			if (zr == Z_BUF_ERROR && got == 0)
				break;
		}
		if (zr == Z_STREAM_END && zs.avail_in > 0) {
			r = err_set(err, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
				"%u bytes follow the file data's zlib stream inside its field", zs.avail_in);
			goto out;
		}
	}
	if (zinit) {
		/* Drain output still held by zlib. */
		while (zr != Z_STREAM_END) {
			zs.next_out = obuf;
			zs.avail_out = (uInt)CHUNK;
			zr = inflate(&zs, Z_FINISH);
			size_t got = CHUNK - zs.avail_out;
			if ((r = hash_inflated(ctx, obuf, got, cap, &produced, uf, err)) != SISIGN_OK)
				goto out;
			if (zr != Z_STREAM_END && got == 0) {
				r = err_set(err, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
					"file data ends before its zlib stream does");
				goto out;
			}
		}
	}
	if (produced != cap) {
		r = err_set(err, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
			"file data inflates to %llu bytes, %llu declared", (unsigned long long)produced,
			(unsigned long long)cap);
		goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 20) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-1 failed");
		goto out;
	}
	*outlen = produced;
	r = SISIGN_OK;
out:
	if (zinit)
		inflateEnd(&zs);
	EVP_MD_CTX_free(ctx);
	return r;
}

struct check_ctx {
	struct sisign_pkg *pkg;
	uint8_t *buf, *obuf;
	int first_err;
	struct sisign_error *err;
};

/* Inflate and hash one data entry, once: every later description naming
 * the same entry reuses the result (without this, thousands of descriptions
 * of one big entry multiply the work).  The first failure is reported under
 * the name of the description that met it first. */
static void check_entry(struct check_ctx *cx, struct sis_unit_file *uf, const struct sisign_file *f)
{
	struct sisign_error e;
	int r;

	if (uf->checked)
		return;
	sisign_error_clear(&e);
	uf->checked = 1;
	cx->pkg->data_passes++;
	r = hash_file_data(cx->pkg, uf, uf->md, &uf->produced, cx->buf, cx->obuf, &e);
	uf->check_result = r;
	if (r != SISIGN_OK && !cx->first_err)
		cx->first_err = err_set(cx->err, r, e.offset, "%s: %s", f->target, e.message);
}

static void check_file(struct check_ctx *cx, const struct sisign_controller *c, struct sisign_file *f)
{
	struct sis_unit_file *uf;

	if (f->hash_len == 0) {
		f->hash_status = SISIGN_HASH_NO_DATA;
		return;
	}
	if (c->abs_data_unit >= cx->pkg->nunits || f->file_index >= cx->pkg->units[c->abs_data_unit].nfiles) {
		/* Preinstalled packages (PA, PP) carry hashes of files that are
		 * already on the device, and no data. */
		if (c->install_type == 3 || c->install_type == 4) {
			f->hash_status = SISIGN_HASH_NO_DATA;
			return;
		}
		f->hash_status = SISIGN_HASH_MISSING;
		if (!cx->first_err) {
			cx->first_err = err_set(cx->err, SISIGN_ERR_MALFORMED, -1,
				"%s: no file data at data unit %u, index %u", f->target, c->abs_data_unit, f->file_index);
		}
		return;
	}
	/* f->data_* were filled in at parse (link_file) */
	uf = &cx->pkg->units[c->abs_data_unit].files[f->file_index];
	if (uf->uncompressed > cx->pkg->opts.max_file) {
		f->hash_status = SISIGN_HASH_CORRUPT;
		if (!cx->first_err)
			cx->first_err = err_set(cx->err, SISIGN_ERR_TOO_LARGE, (long long)f->data_offset,
				"%s: declared size %llu is over the %llu-byte limit", f->target,
				(unsigned long long)uf->uncompressed, (unsigned long long)cx->pkg->opts.max_file);
		return;
	}
	check_entry(cx, uf, f);
	if (uf->check_result != SISIGN_OK) {
		f->hash_status = SISIGN_HASH_CORRUPT;
		return;
	}
	if (memcmp(uf->md, f->hash, 20) != 0) {
		f->hash_status = SISIGN_HASH_MISMATCH;
		if (!cx->first_err)
			cx->first_err = err_set(cx->err, SISIGN_ERR_HASH_MISMATCH, (long long)f->data_offset,
				"%s: stored SHA-1 does not match the file data", f->target);
		return;
	}
	if (uf->produced != f->uncompressed_length)
		(void)pkg_warn(cx->pkg, "%s: description says %llu bytes, data has %llu", f->target,
			(unsigned long long)f->uncompressed_length, (unsigned long long)uf->produced);
	f->hash_status = SISIGN_HASH_OK;
}

static void check_ctrl(struct check_ctx *cx, struct sisign_controller *c)
{
	if (c->logo)
		check_file(cx, c, (struct sisign_file *)c->logo);
	for (size_t i = 0; i < c->nfiles; i++)
		check_file(cx, c, &c->files[i]);
	for (size_t i = 0; i < c->nembedded; i++)
		check_ctrl(cx, &c->embedded[i]);
}

int sisign_pkg_check_data(struct sisign_pkg *pkg, struct sisign_error *err)
{
	struct check_ctx cx = { pkg, NULL, NULL, 0, NULL };

	if (!pkg->data_checked) {
		sisign_error_clear(&pkg->data_err);
		cx.err = &pkg->data_err;
		cx.buf = malloc(CHUNK);
		cx.obuf = malloc(CHUNK);
		if (!cx.buf || !cx.obuf) {
			free(cx.buf);
			free(cx.obuf);
			return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		}
		check_ctrl(&cx, &pkg->top);
		free(cx.buf);
		free(cx.obuf);
		pkg->data_result = cx.first_err;
		pkg->data_checked = 1;
	}
	if (pkg->data_result != SISIGN_OK && err)
		*err = pkg->data_err;
	return pkg->data_result;
}

int sisign_pkg_check_checksums(struct sisign_pkg *pkg, struct sisign_error *err)
{
	uint16_t crc = 0;
	uint64_t done = 0;
	uint8_t *buf;
	int r = SISIGN_OK;

	if (pkg->info.kind != SISIGN_PKG_SISX || pkg->info.data_crc_ok >= 0)
		return SISIGN_OK;
	buf = malloc(CHUNK);
	if (!buf)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	while (done < pkg->data_len) {
		size_t n = pkg->data_len - done < CHUNK ? (size_t)(pkg->data_len - done) : CHUNK;
		if ((r = pkg_read(pkg, pkg->data_off + done, buf, n, err)) != SISIGN_OK)
			break;
		crc = crc16_update(crc, buf, n);
		done += n;
	}
	free(buf);
	if (r != SISIGN_OK)
		return r;
	pkg->info.data_crc_computed = crc;
	pkg->info.data_crc_ok = pkg->info.has_data_crc && pkg->info.data_crc == crc;
	if (pkg->info.has_data_crc && !pkg->info.data_crc_ok)
		(void)pkg_warn(pkg, "data CRC is stale (stored 0x%04x, computed 0x%04x); the device ignores it",
			pkg->info.data_crc, crc);
	return SISIGN_OK;
}

/* ---- writing --------------------------------------------------------------- */

static int copy_range(struct sisign_pkg *pkg, struct atomic_file *af, uint64_t off, uint64_t len,
	struct sisign_error *err)
{
	uint8_t *buf;
	int r = SISIGN_OK;
	if (len == 0)
		return SISIGN_OK;
	if (pkg->fd < 0)
		return atomic_write(af, pkg->mem + off, (size_t)len, err);
	/* copy_file_range lets the kernel (or the filesystem, by reflink) move
	 * the bytes; fall back to read/write where it is not supported.  An
	 * output whose digest is wanted is copied through here instead, so the
	 * digest is of the very bytes written. */
	if (!af->md) {
		loff_t in_off = (loff_t)off;
		uint64_t left = len;
		while (left > 0) {
			ssize_t n = copy_file_range(pkg->fd, &in_off, af->fd, NULL, left > ((size_t)1 << 30) ? ((size_t)1 << 30) : (size_t)left, 0);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (left == len && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL))
					break; /* not supported here: read/write below */
				return err_sys(err, errno, "%s: copy failed", af->path);
			}
			if (n == 0)
				return err_set(err, SISIGN_ERR_TRUNCATED, (long long)in_off, "input shrank while being copied");
			left -= (uint64_t)n;
		}
		if (left == 0)
			return SISIGN_OK;
	}
	buf = malloc(CHUNK);
	if (!buf)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	for (uint64_t done = 0; done < len && r == SISIGN_OK;) {
		size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
		r = pkg_read(pkg, off + done, buf, n, err);
		if (r == SISIGN_OK)
			r = atomic_write(af, buf, n, err);
		done += n;
	}
	free(buf);
	return r;
}

/* Assemble the file head (everything before SISData) into `head`; for a
 * changed controller also give the new SISContents length. */
static int build_head(struct sisign_pkg *pkg, struct wbuf *head, uint64_t *contents_len, struct sisign_error *err)
{
	struct wbuf comp;
	uint8_t hdr[12];
	uint16_t crc;
	int r;

	if (!pkg->dirty) {
		wbuf_put(head, pkg->header, 16);
		wbuf_put(head, pkg->contents_hdr, pkg->contents_hdrlen);
		if (pkg->ctl_crc_field)
			wbuf_put(head, pkg->ctl_crc_field, pkg->ctl_crc_field_len);
		if (pkg->data_crc_field)
			wbuf_put(head, pkg->data_crc_field, pkg->data_crc_field_len);
		wbuf_put(head, pkg->raw_compressed, pkg->raw_compressed_len);
		return wbuf_failed(head) ? err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory") : SISIGN_OK;
	}
	wbuf_init(&comp);
	if ((r = sis_build_compressed(pkg->ctrl, pkg->ctrl_len, 0, &comp, err))) {
		wbuf_free(&comp);
		return r;
	}
	crc = crc16_update(0, comp.data, comp.len);
	/* The header's UID3 is the package UID and its checksum is recomputed
	 * (§2); UID2 is kept as found. */
	sis_put_uid_header(head, le32(pkg->header + 4), pkg->top.uid);
	/* SISData and whatever followed it inside SISContents are copied as they
	 * are: signing never touches file data.  The controller CRC field is
	 * written, with the new CRC, exactly when the input had one (even if
	 * the CRC is 0, where signsis would drop it; signsis also adds one to a
	 * package that had none).  The device ignores both CRCs (§6), and this
	 * way unsign gives back what sign was given. */
	*contents_len = (pkg->ctl_crc_field ? 12 : 0) + pkg->data_crc_field_len + comp.len +
		(pkg->contents_vend - pkg->data_off);
	wbuf_put(head, hdr, sisf_put_hdr(hdr, 1, SISF_CONTENTS, *contents_len));
	if (pkg->ctl_crc_field)
		sis_put_crc_field(head, SISF_CONTROLLER_CHECKSUM, crc);
	if (pkg->data_crc_field)
		wbuf_put(head, pkg->data_crc_field, pkg->data_crc_field_len);
	wbuf_put(head, comp.data, comp.len);
	wbuf_free(&comp);
	return wbuf_failed(head) ? err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory") : SISIGN_OK;
}

/* Compare [aoff, aoff + len) of a with [boff, boff + len) of b. */
static int same_range(const struct sisign_pkg *a, uint64_t aoff, const struct sisign_pkg *b, uint64_t boff,
	uint64_t len, struct sisign_error *err)
{
	uint8_t *x = NULL, *y = NULL;
	int r = 1;

	if (len == 0)
		return 1;
	if (!(x = malloc(CHUNK)) || !(y = malloc(CHUNK))) {
		free(x);
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	}
	for (uint64_t done = 0; done < len && r == 1;) {
		size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
		int e = pkg_read(a, aoff + done, x, n, err);
		if (e == SISIGN_OK)
			e = pkg_read(b, boff + done, y, n, err);
		if (e != SISIGN_OK)
			r = e;
		else if (memcmp(x, y, n) != 0)
			r = 0;
		done += n;
	}
	free(x);
	free(y);
	return r;
}

int pkg_same_outside_controller(const struct sisign_pkg *a, const struct sisign_pkg *b, struct sisign_error *err)
{
	int r;

	if (a->info.kind != b->info.kind)
		return 0;
	if (a->info.kind != SISIGN_PKG_SISX)
		return 1; /* the controller is the whole file */
	/* What the writer keeps as found (build_head, sisign_pkg_write): UID2,
	 * the data CRC field, SISData with whatever followed it inside
	 * SISContents, and whatever trailed SISContents.  UID3, the UID
	 * checksum and the controller CRC follow from the controller. */
	if (memcmp(a->header + 4, b->header + 4, 4) != 0 || a->data_crc_field_len != b->data_crc_field_len ||
		(a->data_crc_field_len && memcmp(a->data_crc_field, b->data_crc_field, a->data_crc_field_len) != 0))
		return 0;
	if (a->contents_vend - a->data_off != b->contents_vend - b->data_off ||
		a->size - a->contents_end != b->size - b->contents_end)
		return 0;
	r = same_range(a, a->data_off, b, b->data_off, a->contents_vend - a->data_off, err);
	if (r == 1)
		r = same_range(a, a->contents_end, b, b->contents_end, a->size - a->contents_end, err);
	return r;
}

int sisign_pkg_write(struct sisign_pkg *pkg, const char *path, int mode, struct sisign_error *err)
{
	return pkg_write_checked(pkg, path, mode, NULL, NULL, NULL, err);
}

int pkg_write_checked(struct sisign_pkg *pkg, const char *path, int mode, char *sha256,
	pkg_before_rename_cb before_rename, void *ud, struct sisign_error *err)
{
	struct atomic_file af;
	struct wbuf head;
	uint64_t contents_len = 0;
	EVP_MD_CTX *md = NULL;
	int r;

	if (sha256)
		sha256[0] = '\0';
	if (sha256 || before_rename) {
		if (!(md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
			EVP_MD_CTX_free(md);
			return err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-256 unavailable");
		}
	}
	if ((r = atomic_open(&af, path, mode, err))) {
		EVP_MD_CTX_free(md);
		return r;
	}
	af.md = md;
	wbuf_init(&head);
	if (pkg->info.kind != SISIGN_PKG_SISX) {
		/* Bare controllers: the controller is the file. */
		if (pkg->dirty)
			r = atomic_write(&af, pkg->ctrl, pkg->ctrl_len, err);
		else
			r = atomic_write(&af, pkg->ctrl, pkg->ctrl_buf_len, err);
		goto done;
	}
	if ((r = build_head(pkg, &head, &contents_len, err)))
		goto done;
	if ((r = atomic_write(&af, head.data, head.len, err)))
		goto done;
	if (!pkg->dirty) {
		r = copy_range(pkg, &af, pkg->data_off, pkg->size - pkg->data_off, err);
	} else {
		static const uint8_t zeros[4];
		r = copy_range(pkg, &af, pkg->data_off, pkg->contents_vend - pkg->data_off, err);
		/* new SISContents padding, then whatever trailed the old one */
		if (r == SISIGN_OK && sisf_pad(contents_len))
			r = atomic_write(&af, zeros, (size_t)sisf_pad(contents_len), err);
		if (r == SISIGN_OK)
			r = copy_range(pkg, &af, pkg->contents_end, pkg->size - pkg->contents_end, err);
	}
done:
	wbuf_free(&head);
	if (r == SISIGN_OK && md) {
		unsigned char d[32];
		unsigned int dlen = 0;
		char hex[65];
		if (EVP_DigestFinal_ex(md, d, &dlen) != 1 || dlen != sizeof d) {
			r = err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-256 failed");
		} else {
			(void)sisign_hex(d, sizeof d, hex, sizeof hex);
			if (sha256)
				memcpy(sha256, hex, sizeof hex);
			if (before_rename)
				r = before_rename(ud, hex, err);
		}
	}
	if (r == SISIGN_OK)
		r = atomic_commit_sync(&af, !pkg->defer_dir_sync, err);
	else
		atomic_abort(&af);
	EVP_MD_CTX_free(md);
	return r;
}

int sisign_pkg_replace(struct sisign_pkg *pkg, struct sisign_error *err)
{
	if (!pkg || !pkg->lock_path)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_pkg_replace: not opened with sisign_pkg_open_exclusive");
	return sisign_pkg_write(pkg, pkg->lock_path, pkg->lock_mode, err);
}
