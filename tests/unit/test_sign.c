/* SPDX-License-Identifier: Apache-2.0 */
/* Library-level signing: sign then unsign gives back Symbian-made packages
 * byte for byte; new chains verify; multi-chain; refusals leave no output,
 * among them packages with chains the device refuses (issue 11); the
 * verdict of a package that embeds an unsigned one. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sisign/package.h>
#include <sisign/sign.h>
#include <sisign/verify.h>

#include "testutil.h"

static char *tmp;

/* A fresh key and self-signed code-signing certificate, written as PEM. */
static void make_identity(const char *keytype, const char *keypath, const char *certpath, long days_from,
	long days_to)
{
	const struct tu_identity id = { keytype, strcmp(keytype, "RSA") == 0 ? 2048 : 1024, 7, days_from * 86400,
		days_to * 86400, "sisign test", "codeSigning" };
	CHECK(tu_make_identity(&id, keypath, certpath) == 0);
}

static struct sisign_identity *identity(const char *key, const char *cert, struct sisign_signer **sg, int allow_expired,
	int *code)
{
	struct sisign_error err;
	struct sisign_identity *id = NULL;
	struct sisign_identity_opts o = { cert, NULL, allow_expired, 0 };
	*code = sisign_signer_from_key_file(key, NULL, NULL, sg, &err);
	if (*code)
		return NULL;
	*code = sisign_identity_new(*sg, &o, &id, &err);
	return id;
}

static int files_equal(const char *a, const char *b)
{
	size_t na = 0, nb = 0;
	uint8_t *pa = tu_read_file(a, &na), *pb = tu_read_file(b, &nb);
	int eq = pa && pb && na == nb && memcmp(pa, pb, na) == 0;
	free(pa);
	free(pb);
	return eq;
}

static enum sisign_verdict verify_file(const char *path, const char *trust, size_t *nchains)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_verify_report *rep = NULL;
	struct sisign_error err;
	const char *t[2] = { trust, NULL };
	struct sisign_verify_opts vo = { trust ? t : NULL, 0, 0 };
	enum sisign_verdict v = SISIGN_VERDICT_INVALID;
	if (sisign_pkg_open(path, NULL, &pkg, &err) != SISIGN_OK)
		return v;
	if (sisign_pkg_verify(pkg, &vo, &rep, &err) == SISIGN_OK) {
		v = rep->verdict;
		*nchains = rep->top.nchains;
	}
	sisign_verify_report_free(rep);
	sisign_pkg_free(pkg);
	return v;
}

static void roundtrip_path(const char *in, const char *corpus_rel, struct sisign_identity *id, const char *cert)
{
	char signed_path[4096], back[4096];
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	size_t nch = 0;
	int r;

	snprintf(signed_path, sizeof signed_path, "%s/signed.sis", tmp);
	snprintf(back, sizeof back, "%s/back.sis", tmp);
	r = sisign_pkg_open(in, NULL, &pkg, &err);
	CHECK_MSG(r == SISIGN_OK, "%s: %s", corpus_rel, err.message);
	if (r)
		return;
	r = sisign_pkg_sign(pkg, id, &err);
	CHECK_MSG(r == SISIGN_OK, "sign %s: %s", corpus_rel, err.message);
	CHECK(sisign_pkg_write(pkg, signed_path, 0644, &err) == SISIGN_OK);
	sisign_pkg_free(pkg);
	CHECK_EQ_INT(verify_file(signed_path, cert, &nch), SISIGN_VERDICT_TRUSTED);
	CHECK_EQ_INT(nch, 1);
	CHECK_EQ_INT(verify_file(signed_path, NULL, &nch), SISIGN_VERDICT_SELF_SIGNED);

	pkg = NULL;
	CHECK(sisign_pkg_open(signed_path, NULL, &pkg, &err) == SISIGN_OK);
	if (!pkg)
		return;
	CHECK(sisign_pkg_last_chain_is(pkg, id));
	CHECK_EQ_INT(sisign_pkg_unsign(pkg, 0, &err), SISIGN_OK);
	CHECK(sisign_pkg_write(pkg, back, 0644, &err) == SISIGN_OK);
	sisign_pkg_free(pkg);
	CHECK_MSG(files_equal(in, back), "%s: sign then unsign is not the original byte for byte", corpus_rel);
}

static void roundtrip(const char *corpus_rel, struct sisign_identity *id, const char *cert)
{
	char in[4096];
	snprintf(in, sizeof in, "%s/sis/%s", tu_corpus(), corpus_rel);
	roundtrip_path(in, corpus_rel, id, cert);
}

/* Packages with and without CRC fields (issue #11 item 12): sign keeps the
 * controller CRC field exactly when the input has one, so unsign gives the
 * input back byte for byte either way. */
static void roundtrip_crc_fields(struct sisign_identity *id, const char *cert)
{
	for (int with = 0; with < 2; with++) {
		const struct tu_sis_spec spec = { 0xE0000001u, 2, 3000, 1, with };
		char in[4096], signed_path[4096];
		struct sisign_pkg *pkg = NULL;
		struct sisign_error err;
		size_t len = 0;
		uint8_t *p = tu_build_sis(&spec, &len);
		CHECK(p != NULL);
		snprintf(in, sizeof in, "%s/crc%d.sis", tmp, with);
		snprintf(signed_path, sizeof signed_path, "%s/crc%d-signed.sis", tmp, with);
		CHECK(p && tu_write_file(in, p, len) == 0);
		free(p);
		CHECK(sisign_pkg_open(in, NULL, &pkg, &err) == SISIGN_OK);
		if (!pkg)
			continue;
		CHECK_EQ_INT(sisign_pkg_info(pkg)->has_controller_crc, with);
		CHECK_EQ_INT(sisign_pkg_info(pkg)->has_data_crc, with);
		CHECK(sisign_pkg_sign(pkg, id, &err) == SISIGN_OK);
		CHECK(sisign_pkg_write(pkg, signed_path, 0644, &err) == SISIGN_OK);
		sisign_pkg_free(pkg);
		pkg = NULL;
		CHECK(sisign_pkg_open(signed_path, NULL, &pkg, &err) == SISIGN_OK);
		if (pkg) {
			const struct sisign_pkg_info *in_ = sisign_pkg_info(pkg);
			CHECK_EQ_INT(in_->has_controller_crc, with);
			CHECK_EQ_INT(in_->has_data_crc, with);
			if (with)
				CHECK(in_->controller_crc_ok);
		}
		sisign_pkg_free(pkg);
		roundtrip_path(in, with ? "built package with CRC fields" : "built package without CRC fields", id, cert);
	}
}

int main(void)
{
	char key[4096], cert[4096], dkey[4096], dcert[4096], okey[4096], ocert[4096];
	struct sisign_signer *sg = NULL, *dsg = NULL, *osg = NULL;
	struct sisign_identity *id, *did, *oid_;
	int code;

	tmp = tu_tmpdir();
	snprintf(key, sizeof key, "%s/rsa.key", tmp);
	snprintf(cert, sizeof cert, "%s/rsa.pem", tmp);
	snprintf(dkey, sizeof dkey, "%s/dsa.key", tmp);
	snprintf(dcert, sizeof dcert, "%s/dsa.pem", tmp);
	snprintf(okey, sizeof okey, "%s/old.key", tmp);
	snprintf(ocert, sizeof ocert, "%s/old.pem", tmp);
	make_identity("RSA", key, cert, -1, 365);
	make_identity("DSA", dkey, dcert, -1, 365);
	make_identity("RSA", okey, ocert, -400, -10); /* expired */

	id = identity(key, cert, &sg, 0, &code);
	CHECK_EQ_INT(code, SISIGN_OK);
	did = identity(dkey, dcert, &dsg, 0, &code);
	CHECK_EQ_INT(code, SISIGN_OK);
	/* expired certificate: refused unless allowed */
	oid_ = identity(okey, ocert, &osg, 0, &code);
	CHECK_EQ_INT(code, SISIGN_ERR_CERT_EXPIRED);
	CHECK(oid_ == NULL);
	sisign_signer_free(osg);
	osg = NULL;
	oid_ = identity(okey, ocert, &osg, 1, &code);
	CHECK_EQ_INT(code, SISIGN_OK);
	CHECK(oid_ && sisign_identity_nwarnings(oid_) >= 1);
	sisign_identity_free(oid_);
	sisign_signer_free(osg);
	osg = NULL;
	/* key that does not match the certificate */
	oid_ = identity(key, dcert, &osg, 0, &code);
	CHECK_EQ_INT(code, SISIGN_ERR_KEY_MISMATCH);
	sisign_signer_free(osg);

	if (id)
		roundtrip_crc_fields(id, cert);
	if (!tu_corpus()) {
		tu_skip("corpus not found; round trips not checked");
	} else if (id && did) {
		roundtrip("secureswitools/swianalysistoolkit/test/tchainvalidity/data/unsigned.sis", id, cert);
		roundtrip("secureswitools/swianalysistoolkit/test/tinstallfilestatus/data/testfor2exes_unsigned.sis", id, cert);
		roundtrip("secureswitools/swianalysistoolkit/test/tchainvalidity/data/unsigned.sis", did, dcert);
		/* on top of an existing corpus signature: earlier chain stays valid */
		{
			char in[4096], out[4096];
			struct sisign_pkg *pkg = NULL;
			struct sisign_error err;
			size_t nch = 0;
			snprintf(in, sizeof in, "%s/sis/installationservices/swi/test/trevocation/data/winscw/test_02.sis",
				tu_corpus());
			snprintf(out, sizeof out, "%s/two.sis", tmp);
			CHECK(sisign_pkg_open(in, NULL, &pkg, &err) == SISIGN_OK);
			if (pkg) {
				CHECK_EQ_INT(sisign_pkg_sign(pkg, id, &err), SISIGN_OK);
				CHECK_EQ_INT(sisign_pkg_sign(pkg, did, &err), SISIGN_OK);
				CHECK_EQ_INT(sisign_pkg_controller(pkg)->nchains, 3);
				CHECK(sisign_pkg_write(pkg, out, 0644, &err) == SISIGN_OK);
				sisign_pkg_free(pkg);
				/* corpus chain is expired now, ours is self-signed: verdict self-signed, all signatures good */
				CHECK_EQ_INT(verify_file(out, NULL, &nch), SISIGN_VERDICT_SELF_SIGNED);
				CHECK_EQ_INT(nch, 3);
			}
		}
		/* issue 11 item 1: a chain the device refuses is refused before
		 * signing, with the exact code: MD2/MD5 "fake" chains are
		 * unsupported, a chain whose signature does not verify invalid */
		{
			static const char *const fakes[] = { "unsupported_signature_fake_rsa_sha1_md2.sis",
				"unsupported_signature_fake_rsa_sha1_md5.sis" };
			char in[4096];
			struct sisign_pkg *pkg = NULL;
			struct sisign_error err;
			for (size_t i = 0; i < 2; i++) {
				snprintf(in, sizeof in, "%s/sis/installationservices/swi/test/tsisfile/data/files/%s", tu_corpus(),
					fakes[i]);
				pkg = NULL;
				CHECK(sisign_pkg_open(in, NULL, &pkg, &err) == SISIGN_OK);
				if (!pkg)
					continue;
				CHECK_EQ_INT(sisign_pkg_check_signable(pkg, &err), SISIGN_ERR_SIG_UNSUPPORTED);
				CHECK(strstr(err.message, "signature chain 1 of 1 in the top-level controller") != NULL);
				CHECK(strstr(err.message, "sisign unsign --all") != NULL);
				CHECK_EQ_INT(sisign_pkg_sign(pkg, id, &err), SISIGN_ERR_SIG_UNSUPPORTED);
				CHECK_EQ_INT(sisign_pkg_controller(pkg)->nchains, 1);
				/* after unsign --all it signs */
				CHECK_EQ_INT(sisign_pkg_unsign(pkg, 1, &err), SISIGN_OK);
				CHECK_EQ_INT(sisign_pkg_sign(pkg, id, &err), SISIGN_OK);
				sisign_pkg_free(pkg);
			}
			snprintf(in, sizeof in, "%s/sis/installationservices/swi/test/trevocation/data/winscw/test_02.sis",
				tu_corpus());
			pkg = NULL;
			CHECK(sisign_pkg_open(in, NULL, &pkg, &err) == SISIGN_OK);
			if (pkg) {
				const struct sisign_controller *c;
				CHECK_EQ_INT(sisign_pkg_sign(pkg, id, &err), SISIGN_OK);
				c = sisign_pkg_controller(pkg);
				/* flip one bit of the new (second) chain's signature, in
				 * the package's own controller buffer */
				((uint8_t *)c->chains[1].sigs[0].sig)[0] ^= 1;
				CHECK_EQ_INT(sisign_pkg_check_signable(pkg, &err), SISIGN_ERR_SIG_INVALID);
				CHECK(strstr(err.message, "signature chain 2 of 2 in the top-level controller") != NULL);
				CHECK_EQ_INT(sisign_pkg_sign(pkg, id, &err), SISIGN_ERR_SIG_INVALID);
				CHECK_EQ_INT(sisign_pkg_controller(pkg)->nchains, 2);
				sisign_pkg_free(pkg);
			}
		}
		/* issue 11 item 2: our trusted chain on top of a package that
		 * embeds an unsigned one: the device checks that one on its own,
		 * so the overall verdict is unsigned */
		{
			char in[4096], out[4096];
			struct sisign_pkg *pkg = NULL;
			struct sisign_error err;
			size_t nch = 0;
			snprintf(in, sizeof in, "%s/sis/installationservices/swi/test/tsishelper/data/test1.sis", tu_corpus());
			snprintf(out, sizeof out, "%s/embeds_unsigned.sis", tmp);
			CHECK(sisign_pkg_open(in, NULL, &pkg, &err) == SISIGN_OK);
			if (pkg) {
				CHECK_EQ_INT(sisign_pkg_sign(pkg, id, &err), SISIGN_OK);
				CHECK(sisign_pkg_write(pkg, out, 0644, &err) == SISIGN_OK);
				sisign_pkg_free(pkg);
				CHECK_EQ_INT(verify_file(out, cert, &nch), SISIGN_VERDICT_UNSIGNED);
				CHECK_EQ_INT(nch, 1);
			}
		}
		/* hash mismatch: nothing written.  sisign_pkg_sign reads no file
		 * data, so it signs; the write's one pass over SISData finds the
		 * mismatch and leaves no output, no temp file.  Checked first
		 * (sisign_pkg_check_signable), the package is refused before any
		 * signature, and sign refuses it too. */
		{
			char in[4096], out[4096];
			struct sisign_pkg *pkg = NULL;
			struct sisign_error err;
			snprintf(in, sizeof in, "%s/sis/secureswitools/swisistools/test/tsignsis/data/eshell_hybrid.sis",
				tu_corpus());
			snprintf(out, sizeof out, "%s/mismatch", tmp);
			CHECK(mkdir(out, 0755) == 0);
			snprintf(out, sizeof out, "%s/mismatch/bad.sis", tmp);
			CHECK(sisign_pkg_open(in, NULL, &pkg, &err) == SISIGN_OK);
			if (pkg) {
				CHECK_EQ_INT(sisign_pkg_sign(pkg, id, &err), SISIGN_OK);
				sisign_error_clear(&err);
				CHECK_EQ_INT(sisign_pkg_write(pkg, out, 0644, &err), SISIGN_ERR_HASH_MISMATCH);
				CHECK_EQ_INT(err.code, SISIGN_ERR_HASH_MISMATCH);
				CHECK(strstr(err.message, "stored SHA-1 does not match the file data") != NULL);
				CHECK(access(out, F_OK) != 0);
				snprintf(out, sizeof out, "%s/mismatch", tmp);
				CHECK(rmdir(out) == 0); /* empty: no temp file left */
				sisign_pkg_free(pkg);
			}
			pkg = NULL;
			CHECK(sisign_pkg_open(in, NULL, &pkg, &err) == SISIGN_OK);
			if (pkg) {
				CHECK_EQ_INT(sisign_pkg_check_signable(pkg, &err), SISIGN_ERR_HASH_MISMATCH);
				CHECK_EQ_INT(sisign_pkg_check_signable_nodata(pkg, &err), SISIGN_ERR_HASH_MISMATCH);
				CHECK_EQ_INT(sisign_pkg_sign(pkg, id, &err), SISIGN_ERR_HASH_MISMATCH);
				CHECK_EQ_INT(sisign_pkg_controller(pkg)->nchains, 0);
				sisign_pkg_free(pkg);
			}
			snprintf(in, sizeof in, "%s/sis/secureswitools/swisistools/test/tsignsis/data/nonsisfile.sis",
				tu_corpus());
			pkg = NULL;
			CHECK(sisign_pkg_open(in, NULL, &pkg, &err) == SISIGN_OK);
			if (pkg) {
				CHECK_EQ_INT(sisign_pkg_sign(pkg, id, &err), SISIGN_ERR_UNSUPPORTED);
				sisign_pkg_free(pkg);
			}
		}
	}
	sisign_identity_free(id);
	sisign_identity_free(did);
	sisign_signer_free(sg);
	sisign_signer_free(dsg);
	tu_rmrf(tmp);
	free(tmp);
	return tu_finish();
}
