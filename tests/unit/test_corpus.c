/* SPDX-License-Identifier: Apache-2.0 */
/* Conformance over ../shared/corpus: for every file in MANIFEST.tsv, the kind,
 * whether it parses, the number of top-level chains, UID3 and the checksum
 * flags agree with the independent checker; every parseable file is written
 * back byte for byte; the corrupt files named in the corpus README fail with
 * their specific errors; every signable file, signed with a test key and
 * unsigned again, comes back as it was (issue #11 item 12).  Skips with a
 * message when the corpus is absent. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sisign/package.h>
#include <sisign/sign.h>

#include "testutil.h"
#include "format/format_private.h"

/* README.md of the corpus: what the device installer does with these.  The
 * independent checker only decoded the controller, so it lists them as
 * parsing; sisign follows the device (sis-format.md §3.6 caps the declared
 * uncompressed size below 1 GiB). */
static const struct {
	const char *suffix;
	int code;
} device_rejects[] = {
	{ "tsisfile/data/files/panic47.sis", SISIGN_ERR_TOO_LARGE },
	{ "tsisfile/data/files/corruptedlengthfield.sis", SISIGN_ERR_TRUNCATED },
	{ NULL, 0 },
};

static int device_reject_code(const char *path)
{
	size_t n = strlen(path);
	for (int i = 0; device_rejects[i].suffix; i++) {
		size_t k = strlen(device_rejects[i].suffix);
		if (n >= k && strcmp(path + n - k, device_rejects[i].suffix) == 0)
			return device_rejects[i].code;
	}
	return 0;
}

static int count_lines, count_parsed, count_roundtrip;

static void check_roundtrip(struct sisign_pkg *pkg, const char *full, const char *tmpdir)
{
	char out[4096];
	size_t a = 0, b = 0;
	uint8_t *orig, *copy;
	struct sisign_error err;
	snprintf(out, sizeof out, "%s/rt.sis", tmpdir);
	int r = sisign_pkg_write(pkg, out, 0644, &err);
	CHECK_MSG(r == SISIGN_OK, "%s: write failed: %s", full, err.message);
	if (r != SISIGN_OK)
		return;
	orig = tu_read_file(full, &a);
	copy = tu_read_file(out, &b);
	CHECK_MSG(orig && copy && a == b && memcmp(orig, copy, a) == 0, "%s: round trip differs (%zu vs %zu bytes)",
		full, a, b);
	if (orig && copy && a == b && memcmp(orig, copy, a) == 0)
		count_roundtrip++;
	free(orig);
	free(copy);
	unlink(out);
}

static int count_signable, count_sign_identical;

/* Whether SISContents holds a SISControllerChecksum field (§5.2). */
static int has_ctl_crc(const char *path)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	int has;
	if (sisign_pkg_open(path, NULL, &pkg, &err) != SISIGN_OK)
		return -1;
	has = sisign_pkg_info(pkg)->has_controller_crc;
	sisign_pkg_free(pkg);
	return has;
}

static int same_bytes(const char *a, const char *b)
{
	size_t na = 0, nb = 0;
	uint8_t *pa = tu_read_file(a, &na), *pb = tu_read_file(b, &nb);
	int eq = pa && pb && na == nb && memcmp(pa, pb, na) == 0;
	free(pa);
	free(pb);
	return eq;
}

/* Sign `full` with id, unsign the result: U.  The reference R is the input
 * written back with its controller rebuilt (recompressed the way sisign and
 * signsis compress, CRC recomputed): U must equal R, and the input itself
 * whenever R does (a controller already compressed that way, a CRC that was
 * not stale).  Either way U keeps a controller CRC field exactly when the
 * input has one: sign never adds one, unsign never drops one. */
static void check_sign_unsign(const char *full, const char *rel, struct sisign_identity *id, const char *tmpdir)
{
	char s[4096], u[4096], ref[4096];
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	int r;

	snprintf(s, sizeof s, "%s/s.sis", tmpdir);
	snprintf(u, sizeof u, "%s/u.sis", tmpdir);
	snprintf(ref, sizeof ref, "%s/ref.sis", tmpdir);
	if (sisign_pkg_open(full, NULL, &pkg, &err) != SISIGN_OK)
		return;
	if (sisign_pkg_check_signable(pkg, &err) != SISIGN_OK) {
		printf("note: %s: not signable: %s\n", rel, err.message);
		sisign_pkg_free(pkg);
		return;
	}
	count_signable++;
	pkg->dirty = 1; /* the reference: the same controller, rebuilt */
	r = sisign_pkg_write(pkg, ref, 0644, &err);
	CHECK_MSG(r == SISIGN_OK, "%s: reference: %s", rel, err.message);
	r = sisign_pkg_sign(pkg, id, &err);
	CHECK_MSG(r == SISIGN_OK, "%s: sign: %s", rel, err.message);
	if (r == SISIGN_OK)
		r = sisign_pkg_write(pkg, s, 0644, &err);
	sisign_pkg_free(pkg);
	pkg = NULL;
	if (r != SISIGN_OK)
		return;
	r = sisign_pkg_open(s, NULL, &pkg, &err);
	CHECK_MSG(r == SISIGN_OK, "%s: signed output does not parse: %s", rel, err.message);
	if (r == SISIGN_OK)
		r = sisign_pkg_unsign(pkg, 0, &err);
	CHECK_MSG(r == SISIGN_OK, "%s: unsign: %s", rel, err.message);
	if (r == SISIGN_OK)
		r = sisign_pkg_write(pkg, u, 0644, &err);
	sisign_pkg_free(pkg);
	if (r != SISIGN_OK)
		return;
	CHECK_MSG(has_ctl_crc(s) == has_ctl_crc(full), "%s: sign changed whether there is a controller CRC field", rel);
	CHECK_MSG(has_ctl_crc(u) == has_ctl_crc(full), "%s: unsign changed whether there is a controller CRC field",
		rel);
	CHECK_MSG(same_bytes(u, ref), "%s: sign then unsign differs from the input with its controller rebuilt", rel);
	if (same_bytes(ref, full)) {
		CHECK_MSG(same_bytes(u, full), "%s: sign then unsign is not the input byte for byte", rel);
		count_sign_identical++;
	}
	unlink(s);
	unlink(u);
	unlink(ref);
}

int main(void)
{
	const char *corpus = tu_corpus();
	const struct tu_identity tid = { "RSA", 2048, 11, -86400, 365L * 86400, "sisign corpus test", "codeSigning" };
	char path[4096], line[8192], key[4096], cert[4096];
	struct sisign_identity_opts io = { cert, NULL, 0, 0 };
	struct sisign_signer *sg = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_error ierr;
	char *tmpdir;
	FILE *mf;

	if (!corpus) {
		tu_skip("corpus not found (set SISIGN_CORPUS to ../shared/corpus); conformance not checked");
		return tu_finish();
	}
	tmpdir = tu_tmpdir();
	snprintf(key, sizeof key, "%s/test.key", tmpdir);
	snprintf(cert, sizeof cert, "%s/test.pem", tmpdir);
	CHECK(tu_make_identity(&tid, key, cert) == 0);
	CHECK(sisign_signer_from_key_file(key, NULL, NULL, &sg, &ierr) == SISIGN_OK);
	if (sg)
		CHECK(sisign_identity_new(sg, &io, &id, &ierr) == SISIGN_OK);
	snprintf(path, sizeof path, "%s/MANIFEST.tsv", corpus);
	mf = fopen(path, "r");
	CHECK(mf != NULL);
	if (!mf)
		return tu_finish();
	if (!fgets(line, sizeof line, mf)) { /* header */
		fclose(mf);
		return tu_finish();
	}
	while (fgets(line, sizeof line, mf)) {
		char *cols[8] = { 0 };
		char *save = NULL, *tok;
		int ncol = 0;
		struct sisign_pkg *pkg = NULL;
		struct sisign_error err;
		char full[4096];
		int r, rej;

		line[strcspn(line, "\r\n")] = 0;
		for (tok = strtok_r(line, "\t", &save); tok && ncol < 8; tok = strtok_r(NULL, "\t", &save))
			cols[ncol++] = tok;
		if (ncol < 7)
			continue;
		count_lines++;
		snprintf(full, sizeof full, "%s/sis/%s", corpus, cols[0]);
		sisign_error_clear(&err);
		r = sisign_pkg_open(full, NULL, &pkg, &err);
		rej = device_reject_code(full);

		if (rej) {
			CHECK_MSG(r == rej, "%s: expected error %d, got %d (%s)", cols[0], rej, r, err.message);
		} else if (strcmp(cols[1], "sisx") == 0) {
			CHECK_MSG(r == SISIGN_OK, "%s: should parse: %s (offset %lld)", cols[0], err.message, err.offset);
			if (r == SISIGN_OK) {
				const struct sisign_pkg_info *in = sisign_pkg_info(pkg);
				const struct sisign_controller *c = sisign_pkg_controller(pkg);
				char uid[16];
				count_parsed++;
				CHECK_EQ_INT(in->kind, SISIGN_PKG_SISX);
				CHECK_MSG((long)c->nchains == strtol(cols[3], NULL, 10), "%s: %zu chains, manifest %s", cols[0],
					c->nchains, cols[3]);
				snprintf(uid, sizeof uid, "%08x", in->uid3);
				CHECK_MSG(strcmp(uid, cols[5]) == 0, "%s: UID3 %s, manifest %s", cols[0], uid, cols[5]);
				{
					struct sisign_error e2;
					char flags[64];
					CHECK_EQ_INT(sisign_pkg_check_checksums(pkg, &e2), SISIGN_OK);
					if (sisign_pkg_check_data(pkg, &e2) != SISIGN_OK)
						printf("note: %s: %s\n", cols[0], e2.message);
					snprintf(flags, sizeof flags, "ctl=%s data=%s",
						in->has_controller_crc && in->controller_crc_ok ? "True" : "False",
						in->has_data_crc && in->data_crc_ok == 1 ? "True" : "False");
					CHECK_MSG(strcmp(flags, cols[6]) == 0, "%s: checksums %s, manifest %s", cols[0], flags,
						cols[6]);
				}
				check_roundtrip(pkg, full, tmpdir);
				if (id)
					check_sign_unsign(full, cols[0], id, tmpdir);
			}
		} else if (strcmp(cols[1], "stubctl?") == 0) {
			/* Bare controllers: the checker did not parse them; we must either
			 * parse them as a stub/.ctl or reject them with a clear error. */
			if (r == SISIGN_OK) {
				const struct sisign_pkg_info *in = sisign_pkg_info(pkg);
				count_parsed++;
				CHECK_MSG(in->kind == SISIGN_PKG_STUB || in->kind == SISIGN_PKG_CTL, "%s: kind %d", cols[0],
					in->kind);
				check_roundtrip(pkg, full, tmpdir);
				if (id && in->kind == SISIGN_PKG_CTL)
					check_sign_unsign(full, cols[0], id, tmpdir);
			} else {
				CHECK_MSG(err.message[0] != 0, "%s: error without message", cols[0]);
				printf("note: %s: %s\n", cols[0], err.message);
			}
		} else if (strcmp(cols[1], "legacy") == 0) {
			CHECK_MSG(r == SISIGN_ERR_UNSUPPORTED_VERSION, "%s: legacy file gave %d (%s)", cols[0], r, err.message);
			CHECK(strstr(err.message, "pre-v9") != NULL);
		} else if (strcmp(cols[1], "unparseable") == 0) {
			CHECK_MSG(r < 0, "%s: unparseable file parsed", cols[0]);
			CHECK_MSG(err.message[0] != 0, "%s: error without message", cols[0]);
			printf("note: %s: rejected: %s\n", cols[0], err.message);
		} else {
			CHECK_MSG(0, "%s: unknown kind %s in manifest", cols[0], cols[1]);
		}
		sisign_pkg_free(pkg);
	}
	fclose(mf);
	printf("corpus: %d files, %d parsed, %d written back byte for byte\n", count_lines, count_parsed,
		count_roundtrip);
	printf("corpus: %d signable, signed and unsigned again; %d of them give back the input byte for byte,\n"
	       "        the rest their input with the controller rebuilt\n", count_signable, count_sign_identical);
	CHECK(count_lines == 143);
	CHECK(count_signable > 0);
	sisign_identity_free(id);
	sisign_signer_free(sg);
	tu_rmrf(tmpdir);
	free(tmpdir);
	return tu_finish();
}
