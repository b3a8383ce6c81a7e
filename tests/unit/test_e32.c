/* SPDX-License-Identifier: Apache-2.0 */
/* E32 image headers: sisign_exe_decode on good and broken headers, short
 * and random input; sisign_pkg_file_exe on stored and zlib data, data
 * damaged past the header, a zlib stream that never gives a header, and
 * data that is not zlib at all. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "format/format_private.h"
#include <sisign/package.h>

#define UID_EXE 0x1000007Au
#define UID_DLL 0x10000079u

static char *tmp;

static char *path_in(const char *name)
{
	size_t n = strlen(tmp) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", tmp, name);
	return p;
}

/* A minimal V-format header (0x9C bytes), as tests/tools/mke32.py makes. */
static void make_hdr(uint8_t h[0x9C], uint32_t uid1, uint32_t uid3, uint32_t sid, uint32_t vid, uint32_t c0,
	uint32_t c1)
{
	memset(h, 0, 0x9C);
	put_le32(h, uid1);
	put_le32(h + 4, 0x100039CEu);
	put_le32(h + 8, uid3);
	put_le32(h + 12, sis_uid_checksum(uid1, 0x100039CEu, uid3));
	memcpy(h + 0x10, "EPOC", 4);
	put_le32(h + 0x2C, 0x02000000u);
	put_le32(h + 0x80, sid);
	put_le32(h + 0x84, vid);
	put_le32(h + 0x88, c0);
	put_le32(h + 0x8C, c1);
}

static void test_decode_good(void)
{
	uint8_t h[0x9C];
	struct sisign_exe_info x;

	make_hdr(h, UID_EXE, 0xE0001234u, 0xE0001234u, 0x70000001u, (1u << 13) | (1u << 15), 0);
	sisign_exe_decode(h, sizeof h, &x);
	CHECK_EQ_INT(x.kind, SISIGN_EXE_EXE);
	CHECK_EQ_INT(x.header_ok, 1);
	CHECK(x.reason == NULL);
	CHECK_EQ_INT(x.uid1, UID_EXE);
	CHECK_EQ_INT(x.uid2, 0x100039CEu);
	CHECK_EQ_INT(x.uid3, 0xE0001234u);
	CHECK_EQ_INT(x.flags, 0x02000000u);
	CHECK_EQ_INT(x.sid, 0xE0001234u);
	CHECK_EQ_INT(x.vid, 0x70000001u);
	CHECK_EQ_INT(x.caps[0], (1u << 13) | (1u << 15));
	CHECK_EQ_INT(x.caps[1], 0);

	/* exactly the header bytes are enough */
	sisign_exe_decode(h, SISIGN_EXE_HEADER_BYTES, &x);
	CHECK_EQ_INT(x.kind, SISIGN_EXE_EXE);
	CHECK_EQ_INT(x.header_ok, 1);

	make_hdr(h, UID_DLL, 0x10001234u, 0x10001234u, 0, 0xFFFFFu, 0x1u);
	sisign_exe_decode(h, sizeof h, &x);
	CHECK_EQ_INT(x.kind, SISIGN_EXE_DLL);
	CHECK_EQ_INT(x.header_ok, 1);
	CHECK_EQ_INT(x.caps[0], 0xFFFFFu);
	CHECK_EQ_INT(x.caps[1], 1);

	make_hdr(h, 0x10000080u, 0x10001234u, 0, 0, 0, 0);
	sisign_exe_decode(h, sizeof h, &x);
	CHECK_EQ_INT(x.kind, SISIGN_EXE_OTHER);
	CHECK_EQ_INT(x.header_ok, 1);
	CHECK(x.reason == NULL);
}

static void test_decode_broken(void)
{
	uint8_t h[0x9C];
	struct sisign_exe_info x;

	/* UID checksum off by one */
	make_hdr(h, UID_EXE, 0xE0001234u, 0xE0001234u, 0, 0, 0);
	h[12] ^= 1;
	sisign_exe_decode(h, sizeof h, &x);
	CHECK_EQ_INT(x.kind, SISIGN_EXE_EXE);
	CHECK_EQ_INT(x.header_ok, 0);
	CHECK(x.reason && strstr(x.reason, "checksum"));

	/* a UID changed after the checksum was made */
	make_hdr(h, UID_EXE, 0xE0001234u, 0xE0001234u, 0, 0, 0);
	h[8] ^= 0x10;
	sisign_exe_decode(h, sizeof h, &x);
	CHECK_EQ_INT(x.header_ok, 0);
	CHECK(x.reason && strstr(x.reason, "checksum"));

	/* no EPOC signature */
	make_hdr(h, UID_EXE, 0xE0001234u, 0xE0001234u, 0, 0, 0);
	h[0x13] = 'X';
	sisign_exe_decode(h, sizeof h, &x);
	CHECK_EQ_INT(x.kind, SISIGN_EXE_NONE);
	CHECK_EQ_INT(x.header_ok, 0);
	CHECK(x.reason && strstr(x.reason, "EPOC"));

	/* each header format other than V: J (1), older (0), unknown (3..15) */
	for (uint32_t fmt = 0; fmt < 16; fmt++) {
		make_hdr(h, UID_DLL, 0x10001234u, 0, 0, 0, 0);
		put_le32(h + 0x2C, (fmt << 24) | 0x00100000u);
		sisign_exe_decode(h, sizeof h, &x);
		CHECK_EQ_INT(x.kind, SISIGN_EXE_DLL);
		CHECK_EQ_INT(x.flags, (fmt << 24) | 0x00100000u);
		CHECK_EQ_INT(x.header_ok, fmt == 2);
		CHECK(fmt == 2 ? x.reason == NULL : (x.reason && strstr(x.reason, "V format")));
	}
}

static void test_decode_short(void)
{
	uint8_t h[0x9C];
	struct sisign_exe_info x;

	make_hdr(h, UID_EXE, 0xE0001234u, 0xE0001234u, 0x1u, 0x2u, 0x3u);
	for (size_t n = 0; n < SISIGN_EXE_HEADER_BYTES; n++) {
		sisign_exe_decode(n ? h : NULL, n, &x);
		CHECK_EQ_INT(x.kind, SISIGN_EXE_NONE);
		CHECK_EQ_INT(x.header_ok, 0);
		CHECK(x.reason != NULL);
		/* only bytes that are there are reported */
		CHECK_EQ_INT(x.caps[1], n >= 0x90 ? 3 : 0);
		CHECK_EQ_INT(x.uid1, n >= 4 ? UID_EXE : 0);
	}
	sisign_exe_decode(h, 0x8F, &x);
	CHECK(x.reason && strstr(x.reason, "shorter"));
}

static void test_decode_random(void)
{
	uint8_t b[0x200];
	uint32_t s = 0x9E3779B9u;
	struct sisign_exe_info x;
	size_t images = 0;

	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(s % sizeof b);
		for (size_t i = 0; i < sizeof b; i++) {
			s ^= s << 13; s ^= s >> 17; s ^= s << 5;
			b[i] = (uint8_t)s;
		}
		if (round & 1) /* half of them look like images */
			memcpy(b + 0x10, "EPOC", 4);
		sisign_exe_decode(b, n, &x);
		CHECK(x.kind >= SISIGN_EXE_NONE && x.kind <= SISIGN_EXE_OTHER);
		CHECK(x.header_ok ? x.reason == NULL : x.reason != NULL);
		CHECK(x.kind != SISIGN_EXE_NONE || !x.header_ok);
		if (x.kind != SISIGN_EXE_NONE)
			images++;
		if (x.header_ok) {
			CHECK_EQ_INT(x.flags & 0x0F000000u, 0x02000000u);
			CHECK_EQ_INT(sis_uid_checksum(x.uid1, x.uid2, x.uid3), le32(b + 12));
		}
	}
	CHECK(images > 0);
}

/* Pack one file and parse the package back (in memory, for patching). */
static uint8_t *pack_mem(const char *src, int store, size_t *len)
{
	static const char *const names[] = { "E32" };
	struct sisign_pack_file pf = { .source = src, .target = "!:\\sys\\bin\\x.exe" };
	struct sisign_pack_opts o = { .uid = 0xE0001234u, .names = names, .vendor = "Acme", .files = &pf,
		.nfiles = 1, .store = store };
	struct sisign_error e;
	char *out = path_in("out.sis");
	uint8_t *p = NULL;

	sisign_error_clear(&e);
	CHECK_MSG(sisign_pack(&o, out, &e) == SISIGN_OK, "%s", e.message);
	p = tu_read_file(out, len);
	free(out);
	return p;
}

static const struct sisign_file *first_file(struct sisign_pkg *pkg)
{
	const struct sisign_controller *c = sisign_pkg_controller(pkg);
	return c && c->nfiles ? &c->files[0] : NULL;
}

static int file_exe_of(const uint8_t *p, size_t len, struct sisign_exe_info *x, struct sisign_error *e)
{
	struct sisign_pkg *pkg = NULL;
	int r;

	sisign_error_clear(e);
	r = sisign_pkg_parse_mem(p, len, NULL, &pkg, e);
	CHECK_MSG(r == SISIGN_OK, "%s", e->message);
	if (r)
		return r;
	r = sisign_pkg_file_exe(pkg, first_file(pkg), x, e);
	sisign_pkg_free(pkg);
	return r;
}

static void test_file_exe(void)
{
	size_t big = 3u << 20, len = 0;
	uint8_t *img = calloc(1, big), *p;
	char *src = path_in("x.exe");
	struct sisign_exe_info x;
	struct sisign_error e;
	struct sisign_pkg *pkg = NULL;
	const struct sisign_file *f;

	if (!img || !src)
		goto out;
	make_hdr(img, UID_EXE, 0xE0001234u, 0xE0001234u, 0x70000001u, 1u << 13, 0);
	for (size_t i = 0x9C; i < big; i++)
		img[i] = (uint8_t)(i % 7);
	CHECK(tu_write_file(src, img, big) == 0);

	for (int store = 0; store < 2; store++) {
		p = pack_mem(src, store, &len);
		CHECK(p != NULL);
		if (!p)
			continue;
		CHECK_EQ_INT(file_exe_of(p, len, &x, &e), SISIGN_OK);
		CHECK_EQ_INT(x.kind, SISIGN_EXE_EXE);
		CHECK_EQ_INT(x.header_ok, 1);
		CHECK_EQ_INT(x.sid, 0xE0001234u);
		CHECK_EQ_INT(x.vid, 0x70000001u);
		CHECK_EQ_INT(x.caps[0], 1u << 13);

		/* Damage the data near its end: the whole-file check fails,
		 * the header is still read, so only the first bytes were used. */
		CHECK_EQ_INT(sisign_pkg_parse_mem(p, len, NULL, &pkg, &e), SISIGN_OK);
		f = pkg ? first_file(pkg) : NULL;
		CHECK(f != NULL);
		if (f) {
			uint64_t at = f->data_offset + f->data_stored - 64;
			CHECK_EQ_INT(f->data_algorithm, store ? 0 : 1);
			sisign_pkg_free(pkg);
			pkg = NULL;
			for (int i = 0; i < 8; i++)
				p[at + (uint64_t)i] ^= 0x5A;
			CHECK_EQ_INT(sisign_pkg_parse_mem(p, len, NULL, &pkg, &e), SISIGN_OK);
			if (pkg) {
				CHECK(sisign_pkg_check_data(pkg, &e) != SISIGN_OK);
				CHECK_EQ_INT(sisign_pkg_file_exe(pkg, first_file(pkg), &x, &e), SISIGN_OK);
				CHECK_EQ_INT(x.kind, SISIGN_EXE_EXE);
				CHECK_EQ_INT(x.header_ok, 1);
			}
		}
		sisign_pkg_free(pkg);
		pkg = NULL;
		free(p);
	}

	/* A short file: decoded as far as it goes. */
	CHECK(tu_write_file(src, img, 100) == 0);
	p = pack_mem(src, 0, &len);
	if (p) {
		CHECK_EQ_INT(file_exe_of(p, len, &x, &e), SISIGN_OK);
		CHECK_EQ_INT(x.kind, SISIGN_EXE_NONE);
		CHECK(x.reason && strstr(x.reason, "shorter"));
		free(p);
	}
	/* An empty file. */
	CHECK(tu_write_file(src, "", 0) == 0);
	p = pack_mem(src, 1, &len);
	if (p) {
		CHECK_EQ_INT(file_exe_of(p, len, &x, &e), SISIGN_OK);
		CHECK_EQ_INT(x.kind, SISIGN_EXE_NONE);
		free(p);
	}
out:
	free(img);
	free(src);
}

/* Stored data relabelled as zlib: first a stream of empty stored blocks
 * (valid zlib that never gives a byte: refused after 1 MiB of input, not
 * read to its end), then bytes that are not zlib at all. */
static void test_file_exe_hostile(void)
{
	size_t n = (2u << 20) + 3, len = 0;
	uint8_t *img = calloc(1, n), *p = NULL;
	char *src = path_in("h.bin");
	struct sisign_exe_info x;
	struct sisign_error e;
	struct sisign_pkg *pkg = NULL;
	const struct sisign_file *f;
	uint64_t off = 0;

	if (!img || !src)
		goto out;
	CHECK(tu_write_file(src, img, n) == 0);
	p = pack_mem(src, 1, &len);
	if (!p)
		goto out;
	CHECK_EQ_INT(sisign_pkg_parse_mem(p, len, NULL, &pkg, &e), SISIGN_OK);
	f = pkg ? first_file(pkg) : NULL;
	if (f)
		off = f->data_offset;
	sisign_pkg_free(pkg);
	pkg = NULL;
	CHECK(off > 12);
	if (off <= 12)
		goto out;
	put_le32(p + off - 12, 1); /* algorithm: zlib */
	p[off] = 0x78;
	p[off + 1] = 0x01;
	for (size_t i = 2; i + 5 <= n; i += 5) {
		p[off + i] = 0x00; /* BFINAL 0, stored; LEN 0, NLEN 0xFFFF */
		p[off + i + 1] = 0x00;
		p[off + i + 2] = 0x00;
		p[off + i + 3] = 0xFF;
		p[off + i + 4] = 0xFF;
	}
	CHECK_EQ_INT(file_exe_of(p, len, &x, &e), SISIGN_ERR_CORRUPT_DATA);
	CHECK(strstr(e.message, "x.exe") != NULL);
	CHECK_EQ_INT(x.kind, SISIGN_EXE_NONE);

	memset(p + off, 0xFF, 64);
	CHECK_EQ_INT(file_exe_of(p, len, &x, &e), SISIGN_ERR_CORRUPT_DATA);
	CHECK(strstr(e.message, "not valid zlib") != NULL);

	put_le32(p + off - 12, 7); /* an unknown algorithm */
	CHECK_EQ_INT(file_exe_of(p, len, &x, &e), SISIGN_ERR_UNSUPPORTED);
out:
	free(p);
	free(img);
	free(src);
}

int main(void)
{
	tmp = tu_tmpdir();
	if (!tmp)
		return 1;
	test_decode_good();
	test_decode_broken();
	test_decode_short();
	test_decode_random();
	test_file_exe();
	test_file_exe_hostile();
	tu_rmrf(tmp);
	free(tmp);
	return tu_finish();
}
