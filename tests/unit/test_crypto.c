/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/lib/crypto: certificate blobs, SHA-1 signatures as
 * Symbian makes them, path validation at a pinned time, descriptions. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/dsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_private.h"
#include "testutil.h"

#define SIGNEDSIS "certs/test/tsisfile/data/signedsis"

static const char *corpus;
static char *tmp;

/* 2008-06-01T00:00:00Z, when every corpus root and chain was valid. */
static time_t t2008(void)
{
	struct tm tm = { 0 };
	tm.tm_year = 108;
	tm.tm_mon = 5;
	tm.tm_mday = 1;
	return timegm(&tm);
}

static time_t t_year(int y)
{
	struct tm tm = { 0 };
	tm.tm_year = y - 1900;
	tm.tm_mon = 0;
	tm.tm_mday = 1;
	return timegm(&tm);
}

static char *cpath(const char *rel)
{
	static char buf[8][4096];
	static int i;
	char *p = buf[i++ % 8];
	snprintf(p, 4096, "%s/%s", corpus, rel);
	return p;
}

static char *tpath(const char *name)
{
	static char buf[8][4096];
	static int i;
	char *p = buf[i++ % 8];
	snprintf(p, 4096, "%s/%s", tmp, name);
	return p;
}

static EVP_PKEY *gen_rsa(int bits)
{
	return EVP_RSA_gen((unsigned int)bits);
}

/* Self-signed certificate, valid 2000..2040, optional EKU ("codeSigning", ...). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *eku)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	if (x == NULL || n == NULL)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"sisign tests", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	ASN1_TIME_set(X509_getm_notBefore(x), t_year(2000));
	ASN1_TIME_set(X509_getm_notAfter(x), t_year(2040));
	X509_set_pubkey(x, key);
	if (eku != NULL) {
		X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, eku);
		if (ext == NULL)
			abort();
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		abort();
	X509_NAME_free(n);
	return x;
}

static const uint8_t digest1[20] = { 0x5d, 0x4e, 0x8c, 0xc5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xe7, 0x7b };

/* ---- signatures -------------------------------------------------------------- */

static void test_sign_verify_rsa(void)
{
	struct sisign_error err;
	EVP_PKEY *k = gen_rsa(2048), *k2 = gen_rsa(1024);
	X509 *c = make_cert(k, "rsa", NULL), *c2 = make_cert(k2, "rsa2", NULL);
	uint8_t *sig = NULL, bad[20];
	size_t siglen = 0;

	CHECK(k != NULL && k2 != NULL);
	CHECK_EQ_INT(crypto_pkey_type(k), SISIGN_KEY_RSA);
	CHECK(strcmp(crypto_sig_oid_for_pkey(k), CRYPTO_OID_RSA_SHA1) == 0);
	CHECK_EQ_INT(crypto_sign_sha1_with_pkey(k, digest1, &sig, &siglen, &err), SISIGN_OK);
	CHECK_EQ_INT(siglen, 256);
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_RSA_SHA1, digest1, sig, siglen, &err), SISIGN_OK);
	/* primitive chosen from the key, not the OID: a DSA OID still verifies */
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_DSA_SHA1, digest1, sig, siglen, &err), SISIGN_OK);
	/* md5WithRSA / md2WithRSA are refused whatever the bytes */
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, "1.2.840.113549.1.1.4", digest1, sig, siglen, &err),
		SISIGN_ERR_SIG_UNSUPPORTED);
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, "1.2.840.113549.1.1.2", digest1, sig, siglen, &err),
		SISIGN_ERR_SIG_UNSUPPORTED);
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, "1.2.840.113549.1.1.11", digest1, sig, siglen, &err),
		SISIGN_ERR_SIG_UNSUPPORTED);
	memcpy(bad, digest1, 20);
	bad[7] ^= 1;
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_RSA_SHA1, bad, sig, siglen, &err), SISIGN_ERR_SIG_INVALID);
	CHECK_EQ_INT(err.code, SISIGN_ERR_SIG_INVALID);
	sig[100] ^= 0x40;
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_RSA_SHA1, digest1, sig, siglen, &err), SISIGN_ERR_SIG_INVALID);
	sig[100] ^= 0x40;
	/* wrong certificate */
	CHECK_EQ_INT(crypto_verify_sha1_sig(c2, CRYPTO_OID_RSA_SHA1, digest1, sig, siglen, &err), SISIGN_ERR_SIG_INVALID);
	/* a blob longer than the modulus, an empty blob */
	CHECK_EQ_INT(crypto_verify_sha1_sig(c2, CRYPTO_OID_RSA_SHA1, digest1, sig, 129, &err), SISIGN_ERR_SIG_INVALID);
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_RSA_SHA1, digest1, sig, 0, &err), SISIGN_ERR_SIG_INVALID);

	/* the signature is exactly RSA_sign(NID_sha1): recover the DigestInfo */
	{
		uint8_t dec[256];
		size_t declen = sizeof dec;
		static const uint8_t prefix[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05,
			0x00, 0x04, 0x14 };
		EVP_PKEY_CTX *vc = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
		CHECK(vc != NULL && EVP_PKEY_verify_recover_init(vc) > 0 &&
			EVP_PKEY_CTX_set_rsa_padding(vc, RSA_PKCS1_PADDING) > 0 &&
			EVP_PKEY_verify_recover(vc, dec, &declen, sig, siglen) > 0);
		CHECK_EQ_INT(declen, 35);
		CHECK(memcmp(dec, prefix, sizeof prefix) == 0 && memcmp(dec + 15, digest1, 20) == 0);
		EVP_PKEY_CTX_free(vc);
	}

	CHECK_EQ_INT(crypto_key_matches_cert(k, c), SISIGN_OK);
	CHECK_EQ_INT(crypto_key_matches_cert(k, c2), SISIGN_ERR_KEY_MISMATCH);
	CHECK_EQ_INT(crypto_key_matches_cert(k2, c), SISIGN_ERR_KEY_MISMATCH);
	CHECK_EQ_INT(crypto_key_matches_cert(NULL, c), SISIGN_ERR_KEY_MISMATCH);

	free(sig);
	X509_free(c);
	X509_free(c2);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

static void test_sign_verify_dsa(void)
{
	struct sisign_error err;
	EVP_PKEY *k = tu_gen_dsa(1024), *r = gen_rsa(1024);
	X509 *c = NULL, *rc = NULL;
	uint8_t *sig = NULL, buf[64];
	size_t siglen = 0;
	int found_short = 0;

	CHECK(k != NULL);
	if (k == NULL)
		goto out;
	c = make_cert(k, "dsa", "codeSigning");
	rc = make_cert(r, "rsa", NULL);
	CHECK_EQ_INT(crypto_pkey_type(k), SISIGN_KEY_DSA);
	CHECK(strcmp(crypto_sig_oid_for_pkey(k), CRYPTO_OID_DSA_SHA1) == 0);
	CHECK_EQ_INT(crypto_key_matches_cert(k, c), SISIGN_OK);
	CHECK_EQ_INT(crypto_key_matches_cert(k, rc), SISIGN_ERR_KEY_MISMATCH);
	CHECK_EQ_INT(crypto_key_matches_cert(r, c), SISIGN_ERR_KEY_MISMATCH);

	/* Sign until a short DER (46/47 bytes) turns up, the case signsis
	 * pads with zeros to 48; each signature is checked on the way. */
	for (int i = 0; i < 64 && !found_short; i++) {
		free(sig);
		sig = NULL;
		CHECK_EQ_INT(crypto_sign_sha1_with_pkey(k, digest1, &sig, &siglen, &err), SISIGN_OK);
		CHECK(siglen >= 8 && siglen <= 48 && sig[0] == 0x30 && (size_t)sig[1] + 2 == siglen);
		CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_DSA_SHA1, digest1, sig, siglen, &err), SISIGN_OK);
		if (siglen < 48)
			found_short = 1;
	}
	CHECK(found_short);
	memset(buf, 0, sizeof buf);
	memcpy(buf, sig, siglen);
	/* zero padding to 48 (signsis) */
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_DSA_SHA1, digest1, buf, 48, &err), SISIGN_OK);
	/* also RSA OID: primitive from the key */
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_RSA_SHA1, digest1, buf, 48, &err), SISIGN_OK);
	/* a non-zero trailing byte is not tolerated */
	buf[47] = 1;
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_DSA_SHA1, digest1, buf, 48, &err), SISIGN_ERR_SIG_INVALID);
	buf[47] = 0;
	/* truncated DER */
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_DSA_SHA1, digest1, buf, siglen - 1, &err),
		SISIGN_ERR_SIG_INVALID);
	/* wrong digest; corrupted r */
	{
		uint8_t d2[20];
		memcpy(d2, digest1, 20);
		d2[0] ^= 0x80;
		CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_DSA_SHA1, d2, buf, 48, &err), SISIGN_ERR_SIG_INVALID);
	}
	buf[10] ^= 4;
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_DSA_SHA1, digest1, buf, 48, &err), SISIGN_ERR_SIG_INVALID);
	buf[10] ^= 4;
	/* not a SEQUENCE at all */
	buf[0] = 0x31;
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_DSA_SHA1, digest1, buf, 48, &err), SISIGN_ERR_SIG_INVALID);
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, "1.2.840.10040.4.1", digest1, sig, siglen, &err),
		SISIGN_ERR_SIG_UNSUPPORTED);
	/* RSA signature checked against a DSA certificate */
	{
		uint8_t *rs = NULL;
		size_t rl = 0;
		CHECK_EQ_INT(crypto_sign_sha1_with_pkey(r, digest1, &rs, &rl, &err), SISIGN_OK);
		CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_DSA_SHA1, digest1, rs, rl, &err), SISIGN_ERR_SIG_INVALID);
		free(rs);
	}
out:
	free(sig);
	X509_free(c);
	X509_free(rc);
	EVP_PKEY_free(k);
	EVP_PKEY_free(r);
}

static void test_unsupported_key(void)
{
	struct sisign_error err;
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	X509 *c;
	uint8_t *sig = NULL;
	size_t siglen = 0;

	CHECK(ec != NULL);
	if (ec == NULL)
		return;
	c = make_cert(ec, "ec", NULL);
	CHECK_EQ_INT(crypto_pkey_type(ec), SISIGN_KEY_UNKNOWN);
	CHECK(crypto_sig_oid_for_pkey(ec) == NULL);
	CHECK_EQ_INT(crypto_sign_sha1_with_pkey(ec, digest1, &sig, &siglen, &err), SISIGN_ERR_BAD_KEY);
	CHECK(sig == NULL && siglen == 0);
	CHECK_EQ_INT(crypto_verify_sha1_sig(c, CRYPTO_OID_RSA_SHA1, digest1, digest1, 20, &err),
		SISIGN_ERR_SIG_UNSUPPORTED);
	CHECK_EQ_INT(crypto_key_matches_cert(ec, c), SISIGN_ERR_KEY_MISMATCH);
	X509_free(c);
	EVP_PKEY_free(ec);
}

/* A real signsis-era key: sign with the corpus key, verify with its chain. */
static void test_corpus_key_and_cert(void)
{
	struct sisign_error err;
	STACK_OF(X509) *chain = NULL, *other = NULL;
	EVP_PKEY *k = NULL;
	FILE *f;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	static const char *const cases[][3] = {
		{ "certs/signedsis/SymbianTestRootCARSA/cert_chain_rsa_len2/rsa2.key",
			SIGNEDSIS "/SymbianTestRootCARSA/cert_chain_rsa_len2/chain_rsa_len2.cert.pem", "RSA" },
		{ "certs/signedsis/SymbianTestRootCADSA/cert_chain_dsa_len1/dsa1.key",
			SIGNEDSIS "/SymbianTestRootCADSA/cert_chain_dsa_len1/chain_dsa_len1.cert.pem", "DSA" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if ((f = fopen(cpath(cases[i][0]), "r")) == NULL) {
			CHECK_MSG(0, "missing %s", cases[i][0]);
			continue;
		}
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		CHECK(k != NULL);
		CHECK_EQ_INT(crypto_certs_load_file(cpath(cases[i][1]), &chain, &err), SISIGN_OK);
		if (k == NULL || chain == NULL)
			goto next;
		CHECK_EQ_INT(crypto_key_matches_cert(k, sk_X509_value(chain, 0)), SISIGN_OK);
		if (sk_X509_num(chain) > 1)
			CHECK_EQ_INT(crypto_key_matches_cert(k, sk_X509_value(chain, 1)), SISIGN_ERR_KEY_MISMATCH);
		CHECK_EQ_INT(crypto_sign_sha1_with_pkey(k, digest1, &sig, &siglen, &err), SISIGN_OK);
		if (strcmp(cases[i][2], "RSA") == 0)
			CHECK_EQ_INT(siglen, (size_t)EVP_PKEY_get_size(k));
		CHECK_EQ_INT(crypto_verify_sha1_sig(sk_X509_value(chain, 0), strcmp(cases[i][2], "RSA") == 0 ?
				CRYPTO_OID_RSA_SHA1 : CRYPTO_OID_DSA_SHA1, digest1, sig, siglen, &err), SISIGN_OK);
	next:
		free(sig);
		sig = NULL;
		crypto_certs_free(chain);
		chain = NULL;
		EVP_PKEY_free(k);
		k = NULL;
	}
	crypto_certs_free(other);
}

/* ---- certificate blobs ---------------------------------------------------------- */

static void test_cert_blobs(void)
{
	struct sisign_error err;
	STACK_OF(X509) *c3 = NULL, *back = NULL, *one = NULL;
	uint8_t *blob = NULL, *junk = NULL;
	size_t len = 0;

	CHECK_EQ_INT(crypto_certs_load_file(cpath(SIGNEDSIS "/SymbianTestRootCARSA/cert_chain_rsa_len3/chain_rsa_len3.cert.pem"),
		&c3, &err), SISIGN_OK);
	CHECK_EQ_INT(sk_X509_num(c3), 3);
	if (c3 == NULL)
		return;
	/* file order: end entity first */
	{
		struct crypto_cert_info info;
		CHECK_EQ_INT(crypto_cert_describe(sk_X509_value(c3, 0), &info, &err), SISIGN_OK);
		CHECK_MSG(strstr(info.subject, "CN=RSA TestRootRSA Chain Cert Three") != NULL, "%s", info.subject);
	}
	CHECK_EQ_INT(crypto_certs_to_der_blob(c3, &blob, &len, &err), SISIGN_OK);
	CHECK(len > 1000);
	CHECK_EQ_INT(crypto_certs_from_der_blob(blob, len, &back, &err), SISIGN_OK);
	CHECK_EQ_INT(sk_X509_num(back), 3);
	for (int i = 0; back != NULL && i < 3; i++)
		CHECK_EQ_INT(X509_cmp(sk_X509_value(c3, i), sk_X509_value(back, i)), 0);
	crypto_certs_free(back);
	back = NULL;

	/* strict: trailing garbage, truncation, emptiness */
	junk = malloc(len + 1);
	memcpy(junk, blob, len);
	junk[len] = 0;
	CHECK_EQ_INT(crypto_certs_from_der_blob(junk, len + 1, &back, &err), SISIGN_ERR_BAD_CERT);
	CHECK(back == NULL);
	CHECK_EQ_INT(err.offset, (long long)len);
	CHECK_EQ_INT(crypto_certs_from_der_blob(junk, len - 1, &back, &err), SISIGN_ERR_BAD_CERT);
	CHECK_EQ_INT(crypto_certs_from_der_blob(junk, 0, &back, &err), SISIGN_ERR_BAD_CERT);
	CHECK_EQ_INT(crypto_certs_from_der_blob(junk, 10, &back, &err), SISIGN_ERR_BAD_CERT);

	/* concatenated DER on disk, single DER root, PEM .cer, missing file, key file */
	CHECK_EQ_INT(tu_write_file(tpath("chain3.der"), blob, len), 0);
	CHECK_EQ_INT(crypto_certs_load_file(tpath("chain3.der"), &back, &err), SISIGN_OK);
	CHECK_EQ_INT(sk_X509_num(back), 3);
	CHECK_EQ_INT(tu_write_file(tpath("chain3junk.der"), junk, len + 1), 0);
	CHECK_EQ_INT(crypto_certs_load_file(tpath("chain3junk.der"), &one, &err), SISIGN_ERR_BAD_CERT);
	CHECK(strstr(err.message, "chain3junk.der") != NULL);
	CHECK_EQ_INT(crypto_certs_load_file(cpath("certs/pctools/test/tdumpcertstore/certificates/root5ca.der"), &one, &err),
		SISIGN_OK);
	CHECK_EQ_INT(sk_X509_num(one), 1);
	crypto_certs_free(one);
	one = NULL;
	CHECK_EQ_INT(crypto_certs_load_file(cpath(SIGNEDSIS "/Root5CA/cert_chain_rsa_len2/second.rsa.cer"), &one, &err),
		SISIGN_OK);
	CHECK_EQ_INT(sk_X509_num(one), 1);
	crypto_certs_free(one);
	one = NULL;
	CHECK_EQ_INT(crypto_certs_load_file(tpath("does-not-exist.pem"), &one, &err), SISIGN_ERR_SYSTEM);
	CHECK(one == NULL);
	CHECK_EQ_INT(crypto_certs_load_file(cpath(SIGNEDSIS "/Root5CA/ca.key.pem"), &one, &err), SISIGN_ERR_BAD_CERT);
	CHECK(one == NULL);
	/* a damaged PEM certificate */
	{
		size_t n = 0;
		uint8_t *pem = tu_read_file(cpath(SIGNEDSIS "/Root5CA/ca.pem"), &n);
		CHECK(pem != NULL && n > 200);
		if (pem != NULL) {
			memcpy(pem + 100, "!!!!", 4);
			CHECK_EQ_INT(tu_write_file(tpath("broken.pem"), pem, n), 0);
			CHECK_EQ_INT(crypto_certs_load_file(tpath("broken.pem"), &one, &err), SISIGN_ERR_BAD_CERT);
			free(pem);
		}
	}
	free(junk);
	free(blob);
	crypto_certs_free(back);
	crypto_certs_free(c3);
}

/* ---- descriptions ---------------------------------------------------------------- */

static void test_describe(void)
{
	struct sisign_error err;
	struct crypto_cert_info info;
	STACK_OF(X509) *c = NULL;
	struct tm tm = { 0 };

	CHECK_EQ_INT(crypto_certs_load_file(cpath(SIGNEDSIS "/SymbianTestRootCARSA/ca.pem"), &c, &err), SISIGN_OK);
	if (c == NULL)
		return;
	CHECK_EQ_INT(crypto_cert_describe(sk_X509_value(c, 0), &info, &err), SISIGN_OK);
	CHECK_MSG(strcmp(info.subject, "CN=Symbian Test - RSA, O=Symbian Software Ltd") == 0, "%s", info.subject);
	CHECK(strcmp(info.subject, info.issuer) == 0);
	CHECK(strcmp(info.key_type, "RSA") == 0);
	CHECK_EQ_INT(info.key_bits, 1024);
	CHECK_MSG(strcmp(info.sig_alg, "md5WithRSAEncryption") == 0, "%s", info.sig_alg);
	CHECK_EQ_INT(info.self_signed, 1);
	CHECK_EQ_INT(info.has_eku, 0);
	CHECK_EQ_INT(strlen(info.sha256_hex), 64);
	CHECK(info.serial_hex[0] != '\0');
	/* Not Before: Apr 18 14:36:14 2004 GMT; Not After: Sep 21 14:36:14 2020 GMT */
	tm.tm_year = 104;
	tm.tm_mon = 3;
	tm.tm_mday = 18;
	tm.tm_hour = 14;
	tm.tm_min = 36;
	tm.tm_sec = 14;
	CHECK_EQ_INT(info.not_before, timegm(&tm));
	tm.tm_year = 120;
	tm.tm_mon = 8;
	tm.tm_mday = 21;
	CHECK_EQ_INT(info.not_after, timegm(&tm));
	crypto_certs_free(c);
	c = NULL;

	/* DSA end entity */
	CHECK_EQ_INT(crypto_certs_load_file(cpath(SIGNEDSIS "/SymbianTestRootCADSA/cert_chain_dsa_len1/chain_dsa_len1.cert.pem"),
		&c, &err), SISIGN_OK);
	if (c != NULL) {
		CHECK_EQ_INT(crypto_cert_describe(sk_X509_value(c, 0), &info, &err), SISIGN_OK);
		CHECK(strcmp(info.key_type, "DSA") == 0);
		CHECK(info.key_bits >= 512);
		CHECK_EQ_INT(info.self_signed, 0);
		CHECK_MSG(strstr(info.subject, "CN=DSA TestRootDSA Chain Cert One") != NULL, "%s", info.subject);
		crypto_certs_free(c);
		c = NULL;
	}

	/* UTF-8 is kept as UTF-8 */
	{
		EVP_PKEY *k = gen_rsa(1024);
		X509 *x = make_cert(k, "J\xc3\xa4rvi \xe6\x97\xa5\xe6\x9c\xac", "codeSigning");
		CHECK_EQ_INT(crypto_cert_describe(x, &info, &err), SISIGN_OK);
		CHECK_MSG(strcmp(info.subject, "O=sisign tests, CN=J\xc3\xa4rvi \xe6\x97\xa5\xe6\x9c\xac") == 0, "%s",
			info.subject);
		CHECK_EQ_INT(strcmp(info.serial_hex, "2A"), 0);
		CHECK_EQ_INT(info.has_eku, 1);
		CHECK_EQ_INT(info.eku_codesigning, 1);
		CHECK_EQ_INT(info.not_before, t_year(2000));
		X509_free(x);
		EVP_PKEY_free(k);
	}
}

/* ---- path validation ----------------------------------------------------------- */

static int validate(const char *trust_rel, const char *chain_path, time_t at, struct crypto_chain_result *res)
{
	struct sisign_error err;
	struct crypto_trust *t = NULL;
	STACK_OF(X509) *chain = NULL;
	int r;

	memset(res, 0, sizeof *res);
	if ((r = crypto_trust_new(&t, &err)) != SISIGN_OK)
		return r;
	if (trust_rel != NULL && (r = crypto_trust_add_file(t, cpath(trust_rel), &err)) != SISIGN_OK)
		goto out;
	if ((r = crypto_certs_load_file(chain_path, &chain, &err)) != SISIGN_OK)
		goto out;
	r = crypto_chain_validate(t, chain, at, res, &err);
out:
	crypto_certs_free(chain);
	crypto_trust_free(t);
	return r;
}

static void test_chain_validation(void)
{
	struct crypto_chain_result res;
	struct sisign_error err;
	char len2[4096];
	snprintf(len2, sizeof len2, "%s", cpath(SIGNEDSIS "/SymbianTestRootCARSA/cert_chain_rsa_len2/chain_rsa_len2.cert.pem"));
	const char *root = SIGNEDSIS "/SymbianTestRootCARSA/ca.pem";

	CHECK_EQ_INT(validate(root, len2, t2008(), &res), SISIGN_OK);
	CHECK_MSG(res.verdict == CHAIN_TRUSTED, "verdict %d: %s", (int)res.verdict, res.error_str);
	CHECK_EQ_INT(res.ossl_error, X509_V_OK);
	CHECK_EQ_INT(res.path_len, 3);
	CHECK_EQ_INT(res.has_eku, 0);
	CHECK_EQ_INT(res.eku_ok, 1);
	CHECK_MSG(strcmp(res.root_subject, "CN=Symbian Test - RSA, O=Symbian Software Ltd") == 0, "%s", res.root_subject);

	CHECK_EQ_INT(validate(root, len2, t_year(2030), &res), SISIGN_OK);
	CHECK_EQ_INT(res.verdict, CHAIN_EXPIRED);
	CHECK_EQ_INT(res.ossl_error, X509_V_ERR_CERT_HAS_EXPIRED);
	CHECK_EQ_INT(validate(root, len2, t_year(2001), &res), SISIGN_OK);
	CHECK_EQ_INT(res.verdict, CHAIN_EXPIRED);
	CHECK_EQ_INT(res.ossl_error, X509_V_ERR_CERT_NOT_YET_VALID);

	/* empty store: the chain does not carry its root → untrusted */
	CHECK_EQ_INT(validate(NULL, len2, t2008(), &res), SISIGN_OK);
	CHECK_EQ_INT(res.verdict, CHAIN_UNTRUSTED);
	CHECK_EQ_INT(res.path_len, 0);
	/* another root → untrusted */
	CHECK_EQ_INT(validate(SIGNEDSIS "/Root5CA/ca.pem", len2, t2008(), &res), SISIGN_OK);
	CHECK_EQ_INT(res.verdict, CHAIN_UNTRUSTED);
	/* untrusted wins over expired */
	CHECK_EQ_INT(validate(NULL, len2, t_year(2030), &res), SISIGN_OK);
	CHECK_EQ_INT(res.verdict, CHAIN_UNTRUSTED);

	/* trust from a directory holding ca.pem, ca.key.pem, dsaparam.pem */
	CHECK_EQ_INT(validate(SIGNEDSIS "/SymbianTestRootCARSA", len2, t2008(), &res), SISIGN_OK);
	CHECK_EQ_INT(res.verdict, CHAIN_TRUSTED);
	/* DER roots */
	CHECK_EQ_INT(validate("certs/pctools/test/tdumpcertstore/certificates", len2, t2008(), &res), SISIGN_OK);
	CHECK_MSG(res.verdict == CHAIN_TRUSTED, "verdict %d: %s", (int)res.verdict, res.error_str);

	/* chain with its root appended, empty store → self-signed, valid as such */
	{
		STACK_OF(X509) *chain = NULL, *rootc = NULL;
		struct crypto_trust *t = NULL;
		CHECK_EQ_INT(crypto_certs_load_file(len2, &chain, &err), SISIGN_OK);
		CHECK_EQ_INT(crypto_certs_load_file(cpath(root), &rootc, &err), SISIGN_OK);
		if (chain != NULL && rootc != NULL) {
			sk_X509_push(chain, sk_X509_shift(rootc));
			CHECK_EQ_INT(crypto_chain_validate(NULL, chain, t2008(), &res, &err), SISIGN_OK);
			CHECK_EQ_INT(res.verdict, CHAIN_SELF_SIGNED);
			CHECK_EQ_INT(res.ossl_error, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
			CHECK_EQ_INT(res.self_signed_verdict, CHAIN_TRUSTED);
			CHECK_EQ_INT(crypto_chain_validate(NULL, chain, t_year(2030), &res, &err), SISIGN_OK);
			CHECK_EQ_INT(res.verdict, CHAIN_SELF_SIGNED);
			CHECK_EQ_INT(res.self_signed_verdict, CHAIN_EXPIRED);
			/* with the root in the store, the root in the chain does not matter */
			CHECK_EQ_INT(crypto_trust_new(&t, &err), SISIGN_OK);
			CHECK_EQ_INT(crypto_trust_add_file(t, cpath(root), &err), SISIGN_OK);
			CHECK_EQ_INT(crypto_trust_count(t), 1);
			CHECK_EQ_INT(crypto_chain_validate(t, chain, t2008(), &res, &err), SISIGN_OK);
			CHECK_EQ_INT(res.verdict, CHAIN_TRUSTED);
			/* intermediates out of order still build */
			{
				X509 *a = sk_X509_value(chain, 1), *b = sk_X509_value(chain, 2);
				sk_X509_set(chain, 1, b);
				sk_X509_set(chain, 2, a);
				CHECK_EQ_INT(crypto_chain_validate(t, chain, t2008(), &res, &err), SISIGN_OK);
				CHECK_EQ_INT(res.verdict, CHAIN_TRUSTED);
			}
			/* a missing intermediate → untrusted */
			X509_free(sk_X509_delete(chain, 2));
			X509_free(sk_X509_delete(chain, 1));
			CHECK_EQ_INT(crypto_chain_validate(t, chain, t2008(), &res, &err), SISIGN_OK);
			CHECK_EQ_INT(res.verdict, CHAIN_UNTRUSTED);
			crypto_trust_free(t);
		}
		crypto_certs_free(chain);
		crypto_certs_free(rootc);
	}

	/* a damaged signature inside the leaf → invalid (even when also expired) */
	{
		STACK_OF(X509) *chain = NULL, *bad = NULL;
		struct crypto_trust *t = NULL;
		uint8_t *blob = NULL;
		size_t len = 0;
		int l0;
		CHECK_EQ_INT(crypto_certs_load_file(len2, &chain, &err), SISIGN_OK);
		CHECK_EQ_INT(crypto_certs_to_der_blob(chain, &blob, &len, &err), SISIGN_OK);
		l0 = i2d_X509(sk_X509_value(chain, 0), NULL);
		CHECK(l0 > 20);
		if (blob != NULL && l0 > 20) {
			blob[l0 - 5] ^= 0x01; /* inside the leaf's signature value */
			CHECK_EQ_INT(crypto_certs_from_der_blob(blob, len, &bad, &err), SISIGN_OK);
			CHECK_EQ_INT(crypto_trust_new(&t, &err), SISIGN_OK);
			CHECK_EQ_INT(crypto_trust_add_file(t, cpath(root), &err), SISIGN_OK);
			CHECK_EQ_INT(crypto_chain_validate(t, bad, t2008(), &res, &err), SISIGN_OK);
			CHECK_EQ_INT(res.verdict, CHAIN_INVALID);
			CHECK_EQ_INT(res.ossl_error, X509_V_ERR_CERT_SIGNATURE_FAILURE);
			CHECK_EQ_INT(res.error_depth, 0);
			CHECK_EQ_INT(crypto_chain_validate(t, bad, t_year(2030), &res, &err), SISIGN_OK);
			CHECK_EQ_INT(res.verdict, CHAIN_INVALID);
			crypto_trust_free(t);
		}
		free(blob);
		crypto_certs_free(chain);
		crypto_certs_free(bad);
	}

	/* a generated self-signed code-signing certificate */
	{
		EVP_PKEY *k = gen_rsa(1024);
		X509 *x = make_cert(k, "self", "codeSigning");
		STACK_OF(X509) *chain = sk_X509_new_null();
		struct crypto_trust *t = NULL;
		sk_X509_push(chain, x);
		CHECK_EQ_INT(crypto_chain_validate(NULL, chain, t2008(), &res, &err), SISIGN_OK);
		CHECK_EQ_INT(res.verdict, CHAIN_SELF_SIGNED);
		CHECK_EQ_INT(res.ossl_error, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
		CHECK_EQ_INT(res.self_signed_verdict, CHAIN_TRUSTED);
		CHECK_EQ_INT(res.has_eku, 1);
		CHECK_EQ_INT(res.eku_ok, 1);
		CHECK_EQ_INT(crypto_trust_new(&t, &err), SISIGN_OK);
		CHECK_EQ_INT(crypto_trust_add_cert(t, x, &err), SISIGN_OK);
		CHECK_EQ_INT(crypto_chain_validate(t, chain, t2008(), &res, &err), SISIGN_OK);
		CHECK_EQ_INT(res.verdict, CHAIN_TRUSTED);
		CHECK_EQ_INT(res.path_len, 1);
		crypto_trust_free(t);
		crypto_certs_free(chain);
		EVP_PKEY_free(k);
	}

	/* bad arguments and bad trust sources */
	{
		struct crypto_trust *t = NULL;
		STACK_OF(X509) *empty = sk_X509_new_null();
		CHECK_EQ_INT(crypto_chain_validate(NULL, empty, t2008(), &res, &err), SISIGN_ERR_INVALID_ARG);
		CHECK_EQ_INT(crypto_trust_new(&t, &err), SISIGN_OK);
		CHECK_EQ_INT(crypto_trust_add_file(t, tpath("nope"), &err), SISIGN_ERR_SYSTEM);
		CHECK_EQ_INT(crypto_trust_add_file(t, cpath(SIGNEDSIS "/Root5CA/ca.key.pem"), &err), SISIGN_ERR_BAD_CERT);
		CHECK_EQ_INT(crypto_trust_add_file(t, cpath("certs/signedsis/SymbianTestRootCARSA/cert_chain_rsa_len1"), &err),
			SISIGN_ERR_BAD_CERT); /* keys and configs only */
		CHECK_EQ_INT(crypto_trust_count(t), 0);
		crypto_trust_free(t);
		sk_X509_free(empty);
	}
}

/* EKU variants of the corpus, all issued by Root5-RSA. */
static void test_eku(void)
{
	static const struct {
		const char *file;
		int has_eku, eku_ok;
	} cases[] = {
		{ "no_eku.pem", 0, 1 },
		{ "serverauth_eku.pem", 1, 0 },
		{ "standardsigningoid_eku.pem", 1, 1 },
		{ "alternativesigningoid_eku.pem", 1, 0 },
	};
	struct crypto_chain_result res;
	char rel[512];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(rel, sizeof rel, SIGNEDSIS "/extendedkeyusage/%s", cases[i].file);
		CHECK_EQ_INT(validate(SIGNEDSIS "/Root5CA/ca.pem", cpath(rel), t2008(), &res), SISIGN_OK);
		CHECK_MSG(res.verdict == CHAIN_TRUSTED, "%s: verdict %d: %s", cases[i].file, (int)res.verdict,
			res.error_str);
		CHECK_EQ_INT(res.has_eku, cases[i].has_eku);
		CHECK_EQ_INT(res.eku_ok, cases[i].eku_ok);
	}
	/* the "alternative" code-signing OID Symbian's policy can list */
	{
		struct sisign_error err;
		STACK_OF(X509) *c = NULL;
		snprintf(rel, sizeof rel, SIGNEDSIS "/extendedkeyusage/alternativesigningoid_eku.pem");
		CHECK_EQ_INT(crypto_certs_load_file(cpath(rel), &c, &err), SISIGN_OK);
		if (c != NULL) {
			CHECK_EQ_INT(crypto_cert_has_eku_oid(sk_X509_value(c, 0), "1.3.6.1.5.5.7.3.30"), 1);
			CHECK_EQ_INT(crypto_cert_has_eku_oid(sk_X509_value(c, 0), CRYPTO_OID_CODE_SIGNING), 0);
		}
		crypto_certs_free(c);
	}
}

/* Every corpus chain against its own root at the pinned time. */
static void test_all_corpus_chains(void)
{
	static const char *const roots[][2] = {
		{ "Root5CA", "ca.pem" },
		{ "SymbianTestRootCARSA", "ca.pem" },
		{ "SymbianTestRootCADSA", "ca.pem" },
		{ "SymbianTestRootCADiffSerial", "cacert.pem" },
		{ "symbiantestrootcanotinstore", "cacert.pem" },
	};
	static const char *const chains[] = { "cert_chain_rsa_len1/chain_rsa_len1.cert.pem",
		"cert_chain_rsa_len2/chain_rsa_len2.cert.pem", "cert_chain_rsa_len3/chain_rsa_len3.cert.pem",
		"cert_chain_dsa_len1/chain_dsa_len1.cert.pem", "cert_chain_dsa_len2/chain_dsa_len2.cert.pem",
		"cert_chain_dsa_len3/chain_dsa_len3.cert.pem" };
	struct crypto_chain_result res;
	char rootrel[512], chainrel[512];
	int tried = 0;

	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		for (size_t j = 0; j < sizeof chains / sizeof chains[0]; j++) {
			FILE *f;
			snprintf(rootrel, sizeof rootrel, SIGNEDSIS "/%s/%s", roots[i][0], roots[i][1]);
			snprintf(chainrel, sizeof chainrel, SIGNEDSIS "/%s/%s", roots[i][0], chains[j]);
			if ((f = fopen(cpath(chainrel), "r")) == NULL)
				continue;
			fclose(f);
			tried++;
			CHECK_EQ_INT(validate(rootrel, cpath(chainrel), t2008(), &res), SISIGN_OK);
			CHECK_MSG(res.verdict == CHAIN_TRUSTED, "%s: verdict %d: %s (depth %d)", chainrel, (int)res.verdict,
				res.error_str, res.error_depth);
			CHECK_EQ_INT(validate(rootrel, cpath(chainrel), t_year(2035), &res), SISIGN_OK);
			CHECK_MSG(res.verdict == CHAIN_EXPIRED, "%s at 2035: verdict %d: %s", chainrel, (int)res.verdict,
				res.error_str);
		}
	}
	CHECK(tried >= 15);
}

int main(void)
{
	corpus = tu_corpus();
	tmp = tu_tmpdir();
	CHECK(tmp != NULL);
	if (tmp == NULL)
		return tu_finish();

	test_sign_verify_rsa();
	test_sign_verify_dsa();
	test_unsupported_key();
	if (corpus == NULL) {
		tu_skip("SISIGN_CORPUS not set: corpus certificate tests skipped");
	} else {
		test_corpus_key_and_cert();
		test_cert_blobs();
		test_describe();
		test_chain_validation();
		test_eku();
		test_all_corpus_chains();
	}
	tu_rmrf(tmp);
	free(tmp);
	ERR_clear_error();
	return tu_finish();
}
