/* SPDX-License-Identifier: Apache-2.0 */
/* What a signing certificate allows on the device, apart from its
 * cryptography: Symbian's developer-certificate constraint extensions and
 * their combination over a chain (install-rules.md §5), the code-signing
 * EKU rule (§1.1), and whether a chain carries its own self-signed anchor.
 *
 * The extensions are decoded by walking their DER here rather than with
 * OpenSSL templates, because the device's decoder has rules of its own
 * (32-bit integers, a capability bit string read in named-bit order) and
 * any element of the wrong tag must fail the whole certificate. */
#include "crypto/crypto_private.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "util/util_private.h"

#include <sisign/package.h>

/* The four extensions of §5, in the order the text reports them. */
enum { EXT_DEVICES, EXT_SIDS, EXT_VIDS, EXT_CAPS, EXT_COUNT };

static const struct {
	const char *oid;
	const char *what;
} exts[EXT_COUNT] = {
	{ CRYPTO_OID_DEVCERT_DEVICES, "device-ID list" },
	{ CRYPTO_OID_DEVCERT_SIDS, "SID list" },
	{ CRYPTO_OID_DEVCERT_VIDS, "VID list" },
	{ CRYPTO_OID_DEVCERT_CAPS, "capability set" },
};

/* Capabilities the device knows (bits 0-19, install-rules.md §3.1); the
 * extension's later bits are ignored. */
#define CAPS_KNOWN_MASK ((UINT32_C(1) << 20) - 1)

/* ---- DER walking ------------------------------------------------------------ */

/* Take one DER element with the given tag (low-tag-number form) from b:
 * definite length in its shortest form, content inside b.  On success
 * *content views the content and b moves past the element; on failure b
 * does not move and the static reason is returned. */
static const char *der_take(struct sbuf *b, uint8_t tag, struct sbuf *content)
{
	struct sbuf s = *b;
	uint8_t t, l0, c;
	size_t len = 0;

	if (sbuf_get_u8(&s, &t) != SISIGN_OK || sbuf_get_u8(&s, &l0) != SISIGN_OK)
		return "element cut short";
	if (t != tag)
		return "element of the wrong tag";
	if (l0 == 0x80)
		return "indefinite length (not DER)";
	if (l0 < 0x80) {
		len = l0;
	} else {
		unsigned nl = l0 & 0x7Fu;

		/* Four length octets reach 4 GiB, far past any certificate. */
		if (nl > 4)
			return "length field too long";
		for (unsigned i = 0; i < nl; i++) {
			if (sbuf_get_u8(&s, &c) != SISIGN_OK)
				return "element cut short";
			if (i == 0 && c == 0)
				return "length not in its shortest form (not DER)";
			len = (len << 8) | c;
		}
		if (len < 0x80)
			return "length not in its shortest form (not DER)";
	}
	if (sbuf_sub(&s, len, content) != SISIGN_OK)
		return "length runs past the end of the extension";
	*b = s;
	return NULL;
}

/* A DER INTEGER's content as the device's 32-bit value: any value from
 * -2^31 to 2^32-1, taken modulo 2^32 (a UID such as 0xE0001234 may be
 * written as the positive 00 E0 00 12 34 or, by a 32-bit signed encoder,
 * as the negative E0 00 12 34; both mean the same UID). */
static const char *der_int32(const struct sbuf *c, uint32_t *out)
{
	const uint8_t *p = c->data + c->off;
	size_t n = sbuf_avail(c);
	uint32_t v;

	if (n == 0)
		return "INTEGER without content";
	if (n > 1 && ((p[0] == 0x00 && p[1] < 0x80) || (p[0] == 0xFF && p[1] >= 0x80)))
		return "INTEGER not in its shortest form (not DER)";
	if (n == 5 && p[0] == 0x00) {
		p++;
		n--;
	} else if (n > 4) {
		return "INTEGER does not fit in 32 bits";
	}
	v = (p[0] & 0x80) ? UINT32_MAX : 0; /* sign extension */
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	*out = v;
	return NULL;
}

/* Number of elements of a SEQUENCE OF (content in seq), each of tag `tag`,
 * refusing more than CRYPTO_CONSTRAINT_LIST_MAX. */
static const char *der_count(struct sbuf seq, uint8_t tag, size_t *count, size_t *bad)
{
	struct sbuf el;
	const char *why;

	*count = 0;
	while (sbuf_avail(&seq) > 0) {
		*bad = *count;
		if ((why = der_take(&seq, tag, &el)) != NULL)
			return why;
		if (++*count > CRYPTO_CONSTRAINT_LIST_MAX)
			return "more than " CRYPTO_CONSTRAINT_LIST_MAX_TEXT " entries";
	}
	return NULL;
}

/* ---- one certificate -------------------------------------------------------- */

static void constraints_init(struct crypto_constraints *c)
{
	memset(c, 0, sizeof *c);
	c->caps[0] = c->caps[1] = UINT32_MAX;
}

static void devices_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void crypto_constraints_free(struct crypto_constraints *c)
{
	if (c == NULL)
		return;
	devices_free(c->devices, c->ndevices);
	free(c->sids);
	free(c->vids);
	constraints_init(c);
}

/* Decoders of the extension values; *why set on SISIGN_ERR_BAD_CERT and
 * *bad to the 0-based element at fault. */
static int dec_strings(struct sbuf v, char ***out, size_t *n, const char **why, size_t *bad)
{
	struct sbuf seq, el;
	size_t cnt = 0, i;
	char **list = NULL;
	uint8_t *u16 = NULL;
	size_t u16len;

	if ((*why = der_take(&v, 0x30, &seq)) != NULL)
		return SISIGN_ERR_BAD_CERT;
	if (sbuf_avail(&v) != 0) {
		*why = "bytes after the SEQUENCE";
		return SISIGN_ERR_BAD_CERT;
	}
	if ((*why = der_count(seq, 0x0C, &cnt, bad)) != NULL)
		return SISIGN_ERR_BAD_CERT;
	if (cnt > 0 && (list = calloc(cnt, sizeof *list)) == NULL)
		return SISIGN_ERR_NOMEM;
	for (i = 0; i < cnt; i++) {
		size_t l;

		*bad = i;
		if (der_take(&seq, 0x0C, &el) != NULL) { /* counted above */
			*why = "element of the wrong tag";
			goto bad;
		}
		l = sbuf_avail(&el);
		if (l > CRYPTO_DEVICE_ID_MAX) {
			*why = "device ID longer than " CRYPTO_DEVICE_ID_MAX_TEXT " bytes";
			goto bad;
		}
		if (memchr(el.data + el.off, 0, l) != NULL) {
			*why = "device ID holds a NUL character";
			goto bad;
		}
		if ((list[i] = malloc(l + 1)) == NULL) {
			devices_free(list, cnt);
			return SISIGN_ERR_NOMEM;
		}
		memcpy(list[i], el.data + el.off, l);
		list[i][l] = '\0';
		/* The device reads the UTF8String into UTF-16; what does not
		 * convert is not a device ID. */
		if (utf8_to_utf16le(list[i], &u16, &u16len) != SISIGN_OK) {
			*why = "device ID is not valid UTF-8";
			goto bad;
		}
		free(u16);
		u16 = NULL;
	}
	*out = list;
	*n = cnt;
	return SISIGN_OK;
bad:
	devices_free(list, cnt);
	return SISIGN_ERR_BAD_CERT;
}

static int dec_ints(struct sbuf v, uint32_t **out, size_t *n, const char **why, size_t *bad)
{
	struct sbuf seq, el;
	size_t cnt = 0, i;
	uint32_t *list = NULL;

	if ((*why = der_take(&v, 0x30, &seq)) != NULL)
		return SISIGN_ERR_BAD_CERT;
	if (sbuf_avail(&v) != 0) {
		*why = "bytes after the SEQUENCE";
		return SISIGN_ERR_BAD_CERT;
	}
	if ((*why = der_count(seq, 0x02, &cnt, bad)) != NULL)
		return SISIGN_ERR_BAD_CERT;
	if (cnt > 0 && (list = calloc(cnt, sizeof *list)) == NULL)
		return SISIGN_ERR_NOMEM;
	for (i = 0; i < cnt; i++) {
		*bad = i;
		if ((*why = der_take(&seq, 0x02, &el)) != NULL || (*why = der_int32(&el, &list[i])) != NULL) {
			free(list);
			return SISIGN_ERR_BAD_CERT;
		}
	}
	*out = list;
	*n = cnt;
	return SISIGN_OK;
}

static int dec_caps(struct sbuf v, uint32_t caps[2], const char **why)
{
	struct sbuf bits;
	const uint8_t *p;
	size_t n, nbits;
	uint8_t unused;

	if ((*why = der_take(&v, 0x03, &bits)) != NULL)
		return SISIGN_ERR_BAD_CERT;
	if (sbuf_avail(&v) != 0) {
		*why = "bytes after the BIT STRING";
		return SISIGN_ERR_BAD_CERT;
	}
	p = bits.data + bits.off;
	n = sbuf_avail(&bits);
	if (n == 0) {
		*why = "BIT STRING without its unused-bits octet";
		return SISIGN_ERR_BAD_CERT;
	}
	unused = p[0];
	if (unused > 7 || (n == 1 && unused != 0)) {
		*why = "BIT STRING with an impossible number of unused bits";
		return SISIGN_ERR_BAD_CERT;
	}
	/* Named-bit order: bit i is bit (7 - i % 8) of content octet i / 8. */
	nbits = (n - 1) * 8 - unused;
	caps[0] = caps[1] = 0;
	for (size_t i = 0; i < nbits && i < 20; i++)
		if (p[1 + i / 8] & (0x80u >> (i % 8)))
			caps[0] |= UINT32_C(1) << i;
	return SISIGN_OK;
}

/* The extension with the OID of exts[k], or NULL when absent.  *dup is set
 * when the certificate has it more than once. */
static ASN1_OCTET_STRING *ext_value(X509 *x, int k, int *dup, struct sisign_error *err, int *r)
{
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *v = NULL;
	int i;

	*dup = 0;
	*r = SISIGN_OK;
	if ((obj = OBJ_txt2obj(exts[k].oid, 1)) == NULL) {
		*r = err_ossl(err, SISIGN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	i = X509_get_ext_by_OBJ(x, obj, -1);
	if (i >= 0) {
		v = X509_EXTENSION_get_data(X509_get_ext(x, i));
		*dup = X509_get_ext_by_OBJ(x, obj, i) >= 0;
	}
	ASN1_OBJECT_free(obj);
	return v;
}

int crypto_cert_constraints(X509 *x, struct crypto_constraints *out, struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL, dup;
	struct crypto_constraints c;
	ASN1_OCTET_STRING *v;
	const char *why = NULL;
	size_t bad = 0;
	int k;

	constraints_init(&c);
	if (out != NULL)
		constraints_init(out);
	if (x == NULL || out == NULL)
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_cert_constraints: bad arguments");
	for (k = 0; k < EXT_COUNT; k++) {
		struct sbuf b;

		if ((v = ext_value(x, k, &dup, err, &r)) == NULL) {
			if (r != SISIGN_OK)
				goto out;
			continue;
		}
		if (dup) {
			/* RFC 5280 §4.2: an extension appears at most once. */
			r = err_set(err, SISIGN_ERR_BAD_CERT, -1, "%s extension (%s) appears more than once",
				exts[k].what, exts[k].oid);
			goto out;
		}
		sbuf_init(&b, ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), 0);
		switch (k) {
		case EXT_DEVICES:
			r = dec_strings(b, &c.devices, &c.ndevices, &why, &bad);
			c.devices_set = 1;
			break;
		case EXT_SIDS:
			r = dec_ints(b, &c.sids, &c.nsids, &why, &bad);
			c.sids_set = 1;
			break;
		case EXT_VIDS:
			r = dec_ints(b, &c.vids, &c.nvids, &why, &bad);
			c.vids_set = 1;
			break;
		default:
			r = dec_caps(b, c.caps, &why);
			c.caps_set = 1;
			bad = 0;
			break;
		}
		if (r == SISIGN_ERR_NOMEM) {
			err_set(err, r, -1, "out of memory");
			goto out;
		}
		if (r != SISIGN_OK) {
			if (k == EXT_CAPS)
				err_set(err, r, -1, "%s extension (%s) does not decode: %s", exts[k].what, exts[k].oid, why);
			else
				err_set(err, r, -1, "%s extension (%s) does not decode: entry %zu: %s", exts[k].what,
					exts[k].oid, bad + 1, why);
			goto out;
		}
	}
	/* success */
	*out = c;
	constraints_init(&c); /* transferred */
	r = SISIGN_OK;
out:
	crypto_constraints_free(&c);
	return r;
}

/* ---- combination -------------------------------------------------------------- */

static int in_u32(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

/* Keep the entries of a that b also holds (order of a kept). */
static void intersect_u32(uint32_t *a, size_t *na, const uint32_t *b, size_t nb)
{
	size_t k = 0;

	for (size_t i = 0; i < *na; i++)
		if (in_u32(b, nb, a[i]))
			a[k++] = a[i];
	*na = k;
}

static void intersect_devices(char **a, size_t *na, char *const *b, size_t nb)
{
	size_t k = 0;

	for (size_t i = 0; i < *na; i++) {
		int found = 0;

		/* The device matches its IDs case-insensitively (IR-DEV-1). */
		for (size_t j = 0; j < nb && !found; j++)
			found = strcasecmp(a[i], b[j]) == 0;
		if (found)
			a[k++] = a[i];
		else
			free(a[i]);
	}
	*na = k;
}

static int copy_u32(uint32_t **dst, const uint32_t *src, size_t n)
{
	*dst = NULL;
	if (n == 0)
		return SISIGN_OK;
	if ((*dst = malloc(n * sizeof **dst)) == NULL)
		return SISIGN_ERR_NOMEM;
	memcpy(*dst, src, n * sizeof **dst);
	return SISIGN_OK;
}

static int copy_devices(char ***dst, char *const *src, size_t n)
{
	char **v;

	*dst = NULL;
	if (n == 0)
		return SISIGN_OK;
	if ((v = calloc(n, sizeof *v)) == NULL)
		return SISIGN_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		if ((v[i] = strdup(src[i])) == NULL) {
			devices_free(v, n);
			return SISIGN_ERR_NOMEM;
		}
	*dst = v;
	return SISIGN_OK;
}

/* Intersect b into a.  A list a does not have yet is copied from b.  When
 * a copy cannot be made the list is left set and empty, which allows
 * nothing: memory shortage may over-restrict, never widen. */
static int merge(struct crypto_constraints *a, const struct crypto_constraints *b)
{
	int r = SISIGN_OK;

	if (b->devices_set) {
		if (a->devices_set) {
			intersect_devices(a->devices, &a->ndevices, b->devices, b->ndevices);
		} else {
			a->devices_set = 1;
			if (copy_devices(&a->devices, b->devices, b->ndevices) == SISIGN_OK)
				a->ndevices = b->ndevices;
			else
				r = SISIGN_ERR_NOMEM;
		}
	}
	if (b->sids_set) {
		if (a->sids_set) {
			intersect_u32(a->sids, &a->nsids, b->sids, b->nsids);
		} else {
			a->sids_set = 1;
			if (copy_u32(&a->sids, b->sids, b->nsids) == SISIGN_OK)
				a->nsids = b->nsids;
			else
				r = SISIGN_ERR_NOMEM;
		}
	}
	if (b->vids_set) {
		if (a->vids_set) {
			intersect_u32(a->vids, &a->nvids, b->vids, b->nvids);
		} else {
			a->vids_set = 1;
			if (copy_u32(&a->vids, b->vids, b->nvids) == SISIGN_OK)
				a->nvids = b->nvids;
			else
				r = SISIGN_ERR_NOMEM;
		}
	}
	if (b->caps_set) {
		if (!a->caps_set)
			a->caps[0] = a->caps[1] = UINT32_MAX;
		a->caps_set = 1;
		a->caps[0] &= b->caps[0];
		a->caps[1] &= b->caps[1];
	}
	return r;
}

void crypto_constraints_merge(struct crypto_constraints *a, const struct crypto_constraints *b)
{
	if (a == NULL || b == NULL)
		return;
	(void)merge(a, b); /* a shortage leaves a list empty: see merge() */
}

int crypto_chain_constraints(const uint8_t *certs, size_t certs_len, struct crypto_constraints *out,
	struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	STACK_OF(X509) *chain = NULL;
	struct crypto_constraints acc, one;
	char where[48];

	constraints_init(&acc);
	constraints_init(&one);
	if (out != NULL)
		constraints_init(out);
	if (out == NULL || (certs == NULL && certs_len > 0))
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "crypto_chain_constraints: bad arguments");
	if ((r = crypto_certs_from_der_blob(certs, certs_len, &chain, err)) != SISIGN_OK)
		goto out;
	/* Every certificate, signer first: the first one with a list sets
	 * it, each later one intersects it (§5). */
	for (int i = 0; i < sk_X509_num(chain); i++) {
		if ((r = crypto_cert_constraints(sk_X509_value(chain, i), &one, err)) != SISIGN_OK) {
			snprintf(where, sizeof where, "certificate %d of the chain", i + 1);
			crypto_err_prefix(err, where);
			goto out;
		}
		if ((r = merge(&acc, &one)) != SISIGN_OK) {
			r = err_set(err, r, -1, "out of memory");
			goto out;
		}
		crypto_constraints_free(&one);
	}
	/* success */
	*out = acc;
	constraints_init(&acc); /* transferred */
	r = SISIGN_OK;
out:
	crypto_constraints_free(&one);
	crypto_constraints_free(&acc);
	crypto_certs_free(chain);
	return r;
}

/* ---- code-signing EKU and self-signed chains ------------------------------- */

int crypto_eku_codesign_ok(const uint8_t *cert_der, size_t len, const char *const *alt_oids, int mandate,
	const char **why)
{
	const unsigned char *q = cert_der;
	X509 *x = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	const char *reason = NULL;
	char txt[128];
	int ok = 0, crit = 0;

	if (why != NULL)
		*why = NULL;
	if (cert_der == NULL || len == 0 || len > (size_t)LONG_MAX ||
		(x = d2i_X509(NULL, &q, (long)len)) == NULL) {
		reason = "the signer certificate does not decode";
		goto out;
	}
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	if (eku == NULL) {
		/* crit -1: no EKU at all (IR-EKU-2); -2: it appears twice;
		 * otherwise it is there but does not decode. */
		if (crit != -1) {
			reason = "the signer certificate's extendedKeyUsage extension does not decode";
			goto out;
		}
		if (mandate) {
			reason = "the signer certificate has no extendedKeyUsage extension, and the policy "
				 "mandates the code-signing extension (MandateCodeSigningExtension)";
			goto out;
		}
		ok = 1;
		goto out;
	}
	/* IR-EKU-1: codeSigning or one of AlternativeCodeSigningOID, compared
	 * as dotted strings, exactly. */
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku) && !ok; i++) {
		int l = OBJ_obj2txt(txt, (int)sizeof txt, sk_ASN1_OBJECT_value(eku, i), 1);

		if (l <= 0 || (size_t)l >= sizeof txt)
			continue;
		if (strcmp(txt, CRYPTO_OID_CODE_SIGNING) == 0)
			ok = 1;
		for (size_t k = 0; alt_oids != NULL && alt_oids[k] != NULL && !ok; k++)
			if (strcmp(txt, alt_oids[k]) == 0)
				ok = 1;
	}
	if (!ok)
		reason = "the signer certificate's extendedKeyUsage does not list codeSigning "
			 "(" CRYPTO_OID_CODE_SIGNING ") or an alternative code-signing OID";
out:
	EXTENDED_KEY_USAGE_free(eku);
	X509_free(x);
	err_ossl_clear();
	if (why != NULL)
		*why = reason;
	return ok;
}

int crypto_chain_self_signed(const uint8_t *certs, size_t certs_len)
{
	STACK_OF(X509) *chain = NULL;
	int n, self = 0;

	if (crypto_certs_from_der_blob(certs, certs_len, &chain, NULL) != SISIGN_OK)
		goto out;
	n = sk_X509_num(chain);
	/* Self-issued (subject = issuer, matching key identifiers) and its
	 * signature verifies with its own key. */
	if (n > 0)
		self = X509_self_signed(sk_X509_value(chain, n - 1), 1) == 1;
out:
	crypto_certs_free(chain);
	err_ossl_clear();
	return self;
}

/* ---- public description --------------------------------------------------------- */

static void public_free_one(struct sisign_cert_constraints *c)
{
	devices_free(c->devices, c->ndevices);
	free(c->sids);
	free(c->vids);
}

int sisign_certs_constraints(const uint8_t *der, size_t len, struct sisign_cert_constraints **out, size_t *n,
	struct sisign_error *err)
{
	int r = SISIGN_ERR_INTERNAL;
	STACK_OF(X509) *chain = NULL;
	struct sisign_cert_constraints *v = NULL;
	struct crypto_constraints c;
	struct sisign_error e;
	size_t cnt = 0;

	constraints_init(&c);
	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (out == NULL || n == NULL || (der == NULL && len > 0))
		return err_set(err, SISIGN_ERR_INVALID_ARG, -1, "sisign_certs_constraints: bad arguments");
	if (len == 0)
		return SISIGN_OK;
	if ((r = crypto_certs_from_der_blob(der, len, &chain, err)) != SISIGN_OK)
		goto out;
	if ((v = calloc((size_t)sk_X509_num(chain), sizeof *v)) == NULL) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
		goto out;
	}
	for (cnt = 0; cnt < (size_t)sk_X509_num(chain); cnt++) {
		struct sisign_cert_constraints *d = &v[cnt];

		r = crypto_cert_constraints(sk_X509_value(chain, (int)cnt), &c, &e);
		if (r == SISIGN_ERR_NOMEM) {
			r = err_set(err, r, -1, "out of memory");
			goto out;
		}
		if (r != SISIGN_OK) {
			/* One certificate's broken extension is part of the
			 * description, not a failure of it. */
			snprintf(d->error, sizeof d->error, "%s", e.message);
			continue;
		}
		d->devices_set = c.devices_set;
		d->ndevices = c.ndevices;
		d->devices = c.devices;
		d->sids_set = c.sids_set;
		d->nsids = c.nsids;
		d->sids = c.sids;
		d->vids_set = c.vids_set;
		d->nvids = c.nvids;
		d->vids = c.vids;
		d->caps_set = c.caps_set;
		d->caps[0] = c.caps_set ? c.caps[0] : 0;
		d->caps[1] = c.caps_set ? c.caps[1] : 0;
		constraints_init(&c); /* transferred */
	}
	/* success */
	*out = v;
	*n = cnt;
	v = NULL; /* transferred */
	r = SISIGN_OK;
out:
	sisign_cert_constraints_free(v, cnt);
	crypto_constraints_free(&c);
	crypto_certs_free(chain);
	return r;
}

void sisign_cert_constraints_free(struct sisign_cert_constraints *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		public_free_one(&v[i]);
	free(v);
}
