/* SPDX-License-Identifier: Apache-2.0 */
/* The data check hashes a package's files on several threads (issue #14
 * item 3): the verdicts, every file's hash status, the error and its
 * message, and the data CRC are the same as with one thread, for every
 * corpus package and for hand-made packages of several files, one of them
 * corrupt; so are the writer's one pass (copy, hashes and CRC) and the
 * bytes it writes.  crc16_combine agrees with one CRC over the joined
 * bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sisign/package.h>

#include "testutil.h"
#include "format/format_private.h"

struct outcome {
	int r, crc_known;
	uint16_t crc;
	struct sisign_error err;
	size_t nstatus;
	int status[4096];
	size_t threads_used;
};

static void collect(const struct sisign_controller *c, struct outcome *o)
{
	if (c->logo && o->nstatus < 4096)
		o->status[o->nstatus++] = c->logo->hash_status;
	for (size_t i = 0; i < c->nfiles && o->nstatus < 4096; i++)
		o->status[o->nstatus++] = c->files[i].hash_status;
	for (size_t i = 0; i < c->nembedded; i++)
		collect(&c->embedded[i], o);
}

/* Open bytes, check the data on `threads` threads (threads even for a small
 * package), with the CRC as signing wants it. */
static int run_check(const uint8_t *p, size_t len, unsigned threads, struct outcome *o)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;

	memset(o, 0, sizeof *o);
	if (sisign_pkg_parse_mem(p, len, NULL, &pkg, &err) != SISIGN_OK)
		return -1;
	sisign_pkg_set_threads(pkg, threads);
	pkg->hash_parallel_min = 1;
	sisign_error_clear(&o->err);
	o->r = pkg_check_data(pkg, 1, &o->err);
	o->crc_known = pkg->data_crc_known;
	o->crc = pkg->data_crc_value;
	o->threads_used = pkg->hash_threads_used;
	collect(sisign_pkg_controller(pkg), o);
	/* the CRC from the threaded pass is the CRC of SISData read in one piece */
	if (o->crc_known && sisign_pkg_info(pkg)->kind == SISIGN_PKG_SISX) {
		uint16_t whole = crc16_update(0, p + pkg->data_off, (size_t)pkg->data_len);
		CHECK_EQ_INT(whole, o->crc);
	}
	sisign_pkg_free(pkg);
	return 0;
}

/* The writer's one pass (issue #14 item 3): the package as signing leaves
 * it (controller rebuilt, file hashes left to the writer) written to path
 * on `threads` threads.  Returns sisign_pkg_write's result, its error in
 * *err; a failed write leaves no file. */
static int run_write(const uint8_t *p, size_t len, unsigned threads, const char *path, struct sisign_error *err)
{
	struct sisign_pkg *pkg = NULL;
	int r;

	sisign_error_clear(err);
	if (sisign_pkg_parse_mem(p, len, NULL, &pkg, err) != SISIGN_OK)
		return -1000;
	sisign_pkg_set_threads(pkg, threads);
	pkg->hash_parallel_min = 1;
	pkg->dirty = 1;
	pkg->data_check_on_write = 1;
	r = sisign_pkg_write(pkg, path, 0644, err);
	if (r == SISIGN_OK) {
		CHECK(pkg->data_checked);
		CHECK_EQ_INT(pkg->hash_threads_used, threads < 5 ? threads : 5);
	}
	sisign_pkg_free(pkg);
	return r;
}

/* The pass on 1, 2 and 8 threads: the same result and message as the
 * check; written, the same bytes, SISData as in the input and the data
 * CRC field holding its CRC. */
static void same_write(const char *what, const uint8_t *p, size_t len, const char *dir, const struct outcome *check)
{
	static const unsigned nt[] = { 1, 2, 8 };
	char path[3][4200];
	uint8_t *w[3] = { NULL, NULL, NULL };
	size_t wlen[3] = { 0, 0, 0 };

	for (size_t k = 0; k < 3; k++) {
		struct sisign_error err;
		int r;
		snprintf(path[k], sizeof path[k], "%s/w%u.sis", dir, nt[k]);
		r = run_write(p, len, nt[k], path[k], &err);
		CHECK_MSG(r == check->r, "%s, write on %u threads: %d, check %d", what, nt[k], r, check->r);
		if (r != SISIGN_OK) {
			CHECK_MSG(strcmp(err.message, check->err.message) == 0, "%s: write \"%s\", check \"%s\"", what,
				err.message, check->err.message);
			CHECK_MSG(access(path[k], F_OK) != 0, "%s: a failed write left %s", what, path[k]);
			continue;
		}
		w[k] = tu_read_file(path[k], &wlen[k]);
		CHECK(w[k] != NULL);
	}
	if (w[0] && w[1] && w[2]) {
		struct sisign_pkg *in = NULL, *out = NULL;
		struct sisign_error err;
		CHECK(wlen[0] == wlen[1] && wlen[0] == wlen[2] && memcmp(w[0], w[1], wlen[0]) == 0 &&
			memcmp(w[0], w[2], wlen[0]) == 0);
		CHECK_EQ_INT(sisign_pkg_parse_mem(p, len, NULL, &in, &err), SISIGN_OK);
		CHECK_EQ_INT(sisign_pkg_parse_mem(w[2], wlen[2], NULL, &out, &err), SISIGN_OK);
		if (in && out) {
			CHECK(in->data_len == out->data_len &&
				memcmp(p + in->data_off, w[2] + out->data_off, (size_t)in->data_len) == 0);
			CHECK(out->info.has_data_crc);
			CHECK_EQ_INT(out->info.data_crc, crc16_update(0, p + in->data_off, (size_t)in->data_len));
		}
		sisign_pkg_free(in);
		sisign_pkg_free(out);
	}
	for (size_t k = 0; k < 3; k++) {
		free(w[k]);
		(void)unlink(path[k]);
	}
}

static void same_outcome(const char *what, const struct outcome *a, const struct outcome *b)
{
	CHECK_MSG(a->r == b->r, "%s: %d vs %d", what, a->r, b->r);
	CHECK_MSG(strcmp(a->err.message, b->err.message) == 0, "%s: \"%s\" vs \"%s\"", what, a->err.message,
		b->err.message);
	CHECK_MSG(a->err.offset == b->err.offset, "%s: offset %lld vs %lld", what, a->err.offset, b->err.offset);
	CHECK_MSG(a->crc_known == b->crc_known && a->crc == b->crc, "%s: CRC %d/%04x vs %d/%04x", what,
		a->crc_known, a->crc, b->crc_known, b->crc);
	CHECK_MSG(a->nstatus == b->nstatus && memcmp(a->status, b->status, a->nstatus * sizeof a->status[0]) == 0,
		"%s: file hash statuses differ", what);
}

static void test_combine(void)
{
	uint8_t buf[3000];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof buf; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	CHECK_EQ_INT(crc16_update(0, "123456789", 9), 0x31C3);
	CHECK_EQ_INT(crc16_combine(crc16_update(0, "1234", 4), crc16_update(0, "56789", 5), 5), 0x31C3);
	for (size_t cut = 0; cut <= sizeof buf; cut += 7) {
		uint16_t whole = crc16_update(0, buf, sizeof buf);
		uint16_t got = crc16_combine(crc16_update(0, buf, cut), crc16_update(0, buf + cut, sizeof buf - cut),
			sizeof buf - cut);
		CHECK_MSG(whole == got, "cut at %zu: %04x vs %04x", cut, whole, got);
	}
	/* zero bytes: a zero CRC stays zero, the B part alone counts */
	CHECK_EQ_INT(crc16_combine(0, 0x1234, 1u << 30), 0x1234);
}

static void test_corpus(void)
{
	const char *corpus = tu_corpus();
	char line[4096], path[4200];
	FILE *m;
	size_t n = 0, threaded = 0;

	if (!corpus) {
		tu_skip("corpus not found (set SISIGN_CORPUS); threaded hashing not compared over it");
		return;
	}
	snprintf(path, sizeof path, "%s/MANIFEST.tsv", corpus);
	m = fopen(path, "r");
	CHECK(m != NULL);
	if (!m)
		return;
	while (fgets(line, sizeof line, m)) {
		struct outcome *one = malloc(sizeof *one), *many = malloc(sizeof *many);
		char *tab = strchr(line, '\t');
		uint8_t *p;
		size_t len = 0;
		if (!tab || strncmp(line, "path\t", 5) == 0 || !one || !many) {
			free(one);
			free(many);
			continue;
		}
		*tab = '\0';
		snprintf(path, sizeof path, "%s/sis/%s", corpus, line);
		p = tu_read_file(path, &len);
		if (p && run_check(p, len, 1, one) == 0 && run_check(p, len, 4, many) == 0) {
			same_outcome(line, one, many);
			CHECK_EQ_INT(one->threads_used, 1);
			threaded += many->threads_used > 1;
			n++;
		}
		free(p);
		free(one);
		free(many);
	}
	fclose(m);
	CHECK_MSG(n >= 100, "only %zu corpus packages compared", n);
	CHECK_MSG(threaded >= 10, "only %zu corpus packages were hashed on several threads", threaded);
}

/* A package of several files, packed by the library; in some variants one
 * file's data is made corrupt.  The error names that file, whatever the
 * number of threads. */
static void test_several_files(void)
{
	static const char *const targets[] = { "!:\\private\\E0001234\\a.txt", "!:\\private\\E0001234\\b.txt",
		"!:\\private\\E0001234\\c.bin", "!:\\private\\E0001234\\d.txt", "!:\\private\\E0001234\\e.txt" };
	static const size_t sizes[] = { 300000, 5, 700000, 0, 1200000 };
	static const char *const names[] = { "Threads" };
	char *dir = tu_tmpdir(), src[5][4200], out[4200];
	struct sisign_pack_file files[5];
	struct sisign_pack_opts o;
	struct sisign_error err;
	struct sisign_pkg *pkg = NULL;
	uint8_t *p = NULL;
	size_t len = 0;
	uint64_t off[5], plen[5];

	CHECK(dir != NULL);
	if (!dir)
		return;
	memset(files, 0, sizeof files);
	for (size_t i = 0; i < 5; i++) {
		uint8_t *d = malloc(sizes[i] + 1);
		uint32_t x = (uint32_t)i + 7;
		for (size_t k = 0; k < sizes[i]; k++) {
			x = x * 1103515245u + 12345u;
			/* text-like for most, noise for c.bin (stored or barely deflated) */
			d[k] = i == 2 ? (uint8_t)(x >> 16) : (uint8_t)("the quick brown fox "[(x >> 16) % 20]);
		}
		snprintf(src[i], sizeof src[i], "%s/f%zu", dir, i);
		CHECK_EQ_INT(tu_write_file(src[i], d, sizes[i]), 0);
		free(d);
		files[i].source = src[i];
		files[i].target = targets[i];
	}
	memset(&o, 0, sizeof o);
	o.uid = 0xE0001234u;
	o.names = names;
	o.vendor = "Acme";
	o.files = files;
	o.nfiles = 5;
	snprintf(out, sizeof out, "%s/several.sis", dir);
	CHECK_EQ_INT(sisign_pack(&o, out, &err), SISIGN_OK);
	p = tu_read_file(out, &len);
	CHECK(p != NULL);
	if (!p || sisign_pkg_parse_mem(p, len, NULL, &pkg, &err) != SISIGN_OK) {
		CHECK(0);
		goto out;
	}
	for (size_t i = 0; i < 5; i++) {
		off[i] = pkg->units[0].files[i].payload_off;
		plen[i] = pkg->units[0].files[i].payload_len;
	}
	sisign_pkg_free(pkg);
	pkg = NULL;
	/* intact, then each non-empty file corrupt in turn (its last payload
	 * byte: the Adler-32 of a deflated one, data of a stored one) */
	for (int bad = -1; bad < 5; bad++) {
		struct outcome *one = malloc(sizeof *one), *many = malloc(sizeof *many), *two = malloc(sizeof *two);
		char what[64], want[64];
		if (!one || !many || !two) {
			free(one);
			free(many);
			free(two);
			CHECK(0);
			break;
		}
		if (bad >= 0 && plen[bad] == 0) {
			free(one);
			free(many);
			free(two);
			continue;
		}
		if (bad >= 0)
			p[off[bad] + plen[bad] - 1] ^= 0x5a;
		snprintf(what, sizeof what, "several files, corrupt %d", bad);
		CHECK_EQ_INT(run_check(p, len, 1, one), 0);
		CHECK_EQ_INT(run_check(p, len, 2, two), 0);
		CHECK_EQ_INT(run_check(p, len, 8, many), 0);
		same_outcome(what, one, two);
		same_outcome(what, one, many);
		same_write(what, p, len, dir, one);
		CHECK_EQ_INT(two->threads_used, 2);
		CHECK_EQ_INT(many->threads_used, 5);
		if (bad < 0) {
			CHECK_EQ_INT(many->r, SISIGN_OK);
			CHECK(many->crc_known);
		} else {
			snprintf(want, sizeof want, "%s: ", targets[bad]);
			CHECK_MSG(many->r != SISIGN_OK, "%s: accepted", what);
			CHECK_MSG(strncmp(many->err.message, want, strlen(want)) == 0, "%s: \"%s\"", what, many->err.message);
			CHECK_EQ_INT(many->status[bad], many->r == SISIGN_ERR_HASH_MISMATCH ? SISIGN_HASH_MISMATCH
											      : SISIGN_HASH_CORRUPT);
			for (int k = 0; k < 5; k++)
				if (k != bad)
					CHECK_MSG(many->status[k] == SISIGN_HASH_OK || many->status[k] == SISIGN_HASH_NO_DATA,
						"%s: file %d status %d", what, k, many->status[k]);
			p[off[bad] + plen[bad] - 1] ^= 0x5a;
		}
		free(one);
		free(many);
		free(two);
	}
out:
	sisign_pkg_free(pkg);
	free(p);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	test_combine();
	test_several_files();
	test_corpus();
	return tu_finish();
}
