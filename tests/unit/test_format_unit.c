/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the internal field, buffer, CRC, text and file helpers
 * (format_private.h, util_private.h), with the numbers of sis-format.md. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "format/format_private.h"
#include "util/util_private.h"

static void test_hdr_get(void)
{
	struct sisign_error err;
	struct sisf_hdr h;
	struct sbuf b;
	/* typed, 31-bit: type 12, length 16440 (sis-format.md §5.14) */
	static const uint8_t t31[] = { 12, 0, 0, 0, 0x38, 0x40, 0, 0 };
	/* typed, 12-byte header for a small length (EBug32As64, §3.1) */
	static const uint8_t t63small[] = { 1, 0, 0, 0, 6, 0, 0, 0x80, 0, 0, 0, 0 };
	/* untyped, 63-bit: length 2^31 + 5 */
	static const uint8_t u63[] = { 5, 0, 0, 0x80, 1, 0, 0, 0 };
	static const uint8_t short1[] = { 12, 0, 0, 0, 0x38, 0x40 };
	static const uint8_t short2[] = { 12, 0, 0, 0, 0, 0, 0, 0x80, 1, 0 };

	sbuf_init(&b, t31, sizeof(t31), 0);
	CHECK_EQ_INT(sisf_get_hdr(&b, 1, &h, &err), SISIGN_OK);
	CHECK_EQ_INT(h.type, 12);
	CHECK_EQ_INT(h.len, 16440);
	CHECK_EQ_INT(h.hdrlen, 8);
	CHECK_EQ_INT(b.off, 8);

	sbuf_init(&b, t63small, sizeof(t63small), 0);
	CHECK_EQ_INT(sisf_get_hdr(&b, 1, &h, &err), SISIGN_OK);
	CHECK_EQ_INT(h.type, 1);
	CHECK_EQ_INT(h.len, 6);
	CHECK_EQ_INT(h.hdrlen, 12);

	sbuf_init(&b, u63, sizeof(u63), 0);
	CHECK_EQ_INT(sisf_get_hdr(&b, 0, &h, &err), SISIGN_OK);
	CHECK(h.len == ((uint64_t)1 << 31) + 5);
	CHECK_EQ_INT(h.hdrlen, 8);

	/* truncated headers fail with TRUNCATED and leave the cursor alone */
	sbuf_init(&b, short1, sizeof(short1), 0);
	CHECK_EQ_INT(sisf_get_hdr(&b, 1, &h, &err), SISIGN_ERR_TRUNCATED);
	CHECK_EQ_INT(err.code, SISIGN_ERR_TRUNCATED);
	CHECK_EQ_INT(b.off, 0);
	sbuf_init(&b, short2, sizeof(short2), 0);
	CHECK_EQ_INT(sisf_get_hdr(&b, 1, &h, &err), SISIGN_ERR_TRUNCATED);
	CHECK_EQ_INT(b.off, 0);
	sbuf_init(&b, t31, 0, 0);
	CHECK_EQ_INT(sisf_get_hdr(&b, 0, &h, NULL), SISIGN_ERR_TRUNCATED);
}

static void test_hdr_put(void)
{
	uint8_t out[12];
	struct sisf_hdr h;
	struct sbuf b;
	uint64_t lens[] = { 0, 1, 190, 0x7FFFFFFFu, 0x80000000u, ((uint64_t)1 << 40) + 3 };
	size_t i;

	CHECK_EQ_INT(sisf_put_hdr(out, 1, 13, 1140), 8);
	CHECK(memcmp(out, "\x0d\0\0\0\x74\x04\0\0", 8) == 0);
	CHECK_EQ_INT(sisf_put_hdr(out, 0, 0, 1140), 4);
	CHECK_EQ_INT(sisf_put_hdr(out, 1, 2, 0x80000000u), 12);
	CHECK(memcmp(out + 4, "\0\0\0\x80\x01\0\0\0", 8) == 0);
	CHECK_EQ_INT(sisf_put_hdr(out, 0, 2, 0x7FFFFFFFu), 4);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int typed = 0; typed <= 1; typed++) {
			size_t n = sisf_put_hdr(out, typed, 37, lens[i]);
			CHECK_EQ_INT(n, (typed ? 4u : 0u) + (lens[i] < 0x80000000u ? 4u : 8u));
			sbuf_init(&b, out, n, 0);
			CHECK_EQ_INT(sisf_get_hdr(&b, typed, &h, NULL), SISIGN_OK);
			CHECK(h.len == lens[i]);
			CHECK_EQ_INT(h.hdrlen, n);
			if (typed)
				CHECK_EQ_INT(h.type, 37);
		}
	}
}

static void test_padding_and_fields(void)
{
	struct sisign_error err;
	struct sbuf b, v, elems, e;
	/* SISString "ab" (4 bytes), then a SISUid with one byte of its value
	 * missing, then an array of two UIDs */
	static const uint8_t f[] = { 1, 0, 0, 0, 2, 0, 0, 0, 'a', 0, 0, 0 };
	static const uint8_t arr[] = { 2, 0, 0, 0, 20, 0, 0, 0, 9, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4,
		4, 0, 0, 0, 5, 6, 7, 8 };
	static const uint8_t over[] = { 1, 0, 0, 0, 9, 0, 0, 0, 'a', 0, 0, 0 };
	int r;

	CHECK_EQ_INT(sisf_pad(0), 0);
	CHECK_EQ_INT(sisf_pad(1), 3);
	CHECK_EQ_INT(sisf_pad(2), 2);
	CHECK_EQ_INT(sisf_pad(3), 1);
	CHECK_EQ_INT(sisf_pad(190), 2);
	CHECK_EQ_INT(sisf_pad(15541), 3);

	sbuf_init(&b, f, sizeof(f), 0);
	CHECK_EQ_INT(sisf_get_field(&b, SISF_STRING, &v, &err), SISIGN_OK);
	CHECK_EQ_INT(v.len, 2);
	CHECK_EQ_INT(b.off, 12); /* value + padding */

	sbuf_init(&b, f, sizeof(f), 0);
	r = sisf_get_field(&b, SISF_UID, &v, &err);
	CHECK(r == SISIGN_ERR_MALFORMED);
	CHECK_EQ_INT(b.off, 0);

	sbuf_init(&b, over, sizeof(over), 0);
	r = sisf_get_field(&b, SISF_STRING, &v, &err);
	CHECK(r == SISIGN_ERR_TRUNCATED || r == SISIGN_ERR_MALFORMED);
	CHECK_EQ_INT(b.off, 0);

	/* sisf_get_array reads the whole typed SISArray field */
	sbuf_init(&b, arr, sizeof(arr), 0);
	r = sisf_get_array(&b, SISF_UID, &elems, &err);
	CHECK_EQ_INT(r, SISIGN_OK);
	if (r != SISIGN_OK)
		return;
	CHECK_EQ_INT(b.off, sizeof(arr));
	CHECK_EQ_INT(sisf_next_elem(&elems, &e, &err), 1);
	CHECK_EQ_INT(e.len, 4);
	CHECK_EQ_INT(le32(e.data), 0x04030201);
	CHECK_EQ_INT(sisf_next_elem(&elems, &e, &err), 1);
	CHECK_EQ_INT(le32(e.data), 0x08070605);
	CHECK_EQ_INT(sisf_next_elem(&elems, &e, &err), 0);

	sbuf_init(&b, arr, sizeof(arr), 0);
	CHECK_EQ_INT(sisf_get_array(&b, SISF_STRING, &elems, &err), SISIGN_ERR_MALFORMED);
	CHECK_EQ_INT(b.off, 0);
}

static void test_sbuf(void)
{
	static const uint8_t d[] = { 1, 2, 3, 4, 5, 6, 7 };
	struct sbuf b, c;
	const uint8_t *p = NULL;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	sbuf_init(&b, d, sizeof(d), 100);
	CHECK_EQ_INT(sbuf_get_u64le(&b, &u64), SISIGN_ERR_TRUNCATED);
	CHECK_EQ_INT(b.off, 0);
	CHECK_EQ_INT(sbuf_get_u32le(&b, &u32), SISIGN_OK);
	CHECK_EQ_INT(u32, 0x04030201);
	CHECK_EQ_INT(sbuf_pos(&b), 104);
	CHECK_EQ_INT(sbuf_get_u32le(&b, &u32), SISIGN_ERR_TRUNCATED);
	CHECK_EQ_INT(b.off, 4);
	CHECK_EQ_INT(sbuf_get_direct(&b, 4, &p), SISIGN_ERR_TRUNCATED);
	CHECK_EQ_INT(b.off, 4);
	CHECK_EQ_INT(sbuf_sub(&b, 4, &c), SISIGN_ERR_TRUNCATED);
	CHECK_EQ_INT(b.off, 4);
	CHECK_EQ_INT(sbuf_skip(&b, SIZE_MAX), SISIGN_ERR_TRUNCATED);
	CHECK_EQ_INT(b.off, 4);
	CHECK_EQ_INT(sbuf_get_direct(&b, SIZE_MAX, &p), SISIGN_ERR_TRUNCATED);
	CHECK_EQ_INT(b.off, 4);
	CHECK_EQ_INT(sbuf_get_u16le(&b, &u16), SISIGN_OK);
	CHECK_EQ_INT(u16, 0x0605);
	CHECK_EQ_INT(sbuf_get_u16le(&b, &u16), SISIGN_ERR_TRUNCATED);
	CHECK_EQ_INT(b.off, 6);
	CHECK_EQ_INT(sbuf_get_u8(&b, &u8), SISIGN_OK);
	CHECK_EQ_INT(u8, 7);
	CHECK_EQ_INT(sbuf_get_u8(&b, &u8), SISIGN_ERR_TRUNCATED);
	CHECK_EQ_INT(sbuf_avail(&b), 0);

	sbuf_init(&b, d, sizeof(d), 0);
	CHECK_EQ_INT(sbuf_sub(&b, 3, &c), SISIGN_OK);
	CHECK_EQ_INT(c.len, 3);
	CHECK_EQ_INT(sbuf_pos(&c), 0);
	CHECK_EQ_INT(b.off, 3);
	CHECK_EQ_INT(sbuf_get_direct(&b, 4, &p), SISIGN_OK);
	CHECK(p == d + 3);
}

static void test_crc_and_uid(void)
{
	CHECK_EQ_INT(crc16_update(0, "123456789", 9), 0x31C3);
	CHECK_EQ_INT(crc16_update(crc16_update(0, "1234", 4), "56789", 5), 0x31C3);
	CHECK_EQ_INT(crc16_update(0, "", 0), 0);
	/* sis-format.md §2 */
	CHECK_EQ_INT(sis_uid_checksum(0x10201A7Au, 0, 0x11112001u), 0x9C2AFA0Bu);
	CHECK_EQ_INT(sis_uid_checksum(0x10201A7Au, 0, 0xE0000001u), 0x65F2F81Bu);
}

static void test_text(void)
{
	uint8_t *u = NULL;
	size_t n = 0;
	char *s;
	/* "A", U+00E9, U+20AC, U+1F600 (surrogate pair D83D DE00) */
	static const char utf8[] = "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
	static const uint8_t utf16[] = { 'A', 0, 0xE9, 0, 0xAC, 0x20, 0x3D, 0xD8, 0x00, 0xDE };
	static const uint8_t lone[] = { 0x3D, 0xD8, 'x', 0 };
	static const char *bad[] = { "\xC3", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "a\x80" };
	size_t i;

	CHECK_EQ_INT(utf8_to_utf16le(utf8, &u, &n), SISIGN_OK);
	CHECK_EQ_INT(n, sizeof(utf16));
	CHECK(u && memcmp(u, utf16, sizeof(utf16)) == 0);
	free(u);
	u = NULL;
	CHECK_EQ_INT(utf8_to_utf16le("", &u, &n), SISIGN_OK);
	CHECK_EQ_INT(n, 0);
	free(u);

	s = utf16le_to_utf8(utf16, sizeof(utf16));
	CHECK(s && strcmp(s, utf8) == 0);
	free(s);
	s = utf16le_to_utf8(utf16, 0);
	CHECK(s && s[0] == '\0');
	free(s);
	s = utf16le_to_utf8(lone, sizeof(lone)); /* unpaired surrogate → U+FFFD */
	CHECK(s && strcmp(s, "\xEF\xBF\xBDx") == 0);
	free(s);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		u = NULL;
		CHECK_MSG(utf8_to_utf16le(bad[i], &u, &n) == SISIGN_ERR_INVALID_ARG, "bad UTF-8 #%zu accepted", i);
		free(u);
	}
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return (size_t)-1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_atomic(void)
{
	char *dir = tu_tmpdir();
	char path[4096], bad[4096];
	struct atomic_file af;
	struct sisign_error err;
	struct stat st;
	uint8_t *back;
	size_t len = 0;

	if (!dir) {
		CHECK(dir != NULL);
		return;
	}
	snprintf(path, sizeof(path), "%s/out.bin", dir);
	snprintf(bad, sizeof(bad), "%s/no/such/dir/out.bin", dir);

	/* commit: the file appears with its mode, no temp file stays */
	CHECK_EQ_INT(atomic_open(&af, path, 0640, &err), SISIGN_OK);
	CHECK_EQ_INT(atomic_write(&af, "hello", 5, &err), SISIGN_OK);
	CHECK_EQ_INT(stat(path, &st), -1);
	CHECK_EQ_INT(atomic_commit(&af, &err), SISIGN_OK);
	atomic_abort(&af); /* harmless after commit */
	CHECK_EQ_INT(count_entries(dir), 1);
	back = tu_read_file(path, &len);
	CHECK(back && len == 5 && memcmp(back, "hello", 5) == 0);
	free(back);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);

	/* abort: the old content stays, the temp file goes */
	CHECK_EQ_INT(atomic_open(&af, path, 0644, &err), SISIGN_OK);
	CHECK_EQ_INT(atomic_write(&af, "other", 5, &err), SISIGN_OK);
	atomic_abort(&af);
	atomic_abort(&af); /* twice is fine */
	CHECK_EQ_INT(count_entries(dir), 1);
	back = tu_read_file(path, &len);
	CHECK(back && len == 5 && memcmp(back, "hello", 5) == 0);
	free(back);

	/* a directory that does not exist: SYSTEM, nothing created */
	CHECK_EQ_INT(atomic_open(&af, bad, 0644, &err), SISIGN_ERR_SYSTEM);
	CHECK(err.sys_errno != 0);
	CHECK_EQ_INT(count_entries(dir), 1);

	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	test_hdr_get();
	test_hdr_put();
	test_padding_and_fields();
	test_sbuf();
	test_crc_and_uid();
	test_text();
	test_atomic();
	return tu_finish();
}
