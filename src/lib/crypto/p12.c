/* SPDX-License-Identifier: Apache-2.0 */
/* PKCS#12 (PFX) files: a private key, its certificate and the issuing
 * certificates in one password-protected DER file, as Windows tools and
 * `openssl pkcs12 -export` write them (.p12, .pfx).  One reader serves
 * signing (sisign_signer_from_key_file) and importing onto a token. */
#include "crypto/crypto_private.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

#include "util/util_private.h"

int crypto_p12_is(const uint8_t *data, size_t len)
{
	const unsigned char *q = data;
	PKCS12 *p12;

	if (data == NULL || len == 0 || len > LONG_MAX)
		return 0;
	/* A PFX is SEQUENCE { INTEGER 3, ContentInfo, MacData OPTIONAL }; no
	 * private key encoding parses as one. */
	p12 = d2i_PKCS12(NULL, &q, (long)len);
	err_ossl_clear();
	if (p12 == NULL)
		return 0;
	PKCS12_free(p12);
	return 1;
}

/* Files from older Windows tools, and `openssl pkcs12 -export -legacy`,
 * encrypt with RC2-40 (certificates) and 3DES (key).  OpenSSL 3 keeps RC2
 * in its legacy provider, so it is loaded into the default library context
 * when, and only when, such a file cannot be read without it; it stays
 * loaded for the life of the process (the default provider stays as it
 * was: fallbacks are retained). */
static CRYPTO_ONCE legacy_once = CRYPTO_ONCE_STATIC_INIT;
static OSSL_PROVIDER *legacy_prov;

static void legacy_load(void)
{
	legacy_prov = OSSL_PROVIDER_try_load(NULL, "legacy", 1);
	ERR_clear_error();
}

/* PKCS12_parse, and once more with the legacy provider if the first try
 * failed (the password was already checked against the MAC, so the likely
 * reason is a cipher the default provider lacks).  *legacy_missing is set
 * when that provider cannot be loaded. */
static int p12_parse(PKCS12 *p12, const char *pw, EVP_PKEY **key, X509 **cert, STACK_OF(X509) **ca,
	int *legacy_missing)
{
	*legacy_missing = 0;
	if (PKCS12_parse(p12, pw, key, cert, ca))
		return 1;
	if (!CRYPTO_THREAD_run_once(&legacy_once, legacy_load) || legacy_prov == NULL) {
		*legacy_missing = 1;
		return 0;
	}
	err_ossl_clear();
	*key = NULL;
	*cert = NULL;
	*ca = NULL;
	return PKCS12_parse(p12, pw, key, cert, ca);
}

/* PKCS12_parse hands out the certificate whose key is the private key as
 * the leaf; a copy of it among the others (some tools write the leaf twice)
 * is dropped, so it is not repeated in a signature's chain. */
static void p12_drop_leaf_copies(X509 *cert, STACK_OF(X509) *ca)
{
	for (int i = sk_X509_num(ca) - 1; cert != NULL && i >= 0; i--)
		if (X509_cmp(sk_X509_value(ca, i), cert) == 0)
			X509_free(sk_X509_delete(ca, i));
}

int crypto_p12_load(const uint8_t *data, size_t len, struct crypto_pw *st, EVP_PKEY **key, X509 **cert,
	STACK_OF(X509) **ca, struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL, mac, legacy_missing = 0;
	const unsigned char *q = data;
	PKCS12 *p12 = NULL;
	EVP_PKEY *k = NULL;
	X509 *c = NULL;
	STACK_OF(X509) *others = NULL;
	char *buf = NULL;
	size_t n = 0;
	const char *pw = "";

	*key = NULL;
	*cert = NULL;
	if (ca != NULL)
		*ca = NULL;
	if (data == NULL || len > LONG_MAX || (p12 = d2i_PKCS12(NULL, &q, (long)len)) == NULL) {
		r = err_ossl(err, SISIGN_ERR_BAD_KEY, "%s: not a PKCS#12 file", st->path);
		goto out;
	}
	if ((buf = sisign_secret_alloc(CRYPTO_PASSPHRASE_MAX)) == NULL) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	/* A file exported without a password opens without asking; with a
	 * MAC (every tool writes one) the password is checked against it
	 * before anything is decrypted, so a wrong one is told apart from a
	 * file that cannot be read.  Never retried: one answer per load. */
	mac = PKCS12_mac_present(p12);
	if (mac && (PKCS12_verify_mac(p12, NULL, 0) || PKCS12_verify_mac(p12, "", 0))) {
		pw = "";
	} else if (!mac && p12_parse(p12, "", &k, &c, &others, &legacy_missing)) {
		goto parsed;
	} else {
		err_ossl_clear();
		st->asked = 1;
		if (st->cb == NULL) {
			r = err_set(err, SISIGN_ERR_BAD_PASSPHRASE, -1,
				"%s: the PKCS#12 file is protected by a password and none was given", st->path);
			goto out;
		}
		r = util_secret_ask(st->cb, st->userdata, "passphrase", st->path, -1, buf, CRYPTO_PASSPHRASE_MAX, &n,
			err);
		if (r != SISIGN_OK) {
			st->cb_err = r;
			goto out;
		}
		if (mac && !PKCS12_verify_mac(p12, buf, (int)n)) {
			err_ossl_clear();
			r = err_set(err, SISIGN_ERR_BAD_PASSPHRASE, -1, "%s: wrong password for the PKCS#12 file",
				st->path);
			goto out;
		}
		pw = buf;
	}
	if (!p12_parse(p12, pw, &k, &c, &others, &legacy_missing)) {
		if (!mac && pw == buf)
			r = err_ossl(err, SISIGN_ERR_BAD_PASSPHRASE,
				"%s: cannot read the PKCS#12 file: wrong password, or damaged", st->path);
		else if (legacy_missing)
			r = err_ossl(err, SISIGN_ERR_BAD_KEY,
				"%s: cannot read the PKCS#12 file; it may use an old cipher (RC2) that needs OpenSSL's "
				"legacy provider, which could not be loaded", st->path);
		else
			r = err_ossl(err, SISIGN_ERR_BAD_KEY, "%s: cannot read the PKCS#12 file", st->path);
		goto out;
	}
parsed:
	err_ossl_clear();
	if (k == NULL) {
		r = err_set(err, SISIGN_ERR_BAD_KEY, -1, "%s: the PKCS#12 file holds no private key", st->path);
		goto out;
	}
	p12_drop_leaf_copies(c, others);
	/* success */
	*key = k;
	k = NULL; /* transferred */
	*cert = c;
	c = NULL; /* transferred */
	if (ca != NULL && sk_X509_num(others) > 0) {
		*ca = others;
		others = NULL; /* transferred */
	}
	r = SISIGN_OK;
out:
	EVP_PKEY_free(k);
	X509_free(c);
	crypto_certs_free(others);
	sisign_secret_free(buf, CRYPTO_PASSPHRASE_MAX);
	PKCS12_free(p12);
	return r;
}
