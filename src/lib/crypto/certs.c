/* SPDX-License-Identifier: Apache-2.0 */
/* Certificate chains as SIS stores them (sis-format.md §7.3) and
 * certificate descriptions for reports. */
#include "crypto/crypto_private.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "util/util_private.h"

#include <sisign/package.h>

void crypto_err_prefix(struct sisign_error *err, const char *prefix)
{
	char tmp[sizeof ((struct sisign_error){ 0 }).message];
	size_t pl, ml;

	if (err == NULL || prefix == NULL)
		return;
	pl = strnlen(prefix, sizeof tmp - 3);
	memcpy(tmp, prefix, pl);
	tmp[pl] = ':';
	tmp[pl + 1] = ' ';
	ml = strnlen(err->message, sizeof tmp - pl - 3);
	memcpy(tmp + pl + 2, err->message, ml);
	tmp[pl + 2 + ml] = '\0';
	memcpy(err->message, tmp, sizeof tmp);
}

void crypto_certs_free(STACK_OF(X509) *certs)
{
	sk_X509_pop_free(certs, X509_free);
}

int crypto_certs_from_der_blob(const uint8_t *p, size_t n, STACK_OF(X509) **out, struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	STACK_OF(X509) *certs = NULL;
	X509 *x = NULL;
	size_t off = 0;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || (p == NULL && n > 0))
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_certs_from_der_blob: bad arguments");
	if (n == 0)
		return err_set(err, SISIGN_ERR_BAD_CERT, -1, "certificate chain is empty");
	if ((certs = sk_X509_new_null()) == NULL) {
		r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
		goto out;
	}
	while (off < n) {
		const unsigned char *q = p + off;
		size_t avail = n - off;
		long l = avail > (size_t)LONG_MAX ? LONG_MAX : (long)avail;

		/* d2i_X509 consumes exactly one DER certificate and advances q
		 * past it, so concatenated certificates split by their own
		 * lengths (no separators in a SIS chain blob). */
		if ((x = d2i_X509(NULL, &q, l)) == NULL) {
			r = err_ossl(err, SISIGN_ERR_BAD_CERT, "certificate %d in the chain (blob offset %zu) is not valid DER",
				sk_X509_num(certs) + 1, off);
			if (err != NULL)
				err->offset = (long long)off;
			goto out;
		}
		if (q <= p + off || (size_t)(q - (p + off)) > avail) {
			r = err_set(err, SISIGN_ERR_INTERNAL, (long long)off, "d2i_X509 did not advance");
			goto out;
		}
		off += (size_t)(q - (p + off));
		if (!sk_X509_push(certs, x)) {
			r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
			goto out;
		}
		x = NULL; /* transferred */
	}
	/* success */
	*out = certs;
	certs = NULL; /* transferred */
	r = SISIGN_OK;
out:
	X509_free(x);
	crypto_certs_free(certs);
	return r;
}

static int looks_like_pem(const uint8_t *p, size_t n)
{
	static const char tag[] = "-----BEGIN ";
	size_t tl = sizeof tag - 1;

	for (size_t i = 0; n >= tl && i <= n - tl; i++)
		if (p[i] == '-' && memcmp(p + i, tag, tl) == 0)
			return 1;
	return 0;
}

/* Every CERTIFICATE block of a PEM buffer, in order.  PEM_read_bio_X509
 * skips blocks with other names (keys, requests).  An empty result is
 * returned as SISIGN_OK with an empty stack; the caller decides. */
static int certs_from_pem(const uint8_t *p, size_t n, const char *name, STACK_OF(X509) **out,
	struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	STACK_OF(X509) *certs = NULL;
	BIO *bio = NULL;
	X509 *x = NULL;
	unsigned long e;

	*out = NULL;
	if (n > (size_t)INT_MAX)
		return err_set(err, SISIGN_ERR_TOO_LARGE, -1, "%s: file too large", name);
	if ((certs = sk_X509_new_null()) == NULL || (bio = BIO_new_mem_buf(p, (int)n)) == NULL) {
		r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
		goto out;
	}
	ERR_set_mark();
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(certs, x)) {
			ERR_clear_last_mark();
			r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
			goto out;
		}
		x = NULL; /* transferred */
	}
	/* The loop ends with "no start line" at the end of the input; anything
	 * else means a CERTIFICATE block that did not decode. */
	e = ERR_peek_last_error();
	if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		ERR_clear_last_mark();
		r = err_ossl(err, SISIGN_ERR_BAD_CERT, "%s: certificate %d is not valid", name, sk_X509_num(certs) + 1);
		goto out;
	}
	ERR_pop_to_mark();
	/* success */
	*out = certs;
	certs = NULL; /* transferred */
	r = SISIGN_OK;
out:
	X509_free(x);
	BIO_free(bio);
	crypto_certs_free(certs);
	return r;
}

int crypto_certs_load_file_ex(const char *path, int allow_empty, STACK_OF(X509) **out, struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	uint8_t *data = NULL;
	size_t len = 0;
	STACK_OF(X509) *certs = NULL;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_certs_load_file: bad arguments");
	if ((r = file_read_all(path, CRYPTO_FILE_MAX, &data, &len, err)) != SISIGN_OK)
		goto out;
	if (len == 0 && allow_empty) {
		r = SISIGN_OK;
		goto out;
	}
	if (len == 0) {
		r = err_set(err, SISIGN_ERR_BAD_CERT, -1, "%s: empty file", path);
		goto out;
	}
	if (looks_like_pem(data, len)) {
		if ((r = certs_from_pem(data, len, path, &certs, err)) != SISIGN_OK)
			goto out;
		if (sk_X509_num(certs) == 0) {
			if (allow_empty) {
				r = SISIGN_OK;
				goto out;
			}
			r = err_set(err, SISIGN_ERR_BAD_CERT, -1, "%s: no certificate in the file", path);
			goto out;
		}
	} else if ((r = crypto_certs_from_der_blob(data, len, &certs, err)) != SISIGN_OK) {
		crypto_err_prefix(err, path);
		goto out;
	}
	/* success */
	*out = certs;
	certs = NULL; /* transferred */
	r = SISIGN_OK;
out:
	crypto_certs_free(certs);
	free(data);
	return r;
}

int crypto_certs_load_file(const char *path, STACK_OF(X509) **out, struct sisign_error *err)
{
	return crypto_certs_load_file_ex(path, 0, out, err);
}

int crypto_certs_to_der_blob(STACK_OF(X509) *certs, uint8_t **out, size_t *len, struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	uint8_t *buf = NULL;
	size_t total = 0, off = 0;
	int i, n;

	if (out != NULL)
		*out = NULL;
	if (len != NULL)
		*len = 0;
	if (certs == NULL || out == NULL || len == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_certs_to_der_blob: bad arguments");
	n = sk_X509_num(certs);
	if (n <= 0)
		return err_set(err, SISIGN_ERR_BAD_CERT, -1, "no certificates to write");
	for (i = 0; i < n; i++) {
		int l = i2d_X509(sk_X509_value(certs, i), NULL);
		if (l <= 0) {
			r = err_ossl(err, SISIGN_ERR_BAD_CERT, "certificate %d cannot be encoded", i + 1);
			goto out;
		}
		if ((size_t)l > SIZE_MAX - total) {
			r = err_set(err, SISIGN_ERR_TOO_LARGE, -1, "certificate chain too large");
			goto out;
		}
		total += (size_t)l;
	}
	if ((buf = malloc(total)) == NULL) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		unsigned char *q = buf + off;
		int l = i2d_X509(sk_X509_value(certs, i), &q);
		if (l <= 0 || (size_t)l > total - off) {
			r = err_ossl(err, SISIGN_ERR_BAD_CERT, "certificate %d cannot be encoded", i + 1);
			goto out;
		}
		off += (size_t)l;
	}
	if (off != total) {
		r = err_set(err, SISIGN_ERR_INTERNAL, -1, "certificate encoding changed size");
		goto out;
	}
	/* success */
	*out = buf;
	*len = total;
	buf = NULL; /* transferred */
	r = SISIGN_OK;
out:
	free(buf);
	return r;
}

/* ---- description ------------------------------------------------------------- */

int crypto_asn1_time_to_time_t(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (out != NULL)
		*out = 0;
	if (t == NULL || out == NULL)
		return SISIGN_ERR_INVALID_ARG;
	memset(&tm, 0, sizeof tm);
	if (!ASN1_TIME_to_tm(t, &tm)) {
		err_ossl_clear();
		return SISIGN_ERR_BAD_CERT;
	}
	/* ASN1_TIME_to_tm gives UTC broken-down time; timegm (glibc, BSD)
	 * is the UTC inverse of gmtime. */
	*out = timegm(&tm);
	return SISIGN_OK;
}

/* Cut s (NUL-terminated, at most cap-1 bytes kept) at a UTF-8 character
 * boundary. */
static void copy_utf8_trunc(char *dst, size_t cap, const char *src, size_t srclen)
{
	size_t n = srclen;

	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int crypto_dn_oneline(const X509_NAME *name, char *dst, size_t cap, struct sisign_error *err)
{
	/* RFC 2253 order and escaping ("CN=..., O=..."), but UTF-8 kept as is
	 * rather than \XX-escaped, and ", " between components for reading.
	 * The one DN style of every report and message (package.h). */
	const unsigned long flags = CRYPTO_DN_FLAGS;
	BIO *bio = NULL;
	char *p = NULL;
	long n;
	int r = SISIGN_ERR_INTERNAL;

	dst[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL) {
		r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (X509_NAME_print_ex(bio, name, 0, flags) < 0) {
		r = err_ossl(err, SISIGN_ERR_BAD_CERT, "cannot print certificate name");
		goto out;
	}
	n = BIO_get_mem_data(bio, &p);
	if (n < 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot print certificate name");
		goto out;
	}
	copy_utf8_trunc(dst, cap, p != NULL ? p : "", (size_t)n);
	r = SISIGN_OK;
out:
	BIO_free(bio);
	return r;
}

int crypto_cert_has_eku_oid(X509 *cert, const char *oid)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	ASN1_OBJECT *want = NULL;
	int found = 0;

	if (cert == NULL || oid == NULL)
		return 0;
	if ((want = OBJ_txt2obj(oid, 1)) == NULL) {
		err_ossl_clear();
		return 0;
	}
	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	if (eku != NULL) {
		for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
			if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), want) == 0)
				found = 1;
	}
	EXTENDED_KEY_USAGE_free(eku);
	ASN1_OBJECT_free(want);
	err_ossl_clear();
	return found;
}

int crypto_cert_describe(X509 *cert, struct crypto_cert_info *info, struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	EVP_PKEY *pk;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int nid;

	if (info != NULL)
		memset(info, 0, sizeof *info);
	if (cert == NULL || info == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_cert_describe: bad arguments");

	if ((r = crypto_dn_oneline(X509_get_subject_name(cert), info->subject, sizeof info->subject, err)) != SISIGN_OK)
		goto out;
	if ((r = crypto_dn_oneline(X509_get_issuer_name(cert), info->issuer, sizeof info->issuer, err)) != SISIGN_OK)
		goto out;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) == NULL ||
		(hex = BN_bn2hex(bn)) == NULL) {
		r = err_ossl(err, SISIGN_ERR_BAD_CERT, "cannot read the certificate serial number");
		goto out;
	}
	copy_utf8_trunc(info->serial_hex, sizeof info->serial_hex, hex, strlen(hex));

	if (crypto_asn1_time_to_time_t(X509_get0_notBefore(cert), &info->not_before) != SISIGN_OK ||
		crypto_asn1_time_to_time_t(X509_get0_notAfter(cert), &info->not_after) != SISIGN_OK) {
		r = err_set(err, SISIGN_ERR_BAD_CERT, -1, "certificate validity dates are malformed");
		goto out;
	}

	pk = X509_get0_pubkey(cert);
	err_ossl_clear(); /* an undecodable key is reported as "other", not an error */
	switch (crypto_pkey_type(pk)) {
	case SISIGN_KEY_RSA:
		snprintf(info->key_type, sizeof info->key_type, "RSA");
		break;
	case SISIGN_KEY_DSA:
		snprintf(info->key_type, sizeof info->key_type, "DSA");
		break;
	default:
		snprintf(info->key_type, sizeof info->key_type, "other");
		break;
	}
	info->key_bits = pk != NULL ? EVP_PKEY_get_bits(pk) : 0;
	if (info->key_bits < 0)
		info->key_bits = 0;

	nid = X509_get_signature_nid(cert);
	if (nid != NID_undef)
		snprintf(info->sig_alg, sizeof info->sig_alg, "%s", OBJ_nid2ln(nid));
	else
		snprintf(info->sig_alg, sizeof info->sig_alg, "unknown");

	if (!X509_digest(cert, EVP_sha256(), md, &mdlen) || mdlen != 32) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot hash the certificate");
		goto out;
	}
	(void)sisign_hex(md, mdlen, info->sha256_hex, sizeof info->sha256_hex);

	info->has_eku = (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) != 0;
	info->eku_codesigning = info->has_eku && (X509_get_extended_key_usage(cert) & XKU_CODE_SIGN) != 0;
	info->self_signed = X509_self_signed(cert, 0) == 1;
	err_ossl_clear();
	r = SISIGN_OK;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

int sisign_certs_describe(const uint8_t *der, size_t len, struct sisign_cert_info **out, size_t *n,
	struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	struct sisign_cert_info *v = NULL, *nv;
	struct crypto_cert_info ci;
	size_t off = 0, cnt = 0, cap = 0;
	const uint8_t *q;
	X509 *x = NULL;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (out == NULL || n == NULL || (der == NULL && len > 0))
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_certs_describe: bad arguments");
	while (off < len) {
		long l = len - off > (size_t)LONG_MAX ? LONG_MAX : (long)(len - off);

		q = der + off;
		if ((x = d2i_X509(NULL, &q, l)) == NULL || q <= der + off) {
			r = err_ossl(err, SISIGN_ERR_BAD_CERT, "certificate %zu of the chain does not decode", cnt + 1);
			if (err != NULL)
				err->offset = (long long)off;
			goto out;
		}
		if ((r = crypto_cert_describe(x, &ci, err)) != SISIGN_OK) {
			crypto_err_prefix(err, "certificate");
			if (err != NULL)
				err->offset = (long long)off;
			goto out;
		}
		if (cnt == cap) {
			cap = cap ? 2 * cap : 4;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
				r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
				goto out;
			}
			v = nv;
		}
		memset(&v[cnt], 0, sizeof v[cnt]);
		snprintf(v[cnt].subject, sizeof v[cnt].subject, "%s", ci.subject);
		snprintf(v[cnt].issuer, sizeof v[cnt].issuer, "%s", ci.issuer);
		snprintf(v[cnt].serial, sizeof v[cnt].serial, "%s", ci.serial_hex);
		v[cnt].not_before = ci.not_before;
		v[cnt].not_after = ci.not_after;
		snprintf(v[cnt].key_type, sizeof v[cnt].key_type, "%s", ci.key_type);
		v[cnt].key_bits = ci.key_bits;
		snprintf(v[cnt].sig_alg, sizeof v[cnt].sig_alg, "%s", ci.sig_alg);
		snprintf(v[cnt].sha256, sizeof v[cnt].sha256, "%s", ci.sha256_hex);
		v[cnt].self_issued = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
		cnt++;
		X509_free(x);
		x = NULL;
		off = (size_t)(q - der);
	}
	r = SISIGN_OK;
out:
	X509_free(x);
	/* What was described is handed over on failure too. */
	if (cnt == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	*n = cnt;
	return r;
}

void sisign_cert_info_free(struct sisign_cert_info *v)
{
	free(v);
}
