/* SPDX-License-Identifier: Apache-2.0 */
/* sisign_pack: build packages from files of awkward sizes and options, parse
 * them back, and check every field of the model; bad input fails with the
 * exact code and leaves no output behind. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include <sisign/package.h>

#define MIB (1024u * 1024u)

static char *tmp;

static char *path_in(const char *name)
{
	size_t n = strlen(tmp) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", tmp, name);
	return p;
}

static int exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

static void make_inputs(void)
{
	uint8_t *buf = malloc(MIB);
	size_t i;
	uint32_t x = 0x12345678u;
	char *p;

	if (!buf)
		return;
	p = path_in("empty"); CHECK(tu_write_file(p, "", 0) == 0); free(p);
	p = path_in("one"); CHECK(tu_write_file(p, "Z", 1) == 0); free(p);
	for (i = 0; i < MIB; i++)
		buf[i] = (uint8_t)("sisign compressible text "[i % 25]);
	p = path_in("text"); CHECK(tu_write_file(p, buf, MIB) == 0); free(p);
	for (i = 0; i < 300 * 1024; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5; /* xorshift: incompressible */
		buf[i] = (uint8_t)x;
	}
	p = path_in("random"); CHECK(tu_write_file(p, buf, 300 * 1024) == 0); free(p);
	free(buf);
}

static void test_pack_full(void)
{
	static const char *const names[] = { "Demo", "Demo (FI)" };
	static const char *const vendors[] = { "Acme Ltd", "Acme Oy" };
	static const uint32_t langs[] = { 1, 9 };
	static const uint64_t sizes[] = { 0, 1, MIB, 300 * 1024 };
	static const char *const targets[] = { "!:\\private\\E0001234\\empty.txt", "!:\\private\\E0001234\\one.txt",
		"!:\\sys\\bin\\text.exe", "!:\\private\\E0001234\\random.bin" };
	struct sisign_datetime created = { 2024, 2, 29, 13, 14, 15 };
	struct sisign_pack_file files[4];
	struct sisign_pack_opts o;
	struct sisign_error err;
	struct sisign_pkg *pkg = NULL;
	const struct sisign_controller *c;
	const struct sisign_pkg_info *info;
	char *src[4], *out = path_in("full.sis"), *out2 = path_in("full2.sis");
	const char *srcnames[] = { "empty", "one", "text", "random" };
	uint8_t *bytes = NULL, *bytes2 = NULL;
	size_t len = 0, len2 = 0, i;
	int r;

	memset(files, 0, sizeof(files));
	for (i = 0; i < 4; i++) {
		src[i] = path_in(srcnames[i]);
		files[i].source = src[i];
		files[i].target = targets[i];
	}
	files[2].capabilities = (1u << 15) | (1u << 16); /* ReadUserData, WriteUserData */
	files[2].mime = "application/x-exe";
	memset(&o, 0, sizeof(o));
	o.uid = 0xE0001234u;
	o.names = names;
	o.vendors = vendors;
	o.vendor = "Acme";
	o.version.major = 1; o.version.minor = 2; o.version.build = 3;
	o.languages = langs;
	o.nlanguages = 2;
	o.platform = 1;
	o.files = files;
	o.nfiles = 4;
	o.created = &created;

	r = sisign_pack(&o, out, &err);
	CHECK_MSG(r == SISIGN_OK, "sisign_pack: %d %s", r, err.message);
	bytes = tu_read_file(out, &len);
	CHECK(bytes != NULL);
	if (!bytes)
		goto out;
	r = sisign_pkg_parse_mem(bytes, len, NULL, &pkg, &err);
	CHECK_MSG(r == SISIGN_OK, "parse: %d %s", r, err.message);
	if (r != SISIGN_OK)
		goto out;
	info = sisign_pkg_info(pkg);
	CHECK_EQ_INT(info->kind, SISIGN_PKG_SISX);
	CHECK_EQ_INT(info->file_size, len);
	CHECK_EQ_INT(info->uid1, 0x10201A7Au);
	CHECK_EQ_INT(info->uid2, 0);
	CHECK_EQ_INT(info->uid3, 0xE0001234u);
	CHECK(info->uid_checksum_ok);
	CHECK(info->uid3_matches);
	CHECK(!info->has_controller_crc || info->controller_crc_ok);
	CHECK_EQ_INT(info->ndata_units, 1);
	CHECK_EQ_INT(sisign_pkg_nwarnings(pkg), 0);

	c = sisign_pkg_controller(pkg);
	CHECK_EQ_INT(c->depth, 0);
	CHECK_EQ_INT(c->uid, 0xE0001234u);
	CHECK(c->vendor_unique && strcmp(c->vendor_unique, "Acme") == 0);
	CHECK_EQ_INT(c->nnames, 2);
	CHECK(c->nnames == 2 && !strcmp(c->names[0], "Demo") && !strcmp(c->names[1], "Demo (FI)"));
	CHECK_EQ_INT(c->nvendors, 2);
	CHECK(c->nvendors == 2 && !strcmp(c->vendors[0], "Acme Ltd") && !strcmp(c->vendors[1], "Acme Oy"));
	CHECK_EQ_INT(c->version.major, 1);
	CHECK_EQ_INT(c->version.minor, 2);
	CHECK_EQ_INT(c->version.build, 3);
	CHECK_EQ_INT(c->created.year, 2024);
	CHECK_EQ_INT(c->created.month, 2);
	CHECK_EQ_INT(c->created.day, 29);
	CHECK_EQ_INT(c->created.hour, 13);
	CHECK_EQ_INT(c->created.minute, 14);
	CHECK_EQ_INT(c->created.second, 15);
	CHECK_EQ_INT(c->install_type, 0);
	CHECK_EQ_INT(c->noptions, 0);
	CHECK_EQ_INT(c->nlanguages, 2);
	CHECK(c->nlanguages == 2 && c->languages[0] == 1 && c->languages[1] == 9);
	CHECK_EQ_INT(c->ntargets, 1);
	if (c->ntargets == 1)
		CHECK_EQ_INT(c->targets[0].uid, 0x101F7961u);
	CHECK_EQ_INT(c->ndeps, 0);
	CHECK(c->logo == NULL);
	CHECK_EQ_INT(c->nembedded, 0);
	CHECK_EQ_INT(c->nchains, 0);
	CHECK_EQ_INT(c->data_index, 0);
	CHECK_EQ_INT(c->trailing, 0);
	CHECK_EQ_INT(c->damage, 0);
	CHECK_EQ_INT(c->nfiles, 4);
	for (i = 0; i < c->nfiles && i < 4; i++) {
		const struct sisign_file *f = &c->files[i];
		CHECK_MSG(!strcmp(f->target, targets[i]), "file %zu target %s", i, f->target);
		CHECK_EQ_INT(f->uncompressed_length, sizes[i]);
		CHECK_EQ_INT(f->operation, 1);
		CHECK_EQ_INT(f->hash_alg, 1);
		CHECK_EQ_INT(f->file_index, i);
		CHECK_EQ_INT(f->conditional, 0);
		if (i == 2) {
			CHECK_EQ_INT(f->ncaps, 1);
			if (f->ncaps == 1)
				CHECK_EQ_INT(f->caps[0], (1u << 15) | (1u << 16));
			CHECK(!strcmp(f->mime, "application/x-exe"));
			CHECK(f->length < MIB / 10);    /* compressible: deflated */
		} else {
			CHECK_EQ_INT(f->ncaps, 0);
			CHECK(!strcmp(f->mime, ""));
		}
		if (i == 3)
			CHECK_EQ_INT(f->length, 300 * 1024); /* random: stored (§3.6) */
	}
	r = sisign_pkg_check_data(pkg, &err);
	CHECK_MSG(r == SISIGN_OK, "check_data: %d %s", r, err.message);
	for (i = 0; i < c->nfiles; i++) {
		const struct sisign_file *f = &c->files[i];
		CHECK_MSG(f->hash_status == SISIGN_HASH_OK, "file %zu hash_status %d", i, (int)f->hash_status);
		CHECK_EQ_INT(f->hash_len, 20);
		/* where the data is, as found while parsing */
		CHECK(f->data_offset > 0);
		CHECK_EQ_INT(f->length, f->data_stored);
		CHECK_EQ_INT(f->data_algorithm, i == 2 ? 1 : 0);
	}
	CHECK_EQ_INT(sisign_pkg_check_checksums(pkg, &err), SISIGN_OK);
	CHECK(!info->has_data_crc || info->data_crc_ok == 1);

	/* round trip */
	r = sisign_pkg_write(pkg, out2, 0644, &err);
	CHECK_MSG(r == SISIGN_OK, "write: %d %s", r, err.message);
	bytes2 = tu_read_file(out2, &len2);
	CHECK(bytes2 && len2 == len && memcmp(bytes, bytes2, len) == 0);
out:
	sisign_pkg_free(pkg);
	for (i = 0; i < 4; i++)
		free(src[i]);
	free(bytes);
	free(bytes2);
	free(out);
	free(out2);
}

static void test_pack_bad(void)
{
	static const char *const names[] = { "Demo" };
	struct sisign_pack_file f;
	struct sisign_pack_opts o;
	struct sisign_error err;
	char *out = path_in("bad.sis"), *missing = path_in("does-not-exist");

	memset(&f, 0, sizeof(f));
	f.source = missing;
	f.target = "!:\\sys\\bin\\x.exe";
	memset(&o, 0, sizeof(o));
	o.uid = 0xE0001234u;
	o.names = names;
	o.vendor = "Acme";
	o.files = &f;
	o.nfiles = 1;

	sisign_error_clear(&err);
	CHECK_EQ_INT(sisign_pack(&o, out, &err), SISIGN_ERR_SYSTEM);
	CHECK_EQ_INT(err.code, SISIGN_ERR_SYSTEM);
	CHECK(err.message[0] != '\0');
	CHECK(!exists(out));

	o.nfiles = 0;
	o.names = NULL;
	CHECK_EQ_INT(sisign_pack(&o, out, &err), SISIGN_ERR_INVALID_ARG);
	CHECK(!exists(out));
	CHECK_EQ_INT(sisign_pack(NULL, out, &err), SISIGN_ERR_INVALID_ARG);
	CHECK(!exists(out));

	/* unwritable destination: SYSTEM, nothing left in the temp dir */
	o.names = names;
	{
		char *nodir = path_in("no/such/dir.sis");
		CHECK_EQ_INT(sisign_pack(&o, nodir, &err), SISIGN_ERR_SYSTEM);
		free(nodir);
	}
	free(out);
	free(missing);
}

/* A source file the device would not install (0x3FFFFFFF bytes or more,
 * sis-format.md §3.6) is refused before it is read (here: a sparse file). */
static void test_pack_too_big(void)
{
	static const char *const names[] = { "Demo" };
	struct sisign_pack_file f;
	struct sisign_pack_opts o;
	struct sisign_error err;
	char *out = path_in("huge.sis"), *huge = path_in("huge");
	int fd = open(huge, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(ftruncate(fd, 0x3FFFFFFF) == 0);
		close(fd);
	}
	memset(&f, 0, sizeof(f));
	f.source = huge;
	f.target = "!:\\data\\huge.bin";
	memset(&o, 0, sizeof(o));
	o.uid = 0xE0001234u;
	o.names = names;
	o.vendor = "Acme";
	o.files = &f;
	o.nfiles = 1;
	sisign_error_clear(&err);
	CHECK_EQ_INT(sisign_pack(&o, out, &err), SISIGN_ERR_TOO_LARGE);
	CHECK_MSG(strstr(err.message, "at most 1073741822") != NULL, "%s", err.message);
	CHECK(!exists(out));
	unlink(huge);
	free(out);
	free(huge);
}

int main(void)
{
	tmp = tu_tmpdir();
	if (!tmp) {
		CHECK(tmp != NULL);
		return tu_finish();
	}
	make_inputs();
	test_pack_full();
	test_pack_bad();
	test_pack_too_big();
	tu_rmrf(tmp);
	free(tmp);
	return tu_finish();
}
