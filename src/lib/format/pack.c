/* SPDX-License-Identifier: Apache-2.0 */
/* Building an unsigned package from files (sisign pack).  File data is
 * streamed through SHA-1 and zlib into a scratch file beside the output,
 * then the package is assembled: header, SISContents with both CRCs, the
 * compressed controller, SISData (sis-format.md §5). */
#include "format/format_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <openssl/evp.h>

#define PCHUNK ((size_t)256 << 10)
#define S60V3_UID 0x101F7961u

struct packed_file {
	uint8_t sha1[20];
	uint64_t size;        /* uncompressed */
	uint64_t off, len;    /* payload in the scratch file */
	uint32_t alg;
	uint32_t caps[2];     /* the Capabilities field (none when both 0) */
};

/* ---- controller building -------------------------------------------------- */

static int put_string(struct wbuf *w, int typed, const char *s)
{
	uint8_t *u = NULL, h[12];
	size_t n = 0;
	int r = utf8_to_utf16le(s ? s : "", &u, &n);
	if (r)
		return r;
	wbuf_put(w, h, sisf_put_hdr(h, typed, SISF_STRING, n));
	wbuf_put(w, u, n);
	wbuf_put_zeros(w, (size_t)sisf_pad(n));
	free(u);
	return SISIGN_OK;
}

static int put_string_array(struct wbuf *w, const char *const *v, size_t n, const char *fallback)
{
	struct wbuf a;
	int r = SISIGN_OK;
	wbuf_init(&a);
	wbuf_put_u32le(&a, SISF_STRING);
	for (size_t i = 0; i < n && r == SISIGN_OK; i++)
		r = put_string(&a, 0, v ? v[i] : fallback);
	sisf_put_wrapped(w, 1, SISF_ARRAY, &a);
	return r;
}

static void put_empty_array(struct wbuf *w, uint32_t elem)
{
	struct wbuf a;
	wbuf_init(&a);
	wbuf_put_u32le(&a, elem);
	sisf_put_wrapped(w, 1, SISF_ARRAY, &a);
}

static void put_version(struct wbuf *w, int32_t a, int32_t b, int32_t c)
{
	uint8_t v[12];
	put_le32(v, (uint32_t)a);
	put_le32(v + 4, (uint32_t)b);
	put_le32(v + 8, (uint32_t)c);
	sisf_put_field(w, SISF_VERSION, v, 12);
}

static int build_controller(const struct sisign_pack_opts *o, const struct packed_file *pf,
	const struct sisign_datetime *when, struct wbuf *ctl, struct sisign_error *err)
{
	struct wbuf v, info, x, y;
	uint32_t one_lang = 1;
	const uint32_t *langs = o->nlanguages ? o->languages : &one_lang;
	size_t nl = o->nlanguages ? o->nlanguages : 1;
	int r = SISIGN_OK;
	uint8_t u[4];

	wbuf_init(&v);
	/* SISInfo */
	wbuf_init(&info);
	put_le32(u, o->uid);
	sisf_put_field(&info, SISF_UID, u, 4);
	r |= put_string(&info, 1, o->vendor);
	r |= put_string_array(&info, o->names, nl, NULL);
	r |= put_string_array(&info, o->vendors, nl, o->vendor);
	put_version(&info, o->version.major, o->version.minor, o->version.build);
	wbuf_init(&x);
	{
		uint8_t d[4], t[3];
		d[0] = (uint8_t)when->year;
		d[1] = (uint8_t)(when->year >> 8);
		d[2] = (uint8_t)(when->month - 1); /* stored 0-11 */
		d[3] = when->day;
		t[0] = when->hour;
		t[1] = when->minute;
		t[2] = when->second;
		sisf_put_field(&x, SISF_DATE, d, 4);
		sisf_put_field(&x, SISF_TIME, t, 3);
	}
	sisf_put_wrapped(&info, 1, SISF_DATETIME, &x);
	wbuf_put_u8(&info, o->install_type);
	wbuf_put_u8(&info, o->install_flags);
	sisf_put_wrapped(&v, 1, SISF_INFO, &info);

	/* SISSupportedOptions: none */
	wbuf_init(&x);
	put_empty_array(&x, SISF_SUPPORTED_OPTION);
	sisf_put_wrapped(&v, 1, SISF_SUPPORTED_OPTIONS, &x);

	/* SISSupportedLanguages */
	wbuf_init(&x);
	wbuf_init(&y);
	wbuf_put_u32le(&y, SISF_LANGUAGE);
	for (size_t i = 0; i < nl; i++) {
		wbuf_put_u32le(&y, 4);
		wbuf_put_u32le(&y, langs[i]);
	}
	sisf_put_wrapped(&x, 1, SISF_ARRAY, &y);
	sisf_put_wrapped(&v, 1, SISF_SUPPORTED_LANGUAGES, &x);

	/* SISPrerequisites: the platform as a target device, no dependencies */
	wbuf_init(&x);
	wbuf_init(&y);
	wbuf_put_u32le(&y, SISF_DEPENDENCY);
	if (o->platform == 1) {
		struct wbuf dep, range;
		const char *pname = "Series60ProductID";
		wbuf_init(&dep);
		put_le32(u, S60V3_UID);
		sisf_put_field(&dep, SISF_UID, u, 4);
		wbuf_init(&range);
		put_version(&range, 0, 0, 0);
		sisf_put_wrapped(&dep, 1, SISF_VERSION_RANGE, &range);
		{
			const char **names = malloc(nl * sizeof *names);
			if (!names) {
				wbuf_free(&dep);
				r = SISIGN_ERR_NOMEM;
			} else {
				for (size_t i = 0; i < nl; i++)
					names[i] = pname;
				r |= put_string_array(&dep, names, nl, NULL);
				free(names);
			}
		}
		sisf_put_wrapped(&y, 0, SISF_DEPENDENCY, &dep);
	}
	sisf_put_wrapped(&x, 1, SISF_ARRAY, &y);
	put_empty_array(&x, SISF_DEPENDENCY);
	sisf_put_wrapped(&v, 1, SISF_PREREQUISITES, &x);

	/* SISProperties: none */
	wbuf_init(&x);
	put_empty_array(&x, SISF_PROPERTY);
	sisf_put_wrapped(&v, 1, SISF_PROPERTIES, &x);

	/* SISInstallBlock */
	wbuf_init(&x);
	wbuf_init(&y);
	wbuf_put_u32le(&y, SISF_FILE_DESCRIPTION);
	for (size_t i = 0; i < o->nfiles; i++) {
		const struct sisign_pack_file *f = &o->files[i];
		struct wbuf fd, h;
		wbuf_init(&fd);
		r |= put_string(&fd, 1, f->target);
		r |= put_string(&fd, 1, f->mime ? f->mime : "");
		if (pf[i].caps[0] || pf[i].caps[1]) {
			uint8_t cw[8];
			put_le32(cw, pf[i].caps[0]);
			put_le32(cw + 4, pf[i].caps[1]);
			/* one word, as makesis writes it, unless the second is used */
			sisf_put_field(&fd, SISF_CAPABILITIES, cw, pf[i].caps[1] ? 8 : 4);
		}
		wbuf_init(&h);
		wbuf_put_u32le(&h, 1); /* SHA-1 */
		sisf_put_field(&h, SISF_BLOB, pf[i].sha1, 20);
		sisf_put_wrapped(&fd, 1, SISF_HASH, &h);
		wbuf_put_u32le(&fd, f->operation ? f->operation : 1);
		wbuf_put_u32le(&fd, f->options);
		wbuf_put_u64le(&fd, pf[i].len);
		wbuf_put_u64le(&fd, pf[i].size);
		wbuf_put_u32le(&fd, (uint32_t)i);
		sisf_put_wrapped(&y, 0, SISF_FILE_DESCRIPTION, &fd);
	}
	sisf_put_wrapped(&x, 1, SISF_ARRAY, &y);
	put_empty_array(&x, SISF_CONTROLLER);
	put_empty_array(&x, SISF_IF);
	sisf_put_wrapped(&v, 1, SISF_INSTALL_BLOCK, &x);

	/* no signatures; SISDataIndex 0 */
	put_le32(u, 0);
	sisf_put_field(&v, SISF_DATA_INDEX, u, 4);

	sisf_put_wrapped(ctl, 1, SISF_CONTROLLER, &v);
	if (r == SISIGN_ERR_NOMEM || wbuf_failed(ctl))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if (r)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "a name, vendor or path is not valid UTF-8");
	return SISIGN_OK;
}

/* ---- executables (install-rules.md §3) --------------------------------------------- */

static void pack_warn(const struct sisign_pack_opts *o, const char *fmt, ...) SISIGN_PRINTF(2, 3);
static void pack_warn(const struct sisign_pack_opts *o, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!o->warning)
		return;
	char *c;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* One line whatever the names hold: a target or source path may carry
	 * control characters (a newline would forge a second warning line). */
	for (c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	o->warning(o->warning_userdata, msg);
}

/* The Capabilities field of one file.  A file bound for \sys\bin\ gets
 * its E32 header's set, as makesis does, because the installer demands
 * the two be equal (IR-EXE-4); anything else keeps the hand-given set. */
static int pack_exe(const struct sisign_pack_opts *o, const struct sisign_pack_file *f, int fd,
	struct packed_file *pf, struct sisign_error *err)
{
	uint8_t h[SISIGN_EXE_HEADER_BYTES];
	struct sisign_exe_info x;
	ssize_t got;

	pf->caps[0] = f->capabilities;
	pf->caps[1] = 0;
	if (!sisign_target_in_sys_bin(f->target))
		return SISIGN_OK;
	got = pread_full(fd, h, sizeof h, 0);
	if (got < 0)
		return err_sys(err, errno, "%s", f->source);
	sisign_exe_decode(h, (size_t)got, &x);
	if (x.kind == SISIGN_EXE_NONE || x.kind == SISIGN_EXE_OTHER) {
		pack_warn(o, "%s: not an EXE or DLL (%s), but its target %s is in \\sys\\bin\\, "
			"where the installer refuses anything else", f->source,
			x.kind == SISIGN_EXE_OTHER ? "E32 image whose UID1 is neither 0x1000007A nor 0x10000079"
						   : x.reason, f->target);
		return SISIGN_OK;
	}
	if (f->capabilities && (f->capabilities != x.caps[0] || x.caps[1] != 0)) {
		char given[512], hdr[512];
		uint32_t g[2] = { f->capabilities, 0 };
		sis_caps_text(g, given, sizeof given);
		sis_caps_text(x.caps, hdr, sizeof hdr);
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1,
			"%s (to %s): capabilities given %s, but its E32 header has %s; "
			"the installer demands them equal (give none to use the header's)",
			f->source, f->target, given, hdr);
	}
	pf->caps[0] = x.caps[0];
	pf->caps[1] = x.caps[1];
	if (!x.header_ok)
		pack_warn(o, "%s (to %s): %s E32 header the installer refuses: %s", f->source, f->target,
			x.kind == SISIGN_EXE_EXE ? "EXE" : "DLL", x.reason);
	return SISIGN_OK;
}

/* ---- file data ----------------------------------------------------------------- */

/* Stream one source file: SHA-1 of the plain bytes, and its payload into
 * the scratch file (deflated, or stored when deflate does not shrink it). */
static int pack_one(const struct sisign_pack_opts *o, const struct sisign_pack_file *f, int scratch,
	uint64_t *scratch_end, int store, struct packed_file *pf, uint8_t *in, uint8_t *out, struct sisign_error *err)
{
	int fd = -1, r = SISIGN_ERR_INTERNAL, zinit = 0;
	EVP_MD_CTX *md = NULL;
	z_stream zs;
	struct stat st;
	uint64_t start = *scratch_end, written = 0, total = 0;
	unsigned mdlen = 0;

	memset(&zs, 0, sizeof zs);
	fd = open(f->source, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "%s", f->source);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = err_set(err, SISIGN_ERR_INVALID_ARG, -1, "%s: not a regular file", f->source);
		goto out;
	}
	/* The installer refuses a file of 0x3FFFFFFF bytes or more (§3.6). */
	if ((uint64_t)st.st_size > SIS_DEFAULT_MAX_FILE) {
		r = err_set(err, SISIGN_ERR_TOO_LARGE, -1, "%s: %llu bytes; a device installs files of at most %llu",
			f->source, (unsigned long long)st.st_size, (unsigned long long)SIS_DEFAULT_MAX_FILE);
		goto out;
	}
	if ((r = pack_exe(o, f, fd, pf, err)) != SISIGN_OK)
		goto out;
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha1(), NULL) != 1) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-1 unavailable");
		goto out;
	}
	if (!store) {
		if (deflateInit(&zs, Z_DEFAULT_COMPRESSION) != Z_OK) {
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "zlib initialisation failed");
			goto out;
		}
		zinit = 1;
	}
	for (;;) {
		ssize_t n = read(fd, in, PCHUNK);
		int flush;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = err_sys(err, errno, "%s", f->source);
			goto out;
		}
		total += (uint64_t)n;
		if (n > 0 && EVP_DigestUpdate(md, in, (size_t)n) != 1) {
			r = err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-1 failed");
			goto out;
		}
		if (!zinit) {
			if (n == 0)
				break;
			if (pwrite(scratch, in, (size_t)n, (off_t)(start + written)) != n) {
				r = err_sys(err, errno, "scratch file");
				goto out;
			}
			written += (uint64_t)n;
			continue;
		}
		flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
		zs.next_in = in;
		zs.avail_in = (uInt)n;
		do {
			zs.next_out = out;
			zs.avail_out = (uInt)PCHUNK;
			if (deflate(&zs, flush) == Z_STREAM_ERROR) {
				r = err_set(err, SISIGN_ERR_INTERNAL, -1, "zlib compression failed");
				goto out;
			}
			size_t got = PCHUNK - zs.avail_out;
			if (got && pwrite(scratch, out, got, (off_t)(start + written)) != (ssize_t)got) {
				r = err_sys(err, errno, "scratch file");
				goto out;
			}
			written += got;
		} while (zs.avail_out == 0);
		if (n == 0)
			break;
	}
	if (EVP_DigestFinal_ex(md, pf->sha1, &mdlen) != 1) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-1 failed");
		goto out;
	}
	if (total > SIS_DEFAULT_MAX_FILE) { /* it grew while being read */
		r = err_set(err, SISIGN_ERR_TOO_LARGE, -1, "%s: more than %llu bytes; a device installs no bigger file",
			f->source, (unsigned long long)SIS_DEFAULT_MAX_FILE);
		goto out;
	}
	pf->size = total;
	pf->off = start;
	if (zinit && written >= total) {
		/* deflate did not help: store the plain bytes instead (§3.6) */
		uint64_t done = 0;
		written = 0;
		while (done < total) {
			ssize_t n = pread(fd, in, PCHUNK, (off_t)done);
			if (n <= 0) {
				r = n < 0 ? err_sys(err, errno, "%s", f->source)
					  : err_set(err, SISIGN_ERR_TRUNCATED, -1, "%s: file shrank while packing", f->source);
				goto out;
			}
			if (pwrite(scratch, in, (size_t)n, (off_t)(start + done)) != n) {
				r = err_sys(err, errno, "scratch file");
				goto out;
			}
			done += (uint64_t)n;
		}
		written = total;
		pf->alg = 0;
	} else {
		pf->alg = zinit ? 1 : 0;
	}
	pf->len = written;
	*scratch_end = start + written;
	r = SISIGN_OK;
out:
	if (zinit)
		deflateEnd(&zs);
	EVP_MD_CTX_free(md);
	if (fd >= 0)
		close(fd);
	return r;
}

/* SISData emitter: run once to compute the CRC and size, once to write. */
struct emit {
	struct atomic_file *af; /* NULL: count and CRC only */
	uint16_t crc;
	uint64_t n;
	int scratch;
	uint8_t *buf;
	struct sisign_error *err;
};

static int emit_bytes(struct emit *e, const void *p, size_t n)
{
	e->crc = crc16_update(e->crc, p, n);
	e->n += n;
	return e->af ? atomic_write(e->af, p, n, e->err) : SISIGN_OK;
}

static int emit_hdr(struct emit *e, int typed, uint32_t type, uint64_t len)
{
	uint8_t h[12];
	return emit_bytes(e, h, sisf_put_hdr(h, typed, type, len));
}

static int emit_data(struct emit *e, const struct packed_file *pf, size_t nfiles)
{
	static const uint8_t zeros[4];
	uint64_t files_len = 4, unit_arr, unit_val, data_arr, data_val;
	uint8_t w[4], h[12];
	int r;

	for (size_t i = 0; i < nfiles; i++) {
		uint64_t comp = 12 + pf[i].len;                              /* SISCompressed value */
		uint64_t comp_field = sisf_put_hdr(h, 1, 3, comp) + comp + sisf_pad(comp);
		files_len += sisf_put_hdr(h, 0, 0, comp_field) + comp_field + sisf_pad(comp_field);
	}
	unit_arr = files_len;                                                 /* Array<SISFileData> value */
	unit_val = sisf_put_hdr(h, 1, 2, unit_arr) + unit_arr + sisf_pad(unit_arr); /* SISDataUnit value */
	data_arr = 4 + sisf_put_hdr(h, 0, 0, unit_val) + unit_val + sisf_pad(unit_val);
	data_val = sisf_put_hdr(h, 1, 2, data_arr) + data_arr + sisf_pad(data_arr);

	if ((r = emit_hdr(e, 1, SISF_DATA, data_val)) || (r = emit_hdr(e, 1, SISF_ARRAY, data_arr)))
		return r;
	put_le32(w, SISF_DATA_UNIT);
	if ((r = emit_bytes(e, w, 4)) || (r = emit_hdr(e, 0, 0, unit_val)) || (r = emit_hdr(e, 1, SISF_ARRAY, unit_arr)))
		return r;
	put_le32(w, SISF_FILE_DATA);
	if ((r = emit_bytes(e, w, 4)))
		return r;
	for (size_t i = 0; i < nfiles; i++) {
		uint64_t comp = 12 + pf[i].len;
		uint64_t comp_field = sisf_put_hdr(h, 1, 3, comp) + comp + sisf_pad(comp);
		uint8_t a[12];
		if ((r = emit_hdr(e, 0, 0, comp_field)) || (r = emit_hdr(e, 1, SISF_COMPRESSED, comp)))
			return r;
		put_le32(a, pf[i].alg);
		put_le32(a + 4, (uint32_t)pf[i].size);
		put_le32(a + 8, (uint32_t)(pf[i].size >> 32));
		if ((r = emit_bytes(e, a, 12)))
			return r;
		for (uint64_t done = 0; done < pf[i].len;) {
			size_t n = pf[i].len - done < PCHUNK ? (size_t)(pf[i].len - done) : PCHUNK;
			ssize_t got = pread_full(e->scratch, e->buf, n, (off_t)(pf[i].off + done));
			if (got != (ssize_t)n)
				return err_sys(e->err, errno ? errno : EIO, "scratch file");
			if ((r = emit_bytes(e, e->buf, n)))
				return r;
			done += n;
		}
		if ((r = emit_bytes(e, zeros, (size_t)sisf_pad(comp))) || (r = emit_bytes(e, zeros, (size_t)sisf_pad(comp_field))))
			return r;
	}
	if ((r = emit_bytes(e, zeros, (size_t)sisf_pad(unit_arr))) || (r = emit_bytes(e, zeros, (size_t)sisf_pad(unit_val))) ||
		(r = emit_bytes(e, zeros, (size_t)sisf_pad(data_arr))) || (r = emit_bytes(e, zeros, (size_t)sisf_pad(data_val))))
		return r;
	return SISIGN_OK;
}

static void now_utc(struct sisign_datetime *d)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	d->year = (uint16_t)(tm.tm_year + 1900);
	d->month = (uint8_t)(tm.tm_mon + 1);
	d->day = (uint8_t)tm.tm_mday;
	d->hour = (uint8_t)tm.tm_hour;
	d->minute = (uint8_t)tm.tm_min;
	d->second = (uint8_t)tm.tm_sec;
}

int sisign_pack(const struct sisign_pack_opts *o, const char *path, struct sisign_error *err)
{
	struct atomic_file af = { .fd = -1 };
	struct packed_file *pf = NULL;
	struct wbuf ctl, comp, head;
	struct sisign_datetime when;
	struct emit e;
	uint8_t *in = NULL, *out = NULL;
	char *scratch_path = NULL;
	int scratch = -1, r = SISIGN_ERR_INTERNAL;
	uint64_t scratch_end = 0;
	size_t nl;
	uint16_t ccrc;

	wbuf_init(&ctl);
	wbuf_init(&comp);
	wbuf_init(&head);
	if (!o || !path || !o->names || !o->vendor)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "a package needs a UID, a name and a vendor");
	nl = o->nlanguages ? o->nlanguages : 1;
	for (size_t i = 0; i < nl; i++)
		if (!o->names[i])
			return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "one name is needed per language (%zu)", nl);
	if (o->nfiles > 65535)
		return err_set(err, SISIGN_ERR_TOO_LARGE, -1, "too many files (%zu)", o->nfiles);
	if (o->created)
		when = *o->created;
	else
		now_utc(&when);
	if (when.month < 1 || when.month > 12)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "creation month must be 1-12");

	pf = calloc(o->nfiles ? o->nfiles : 1, sizeof *pf);
	in = malloc(PCHUNK);
	out = malloc(PCHUNK);
	scratch_path = malloc(strlen(path) + 16);
	if (!pf || !in || !out || !scratch_path) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	/* The scratch file lives beside the output (same filesystem, so no
	 * surprise about /tmp's size) and is unlinked at once. */
	snprintf(scratch_path, strlen(path) + 16, "%s.dataXXXXXX", path);
	scratch = mkostemp(scratch_path, O_CLOEXEC);
	if (scratch < 0) {
		r = err_sys(err, errno, "%s: cannot create scratch file", path);
		goto out;
	}
	(void)unlink(scratch_path);
	for (size_t i = 0; i < o->nfiles; i++)
		if ((r = pack_one(o, &o->files[i], scratch, &scratch_end, o->store, &pf[i], in, out, err)))
			goto out;
	if ((r = build_controller(o, pf, &when, &ctl, err)))
		goto out;
	if ((r = sis_build_compressed(ctl.data, ctl.len, o->store, &comp, err)))
		goto out;
	ccrc = crc16_update(0, comp.data, comp.len);

	memset(&e, 0, sizeof e);
	e.scratch = scratch;
	e.buf = in;
	e.err = err;
	if ((r = emit_data(&e, pf, o->nfiles)))
		goto out;

	{
		uint64_t clen = (ccrc ? 12 : 0) + (e.crc ? 12 : 0) + comp.len + e.n;
		uint8_t h[12];
		sis_put_uid_header(&head, 0, o->uid);
		wbuf_put(&head, h, sisf_put_hdr(h, 1, SISF_CONTENTS, clen));
		if (ccrc)
			sis_put_crc_field(&head, SISF_CONTROLLER_CHECKSUM, ccrc);
		if (e.crc)
			sis_put_crc_field(&head, SISF_DATA_CHECKSUM, e.crc);
		wbuf_put(&head, comp.data, comp.len);
		if (wbuf_failed(&head)) {
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
		/* SISContents padding: its length is a sum of padded fields. */
	}
	if ((r = atomic_open(&af, path, 0644, err)))
		goto out;
	if ((r = atomic_write(&af, head.data, head.len, err)))
		goto out;
	{
		struct emit w = { &af, 0, 0, scratch, in, err };
		if ((r = emit_data(&w, pf, o->nfiles)))
			goto out;
	}
	r = atomic_commit(&af, err);
out:
	if (r != SISIGN_OK)
		atomic_abort(&af);
	if (scratch >= 0)
		close(scratch);
	free(scratch_path);
	free(pf);
	free(in);
	free(out);
	wbuf_free(&ctl);
	wbuf_free(&comp);
	wbuf_free(&head);
	return r;
}
