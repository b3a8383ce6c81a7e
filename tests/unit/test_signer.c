/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/lib/sign/signer.c: loading key files in every form
 * signsis-era and modern tools write, passphrase handling, and signing. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/dsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "crypto/crypto_private.h"
#include "sign/signer_private.h"
#include "testutil.h"

static const char *corpus;
static char *tmp;

struct pw {
	const char *pass; /* NULL: return ret instead */
	int ret;
	int calls;
	char what[256];
	char kind[32];
	int tries;
};

static int pw_cb(void *ud, const char *kind, const char *what, int tries_left, char *buf, size_t bufsize)
{
	struct pw *p = ud;

	p->calls++;
	snprintf(p->kind, sizeof p->kind, "%s", kind);
	snprintf(p->what, sizeof p->what, "%s", what);
	p->tries = tries_left;
	if (p->pass == NULL)
		return p->ret;
	snprintf(buf, bufsize, "%s", p->pass);
	return (int)strlen(p->pass);
}

static char *tpath(const char *name)
{
	static char buf[8][4096];
	static int i;
	char *p = buf[i++ % 8];
	snprintf(p, 4096, "%s/%s", tmp, name);
	return p;
}

static X509 *make_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"signer test", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		abort();
	X509_NAME_free(n);
	return x;
}

enum fmt { PEM_TRAD, PEM_TRAD_ENC, PEM_PKCS8, PEM_PKCS8_ENC, DER_TRAD, DER_PKCS8, DER_PKCS8_ENC };
static const char *const fmt_names[] = { "trad.pem", "trad-enc.pem", "p8.pem", "p8-enc.pem", "trad.der", "p8.der",
	"p8-enc.der" };

static const char PASS[] = "s3cret \xc3\xa4";

static int write_key(EVP_PKEY *k, enum fmt f, const char *path)
{
	BIO *b = BIO_new_file(path, "wb");
	int ok = 0;

	if (b == NULL)
		return 0;
	switch (f) {
	case PEM_TRAD:
		ok = PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL);
		break;
	case PEM_TRAD_ENC:
		/* "Proc-Type: 4,ENCRYPTED" + DES-EDE3-CBC, as makekeys -password writes */
		ok = PEM_write_bio_PrivateKey_traditional(b, k, EVP_des_ede3_cbc(), (const unsigned char *)PASS,
			(int)strlen(PASS), NULL, NULL);
		break;
	case PEM_PKCS8:
		ok = PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
		break;
	case PEM_PKCS8_ENC:
		ok = PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), PASS, (int)strlen(PASS), NULL, NULL);
		break;
	case DER_TRAD:
		ok = i2d_PrivateKey_bio(b, k) > 0;
		break;
	case DER_PKCS8:
		ok = i2d_PKCS8PrivateKey_bio(b, k, NULL, NULL, 0, NULL, NULL);
		break;
	case DER_PKCS8_ENC:
		ok = i2d_PKCS8PrivateKey_bio(b, k, EVP_aes_128_cbc(), (char *)PASS, (int)strlen(PASS), NULL, NULL);
		break;
	}
	BIO_free(b);
	return ok;
}

static int is_encrypted(enum fmt f)
{
	return f == PEM_TRAD_ENC || f == PEM_PKCS8_ENC || f == DER_PKCS8_ENC;
}

static void sign_and_check(struct sisign_signer *s, X509 *cert)
{
	struct sisign_error err;
	static const unsigned char d[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	unsigned char *sig = NULL;
	size_t siglen = 0;

	CHECK_EQ_INT(sisign_signer_sign_sha1(s, d, &sig, &siglen, &err), SISIGN_OK);
	CHECK(sig != NULL && siglen > 0);
	if (sisign_signer_key_type(s) == SISIGN_KEY_RSA)
		CHECK_EQ_INT(siglen, (size_t)sisign_signer_key_bits(s) / 8);
	else
		CHECK(siglen <= 48 && sig != NULL && sig[0] == 0x30);
	CHECK_EQ_INT(crypto_verify_sha1_sig(cert, sisign_signer_key_type(s) == SISIGN_KEY_RSA ? CRYPTO_OID_RSA_SHA1 :
			CRYPTO_OID_DSA_SHA1, d, sig, siglen, &err), SISIGN_OK);
	/* the public half matches the certificate */
	CHECK_EQ_INT(crypto_key_matches_cert(s->pub, cert), SISIGN_OK);
	free(sig);
}

static void test_generated(const char *label, EVP_PKEY *k, enum sisign_key_type kt, int bits)
{
	struct sisign_error err;
	X509 *cert = make_cert(k);
	char name[64];

	for (int f = PEM_TRAD; f <= DER_PKCS8_ENC; f++) {
		struct sisign_signer *s = NULL;
		struct pw good = { PASS, 0, 0, "", "", 0 }, bad = { "wrong", 0, 0, "", "", 0 };
		struct pw cancel = { NULL, SISIGN_ERR_CANCELLED, 0, "", "", 0 };
		const char *path;

		snprintf(name, sizeof name, "%s-%s", label, fmt_names[f]);
		path = tpath(name);
		CHECK_MSG(write_key(k, (enum fmt)f, path), "writing %s", name);

		CHECK_EQ_INT(sisign_signer_from_key_file(path, pw_cb, &good, &s, &err), SISIGN_OK);
		CHECK_MSG(s != NULL, "%s: %s | %s", name, err.message, err.ossl_reason);
		CHECK_EQ_INT(good.calls, is_encrypted((enum fmt)f) ? 1 : 0);
		if (good.calls) {
			CHECK(strcmp(good.kind, "passphrase") == 0);
			CHECK(strcmp(good.what, path) == 0);
			CHECK_EQ_INT(good.tries, -1);
		}
		if (s != NULL) {
			CHECK_EQ_INT(sisign_signer_key_type(s), kt);
			CHECK_EQ_INT(sisign_signer_key_bits(s), bits);
			CHECK(strcmp(sisign_signer_describe(s), path) == 0);
			sign_and_check(s, cert);
			sisign_signer_free(s);
			s = NULL;
		}

		if (!is_encrypted((enum fmt)f)) {
			/* no callback needed for a plain key */
			CHECK_EQ_INT(sisign_signer_from_key_file(path, NULL, NULL, &s, &err), SISIGN_OK);
			sisign_signer_free(s);
			s = NULL;
			continue;
		}
		CHECK_EQ_INT(sisign_signer_from_key_file(path, pw_cb, &bad, &s, &err), SISIGN_ERR_BAD_PASSPHRASE);
		CHECK(s == NULL);
		CHECK_EQ_INT(bad.calls, 1);
		CHECK_MSG(strstr(err.message, path) != NULL && strstr(err.message, "wrong passphrase") != NULL, "%s",
			err.message);
		CHECK_EQ_INT(sisign_signer_from_key_file(path, NULL, NULL, &s, &err), SISIGN_ERR_BAD_PASSPHRASE);
		CHECK(s == NULL);
		CHECK_EQ_INT(sisign_signer_from_key_file(path, pw_cb, &cancel, &s, &err), SISIGN_ERR_CANCELLED);
		CHECK_EQ_INT(cancel.calls, 1);
		CHECK(s == NULL);
	}
	X509_free(cert);
}

static void test_generated_keys(void)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *dsa = tu_gen_dsa(1024);

	CHECK(rsa != NULL && dsa != NULL);
	if (rsa != NULL)
		test_generated("rsa", rsa, SISIGN_KEY_RSA, 2048);
	if (dsa != NULL)
		test_generated("dsa", dsa, SISIGN_KEY_DSA, 1024);
	/* the traditional encrypted DSA PEM really is the makekeys form */
	{
		size_t n = 0;
		uint8_t *p = tu_read_file(tpath("dsa-trad-enc.pem"), &n);
		CHECK(p != NULL && strstr((char *)p, "BEGIN DSA PRIVATE KEY") != NULL &&
			strstr((char *)p, "Proc-Type: 4,ENCRYPTED") != NULL);
		free(p);
	}
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(dsa);
}

static void test_bad_files(void)
{
	struct sisign_error err;
	struct sisign_signer *s = NULL;
	struct pw good = { PASS, 0, 0, "", "", 0 };
	EVP_PKEY *ec = EVP_EC_gen("P-256"), *rsa = EVP_RSA_gen(1024);
	BIO *b;
	static const char garbage[] = "this is not a key\n";
	static const char badpem[] = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";

	CHECK_EQ_INT(sisign_signer_from_key_file(tpath("missing.key"), pw_cb, &good, &s, &err), SISIGN_ERR_SYSTEM);
	CHECK(s == NULL);
	CHECK_MSG(strstr(err.message, "missing.key") != NULL, "%s", err.message);
	CHECK_EQ_INT(good.calls, 0);

	CHECK_EQ_INT(tu_write_file(tpath("garbage.key"), garbage, sizeof garbage - 1), 0);
	CHECK_EQ_INT(sisign_signer_from_key_file(tpath("garbage.key"), pw_cb, &good, &s, &err), SISIGN_ERR_BAD_KEY);
	CHECK(s == NULL);
	CHECK(strstr(err.message, "garbage.key") != NULL);
	CHECK_EQ_INT(tu_write_file(tpath("badpem.key"), badpem, sizeof badpem - 1), 0);
	CHECK_EQ_INT(sisign_signer_from_key_file(tpath("badpem.key"), pw_cb, &good, &s, &err), SISIGN_ERR_BAD_KEY);
	CHECK_EQ_INT(tu_write_file(tpath("empty.key"), "", 0), 0);
	CHECK_EQ_INT(sisign_signer_from_key_file(tpath("empty.key"), pw_cb, &good, &s, &err), SISIGN_ERR_BAD_KEY);
	CHECK_EQ_INT(good.calls, 0);

	/* EC: readable but not usable for SIS */
	if (ec != NULL && (b = BIO_new_file(tpath("ec.pem"), "wb")) != NULL) {
		CHECK(PEM_write_bio_PrivateKey(b, ec, NULL, NULL, 0, NULL, NULL));
		BIO_free(b);
		CHECK_EQ_INT(sisign_signer_from_key_file(tpath("ec.pem"), NULL, NULL, &s, &err), SISIGN_ERR_BAD_KEY);
		CHECK_MSG(strstr(err.message, "only RSA and DSA") != NULL, "%s", err.message);
		CHECK(s == NULL);
	}
	/* a public key is not a private key */
	if (rsa != NULL && (b = BIO_new_file(tpath("pub.pem"), "wb")) != NULL) {
		CHECK(PEM_write_bio_PUBKEY(b, rsa));
		BIO_free(b);
		CHECK_EQ_INT(sisign_signer_from_key_file(tpath("pub.pem"), NULL, NULL, &s, &err), SISIGN_ERR_BAD_KEY);
		CHECK(s == NULL);
	}
	/* arguments */
	CHECK_EQ_INT(sisign_signer_from_key_file(NULL, NULL, NULL, &s, &err), SISIGN_ERR_INVALID_ARG);
	CHECK_EQ_INT(sisign_signer_key_type(NULL), SISIGN_KEY_UNKNOWN);
	CHECK_EQ_INT(sisign_signer_key_bits(NULL), 0);
	CHECK(sisign_signer_describe(NULL) != NULL);
	sisign_signer_free(NULL);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
}

static void test_corpus_keys(void)
{
	static const struct {
		const char *rel;
		enum sisign_key_type kt;
		int bits;
	} keys[] = {
		{ "certs/files/rsaprivate1.key", SISIGN_KEY_RSA, 512 },
		{ "certs/files/rsaprivate2.key", SISIGN_KEY_RSA, 512 },
		{ "certs/files/dsaprivate1.key", SISIGN_KEY_DSA, 512 },
		{ "certs/files/default.key", SISIGN_KEY_DSA, 1024 },
		{ "certs/signedsis/SymbianTestRootCARSA/cert_chain_rsa_len1/rsa1.key", SISIGN_KEY_RSA, 0 },
		{ "certs/signedsis/SymbianTestRootCARSA/cert_chain_dsa_len1/dsa1.key", SISIGN_KEY_DSA, 0 },
	};
	struct sisign_error err;
	char path[4096];

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		struct sisign_signer *s = NULL;
		struct pw good = { "unused", 0, 0, "", "", 0 };
		snprintf(path, sizeof path, "%s/%s", corpus, keys[i].rel);
		CHECK_EQ_INT(sisign_signer_from_key_file(path, pw_cb, &good, &s, &err), SISIGN_OK);
		CHECK_MSG(s != NULL, "%s: %s", keys[i].rel, err.message);
		CHECK_EQ_INT(good.calls, 0);
		if (s == NULL)
			continue;
		CHECK_EQ_INT(sisign_signer_key_type(s), keys[i].kt);
		if (keys[i].bits != 0)
			CHECK_EQ_INT(sisign_signer_key_bits(s), keys[i].bits);
		{
			/* a certificate for the same key, to verify against */
			FILE *f = fopen(path, "r");
			EVP_PKEY *priv = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
			X509 *self = priv != NULL ? make_cert(priv) : NULL;
			if (f != NULL)
				fclose(f);
			CHECK(self != NULL);
			if (self != NULL)
				sign_and_check(s, self);
			X509_free(self);
			EVP_PKEY_free(priv);
		}
		sisign_signer_free(s);
	}

	/* The corpus chain's signer certificate matches its key; a foreign one does not. */
	{
		struct sisign_signer *s = NULL;
		STACK_OF(X509) *chain = NULL;
		snprintf(path, sizeof path, "%s/certs/signedsis/SymbianTestRootCARSA/cert_chain_rsa_len2/rsa2.key", corpus);
		CHECK_EQ_INT(sisign_signer_from_key_file(path, NULL, NULL, &s, &err), SISIGN_OK);
		snprintf(path, sizeof path,
			"%s/certs/test/tsisfile/data/signedsis/SymbianTestRootCARSA/cert_chain_rsa_len2/chain_rsa_len2.cert.pem",
			corpus);
		CHECK_EQ_INT(crypto_certs_load_file(path, &chain, &err), SISIGN_OK);
		if (s != NULL && chain != NULL) {
			CHECK_EQ_INT(crypto_key_matches_cert(s->pub, sk_X509_value(chain, 0)), SISIGN_OK);
			CHECK_EQ_INT(crypto_key_matches_cert(s->pub, sk_X509_value(chain, 1)), SISIGN_ERR_KEY_MISMATCH);
			sign_and_check(s, sk_X509_value(chain, 0));
			CHECK_EQ_INT(signer_set_cert(s, sk_X509_value(chain, 0), &err), SISIGN_OK);
			CHECK(s->cert == sk_X509_value(chain, 0));
		}
		crypto_certs_free(chain); /* the signer keeps its own reference */
		if (s != NULL)
			CHECK_EQ_INT(crypto_key_matches_cert(s->pub, s->cert), SISIGN_OK);
		sisign_signer_free(s);
	}

	/* mykey.key: traditional DSA PEM, DES-EDE3-CBC, passphrase unknown to us */
	{
		struct sisign_signer *s = NULL;
		struct pw bad = { "definitely not it", 0, 0, "", "", 0 };
		snprintf(path, sizeof path, "%s/certs/files/mykey.key", corpus);
		CHECK_EQ_INT(sisign_signer_from_key_file(path, NULL, NULL, &s, &err), SISIGN_ERR_BAD_PASSPHRASE);
		CHECK(s == NULL);
		CHECK_EQ_INT(sisign_signer_from_key_file(path, pw_cb, &bad, &s, &err), SISIGN_ERR_BAD_PASSPHRASE);
		CHECK_EQ_INT(bad.calls, 1);
		CHECK(s == NULL);
	}
}

/* A signer made through the internal constructor, as token code does. */
static int fake_sign(void *ctx, const unsigned char digest[20], unsigned char **sig, size_t *siglen,
	struct sisign_error *err)
{
	(void)err;
	(*(int *)ctx)++;
	*sig = malloc(20);
	memcpy(*sig, digest, 20);
	*siglen = 20;
	return SISIGN_OK;
}

static int destroyed;
static void fake_destroy(void *ctx)
{
	(void)ctx;
	destroyed++;
}

static void test_vtable(void)
{
	static const struct signer_ops ops = { fake_sign, fake_destroy, 0 };
	struct sisign_error err;
	struct sisign_signer *s = NULL;
	int calls = 0;
	unsigned char d[20] = { 9 }, *sig = NULL;
	size_t siglen = 0;

	CHECK_EQ_INT(signer_new(&ops, &calls, NULL, "pkcs11:token=x", &s, &err), SISIGN_OK);
	CHECK(strcmp(sisign_signer_describe(s), "pkcs11:token=x") == 0);
	CHECK_EQ_INT(sisign_signer_key_type(s), SISIGN_KEY_UNKNOWN);
	CHECK_EQ_INT(sisign_signer_sign_sha1(s, d, &sig, &siglen, &err), SISIGN_OK);
	CHECK_EQ_INT(calls, 1);
	CHECK(siglen == 20 && sig != NULL && sig[0] == 9);
	free(sig);
	CHECK_EQ_INT(sisign_signer_sign_sha1(s, NULL, &sig, &siglen, &err), SISIGN_ERR_INVALID_ARG);
	CHECK(sig == NULL);
	free(sig);
	sisign_signer_free(s);
	CHECK_EQ_INT(destroyed, 1);
	/* ctx is destroyed on failure too */
	CHECK_EQ_INT(signer_new(&ops, &calls, NULL, "x", NULL, &err), SISIGN_ERR_INVALID_ARG);
	CHECK_EQ_INT(destroyed, 2);
}

/* Issue #10 item 6: a signature that does not verify against the signer's
 * public key is never handed out.  fake_sign returns the digest itself,
 * which no RSA key verifies. */
static void test_bad_signature_refused(void)
{
	static const struct signer_ops file_ops = { fake_sign, fake_destroy, 0 };
	static const struct signer_ops dev_ops = { fake_sign, fake_destroy, 1 };
	EVP_PKEY *pk = EVP_RSA_gen(1024);
	struct sisign_error err;
	struct sisign_signer *s = NULL;
	int calls = 0;
	unsigned char d[20] = { 7 }, *sig = NULL;
	size_t siglen = 0;

	CHECK(pk != NULL);
	if (pk == NULL)
		return;
	CHECK_EQ_INT(signer_new(&file_ops, &calls, pk, "k.pem", &s, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_signer_sign_sha1(s, d, &sig, &siglen, &err), SISIGN_ERR_CRYPTO);
	CHECK(sig == NULL && siglen == 0);
	CHECK(strstr(err.message, "does not verify") != NULL);
	sisign_signer_free(s);
	s = NULL;
	CHECK_EQ_INT(signer_new(&dev_ops, &calls, pk, "pkcs11:token=x", &s, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_signer_sign_sha1(s, d, &sig, &siglen, &err), SISIGN_ERR_TOKEN_FAILED);
	CHECK(sig == NULL);
	CHECK(strstr(err.message, "the token returned a signature that does not verify") != NULL);
	CHECK(strstr(err.message, "nothing was written") != NULL);
	CHECK_EQ_INT(calls, 2);
	sisign_signer_free(s);
	EVP_PKEY_free(pk);
}

/* A PKCS#12 file written with today's defaults (PBES2/AES), the leaf given
 * once more among the others as some tools write it. */
static int write_p12(const char *path, const char *pass, EVP_PKEY *k, X509 *leaf, X509 *other)
{
	STACK_OF(X509) *ca = sk_X509_new_null();
	PKCS12 *p12;
	BIO *b;
	int ok = 0;

	if (ca == NULL || !sk_X509_push(ca, other) || !sk_X509_push(ca, leaf))
		abort();
	p12 = PKCS12_create(pass, "signer test", k, leaf, ca, 0, 0, 0, 0, 0);
	if (p12 != NULL && (b = BIO_new_file(path, "wb")) != NULL) {
		ok = i2d_PKCS12_bio(b, p12);
		BIO_free(b);
	}
	PKCS12_free(p12);
	sk_X509_free(ca);
	return ok;
}

static void test_pkcs12(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	X509 *leaf = make_cert(k), *other = make_cert(k2);
	struct sisign_signer *s = NULL;
	struct sisign_error err;
	struct pw pw;
	const char *p12 = tpath("dev.p12"), *nopass = tpath("nopass.pfx"), *pem = tpath("p12-trad.pem");

	CHECK(k != NULL && k2 != NULL);
	CHECK(write_p12(p12, PASS, k, leaf, other));
	CHECK(write_p12(nopass, "", k, leaf, other));
	CHECK(write_key(k, PEM_TRAD, pem));
	CHECK_EQ_INT(sisign_key_file_is_pkcs12(p12), 1);
	CHECK_EQ_INT(sisign_key_file_is_pkcs12(nopass), 1);
	CHECK_EQ_INT(sisign_key_file_is_pkcs12(pem), 0);
	CHECK_EQ_INT(sisign_key_file_is_pkcs12(tpath("absent.p12")), 0);
	CHECK_EQ_INT(sisign_key_file_is_pkcs12(NULL), 0);

	/* The right password, asked once: key, certificate and the other
	 * certificate (the leaf's copy dropped) come with the signer. */
	memset(&pw, 0, sizeof pw);
	pw.pass = PASS;
	CHECK_EQ_INT(sisign_signer_from_key_file(p12, pw_cb, &pw, &s, &err), SISIGN_OK);
	CHECK_EQ_INT(pw.calls, 1);
	CHECK(strcmp(pw.kind, "passphrase") == 0 && strcmp(pw.what, p12) == 0);
	if (s != NULL) {
		CHECK(s->cert != NULL && X509_cmp(s->cert, leaf) == 0);
		CHECK_EQ_INT(sk_X509_num(s->extra), 1);
		CHECK(s->extra != NULL && X509_cmp(sk_X509_value(s->extra, 0), other) == 0);
		sign_and_check(s, leaf);
	}
	sisign_signer_free(s);
	s = NULL;

	/* A wrong password: BAD_PASSPHRASE, asked once, never again. */
	memset(&pw, 0, sizeof pw);
	pw.pass = "not it";
	CHECK_EQ_INT(sisign_signer_from_key_file(p12, pw_cb, &pw, &s, &err), SISIGN_ERR_BAD_PASSPHRASE);
	CHECK_EQ_INT(pw.calls, 1);
	CHECK(s == NULL);
	CHECK(strstr(err.message, "wrong password") != NULL && strstr(err.message, p12) != NULL);
	/* No callback, and a cancelled prompt. */
	CHECK_EQ_INT(sisign_signer_from_key_file(p12, NULL, NULL, &s, &err), SISIGN_ERR_BAD_PASSPHRASE);
	memset(&pw, 0, sizeof pw);
	pw.ret = SISIGN_ERR_CANCELLED;
	CHECK_EQ_INT(sisign_signer_from_key_file(p12, pw_cb, &pw, &s, &err), SISIGN_ERR_CANCELLED);
	CHECK(s == NULL);

	/* Exported without a password: opens without asking. */
	memset(&pw, 0, sizeof pw);
	pw.pass = PASS;
	CHECK_EQ_INT(sisign_signer_from_key_file(nopass, pw_cb, &pw, &s, &err), SISIGN_OK);
	CHECK_EQ_INT(pw.calls, 0);
	CHECK(s != NULL && s->cert != NULL);
	sisign_signer_free(s);

	X509_free(leaf);
	X509_free(other);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

int main(void)
{
	corpus = tu_corpus();
	tmp = tu_tmpdir();
	CHECK(tmp != NULL);
	if (tmp == NULL)
		return tu_finish();
	test_vtable();
	test_bad_signature_refused();
	test_generated_keys();
	test_bad_files();
	test_pkcs12();
	if (corpus == NULL)
		tu_skip("SISIGN_CORPUS not set: corpus key tests skipped");
	else
		test_corpus_keys();
	tu_rmrf(tmp);
	free(tmp);
	ERR_clear_error();
	return tu_finish();
}
