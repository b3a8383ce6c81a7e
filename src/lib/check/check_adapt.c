/* SPDX-License-Identifier: Apache-2.0 */
/* The checker's adapter (check_private.h): the E32 header of a packaged
 * file, and developer-certificate constraints. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "check/check_private.h"
#include "crypto/crypto_private.h"
#include "format/format_private.h"
#include "util/util_private.h"

#define E32_HDR 0x90u
#define E32_EXE 0x1000007Au
#define E32_DLL 0x10000079u

static void exe_decode(const uint8_t *p, size_t n, struct chk_exe *o)
{
	if (n < E32_HDR) {
		o->kind = CHK_EXE_NONE;
		o->reason = "shorter than an E32 image header";
		return;
	}
	o->uid1 = le32(p);
	if (le32(p + 0x10) != 0x434F5045u) {
		o->kind = CHK_EXE_NONE;
		o->reason = "no EPOC signature at offset 0x10";
		return;
	}
	o->kind = o->uid1 == E32_EXE ? CHK_EXE_EXE : o->uid1 == E32_DLL ? CHK_EXE_DLL : CHK_EXE_OTHER;
	o->flags = le32(p + 0x2C);
	o->sid = le32(p + 0x80);
	o->vid = le32(p + 0x84);
	o->caps[0] = le32(p + 0x88);
	o->caps[1] = le32(p + 0x8C);
	o->header_ok = 0;
	if (sis_uid_checksum(le32(p), le32(p + 4), le32(p + 8)) != le32(p + 0x0C))
		o->reason = "the UID checksum at 0x0C is wrong";
	else if ((o->flags & 0x0F000000u) != 0x02000000u)
		o->reason = "not the V header format (flags & 0x0F000000 is not 0x02000000)";
	else
		o->header_ok = 1;
}

int chk_file_exe(struct sisign_pkg *pkg, const struct sisign_file *f, struct chk_exe *out, struct sisign_error *err)
{
	uint8_t in[4096], hdr[E32_HDR];
	size_t n, got;
	z_stream zs;
	int rc;

	memset(out, 0, sizeof *out);
	if (!f->data_offset || !f->data_stored) {
		out->kind = CHK_EXE_NONE;
		out->no_data = 1;
		out->reason = "no file data in the package";
		return SISIGN_OK;
	}
	n = f->data_stored < sizeof in ? (size_t)f->data_stored : sizeof in;
	if ((rc = pkg_read(pkg, f->data_offset, in, n, err)))
		return rc;
	if (f->data_algorithm == 0) {
		exe_decode(in, n, out);
		return SISIGN_OK;
	}
	if (f->data_algorithm != 1) {
		out->kind = CHK_EXE_NONE;
		out->reason = "unknown compression";
		return SISIGN_OK;
	}
	memset(&zs, 0, sizeof zs);
	if (inflateInit(&zs) != Z_OK)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "zlib: cannot start inflating");
	zs.next_in = in;
	zs.avail_in = (uInt)n;
	zs.next_out = hdr;
	zs.avail_out = sizeof hdr;
	(void)inflate(&zs, Z_SYNC_FLUSH);
	got = sizeof hdr - zs.avail_out;
	inflateEnd(&zs);
	exe_decode(hdr, got, out);
	return SISIGN_OK;
}

/* ---- constraints ---------------------------------------------------------- */

/* The four extension OIDs of install-rules.md §5. */
static const char *const constraint_oids[] = {
	"1.2.826.0.1.1796587.1.1.1.1", "1.2.826.0.1.1796587.1.1.1.4",
	"1.2.826.0.1.1796587.1.1.1.5", "1.2.826.0.1.1796587.1.1.1.6",
};

int chk_chain_constraints(const uint8_t *certs, size_t len, struct chk_constraints *out, struct sisign_error *err)
{
	STACK_OF(X509) *sk = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	out->known = 1;
	if ((rc = crypto_certs_from_der_blob(certs, len, &sk, err)))
		return rc;
	for (int i = 0; i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);
		for (size_t k = 0; k < sizeof constraint_oids / sizeof constraint_oids[0]; k++) {
			ASN1_OBJECT *o = OBJ_txt2obj(constraint_oids[k], 1);
			int at = o ? X509_get_ext_by_OBJ(x, o, -1) : -1;
			ASN1_OBJECT_free(o);
			if (at >= 0)
				out->known = 0; /* decoded by the certrules work; until then: "cannot tell" */
		}
	}
	crypto_certs_free(sk);
	return SISIGN_OK;
}

void chk_constraints_merge(struct chk_constraints *a, const struct chk_constraints *b)
{
	if (!b->known)
		a->known = 0;
}

void chk_constraints_free(struct chk_constraints *c)
{
	free(c->sids);
	free(c->vids);
	memset(c, 0, sizeof *c);
}
