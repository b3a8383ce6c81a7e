/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming file-data checks and the package writer. */
#include "format/format_private.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <openssl/evp.h>

#define CHUNK ((size_t)256 << 10)
#define BUF_MIN ((size_t)4 << 10)
/* Hashing threads per package: at most this many (each holds two CHUNK
 * buffers and a zlib state, about 0.6 MiB), and none beyond the calling
 * thread for less file data than HASH_PARALLEL_MIN bytes (starting a thread
 * costs more than hashing a small package: a batch signs thousands). */
#define HASH_MAX_THREADS 16
#define HASH_PARALLEL_MIN ((uint64_t)4 << 20)

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

/* One file's inflate + SHA-1, fed the payload chunk by chunk as it is read.
 * The first failure is kept in e and later chunks are ignored. */
struct fhash {
	const struct sis_unit_file *uf;
	EVP_MD_CTX *ctx;
	z_stream zs;
	int zinit, zr, r;
	uint64_t produced, cap;
	uint8_t *obuf;
	size_t obufsz;
	struct sisign_error e;
};

/* Hash got bytes of inflated output, refusing more than cap in all. */
static int hash_inflated(struct fhash *h, size_t got)
{
	if (got > h->cap - h->produced)
		return err_set(&h->e, SISIGN_ERR_CORRUPT_DATA, (long long)h->uf->payload_off,
			"file data inflates to more than the %llu bytes declared", (unsigned long long)h->cap);
	h->produced += got;
	if (got && EVP_DigestUpdate(h->ctx, h->obuf, got) != 1)
		return err_ossl(&h->e, SISIGN_ERR_CRYPTO, "SHA-1 failed");
	return SISIGN_OK;
}

static void fhash_init(struct fhash *h, const struct sis_unit_file *uf, uint8_t *obuf, size_t obufsz)
{
	memset(h, 0, sizeof *h);
	sisign_error_clear(&h->e);
	h->uf = uf;
	h->obuf = obuf;
	h->obufsz = obufsz;
	h->cap = uf->uncompressed;
	h->zr = Z_OK;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha1(), NULL) != 1) {
		h->r = err_ossl(&h->e, SISIGN_ERR_CRYPTO, "SHA-1 unavailable");
	} else if (uf->algorithm == 1) {
		if (inflateInit(&h->zs) != Z_OK)
			h->r = err_set(&h->e, SISIGN_ERR_NOMEM, -1, "zlib initialisation failed");
		else
			h->zinit = 1;
	} else if (uf->algorithm != 0) {
		h->r = err_set(&h->e, SISIGN_ERR_UNSUPPORTED, (long long)uf->payload_off,
			"file data compression algorithm %u is not supported", uf->algorithm);
	} else if (uf->payload_len != uf->uncompressed) {
		h->r = err_set(&h->e, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
			"stored file data is %llu bytes but declares %llu", (unsigned long long)uf->payload_len,
			(unsigned long long)uf->uncompressed);
	}
}

static void fhash_feed(struct fhash *h, const uint8_t *buf, size_t n)
{
	const struct sis_unit_file *uf = h->uf;

	if (h->r != SISIGN_OK)
		return;
	if (!h->zinit) {
		if (EVP_DigestUpdate(h->ctx, buf, n) != 1)
			h->r = err_ossl(&h->e, SISIGN_ERR_CRYPTO, "SHA-1 failed");
		h->produced += n;
		return;
	}
	if (h->zr == Z_STREAM_END) {
		h->r = err_set(&h->e, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
			"file data continues after its zlib stream ends");
		return;
	}
	h->zs.next_in = (Bytef *)buf;
	h->zs.avail_in = (uInt)n;
	while (h->zs.avail_in > 0 && h->zr != Z_STREAM_END) {
		size_t got;
		h->zs.next_out = h->obuf;
		h->zs.avail_out = (uInt)h->obufsz;
		h->zr = inflate(&h->zs, Z_NO_FLUSH);
		if (h->zr != Z_OK && h->zr != Z_STREAM_END && h->zr != Z_BUF_ERROR) {
			h->r = err_set(&h->e, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
				"file data is not valid zlib data%s%s", h->zs.msg ? ": " : "", h->zs.msg ? h->zs.msg : "");
			return;
		}
		got = h->obufsz - h->zs.avail_out;
		if ((h->r = hash_inflated(h, got)) != SISIGN_OK)
			return;
		if (h->zr == Z_BUF_ERROR && got == 0)
			break;
	}
	if (h->zr == Z_STREAM_END && h->zs.avail_in > 0)
		h->r = err_set(&h->e, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
			"%u bytes follow the file data's zlib stream inside its field", h->zs.avail_in);
}

/* Finish: the result in h->r (h->e), the digest in md, the size in *outlen. */
static void fhash_final(struct fhash *h, uint8_t md[20], uint64_t *outlen)
{
	const struct sis_unit_file *uf = h->uf;
	unsigned int mdlen = 0;

	/* Drain output still held by zlib. */
	while (h->r == SISIGN_OK && h->zinit && h->zr != Z_STREAM_END) {
		size_t got;
		h->zs.next_out = h->obuf;
		h->zs.avail_out = (uInt)h->obufsz;
		h->zr = inflate(&h->zs, Z_FINISH);
		got = h->obufsz - h->zs.avail_out;
		if ((h->r = hash_inflated(h, got)) != SISIGN_OK)
			break;
		if (h->zr != Z_STREAM_END && got == 0)
			h->r = err_set(&h->e, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
				"file data ends before its zlib stream does");
	}
	if (h->r == SISIGN_OK && h->produced != h->cap)
		h->r = err_set(&h->e, SISIGN_ERR_CORRUPT_DATA, (long long)uf->payload_off,
			"file data inflates to %llu bytes, %llu declared", (unsigned long long)h->produced,
			(unsigned long long)h->cap);
	if (h->r == SISIGN_OK && (EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != 20))
		h->r = err_ossl(&h->e, SISIGN_ERR_CRYPTO, "SHA-1 failed");
	if (h->r == SISIGN_OK)
		*outlen = h->produced;
	if (h->zinit)
		inflateEnd(&h->zs);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

/* Where the one pass sends the bytes it reads: the writer's temp file
 * (sisign_pkg_write of a signed or unsigned package), at the same place
 * relative to SISData's start.  The first failure, read or write, on any
 * thread is kept in e and makes the others stop: the output is then
 * discarded, so nothing more is worth reading. */
struct pass_out {
	int fd;
	const char *path;       /* the output, for messages */
	uint64_t in_base;       /* input offset of SISData */
	uint64_t out_base;      /* ... and where it goes in the output */
	uint64_t in_end;        /* copy up to here (the end of SISContents' value) */
	atomic_int failed;
	atomic_int claimed;     /* the first failure has written e */
	struct sisign_error e;
};

static void pass_fail(struct pass_out *o, const struct sisign_error *e)
{
	atomic_store(&o->failed, 1);
	if (atomic_exchange(&o->claimed, 1) == 0)
		o->e = *e;
}

/* The n bytes read at input offset off go to their place in the output. */
static int pass_put(struct pass_out *o, const uint8_t *buf, size_t n, uint64_t off)
{
	struct sisign_error e;
	int r;

	if (pwrite_full(o->fd, buf, n, (off_t)(o->out_base + (off - o->in_base))) == 0)
		return SISIGN_OK;
	sisign_error_clear(&e);
	r = err_sys(&e, errno, "%s: write failed", o->path);
	pass_fail(o, &e);
	return r;
}

/* One data entry (SISFileData payload) of the one pass over SISData: its
 * bytes are read once, and feed its CRC-16, the output (when the pass
 * writes one) and, when some description names it, its inflate + SHA-1. */
struct hjob {
	struct sis_unit_file *uf;
	int hash;               /* a description wants its SHA-1 */
	int read_ok;            /* every payload byte was read: crc is good */
	uint16_t crc;           /* CRC-16 (init 0) of the payload bytes alone */
	struct sisign_error e;  /* why hashing failed (uf->check_result) */
};

struct hpool {
	struct sisign_pkg *pkg;
	struct hjob *jobs;
	size_t njobs;
	size_t *order;          /* biggest first, so the last job to start is small */
	atomic_size_t next;
	size_t bufsz, obufsz;   /* each thread's read and inflate buffers: CHUNK, or
	                         * less for a package whose entries are smaller */
	int want_crc;
	struct pass_out *out;   /* NULL: a check only, nothing written */
};

static void run_job(struct hpool *p, struct hjob *j, uint8_t *buf, uint8_t *obuf)
{
	struct sis_unit_file *uf = j->uf;
	struct sisign_error re;
	struct fhash h;
	uint64_t done = 0;
	uint16_t crc = 0;
	int rr = SISIGN_OK;

	memset(&h, 0, sizeof h);
	if (j->hash)
		fhash_init(&h, uf, obuf, p->obufsz);
	while (done < uf->payload_len) {
		size_t n = uf->payload_len - done < p->bufsz ? (size_t)(uf->payload_len - done) : p->bufsz;
		if (p->out) {
			if (atomic_load(&p->out->failed))
				break; /* the output is lost anyway */
		} else if (!p->want_crc && (!j->hash || h.r != SISIGN_OK)) {
			break; /* nothing left to learn from the rest */
		}
		sisign_error_clear(&re);
		if ((rr = pkg_read(p->pkg, uf->payload_off + done, buf, n, &re)) != SISIGN_OK) {
			if (p->out)
				pass_fail(p->out, &re);
			else if (j->hash && h.r == SISIGN_OK)
				h.e = re;
			break;
		}
		if (p->out && (rr = pass_put(p->out, buf, n, uf->payload_off + done)) != SISIGN_OK)
			break;
		if (p->want_crc)
			crc = crc16_update(crc, buf, n);
		if (j->hash)
			fhash_feed(&h, buf, n);
		done += n;
	}
	j->read_ok = rr == SISIGN_OK && done == uf->payload_len;
	j->crc = crc;
	if (!j->hash)
		return;
	if (rr != SISIGN_OK && h.r == SISIGN_OK)
		h.r = rr; /* h.e says why (a read; a write only fails the output) */
	fhash_final(&h, uf->md, &uf->produced);
	uf->check_result = h.r;
	j->e = h.e;
}

/* A buffer size that holds n bytes (at least cur), rounded up to 4 KiB,
 * at most CHUNK. */
static size_t buf_size(size_t cur, uint64_t n)
{
	uint64_t want = n >= CHUNK ? CHUNK : (n + BUF_MIN - 1) / BUF_MIN * BUF_MIN;
	return want > cur ? (size_t)want : cur;
}

static void *hpool_worker(void *arg)
{
	struct hpool *p = arg;
	uint8_t *buf = malloc(p->bufsz), *obuf = malloc(p->obufsz);

	/* A thread that cannot get its buffers leaves the work to the others
	 * (the calling thread always takes part). */
	while (buf && obuf) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->njobs)
			break;
		run_job(p, &p->jobs[p->order[i]], buf, obuf);
	}
	free(buf);
	free(obuf);
	return NULL;
}

static int cmp_job_size(const void *a, const void *b, void *arg)
{
	const struct hjob *jobs = arg;
	uint64_t x = jobs[*(const size_t *)a].uf->payload_len, y = jobs[*(const size_t *)b].uf->payload_len;
	return x < y ? 1 : x > y ? -1 : (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

/* How many threads hash one package: the caller's choice (sisign_pkg_set_threads),
 * else the online CPUs; never more than the entries, and one thread for a
 * package too small to repay starting others. */
static size_t hash_threads(const struct sisign_pkg *pkg, size_t njobs, uint64_t bytes)
{
	size_t n = pkg->hash_threads;
	uint64_t min = pkg->hash_parallel_min ? pkg->hash_parallel_min : HASH_PARALLEL_MIN;

	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 0 ? (size_t)c : 1;
	}
	if (n > HASH_MAX_THREADS)
		n = HASH_MAX_THREADS;
	if (n > njobs)
		n = njobs;
	if (bytes < min || n == 0)
		n = 1;
	return n;
}

/* The bytes [off, off + len) of the package: read once, continuing the
 * CRC-16 in *crc (if crc is not NULL) and written to the output (if out
 * is not NULL). */
static int pass_range(const struct sisign_pkg *pkg, uint64_t off, uint64_t len, uint16_t *crc,
	struct pass_out *out, uint8_t *buf, size_t bufsz, struct sisign_error *err)
{
	int r;
	while (len > 0) {
		size_t n = len < bufsz ? (size_t)len : bufsz;
		if ((r = pkg_read(pkg, off, buf, n, err)) != SISIGN_OK)
			return r;
		if (out && (r = pass_put(out, buf, n, off)) != SISIGN_OK) {
			if (err)
				*err = out->e;
			return r;
		}
		if (crc)
			*crc = crc16_update(*crc, buf, n);
		off += n;
		len -= n;
	}
	return SISIGN_OK;
}

/* The one pass over SISData: every data entry's payload is read once, on
 * as many threads as hash_threads() gives, by entry; each entry's bytes
 * feed its own CRC-16, when wanted its inflate + SHA-1, and with out its
 * place in the output (each thread writes its own entries there).  With
 * want_crc, the CRC of the whole SISData field (sis-format.md §6) is then
 * put together in file order from the entries' CRCs and the few bytes
 * between them (field headers, padding), which only the calling thread
 * reads (and writes, with out; then also whatever follows SISData inside
 * SISContents): CRC-16 with initial value 0 is linear, so the CRC of A
 * then B is crc16_combine(crc(A), crc(B), len(B)).  Results go into each
 * sis_unit_file, the hashing errors into jobs[k].e.  With out, a read or
 * write failure anywhere is the result (the output is incomplete). */
static int data_pass(struct sisign_pkg *pkg, struct hjob *jobs, size_t njobs, int want_crc, struct pass_out *out,
	struct sisign_error *err)
{
	struct hpool p;
	pthread_t tid[HASH_MAX_THREADS];
	size_t nthreads, started = 0;
	uint64_t bytes = 0, at;
	uint16_t crc = 0;
	uint8_t *buf = NULL;
	int r = SISIGN_OK, ordered = 1;

	memset(&p, 0, sizeof p);
	p.pkg = pkg;
	p.jobs = jobs;
	p.njobs = njobs;
	p.want_crc = want_crc;
	p.out = out;
	atomic_init(&p.next, 0);
	if (njobs && !(p.order = malloc(njobs * sizeof *p.order)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	/* Buffers as big as the biggest entry needs, at most CHUNK: a batch of
	 * small packages then takes them from the heap and gives them back to
	 * it, where 256 KiB ones would be mmapped and unmapped (or trimmed)
	 * for every package, each time a TLB flush on every core. */
	p.bufsz = p.obufsz = BUF_MIN;
	for (size_t k = 0; k < njobs; k++) {
		p.order[k] = k;
		if (jobs[k].hash || want_crc || out)
			bytes += jobs[k].uf->payload_len;
		p.bufsz = buf_size(p.bufsz, jobs[k].uf->payload_len);
		p.obufsz = buf_size(p.obufsz, jobs[k].uf->uncompressed);
	}
	nthreads = hash_threads(pkg, njobs, bytes);
	if (nthreads > 1)
		qsort_r(p.order, njobs, sizeof *p.order, cmp_job_size, jobs);
	for (size_t t = 1; t < nthreads; t++) {
		if (pthread_create(&tid[started], NULL, hpool_worker, &p) != 0)
			break; /* fewer threads, same result */
		started++;
	}
	pkg->hash_threads_used = started + 1;
	/* This thread works too: with one thread it does all of it. */
	buf = malloc(p.bufsz);
	{
		uint8_t *obuf = malloc(p.obufsz);
		while (buf && obuf) {
			size_t i = atomic_fetch_add(&p.next, 1);
			if (i >= njobs)
				break;
			run_job(&p, &jobs[p.order[i]], buf, obuf);
		}
		if (!obuf)
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		free(obuf);
	}
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	free(p.order);
	if (!buf)
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if (r == SISIGN_OK && out && atomic_load(&out->failed)) {
		r = out->e.code ? out->e.code : SISIGN_ERR_SYSTEM;
		if (err)
			*err = out->e;
	}
	if (r != SISIGN_OK || (!want_crc && !out))
		goto out;
	/* Entries follow each other through SISData in unit, then file order
	 * (the parser reads them so); the bytes between them are read here. */
	at = pkg->data_off;
	for (size_t k = 0; k < njobs && ordered; k++) {
		const struct sis_unit_file *uf = jobs[k].uf;
		if (!jobs[k].read_ok || uf->payload_off < at || uf->payload_off + uf->payload_len > pkg->data_off + pkg->data_len) {
			ordered = 0;
			break;
		}
		if ((r = pass_range(pkg, at, uf->payload_off - at, &crc, out, buf, p.bufsz, err)) != SISIGN_OK)
			goto out;
		crc = crc16_combine(crc, jobs[k].crc, uf->payload_len);
		at = uf->payload_off + uf->payload_len;
	}
	if (ordered) {
		if ((r = pass_range(pkg, at, pkg->data_off + pkg->data_len - at, &crc, out, buf, p.bufsz, err)) != SISIGN_OK)
			goto out;
		if (want_crc) {
			pkg->data_crc_known = 1;
			pkg->data_crc_value = crc;
		}
		if (out)
			r = pass_range(pkg, pkg->data_off + pkg->data_len, out->in_end - (pkg->data_off + pkg->data_len), NULL,
				out, buf, p.bufsz, err);
	} else if (out) {
		/* Every entry was read (else out->failed) and the parser lays
		 * them out in order: not reached. */
		r = err_set(err, SISIGN_ERR_INTERNAL, (long long)at, "file data entries out of order");
	}
	/* else: a read failed (the check reports it) or the layout is not what
	 * the parser makes; pkg_data_crc() reads SISData in one piece if a
	 * writer needs the CRC. */
out:
	free(buf);
	return r;
}

struct check_ctx {
	struct sisign_pkg *pkg;
	struct hjob *jobs;
	size_t *unit_base;      /* index in jobs of each unit's first entry */
	int collect;            /* first walk: only mark the entries to hash */
	int first_err;
	struct sisign_error *err;
};

/* Each data entry is inflated and hashed once, however many file
 * descriptions name it (without this, thousands of descriptions of one big
 * entry multiply the work); every one of them is judged by that result.
 * The first failure is reported under the name of the description that met
 * it first, in the order of the walk. */
static void check_entry(struct check_ctx *cx, struct sis_unit_file *uf, const struct sisign_file *f, struct hjob *j)
{
	if (cx->collect) {
		if (!j->hash)
			cx->pkg->data_passes++;
		j->hash = 1;
		return;
	}
	if (uf->checked)
		return;
	uf->checked = 1;
	if (uf->check_result != SISIGN_OK && !cx->first_err)
		cx->first_err = err_set(cx->err, uf->check_result, j->e.offset, "%s: %s", f->target, j->e.message);
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
		 * already on the device, and no data; so does a stub of any type,
		 * a package whose SISData has no data unit at all (the installer's
		 * CData::IsStub; install-rules.md IR-SIG-8): its files are on the
		 * media it came with. */
		if (c->install_type == 3 || c->install_type == 4 || cx->pkg->nunits == 0) {
			f->hash_status = SISIGN_HASH_NO_DATA;
			return;
		}
		f->hash_status = SISIGN_HASH_MISSING;
		if (!cx->first_err && !cx->collect) {
			cx->first_err = err_set(cx->err, SISIGN_ERR_MALFORMED, -1,
				"%s: no file data at data unit %u, index %u", f->target, c->abs_data_unit, f->file_index);
		}
		return;
	}
	/* f->data_* were filled in at parse (link_file) */
	uf = &cx->pkg->units[c->abs_data_unit].files[f->file_index];
	if (uf->uncompressed > cx->pkg->opts.max_file) {
		f->hash_status = SISIGN_HASH_CORRUPT;
		if (!cx->first_err && !cx->collect)
			cx->first_err = err_set(cx->err, SISIGN_ERR_TOO_LARGE, (long long)f->data_offset,
				"%s: declared size %llu is over the %llu-byte limit", f->target,
				(unsigned long long)uf->uncompressed, (unsigned long long)cx->pkg->opts.max_file);
		return;
	}
	check_entry(cx, uf, f, &cx->jobs[cx->unit_base[c->abs_data_unit] + f->file_index]);
	if (cx->collect)
		return;
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

/* The data check (hash: every description judged, the result cached in
 * pkg) and/or the data CRC (want_crc), from one pass over SISData that
 * also copies it into out when out is not NULL.  Returns a failure of the
 * pass itself (memory; with out, any read or write); the check's own
 * result is pkg->data_result. */
static int check_run(struct sisign_pkg *pkg, int hash, int want_crc, struct pass_out *out, struct sisign_error *err)
{
	struct check_ctx cx;
	size_t njobs = 0;
	int r;

	memset(&cx, 0, sizeof cx);
	cx.pkg = pkg;
	for (size_t u = 0; u < pkg->nunits; u++)
		njobs += pkg->units[u].nfiles;
	cx.jobs = calloc(njobs ? njobs : 1, sizeof *cx.jobs);
	cx.unit_base = calloc(pkg->nunits ? pkg->nunits : 1, sizeof *cx.unit_base);
	if (!cx.jobs || !cx.unit_base) {
		free(cx.jobs);
		free(cx.unit_base);
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	}
	njobs = 0;
	for (size_t u = 0; u < pkg->nunits; u++) {
		cx.unit_base[u] = njobs;
		for (size_t i = 0; i < pkg->units[u].nfiles; i++)
			cx.jobs[njobs++].uf = &pkg->units[u].files[i];
	}
	/* Walk once to learn which entries to hash, hash them (and CRC all of
	 * SISData) in one pass, then walk again to judge every description in
	 * the order a serial check would, so messages do not depend on which
	 * thread finished first. */
	cx.collect = 1;
	if (hash)
		check_ctrl(&cx, &pkg->top);
	if ((r = data_pass(pkg, cx.jobs, njobs, want_crc, out, err)) != SISIGN_OK || !hash) {
		free(cx.jobs);
		free(cx.unit_base);
		return r;
	}
	sisign_error_clear(&pkg->data_err);
	cx.err = &pkg->data_err;
	cx.collect = 0;
	cx.first_err = 0;
	check_ctrl(&cx, &pkg->top);
	free(cx.jobs);
	free(cx.unit_base);
	pkg->data_result = cx.first_err;
	pkg->data_checked = 1;
	return SISIGN_OK;
}

int pkg_check_data(struct sisign_pkg *pkg, int want_crc, struct sisign_error *err)
{
	int r;

	if (!pkg->data_checked) {
		want_crc = want_crc && pkg->info.kind == SISIGN_PKG_SISX && !pkg->data_crc_known;
		if ((r = check_run(pkg, 1, want_crc, NULL, err)) != SISIGN_OK)
			return r;
	}
	if (pkg->data_result != SISIGN_OK && err)
		*err = pkg->data_err;
	return pkg->data_result;
}

int sisign_pkg_check_data(struct sisign_pkg *pkg, struct sisign_error *err)
{
	/* verify and info need no CRC: only what the device checks */
	return pkg_check_data(pkg, 0, err);
}

void sisign_pkg_set_threads(struct sisign_pkg *pkg, unsigned int n)
{
	if (pkg)
		pkg->hash_threads = n;
}

int pkg_data_crc(struct sisign_pkg *pkg, uint16_t *crc, struct sisign_error *err)
{
	uint8_t *buf;
	uint16_t c = 0;
	int r;

	if (!pkg->data_crc_known) {
		if (!(buf = malloc(CHUNK)))
			return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		r = pass_range(pkg, pkg->data_off, pkg->data_len, &c, NULL, buf, CHUNK, err);
		free(buf);
		if (r != SISIGN_OK)
			return r;
		pkg->data_crc_known = 1;
		pkg->data_crc_value = c;
	}
	*crc = pkg->data_crc_value;
	return SISIGN_OK;
}

int sisign_pkg_check_checksums(struct sisign_pkg *pkg, struct sisign_error *err)
{
	uint16_t crc = 0;
	int r;

	if (pkg->info.kind != SISIGN_PKG_SISX || pkg->info.data_crc_ok >= 0)
		return SISIGN_OK;
	/* free when signing's data check has already computed it */
	if ((r = pkg_data_crc(pkg, &crc, err)) != SISIGN_OK)
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

/* Where the CRC value sits in the stored SISDataChecksum field: after its
 * 8-byte header, or 12 for the 63-bit length form (§3.1); the parser
 * checked that the value's 2 bytes are there. */
static size_t data_crc_value_at(const struct sisign_pkg *pkg)
{
	return (le32(pkg->data_crc_field + 4) & 0x80000000u) ? 12 : 8;
}

/* Assemble the file head (everything before SISData) into `head`; for a
 * changed controller also give the new SISContents length.  With
 * crc_later the data CRC is not known yet: the field's value is left as
 * found, and *crc_at says where in head it is, for the writer to put the
 * CRC there once its pass over SISData has worked it out. */
static int build_head(struct sisign_pkg *pkg, struct wbuf *head, uint64_t *contents_len, int crc_later,
	size_t *crc_at, struct sisign_error *err)
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
	 * are: signing never touches file data.  Each CRC field is written,
	 * with the CRC of what is written, exactly when the input had one (even
	 * if the CRC is 0, where signsis would drop it; signsis also adds them
	 * to a package that had none).  The device ignores both CRCs (§6), and
	 * this way unsign gives back what sign was given.  The data CRC comes
	 * from the pass that copies SISData (write_pass), or from a data check
	 * made before. */
	*contents_len = (pkg->ctl_crc_field ? 12 : 0) + pkg->data_crc_field_len + comp.len +
		(pkg->contents_vend - pkg->data_off);
	wbuf_put(head, hdr, sisf_put_hdr(hdr, 1, SISF_CONTENTS, *contents_len));
	if (pkg->ctl_crc_field)
		sis_put_crc_field(head, SISF_CONTROLLER_CHECKSUM, crc);
	if (pkg->data_crc_field) {
		uint16_t dcrc = 0;
		size_t at = data_crc_value_at(pkg);
		if (crc_later)
			dcrc = le16(pkg->data_crc_field + at); /* for now */
		else if ((r = pkg_data_crc(pkg, &dcrc, err)) != SISIGN_OK) {
			wbuf_free(&comp);
			return r;
		}
		/* The field as found, its value replaced by the CRC of SISData
		 * as it is copied (§6), as signsis does. */
		wbuf_put(head, pkg->data_crc_field, at);
		*crc_at = head->len;
		wbuf_put_u16le(head, dcrc);
		wbuf_put(head, pkg->data_crc_field + at + 2, pkg->data_crc_field_len - at - 2);
	}
	wbuf_put(head, comp.data, comp.len);
	wbuf_free(&comp);
	return wbuf_failed(head) ? err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory") : SISIGN_OK;
}

/* Does writing this package need a pass over SISData in userspace?  Yes
 * when something must be learnt from its bytes: the data CRC for the
 * SISDataChecksum field, or (signing that left it to the writer) the file
 * hashes.  Else the bytes are copied by copy_range. */
static int needs_pass(const struct sisign_pkg *pkg)
{
	if (pkg->info.kind != SISIGN_PKG_SISX || !pkg->dirty)
		return 0;
	return (pkg->data_crc_field && !pkg->data_crc_known) || (pkg->data_check_on_write && !pkg->data_checked);
}

/* SISData and the rest of SISContents' value, written at out_off in one
 * pass that also works out what needs_pass() wants: the file hashes are
 * checked (a mismatch fails the write with the data check's error; the
 * caller discards the temp file) and the data CRC is put at crc_at.  Then
 * SISContents' new padding and whatever trailed the old one. */
static int write_pass(struct sisign_pkg *pkg, struct atomic_file *af, uint64_t out_off, size_t crc_at,
	uint64_t contents_len, struct sisign_error *err)
{
	static const uint8_t zeros[4];
	struct pass_out o;
	int hash = pkg->data_check_on_write && !pkg->data_checked;
	int want_crc = pkg->data_crc_field && !pkg->data_crc_known;
	uint64_t end = out_off + (pkg->contents_vend - pkg->data_off);
	int r;

	memset(&o, 0, sizeof o);
	o.fd = af->fd;
	o.path = af->path;
	o.in_base = pkg->data_off;
	o.out_base = out_off;
	o.in_end = pkg->contents_vend;
	atomic_init(&o.failed, 0);
	atomic_init(&o.claimed, 0);
	sisign_error_clear(&o.e);
	if ((r = check_run(pkg, hash, want_crc, &o, err)) != SISIGN_OK)
		return r;
	if (hash && pkg->data_result != SISIGN_OK) {
		if (err)
			*err = pkg->data_err;
		return pkg->data_result;
	}
	if (pkg->data_crc_field) {
		uint8_t v[2] = { (uint8_t)(pkg->data_crc_value & 0xff), (uint8_t)(pkg->data_crc_value >> 8) };
		if (pwrite_full(af->fd, v, 2, (off_t)crc_at) != 0)
			return err_sys(err, errno, "%s: write failed", af->path);
	}
	if (lseek(af->fd, (off_t)end, SEEK_SET) < 0)
		return err_sys(err, errno, "%s: seek failed", af->path);
	/* new SISContents padding, then whatever trailed the old one */
	if (sisf_pad(contents_len) && (r = atomic_write(af, zeros, (size_t)sisf_pad(contents_len), err)) != SISIGN_OK)
		return r;
	return copy_range(pkg, af, pkg->contents_end, pkg->size - pkg->contents_end, err);
}

/* SHA-256 of the finished output, read back from its temp file: write_pass
 * puts bytes out of order (the data CRC last, file data from several
 * threads), so the digest cannot follow the writes. */
static int digest_output(struct atomic_file *af, EVP_MD_CTX *md, struct sisign_error *err)
{
	uint8_t *buf;
	off_t off = 0, size;
	int r = SISIGN_OK;

	/* Every byte up to where the writes ended (the file position): a
	 * short read is an error, never the end of the digest. */
	if ((size = lseek(af->fd, 0, SEEK_CUR)) < 0)
		return err_sys(err, errno, "%s: seek failed", af->path);
	if (!(buf = malloc(CHUNK)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	while (off < size) {
		size_t want = size - off < (off_t)CHUNK ? (size_t)(size - off) : CHUNK;
		ssize_t n = pread_full(af->fd, buf, want, off);
		if (n < 0) {
			r = err_sys(err, errno, "%s: cannot read back the output", af->path);
			break;
		}
		if ((size_t)n != want) {
			r = err_set(err, SISIGN_ERR_SYSTEM, (long long)(off + n), "%s: output shrank while being read back",
				af->path);
			break;
		}
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
			r = err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-256 failed");
			break;
		}
		off += n;
	}
	free(buf);
	return r;
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
	if (memcmp(a->header + 4, b->header + 4, 4) != 0 || a->data_crc_field_len != b->data_crc_field_len)
		return 0;
	if (a->data_crc_field_len) {
		/* The writer refreshes the value (SISData being the same bytes in
		 * both, checked below, so is its CRC); the rest is kept. */
		size_t at = data_crc_value_at(a);
		if (at != data_crc_value_at(b) || memcmp(a->data_crc_field, b->data_crc_field, at) != 0 ||
			memcmp(a->data_crc_field + at + 2, b->data_crc_field + at + 2, a->data_crc_field_len - at - 2) != 0)
			return 0;
		if (a->data_crc_known ? le16(b->data_crc_field + at) != a->data_crc_value :
			memcmp(a->data_crc_field + at, b->data_crc_field + at, 2) != 0)
			return 0;
	}
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
	size_t crc_at = 0;
	EVP_MD_CTX *md = NULL;
	int r, pass = needs_pass(pkg);

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
	/* in order: the digest follows the writes; else it is read back */
	af.md = pass ? NULL : md;
	wbuf_init(&head);
	if (pkg->info.kind != SISIGN_PKG_SISX) {
		/* Bare controllers: the controller is the file. */
		if (pkg->dirty)
			r = atomic_write(&af, pkg->ctrl, pkg->ctrl_len, err);
		else
			r = atomic_write(&af, pkg->ctrl, pkg->ctrl_buf_len, err);
		goto done;
	}
	if ((r = build_head(pkg, &head, &contents_len, pass, &crc_at, err)))
		goto done;
	if ((r = atomic_write(&af, head.data, head.len, err)))
		goto done;
	if (!pkg->dirty) {
		r = copy_range(pkg, &af, pkg->data_off, pkg->size - pkg->data_off, err);
	} else if (pass) {
		r = write_pass(pkg, &af, head.len, crc_at, contents_len, err);
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
	if (r == SISIGN_OK && md && pass)
		r = digest_output(&af, md, err);
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
