/* SPDX-License-Identifier: Apache-2.0 */
/* Certificates as text for people and pipes: OpenSSL's readable dump
 * (makekeys -view) and PEM encoding of DER bytes (sisign cert/csr/keygen
 * writing to standard output). */
#include "crypto/crypto_private.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sisign/keygen.h>

#include "util/util_private.h"

/* The memory BIO's bytes as a malloc'd NUL-terminated string. */
static int bio_to_string(BIO *b, char **out, struct sisign_error *err)
{
	char *data, *s;
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0)
		return err_set(err, SISIGN_ERR_INTERNAL, -1, "no text was produced");
	if ((s = malloc((size_t)n + 1)) == NULL)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*out = s;
	return SISIGN_OK;
}

int sisign_cert_file_text(const char *path, char **text, struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	STACK_OF(X509) *certs = NULL;
	BIO *b = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (text != NULL)
		*text = NULL;
	if (path == NULL || text == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_cert_file_text: bad arguments");
	if ((r = crypto_certs_load_file(path, &certs, err)) != SISIGN_OK)
		goto out;
	if ((b = BIO_new(BIO_s_mem())) == NULL) {
		r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		/* The layout of `openssl x509 -text`, names in the one DN
		 * style of every other report, then the SHA-256 fingerprint. */
		if (X509_print_ex(b, x, CRYPTO_DN_FLAGS, X509_FLAG_COMPAT) != 1 ||
		    X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || BIO_puts(b, "SHA-256 Fingerprint: ") <= 0) {
			r = err_ossl(err, SISIGN_ERR_BAD_CERT, "%s: cannot print certificate %d", path, i + 1);
			goto out;
		}
		for (unsigned int k = 0; k < mdlen; k++)
			if (BIO_printf(b, "%02X%s", md[k], k + 1 < mdlen ? ":" : "\n") <= 0) {
				r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
				goto out;
			}
	}
	r = bio_to_string(b, text, err);
out:
	BIO_free(b);
	crypto_certs_free(certs);
	return r;
}

int sisign_pem_encode(const char *pem_type, const unsigned char *der, size_t der_len, char **pem,
	struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	BIO *b = NULL;

	if (pem != NULL)
		*pem = NULL;
	if (pem_type == NULL || der == NULL || der_len == 0 || der_len > INT32_MAX || pem == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_pem_encode: bad arguments");
	if ((b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio(b, pem_type, "", der, (long)der_len) <= 0) {
		r = err_ossl(err, SISIGN_ERR_NOMEM, "cannot make PEM");
		goto out;
	}
	r = bio_to_string(b, pem, err);
out:
	BIO_free(b);
	return r;
}
