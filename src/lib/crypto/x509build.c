/* SPDX-License-Identifier: Apache-2.0 */
/* Self-signed certificates, PKCS#10 requests, subjects and file keys
 * (keygen.h; sis-format.md §8.2 for makekeys' conventions).
 *
 * Signing goes through a digest callback (struct xb_signer), so a token key
 * that never leaves the token signs exactly like a key file: the TBS part is
 * encoded here, hashed, signed by the callback, and the outer SEQUENCE
 * { tbs, algorithm, BIT STRING } assembled by hand and parsed back.  No
 * libp11 engine and no custom EVP_PKEY method are involved. */
#include "crypto/x509build_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/dsa.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_private.h"
#include "util/util_private.h"

#define KEY_FILE_MAX ((size_t)1024 * 1024)

/* ---- digests ---------------------------------------------------------------- */

int xb_md_nid(enum sisign_digest d)
{
	return d == SISIGN_DIGEST_SHA256 ? NID_sha256 : NID_sha1;
}

/* DER prefixes of DigestInfo { AlgorithmIdentifier { oid, NULL }, OCTET STRING }. */
static const uint8_t di_sha1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05,
	0x00, 0x04, 0x14 };
static const uint8_t di_sha256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

int xb_digestinfo(int md_nid, const uint8_t *dgst, size_t dlen, uint8_t *out, size_t *outlen)
{
	const uint8_t *pre;
	size_t plen, want;

	if (md_nid == NID_sha1) {
		pre = di_sha1;
		plen = sizeof di_sha1;
		want = 20;
	} else if (md_nid == NID_sha256) {
		pre = di_sha256;
		plen = sizeof di_sha256;
		want = 32;
	} else {
		return SISIGN_ERR_INVALID_ARG;
	}
	if (dlen != want || plen + dlen > XB_DI_MAX)
		return SISIGN_ERR_INVALID_ARG;
	memcpy(out, pre, plen);
	memcpy(out + plen, dgst, dlen);
	*outlen = plen + dlen;
	return SISIGN_OK;
}

int xb_pkey_sign(void *ctx, int md_nid, const uint8_t *dgst, size_t dlen, uint8_t **sig, size_t *siglen,
	struct sisign_error *err)
{
	EVP_PKEY *pkey = ctx;
	EVP_PKEY_CTX *pc = NULL;
	uint8_t *buf = NULL;
	size_t n = 0;
	int r = SISIGN_ERR_INTERNAL;

	*sig = NULL;
	*siglen = 0;
	if (!(pc = EVP_PKEY_CTX_new(pkey, NULL)) || EVP_PKEY_sign_init(pc) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(pc, EVP_get_digestbynid(md_nid)) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot set up signing");
		goto out;
	}
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot set up signing");
		goto out;
	}
	if (EVP_PKEY_sign(pc, NULL, &n, dgst, dlen) <= 0 || !(buf = malloc(n)) ||
	    EVP_PKEY_sign(pc, buf, &n, dgst, dlen) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "signing failed");
		goto out;
	}
	/* success */
	*sig = buf;
	*siglen = n;
	buf = NULL; /* transferred */
	r = SISIGN_OK;
out:
	free(buf);
	EVP_PKEY_CTX_free(pc);
	return r;
}

/* ---- subjects -------------------------------------------------------------- */

/* makekeys' attribute keys (sis-format.md §8.2) plus the usual spellings. */
static const struct {
	const char *key;
	int nid;
} mk_keys[] = {
	{ "CN", NID_commonName }, { "OU", NID_organizationalUnitName }, { "O", NID_organizationName },
	{ "OR", NID_organizationName }, { "L", NID_localityName }, { "LO", NID_localityName },
	{ "ST", NID_stateOrProvinceName },
	{ "C", NID_countryName }, { "CO", NID_countryName }, { "EM", NID_pkcs9_emailAddress },
	{ "E", NID_pkcs9_emailAddress }, { "EMAIL", NID_pkcs9_emailAddress },
	{ "EMAILADDRESS", NID_pkcs9_emailAddress },
};

static int mk_key_nid(const char *k, size_t n)
{
	for (size_t i = 0; i < sizeof mk_keys / sizeof mk_keys[0]; i++)
		if (strlen(mk_keys[i].key) == n && strncasecmp(mk_keys[i].key, k, n) == 0)
			return mk_keys[i].nid;
	return NID_undef;
}

static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t k;
		unsigned long cp;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0; /* control characters have no place in a name */
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (k > n - i - 1)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* Add one attribute, with the string type each needs: countryName is a
 * two-letter PrintableString, emailAddress an IA5String, everything else
 * UTF8String.  The type is given directly (not MBSTRING_*), so OpenSSL's
 * 64-character upper bounds do not apply: makekeys put longer values in
 * too. */
static int name_add(X509_NAME *name, int nid, const char *val, size_t n, struct sisign_error *err)
{
	const char *sn = OBJ_nid2sn(nid);
	int type = V_ASN1_UTF8STRING;

	if (n == 0)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "subject: %s has an empty value", sn);
	if (n > SISIGN_SUBJECT_VALUE_MAX)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "subject: the %s value is too long (%zu bytes, at most %d)",
			sn, n, SISIGN_SUBJECT_VALUE_MAX);
	if (!utf8_valid((const unsigned char *)val, n))
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1,
			"subject: the %s value is not valid UTF-8 or contains control characters", sn);
	if (nid == NID_countryName) {
		if (n != 2 || !((val[0] >= 'A' && val[0] <= 'Z') || (val[0] >= 'a' && val[0] <= 'z')) ||
		    !((val[1] >= 'A' && val[1] <= 'Z') || (val[1] >= 'a' && val[1] <= 'z')))
			return err_set(err, SISIGN_ERR_INVALID_ARG, -1,
				"subject: C must be a two-letter country code (ISO 3166), not \"%.*s\"", (int)n, val);
		type = V_ASN1_PRINTABLESTRING;
	} else if (nid == NID_pkcs9_emailAddress) {
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)val[i] >= 0x80)
				return err_set(err, SISIGN_ERR_INVALID_ARG, -1,
					"subject: the e-mail address must be ASCII");
		if (!memchr(val, '@', n))
			return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "subject: \"%.*s\" is not an e-mail address",
				(int)n, val);
		type = V_ASN1_IA5STRING;
	}
	if (!X509_NAME_add_entry_by_NID(name, nid, type, (const unsigned char *)val, (int)n, -1, 0))
		return err_ossl(err, SISIGN_ERR_INVALID_ARG, "subject: cannot add %s", sn);
	return SISIGN_OK;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* If s[i..] starts an attribute ("WORD=" at the start or after a space),
 * return the key length, else 0. */
static size_t attr_start(const char *s, size_t i)
{
	size_t k = i;
	if (i > 0 && !is_space(s[i - 1]))
		return 0;
	while ((s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= 'a' && s[k] <= 'z'))
		k++;
	if (k == i || s[k] != '=' || k - i > 20)
		return 0;
	return k - i;
}

/* makekeys: "CN=Jane Dev OU=Apps O=Acme C=FI EM=jane@acme.example".  An
 * attribute starts at a word followed by '=' after a space; its value runs
 * to the next attribute, trailing spaces dropped.  A word that is not one of
 * the known keys is an error, not part of the value: "CN=Jane XX=1" is far
 * more likely a typo than a name containing "XX=". */
static int parse_makekeys(const char *s, X509_NAME *name, struct sisign_error *err)
{
	size_t i = 0, len = strlen(s);
	int r;

	while (i < len && is_space(s[i]))
		i++;
	if (!attr_start(s, i))
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1,
			"subject \"%s\": expected KEY=value pairs (e.g. \"CN=Jane Dev O=Acme C=FI\") or "
			"/CN=.../O=...", s);
	while (i < len) {
		size_t kl = attr_start(s, i), vs, ve;
		int nid = mk_key_nid(s + i, kl);
		if (nid == NID_undef)
			return err_set(err, SISIGN_ERR_INVALID_ARG, -1,
				"subject: unknown attribute \"%.*s\" (use CN, OU, O, L, ST, C, EM)", (int)kl, s + i);
		vs = i + kl + 1;
		ve = vs;
		while (ve < len && !(is_space(s[ve - 1]) && attr_start(s, ve)))
			ve++;
		i = ve;
		while (ve > vs && is_space(s[ve - 1]))
			ve--;
		while (vs < ve && is_space(s[vs]))
			vs++;
		if ((r = name_add(name, nid, s + vs, ve - vs, err)) != 0)
			return r;
	}
	return SISIGN_OK;
}

/* OpenSSL's "/CN=Jane Dev/O=Acme"; "\/" and "\\" escape. */
static int parse_slash(const char *s, X509_NAME *name, struct sisign_error *err)
{
	size_t len = strlen(s);
	char *buf = malloc(len + 1);
	size_t i = 1;
	int r = SISIGN_OK;

	if (!buf)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	if (len == 1) {
		free(buf);
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "subject \"/\" is empty");
	}
	while (i <= len && r == SISIGN_OK) {
		size_t n = 0;
		char *eq;
		int nid;
		while (i < len && s[i] != '/') {
			if (s[i] == '\\' && i + 1 < len)
				i++;
			buf[n++] = s[i++];
		}
		buf[n] = '\0';
		i++; /* past '/' or the end */
		if (!(eq = strchr(buf, '='))) {
			r = err_set(err, SISIGN_ERR_INVALID_ARG, -1, "subject: \"%s\" is not KEY=value", buf);
			break;
		}
		*eq = '\0';
		nid = mk_key_nid(buf, strlen(buf));
		if (nid == NID_undef)
			nid = OBJ_txt2nid(buf);
		if (nid == NID_undef) {
			r = err_set(err, SISIGN_ERR_INVALID_ARG, -1, "subject: unknown attribute \"%s\"", buf);
			break;
		}
		r = name_add(name, nid, eq + 1, strlen(eq + 1), err);
	}
	err_ossl_clear();
	free(buf);
	return r;
}

int xb_name_parse(const char *s, X509_NAME **out, struct sisign_error *err)
{
	X509_NAME *name = NULL;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	if (!s || !*s)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "the subject is empty");
	if (!(name = X509_NAME_new()))
		return err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
	r = s[0] == '/' ? parse_slash(s, name, err) : parse_makekeys(s, name, err);
	if (r != SISIGN_OK)
		goto out;
	if (X509_NAME_entry_count(name) == 0) {
		r = err_set(err, SISIGN_ERR_INVALID_ARG, -1, "the subject has no attributes");
		goto out;
	}
	/* success */
	*out = name;
	name = NULL; /* transferred */
	r = SISIGN_OK;
out:
	X509_NAME_free(name);
	return r;
}

int sisign_subject_check(const char *subject, char **oneline, struct sisign_error *err)
{
	X509_NAME *name = NULL;
	char line[1024];
	int r = SISIGN_ERR_INTERNAL;

	if (oneline)
		*oneline = NULL;
	if ((r = xb_name_parse(subject, &name, err)) != 0)
		return r;
	if (oneline) {
		if ((r = crypto_dn_oneline(name, line, sizeof line, err)) != SISIGN_OK)
			goto out;
		if (!(*oneline = strdup(line))) {
			r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
			goto out;
		}
	}
	r = SISIGN_OK;
out:
	X509_NAME_free(name);
	return r;
}

/* ---- certificates and requests ----------------------------------------------- */

int xb_validity(const struct sisign_cert_params *cp, time_t now, time_t *nb, time_t *na, struct sisign_error *err)
{
	int days = cp->days ? cp->days : SISIGN_CERT_DAYS_DEFAULT;

	if (cp->days < 0 || cp->days > 36500)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "validity must be 1 to 36500 days, not %d", cp->days);
	*nb = cp->not_before ? cp->not_before : now;
	*na = cp->not_after ? cp->not_after : *nb + (time_t)days * 86400;
	if (*na <= *nb)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "the certificate would end before it starts");
	return SISIGN_OK;
}

/* Signature algorithm for the key type and digest. */
static int sig_algor(EVP_PKEY *pub, int md_nid, X509_ALGOR *alg, struct sisign_error *err)
{
	int pkey_nid = EVP_PKEY_get_base_id(pub), sig_nid = NID_undef;

	if (pkey_nid != EVP_PKEY_RSA && pkey_nid != EVP_PKEY_DSA)
		return err_set(err, SISIGN_ERR_BAD_KEY, -1, "only RSA and DSA keys can make certificates here");
	if (!OBJ_find_sigid_by_algs(&sig_nid, md_nid, pkey_nid == EVP_PKEY_RSA ? NID_rsaEncryption : NID_dsa))
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "no signature algorithm for %s with %s",
			OBJ_nid2sn(md_nid), pkey_nid == EVP_PKEY_RSA ? "RSA" : "DSA");
	/* RSA algorithm identifiers carry NULL parameters, DSA ones none
	 * (RFC 3279 §2.2). */
	if (!X509_ALGOR_set0(alg, OBJ_nid2obj(sig_nid), pkey_nid == EVP_PKEY_RSA ? V_ASN1_NULL : V_ASN1_UNDEF,
		    NULL))
		return err_ossl(err, SISIGN_ERR_CRYPTO, "cannot set the signature algorithm");
	return SISIGN_OK;
}

/* Hash tbs, sign it, and return the DER of SEQUENCE { tbs, alg, BIT STRING
 * signature } — the shape of both Certificate and CertificationRequest. */
static int sign_and_wrap(const struct xb_signer *s, int md_nid, const uint8_t *tbs, size_t tbslen,
	const X509_ALGOR *alg, uint8_t **out, size_t *outlen, struct sisign_error *err)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	uint8_t *sig = NULL, *algder = NULL, *bitder = NULL, *der = NULL, *p;
	size_t siglen = 0;
	int alglen, bitlen, inner, total;
	ASN1_BIT_STRING *bits = NULL;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	*outlen = 0;
	if (!EVP_Digest(tbs, tbslen, md, &mdlen, EVP_get_digestbynid(md_nid), NULL)) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "hashing failed");
		goto out;
	}
	if ((r = s->sign(s->ctx, md_nid, md, mdlen, &sig, &siglen, err)) != SISIGN_OK)
		goto out;
	if (siglen > INT32_MAX || !(bits = ASN1_BIT_STRING_new()) || !ASN1_BIT_STRING_set(bits, sig, (int)siglen)) {
		r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* No unused bits: a signature is whole bytes. */
	bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	if ((alglen = i2d_X509_ALGOR(alg, &algder)) <= 0 || (bitlen = i2d_ASN1_BIT_STRING(bits, &bitder)) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot encode the signature");
		goto out;
	}
	if (tbslen > (size_t)INT32_MAX / 2) {
		r = err_set(err, SISIGN_ERR_TOO_LARGE, -1, "certificate too large");
		goto out;
	}
	inner = (int)tbslen + alglen + bitlen;
	total = ASN1_object_size(1, inner, V_ASN1_SEQUENCE);
	if (total <= 0 || !(der = malloc((size_t)total))) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	p = der;
	ASN1_put_object(&p, 1, inner, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(p, tbs, tbslen);
	p += tbslen;
	memcpy(p, algder, (size_t)alglen);
	p += alglen;
	memcpy(p, bitder, (size_t)bitlen);
	p += bitlen;
	if (p != der + total) {
		r = err_set(err, SISIGN_ERR_INTERNAL, -1, "DER length mismatch");
		goto out;
	}
	/* success */
	*out = der;
	*outlen = (size_t)total;
	der = NULL; /* transferred */
	r = SISIGN_OK;
out:
	OPENSSL_cleanse(md, sizeof md);
	free(sig);
	free(der);
	OPENSSL_free(algder);
	OPENSSL_free(bitder);
	ASN1_BIT_STRING_free(bits);
	return r;
}

static int add_ext(X509 *x, int nid, const char *value, struct sisign_error *err)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (!(ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)))
		return err_ossl(err, SISIGN_ERR_CRYPTO, "cannot make the %s extension", OBJ_nid2sn(nid));
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ok)
		return err_ossl(err, SISIGN_ERR_CRYPTO, "cannot add the %s extension", OBJ_nid2sn(nid));
	return SISIGN_OK;
}

/* A random positive serial of 127 bits (RFC 5280 allows 20 octets; top bit
 * clear so it stays positive without a leading zero byte). */
static int random_serial(X509 *x, struct sisign_error *err)
{
	BIGNUM *bn = BN_new();
	int ok = bn && BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
		BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? SISIGN_OK : err_ossl(err, SISIGN_ERR_CRYPTO, "cannot make a serial number");
}

/* The start shared by certificates and requests: check the arguments (fn
 * names the caller in the message), parse the subject, with cp work out the
 * validity, and make the signature algorithm for the key and digest.  On
 * failure the caller frees whatever *name and *alg hold. */
static int build_begin(const struct xb_signer *s, const char *fn, const char *subject, enum sisign_digest digest,
	const struct sisign_cert_params *cp, time_t *nb, time_t *na, X509_NAME **name, X509_ALGOR **alg,
	int *md_nid, struct sisign_error *err)
{
	int r;

	if (!s || !s->pub || !s->sign)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "%s: bad arguments", fn);
	if (digest != SISIGN_DIGEST_SHA1 && digest != SISIGN_DIGEST_SHA256)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "unknown digest");
	*md_nid = xb_md_nid(digest);
	if ((r = xb_name_parse(subject, name, err)) != 0)
		return r;
	if (cp && (r = xb_validity(cp, time(NULL), nb, na, err)) != 0)
		return r;
	if (!(*alg = X509_ALGOR_new()))
		return err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
	return sig_algor(s->pub, *md_nid, *alg, err);
}

int xb_cert_build(const struct xb_signer *s, const struct sisign_cert_params *cp, X509 **out,
	struct sisign_error *err)
{
	X509 *x = NULL, *res = NULL;
	X509_NAME *name = NULL;
	X509_ALGOR *alg = NULL;
	uint8_t *tbs = NULL, *der = NULL;
	size_t derlen = 0;
	const unsigned char *q;
	time_t nb, na;
	int tbslen, md_nid;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	if (!cp)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "xb_cert_build: bad arguments");
	if ((r = build_begin(s, "xb_cert_build", cp->subject, cp->digest, cp, &nb, &na, &name, &alg, &md_nid,
		     err)) != 0)
		goto out;
	if (!(x = X509_new())) {
		r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, name) || !ASN1_TIME_set(X509_getm_notBefore(x), nb) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), na) || !X509_set_pubkey(x, s->pub)) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot fill in the certificate");
		goto out;
	}
	if ((r = random_serial(x, err)) != 0)
		goto out;
	if ((r = add_ext(x, NID_basic_constraints, "critical,CA:FALSE", err)) != 0 ||
	    (r = add_ext(x, NID_key_usage, "critical,digitalSignature", err)) != 0 ||
	    (r = add_ext(x, NID_ext_key_usage, "codeSigning", err)) != 0 ||
	    (r = add_ext(x, NID_subject_key_identifier, "hash", err)) != 0)
		goto out;
	/* OpenSSL 3.0 has no setter for the TBS signature algorithm (only
	 * X509_sign does it, with a private key we may not have).  The
	 * returned pointer is to a member of x, which is not a const object;
	 * i2d_re_X509_tbs below re-encodes the TBS with it. */
	if (!X509_ALGOR_copy((X509_ALGOR *)X509_get0_tbs_sigalg(x), alg)) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot set the signature algorithm");
		goto out;
	}
	if ((tbslen = i2d_re_X509_tbs(x, &tbs)) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot encode the certificate");
		goto out;
	}
	if ((r = sign_and_wrap(s, md_nid, tbs, (size_t)tbslen, alg, &der, &derlen, err)) != 0)
		goto out;
	q = der;
	if (derlen > INT32_MAX || !(res = d2i_X509(NULL, &q, (long)derlen)) || q != der + derlen) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "the new certificate does not parse");
		goto out;
	}
	/* A token that signed with another key than the one we read, or a
	 * broken module, is caught here rather than by the device. */
	if (X509_verify(res, s->pub) != 1) {
		r = err_ossl(err, SISIGN_ERR_KEY_MISMATCH, "the new certificate's self-signature does not verify against the key's public part; "
			"nothing was written or stored");
		goto out;
	}
	/* success */
	*out = res;
	res = NULL; /* transferred */
	r = SISIGN_OK;
out:
	OPENSSL_free(tbs);
	free(der);
	X509_free(res);
	X509_free(x);
	X509_ALGOR_free(alg);
	X509_NAME_free(name);
	return r;
}

int xb_req_build(const struct xb_signer *s, const char *subject, enum sisign_digest digest, X509_REQ **out,
	struct sisign_error *err)
{
	X509_REQ *req = NULL, *res = NULL;
	X509_NAME *name = NULL;
	X509_ALGOR *alg = NULL;
	uint8_t *tbs = NULL, *der = NULL;
	size_t derlen = 0;
	const unsigned char *q;
	int tbslen, md_nid;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	if ((r = build_begin(s, "xb_req_build", subject, digest, NULL, NULL, NULL, &name, &alg, &md_nid, err)) != 0)
		goto out;
	if (!(req = X509_REQ_new())) {
		r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) || !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, s->pub)) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot fill in the request");
		goto out;
	}
	if ((tbslen = i2d_re_X509_REQ_tbs(req, &tbs)) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "cannot encode the request");
		goto out;
	}
	if ((r = sign_and_wrap(s, md_nid, tbs, (size_t)tbslen, alg, &der, &derlen, err)) != 0)
		goto out;
	q = der;
	if (derlen > INT32_MAX || !(res = d2i_X509_REQ(NULL, &q, (long)derlen)) || q != der + derlen) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "the new request does not parse");
		goto out;
	}
	if (X509_REQ_verify(res, s->pub) != 1) {
		r = err_ossl(err, SISIGN_ERR_KEY_MISMATCH, "the new request's signature does not verify against the key's public part; "
			"nothing was written");
		goto out;
	}
	/* success */
	*out = res;
	res = NULL; /* transferred */
	r = SISIGN_OK;
out:
	OPENSSL_free(tbs);
	free(der);
	X509_REQ_free(res);
	X509_REQ_free(req);
	X509_ALGOR_free(alg);
	X509_NAME_free(name);
	return r;
}

/* ---- file keys ------------------------------------------------------------------ */

int xb_generate(enum sisign_key_type type, int bits, EVP_PKEY **out, struct sisign_error *err)
{
	EVP_PKEY_CTX *pc = NULL, *kc = NULL;
	EVP_PKEY *params = NULL, *key = NULL;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	if (type == SISIGN_KEY_UNKNOWN)
		type = SISIGN_KEY_RSA;
	if (type == SISIGN_KEY_RSA) {
		if (bits == 0)
			bits = 2048;
		if (bits != 1024 && bits != 2048 && bits != 3072 && bits != 4096)
			return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "RSA keys are 1024, 2048, 3072 or 4096 bits, not %d",
				bits);
		if (!(key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits)))
			return err_ossl(err, SISIGN_ERR_CRYPTO, "RSA key generation failed");
		*out = key;
		return SISIGN_OK;
	}
	if (type != SISIGN_KEY_DSA)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "unknown key type");
	if (bits == 0)
		bits = 1024;
	/* Symbian verifies DSA with SHA-1, so q must be 160 bits: DSA-1024
	 * is what makekeys made and all that devices take. */
	if (bits != 1024)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "DSA keys are 1024 bits (Symbian's DSA-SHA1), not %d",
			bits);
	if (!(pc = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL)) || EVP_PKEY_paramgen_init(pc) <= 0 ||
	    EVP_PKEY_CTX_set_dsa_paramgen_bits(pc, bits) <= 0 || EVP_PKEY_CTX_set_dsa_paramgen_q_bits(pc, 160) <= 0 ||
	    EVP_PKEY_paramgen(pc, &params) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "DSA parameter generation failed");
		goto out;
	}
	/* No EVP_PKEY_CTX_set_dsa_paramgen_md: in OpenSSL 3.0 the parameters
	 * then keep a pointer to the digest name owned by the paramgen
	 * context, used after it is freed (seen with ASan when the key is
	 * encoded).  Without it the FIPS 186-4 generator picks SHA-1 for
	 * N = 160 itself. */
	if (!(kc = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL)) || EVP_PKEY_keygen_init(kc) <= 0 ||
	    EVP_PKEY_keygen(kc, &key) <= 0) {
		r = err_ossl(err, SISIGN_ERR_CRYPTO, "DSA key generation failed");
		goto out;
	}
	/* success */
	*out = key;
	key = NULL; /* transferred */
	r = SISIGN_OK;
out:
	EVP_PKEY_CTX_free(kc);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(params);
	EVP_PKEY_free(key);
	return r;
}

/* PKCS#12: DER only (no PEM form exists).  Returns 1 if data is a PKCS#12
 * file and sets *key / *cert (or an error in *r), 0 if it is not one. */
static int try_p12(const uint8_t *data, size_t len, struct crypto_pw *st, EVP_PKEY **key, X509 **cert, int *r,
	struct sisign_error *err)
{
	if (!crypto_p12_is(data, len))
		return 0;
	*r = crypto_p12_load(data, len, st, key, cert, NULL, err);
	return 1;
}

int xb_load_key_file(const char *path, sisign_secret_cb cb, void *ud, EVP_PKEY **out, X509 **p12cert,
	struct sisign_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0, plen;
	const unsigned char *p;
	OSSL_DECODER_CTX *dctx = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	struct crypto_pw st;
	int r = SISIGN_ERR_INTERNAL;

	*out = NULL;
	if (p12cert)
		*p12cert = NULL;
	memset(&st, 0, sizeof st);
	st.cb = cb;
	st.userdata = ud;
	st.path = path;
	if ((r = file_read_all(path, KEY_FILE_MAX, &data, &len, err)) != SISIGN_OK)
		goto out;
	if (len == 0) {
		r = err_set(err, SISIGN_ERR_BAD_KEY, -1, "%s: empty key file", path);
		goto out;
	}
	if (p12cert && try_p12(data, len, &st, &pkey, &cert, &r, err)) {
		if (r != SISIGN_OK)
			goto out;
	} else {
		if (!(dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL)) ||
		    !OSSL_DECODER_CTX_set_passphrase_cb(dctx, crypto_pw_cb, &st)) {
			r = err_ossl(err, SISIGN_ERR_CRYPTO, "%s: cannot set up key decoding", path);
			goto out;
		}
		p = data;
		plen = len;
		if (!OSSL_DECODER_from_data(dctx, &p, &plen) || !pkey) {
			if (st.cb_err) {
				r = err_set(err, st.cb_err, -1, "%s: no passphrase given", path);
				err_ossl_clear();
			} else if (st.asked && !cb) {
				r = err_set(err, SISIGN_ERR_BAD_PASSPHRASE, -1,
					"%s: key is encrypted and no passphrase was given", path);
				err_ossl_clear();
			} else if (st.asked) {
				r = err_ossl(err, SISIGN_ERR_BAD_PASSPHRASE, "%s: wrong passphrase", path);
			} else {
				r = err_ossl(err, SISIGN_ERR_BAD_KEY, "%s: not a private key (PEM or DER, PKCS#1, PKCS#8%s)",
					path, p12cert ? ", PKCS#12" : "");
			}
			goto out;
		}
		err_ossl_clear();
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA && EVP_PKEY_get_base_id(pkey) != EVP_PKEY_DSA) {
		r = err_set(err, SISIGN_ERR_BAD_KEY, -1, "%s: only RSA and DSA keys are supported", path);
		goto out;
	}
	if (!crypto_pkey_has_private(pkey)) {
		r = err_set(err, SISIGN_ERR_BAD_KEY, -1, "%s: holds a public key only, not a private key", path);
		goto out;
	}
	/* success */
	*out = pkey;
	pkey = NULL; /* transferred */
	if (p12cert) {
		*p12cert = cert;
		cert = NULL; /* transferred */
	}
	r = SISIGN_OK;
out:
	EVP_PKEY_free(pkey);
	X509_free(cert);
	OSSL_DECODER_CTX_free(dctx);
	if (data)
		sisign_freezero(data, len);
	return r;
}
