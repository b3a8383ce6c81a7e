/* SPDX-License-Identifier: Apache-2.0 */
/* Summaries of the DER certificates in a SIS signature chain. */
#include "fe.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

static void name_line(const X509_NAME *name, char *out, size_t size)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	snprintf(out, size, "?");
	if (!bio)
		return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_get_mem_data(bio, &p);
		if (n >= 0 && p)
			snprintf(out, size, "%.*s", (int)n, p);
	}
	BIO_free(bio);
}

static int asn1_time_to_time_t(const ASN1_TIME *at, time_t *out)
{
	struct tm tm;

	if (!at || ASN1_TIME_to_tm(at, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

static void describe_one(X509 *x, struct fe_cert_info *ci)
{
	const ASN1_INTEGER *serial;
	EVP_PKEY *pk;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	memset(ci, 0, sizeof *ci);
	name_line(X509_get_subject_name(x), ci->subject, sizeof ci->subject);
	name_line(X509_get_issuer_name(x), ci->issuer, sizeof ci->issuer);
	ci->self_issued = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;

	snprintf(ci->serial, sizeof ci->serial, "?");
	serial = X509_get0_serialNumber(x);
	if (serial) {
		BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
		char *hex = bn ? BN_bn2hex(bn) : NULL;
		if (hex)
			snprintf(ci->serial, sizeof ci->serial, "%s", hex);
		OPENSSL_free(hex);
		BN_free(bn);
	}

	ci->have_validity = asn1_time_to_time_t(X509_get0_notBefore(x), &ci->not_before) == 0 &&
		asn1_time_to_time_t(X509_get0_notAfter(x), &ci->not_after) == 0;

	snprintf(ci->key_type, sizeof ci->key_type, "unknown");
	pk = X509_get0_pubkey(x);
	if (pk) {
		const char *t = EVP_PKEY_is_a(pk, "RSA") ? "RSA"
			: EVP_PKEY_is_a(pk, "DSA")       ? "DSA"
			: EVP_PKEY_is_a(pk, "EC")        ? "EC"
							 : EVP_PKEY_get0_type_name(pk);
		if (t)
			snprintf(ci->key_type, sizeof ci->key_type, "%s", t);
		ci->key_bits = EVP_PKEY_get_bits(pk);
		if (ci->key_bits < 0)
			ci->key_bits = 0;
	}

	if (X509_digest(x, EVP_sha1(), md, &mdlen) == 1 && mdlen == 20)
		for (i = 0; i < mdlen; i++)
			snprintf(ci->sha1 + 2 * i, 3, "%02x", md[i]);
}

int fe_cert_chain_describe(const uint8_t *der, size_t len, struct fe_cert_info **out, size_t *n,
	struct sisign_error *err)
{
	struct fe_cert_info *arr = NULL, *tmp;
	size_t cnt = 0, cap = 0, off = 0;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	*n = 0;
	sisign_error_clear(err);
	while (off < len) {
		const unsigned char *p = der + off;
		long avail = len - off > (size_t)LONG_MAX ? LONG_MAX : (long)(len - off);
		X509 *x = d2i_X509(NULL, &p, avail);

		if (!x) {
			unsigned long e = ERR_get_error();
			r = SISIGN_ERR_BAD_CERT;
			if (err) {
				err->code = r;
				err->offset = (long long)off;
				snprintf(err->message, sizeof err->message,
					"certificate %zu of the chain does not decode", cnt + 1);
				if (e)
					ERR_error_string_n(e, err->ossl_reason, sizeof err->ossl_reason);
			}
			ERR_clear_error();
			goto out;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 4;
			tmp = realloc(arr, cap * sizeof *arr);
			if (!tmp) {
				X509_free(x);
				r = SISIGN_ERR_NOMEM;
				if (err) {
					err->code = r;
					snprintf(err->message, sizeof err->message, "out of memory");
				}
				goto out;
			}
			arr = tmp;
		}
		describe_one(x, &arr[cnt++]);
		X509_free(x);
		off = (size_t)(p - der);
	}
	r = SISIGN_OK;
out:
	/* Partial results are handed over on failure too. */
	*out = arr;
	*n = cnt;
	return r;
}
