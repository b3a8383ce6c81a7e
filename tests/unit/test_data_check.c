/* SPDX-License-Identifier: Apache-2.0 */
/* sisign_pkg_check_data: each data entry is inflated and hashed once however
 * many file descriptions name it (issue #11 item 4); the data-unit cap; the
 * installer's file size limit (sis-format.md §3.6) as the default cap; a
 * stub's files have no data and that is no failure. */
#include <stdlib.h>
#include <string.h>

#include <sisign/package.h>

#include "testutil.h"
#include "format/format_private.h"

/* 10,000 descriptions of one 1 MiB entry: one inflate-and-hash pass, and
 * every description judged by it. */
static void test_one_pass_per_entry(void)
{
	const struct tu_sis_spec spec = { 0xE0000001u, 10000, (uint64_t)1 << 20, 1, 0 };
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	size_t len = 0, nok = 0;
	uint8_t *p = tu_build_sis(&spec, &len);
	int r;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK(len < 256 * 1024); /* small package, big work if repeated */
	r = sisign_pkg_parse_mem(p, len, NULL, &pkg, &err);
	CHECK_MSG(r == SISIGN_OK, "parse: %s", err.message);
	if (r == SISIGN_OK) {
		const struct sisign_controller *c = sisign_pkg_controller(pkg);
		CHECK_EQ_INT(c->nfiles, 10000);
		CHECK_EQ_INT(pkg->data_passes, 0);
		CHECK_EQ_INT(sisign_pkg_check_data(pkg, &err), SISIGN_OK);
		CHECK_EQ_INT(pkg->data_passes, 1);
		for (size_t i = 0; i < c->nfiles; i++)
			nok += c->files[i].hash_status == SISIGN_HASH_OK;
		CHECK_EQ_INT(nok, 10000);
		/* the result is cached: no second pass */
		CHECK_EQ_INT(sisign_pkg_check_data(pkg, &err), SISIGN_OK);
		CHECK_EQ_INT(pkg->data_passes, 1);
	}
	sisign_pkg_free(pkg);
	free(p);
}

/* A damaged entry named by 100 descriptions: one pass, one error (naming the
 * first description), every description marked corrupt. */
static void test_bad_entry_once(void)
{
	const struct tu_sis_spec spec = { 0xE0000001u, 100, 4096, 1, 0 };
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	size_t len = 0, ncorrupt = 0;
	uint8_t *p = tu_build_sis(&spec, &len);
	uint64_t end;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(sisign_pkg_parse_mem(p, len, NULL, &pkg, &err), SISIGN_OK);
	if (!pkg) {
		free(p);
		return;
	}
	end = pkg->units[0].files[0].payload_off + pkg->units[0].files[0].payload_len;
	sisign_pkg_free(pkg);
	pkg = NULL;
	p[end - 1] ^= 0x01; /* the zlib stream's Adler-32 */
	CHECK_EQ_INT(sisign_pkg_parse_mem(p, len, NULL, &pkg, &err), SISIGN_OK);
	if (pkg) {
		const struct sisign_controller *c = sisign_pkg_controller(pkg);
		CHECK_EQ_INT(sisign_pkg_check_data(pkg, &err), SISIGN_ERR_CORRUPT_DATA);
		CHECK_MSG(strstr(err.message, "f0.txt") != NULL, "%s", err.message);
		CHECK_EQ_INT(pkg->data_passes, 1);
		for (size_t i = 0; i < c->nfiles; i++)
			ncorrupt += c->files[i].hash_status == SISIGN_HASH_CORRUPT;
		CHECK_EQ_INT(ncorrupt, 100);
	}
	sisign_pkg_free(pkg);
	free(p);
}

static int parse_units(size_t nunits, struct sisign_error *err)
{
	const struct tu_sis_spec spec = { 0xE0000001u, 1, 16, nunits, 0 };
	struct sisign_pkg *pkg = NULL;
	size_t len = 0;
	uint8_t *p = tu_build_sis(&spec, &len);
	int r;
	if (!p)
		return SISIGN_ERR_NOMEM;
	r = sisign_pkg_parse_mem(p, len, NULL, &pkg, err);
	if (r == SISIGN_OK)
		CHECK_EQ_INT(sisign_pkg_info(pkg)->ndata_units, nunits);
	sisign_pkg_free(pkg);
	free(p);
	return r;
}

static void test_data_unit_cap(void)
{
	struct sisign_error err;
	CHECK_EQ_INT(parse_units(65536, &err), SISIGN_OK);
	CHECK_EQ_INT(parse_units(65537, &err), SISIGN_ERR_TOO_LARGE);
	CHECK_MSG(strstr(err.message, "more than 65536 data units") != NULL, "%s", err.message);
}

/* The default file cap is the installer's: a declared size of 0x3FFFFFFF is
 * refused before any data is read; 0x3FFFFFFE is in range (and then found
 * not to match the data). */
static void test_file_size_limit(void)
{
	const struct tu_sis_spec spec = { 0xE0000001u, 1, 16, 1, 0 };
	static const uint64_t sizes[2] = { 0x3FFFFFFFu, 0x3FFFFFFEu };
	static const int want[2] = { SISIGN_ERR_TOO_LARGE, SISIGN_ERR_CORRUPT_DATA };
	struct sisign_error err;
	size_t len = 0;
	uint8_t *p = tu_build_sis(&spec, &len);

	CHECK(p != NULL);
	for (int k = 0; p && k < 2; k++) {
		struct sisign_pkg *pkg = NULL;
		uint64_t at;
		CHECK_EQ_INT(sisign_pkg_parse_mem(p, len, NULL, &pkg, &err), SISIGN_OK);
		if (!pkg)
			break;
		/* the entry's SISCompressed: algorithm, then the u64 size */
		at = pkg->units[0].files[0].payload_off - 8;
		sisign_pkg_free(pkg);
		pkg = NULL;
		put_le32(p + at, (uint32_t)sizes[k]);
		put_le32(p + at + 4, (uint32_t)(sizes[k] >> 32));
		CHECK_EQ_INT(sisign_pkg_parse_mem(p, len, NULL, &pkg, &err), SISIGN_OK);
		if (!pkg)
			break;
		CHECK_EQ_INT(sisign_pkg_check_data(pkg, &err), want[k]);
		CHECK_EQ_INT(sisign_pkg_controller(pkg)->files[0].hash_status, SISIGN_HASH_CORRUPT);
		if (k == 0) {
			CHECK_MSG(strstr(err.message, "1073741822-byte limit") != NULL, "%s", err.message);
			CHECK_EQ_INT(pkg->data_passes, 0);
		}
		sisign_pkg_free(pkg);
	}
	free(p);
}

/* A stub (SISData without a data unit, install-rules.md IR-SIG-8) of type
 * SA: its files are on the media it came on, so a description without data
 * is no failure (it was SISIGN_HASH_MISSING and SISIGN_ERR_MALFORMED, which
 * made `sisign sign` refuse the installer's own removable-media stubs). */
static void test_stub_has_no_data(void)
{
	const struct tu_sis_spec spec = { 0xE0000001u, 2, 16, 1, 0 };
	static const uint32_t empty[5] = { 30, 12, 2, 4, 31 }; /* SISData, no unit (§5.12) */
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	size_t len = 0, at;
	uint8_t *p = tu_build_sis(&spec, &len);

	CHECK(p != NULL);
	if (!p)
		return;
	/* UID header, SISContents header, the SISCompressed controller, then
	 * SISData: cut SISData down to an empty array of data units. */
	at = 24 + 8 + le32(p + 28);
	at += (4 - at % 4) % 4;
	CHECK_EQ_INT(le32(p + at), 30);
	for (int i = 0; i < 5; i++)
		put_le32(p + at + 4 * (size_t)i, empty[i]);
	len = at + 20;
	put_le32(p + 20, (uint32_t)(len - 24));
	CHECK_EQ_INT(sisign_pkg_parse_mem(p, len, NULL, &pkg, &err), SISIGN_OK);
	if (pkg) {
		const struct sisign_controller *c = sisign_pkg_controller(pkg);
		CHECK_EQ_INT(sisign_pkg_info(pkg)->ndata_units, 0);
		CHECK_EQ_INT(c->install_type, 0);
		CHECK_EQ_INT(sisign_pkg_check_data(pkg, &err), SISIGN_OK);
		for (size_t i = 0; i < c->nfiles; i++)
			CHECK_EQ_INT(c->files[i].hash_status, SISIGN_HASH_NO_DATA);
	}
	sisign_pkg_free(pkg);
	free(p);
}

int main(void)
{
	test_one_pass_per_entry();
	test_bad_entry_once();
	test_data_unit_cap();
	test_file_size_limit();
	test_stub_has_no_data();
	return tu_finish();
}
