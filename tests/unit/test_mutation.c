/* SPDX-License-Identifier: Apache-2.0 */
/* Mutation test (house style; issue #3): in a signed package, flipping any
 * bit of any byte makes verification fail, except in an explicit allow-list
 * of bytes the format leaves unprotected: the two CRC-16 values, and
 * padding outside the signed controller.  Every truncation fails too.
 * Works in memory (sisign_pkg_parse_mem), so it runs over every byte. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sisign/package.h>
#include <sisign/sign.h>
#include <sisign/verify.h>

#include "format/format_private.h"
#include "testutil.h"

static char *tmp;
static const char *trust[2];

static void make_identity(const char *keypath, const char *certpath)
{
	static const struct tu_identity id = { "RSA", 1024, 3, -86400, 86400 * 30, "mutation", NULL };
	(void)tu_make_identity(&id, keypath, certpath);
}

static uint8_t *orig_ctrl;
static size_t orig_ctrl_len;
static int last_equivalent;

/* 1 if the bytes verify as trusted (the original does).  last_equivalent
 * says whether the decompressed controller is the original's: a flip in
 * compressed bytes that zlib decodes to the same output (unused bits after
 * the last code, say) changes nothing that is signed or hashed. */
static int verifies(const uint8_t *p, size_t n)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_verify_report *rep = NULL;
	struct sisign_error err;
	struct sisign_verify_opts vo = { trust, 0, 0 };
	int ok = 0;
	if (sisign_pkg_parse_mem(p, n, NULL, &pkg, &err) != SISIGN_OK)
		return 0;
	if (sisign_pkg_verify(pkg, &vo, &rep, &err) == SISIGN_OK)
		ok = rep->verdict == SISIGN_VERDICT_TRUSTED;
	last_equivalent = orig_ctrl && pkg->ctrl_len == orig_ctrl_len && memcmp(pkg->ctrl, orig_ctrl, orig_ctrl_len) == 0;
	if (!orig_ctrl) {
		orig_ctrl = malloc(pkg->ctrl_len);
		if (orig_ctrl) {
			memcpy(orig_ctrl, pkg->ctrl, pkg->ctrl_len);
			orig_ctrl_len = pkg->ctrl_len;
		}
	}
	sisign_verify_report_free(rep);
	sisign_pkg_free(pkg);
	return ok;
}

/* The allow-list, from the layout: CRC values (with their padding), the
 * padding after the compressed controller, after SISContents, and after
 * each file's payload. */
static void allow_list(const uint8_t *p, size_t n, uint8_t *allow)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	size_t off = 16;
	struct sbuf b;
	struct sisf_hdr h;

	CHECK(sisign_pkg_parse_mem(p, n, NULL, &pkg, &err) == SISIGN_OK);
	if (!pkg)
		return;
	sbuf_init(&b, p, n, 0);
	CHECK(sbuf_skip(&b, 16) == SISIGN_OK);
	CHECK(sisf_get_hdr(&b, 1, &h, NULL) == SISIGN_OK); /* SISContents */
	for (size_t i = b.off + h.len; i < n; i++)
		allow[i] = 1; /* SISContents padding (and nothing else follows) */
	off = b.off;
	for (int k = 0; k < 3; k++) {
		struct sbuf f;
		sbuf_init(&f, p + off, n - off, off);
		CHECK(sisf_get_hdr(&f, 1, &h, NULL) == SISIGN_OK);
		if (h.type == SISF_CONTROLLER_CHECKSUM || h.type == SISF_DATA_CHECKSUM) {
			for (size_t i = 0; i < h.len + sisf_pad(h.len); i++)
				allow[off + h.hdrlen + i] = 1;
		} else if (h.type == SISF_COMPRESSED) {
			for (size_t i = 0; i < sisf_pad(h.len); i++)
				allow[off + h.hdrlen + h.len + i] = 1;
		}
		off += h.hdrlen + h.len + sisf_pad(h.len);
	}
	for (size_t u = 0; u < pkg->nunits; u++)
		for (size_t i = 0; i < pkg->units[u].nfiles; i++) {
			const struct sis_unit_file *uf = &pkg->units[u].files[i];
			for (size_t k = 0; k < sisf_pad(12 + uf->payload_len); k++)
				allow[uf->payload_off + uf->payload_len + k] = 1;
		}
	sisign_pkg_free(pkg);
}

int main(void)
{
	char key[4096], cert[4096], f1[4096], f2[4096], pk[4096], sg[4096];
	struct sisign_pack_file files[2];
	struct sisign_pack_opts po;
	const char *names[] = { "Mutation" };
	struct sisign_signer *signer = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_identity_opts io;
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	uint8_t *orig, *mut, *allow;
	size_t n = 0, allowed = 0, survived = 0, flips = 0, equivalent = 0;
	FILE *f;

	tmp = tu_tmpdir();
	snprintf(key, sizeof key, "%s/k.pem", tmp);
	snprintf(cert, sizeof cert, "%s/c.pem", tmp);
	snprintf(f1, sizeof f1, "%s/a.txt", tmp);
	snprintf(f2, sizeof f2, "%s/b.bin", tmp);
	snprintf(pk, sizeof pk, "%s/p.sis", tmp);
	snprintf(sg, sizeof sg, "%s/s.sis", tmp);
	make_identity(key, cert);
	trust[0] = cert;
	f = fopen(f1, "w");
	for (int i = 0; i < 60; i++)
		fprintf(f, "line %d of a compressible file\n", i);
	fclose(f);
	f = fopen(f2, "w");
	for (int i = 0; i < 301; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);

	memset(files, 0, sizeof files);
	files[0].source = f1;
	files[0].target = "!:\\private\\e0000123\\a.txt";
	files[1].source = f2;
	files[1].target = "!:\\sys\\bin\\b.exe";
	files[1].capabilities = 1u << 13;
	memset(&po, 0, sizeof po);
	po.uid = 0xE0000123;
	po.names = names;
	po.vendor = "Acme";
	po.version = (struct sisign_version){ 1, 2, 3 };
	po.platform = 1;
	po.files = files;
	po.nfiles = 2;
	CHECK_EQ_INT(sisign_pack(&po, pk, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_signer_from_key_file(key, NULL, NULL, &signer, &err), SISIGN_OK);
	memset(&io, 0, sizeof io);
	io.cert_file = cert;
	CHECK_EQ_INT(sisign_identity_new(signer, &io, &id, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_pkg_open(pk, NULL, &pkg, &err), SISIGN_OK);
	if (!pkg || !id)
		return tu_finish();
	CHECK_EQ_INT(sisign_pkg_sign(pkg, id, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_pkg_write(pkg, sg, 0644, &err), SISIGN_OK);
	sisign_pkg_free(pkg);

	orig = tu_read_file(sg, &n);
	CHECK(orig != NULL);
	if (!orig)
		return tu_finish();
	CHECK_MSG(verifies(orig, n), "the signed package itself does not verify");
	mut = malloc(n);
	allow = calloc(n, 1);
	allow_list(orig, n, allow);

	for (size_t i = 0; i < n; i++) {
		static const uint8_t masks[] = { 0x01, 0x80 };
		if (allow[i]) {
			allowed++;
			continue;
		}
		for (size_t m = 0; m < sizeof masks; m++) {
			memcpy(mut, orig, n);
			mut[i] ^= masks[m];
			flips++;
			if (verifies(mut, n)) {
				/* file data that still verifies has the same SHA-1; the
				 * controller must then decode to the same bytes */
				if (last_equivalent) {
					equivalent++;
					continue;
				}
				survived++;
				CHECK_MSG(0, "flipping bit mask 0x%02x at offset %zu still verifies", masks[m], i);
			}
		}
	}
	for (size_t len = 0; len < n; len++)
		CHECK_MSG(!verifies(orig, len), "truncation to %zu bytes still verifies", len);
	printf("mutation: %zu bytes, %zu flips: %zu undetected, %zu re-encode the same signed and hashed bytes; "
	       "%zu bytes allow-listed (CRC values, padding)\n",
		n, flips, survived, equivalent, allowed);
	CHECK(equivalent < 16);
	CHECK(allowed < 64); /* the allow-list stays small: CRCs and padding only */
	free(mut);
	free(allow);
	free(orig_ctrl);
	free(orig);
	sisign_identity_free(id);
	sisign_signer_free(signer);
	if (!getenv("SISIGN_KEEP_TMP")) tu_rmrf(tmp); else printf("kept %s\n", tmp);
	free(tmp);
	return tu_finish();
}
