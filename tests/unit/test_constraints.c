/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/lib/crypto/constraints.c: decoding of Symbian's
 * developer-certificate constraint extensions (install-rules.md §5), their
 * combination over a chain, the code-signing EKU rule (§1.1) and telling a
 * chain that carries its own self-signed anchor.  Certificates are made
 * here with OpenSSL, extension values written byte by byte. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_private.h"
#include "testutil.h"

#include <sisign/package.h>

#define OID_DEV CRYPTO_OID_DEVCERT_DEVICES
#define OID_SID CRYPTO_OID_DEVCERT_SIDS
#define OID_VID CRYPTO_OID_DEVCERT_VIDS
#define OID_CAP CRYPTO_OID_DEVCERT_CAPS
#define OID_EKU "2.5.29.37"
#define CAP(n) (UINT32_C(1) << (n))

/* One extension: OID and its value's DER (the bytes inside the OCTET STRING). */
struct ext {
	const char *oid;
	const uint8_t *der;
	size_t len;
};
#define EXT(o, ...) { o, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }) }

static EVP_PKEY *key_root, *key_ca, *key_leaf, *key_other;

/* A certificate for subject CN=cn, issued by CN=issuer_cn with issuer_key
 * (self-issued when the names match), carrying exts (NULL-oid terminated
 * or n entries). */
static X509 *mk(const char *cn, EVP_PKEY *key, const char *issuer_cn, EVP_PKEY *issuer_key, const struct ext *e,
	size_t n)
{
	X509 *x = X509_new();
	X509_NAME *sn = X509_NAME_new(), *in = X509_NAME_new();

	if (x == NULL || sn == NULL || in == NULL)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(sn, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_UTF8, (const unsigned char *)issuer_cn, -1, -1, 0);
	X509_set_subject_name(x, sn);
	X509_set_issuer_name(x, in);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_set_pubkey(x, key);
	for (size_t i = 0; i < n; i++) {
		ASN1_OBJECT *o = OBJ_txt2obj(e[i].oid, 1);
		ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
		X509_EXTENSION *xe;

		if (o == NULL || v == NULL || !ASN1_OCTET_STRING_set(v, e[i].der, (int)e[i].len))
			abort();
		if ((xe = X509_EXTENSION_create_by_OBJ(NULL, o, 0, v)) == NULL || !X509_add_ext(x, xe, -1))
			abort();
		X509_EXTENSION_free(xe);
		ASN1_OBJECT_free(o);
		ASN1_OCTET_STRING_free(v);
	}
	if (!X509_sign(x, issuer_key, EVP_sha256()))
		abort();
	X509_NAME_free(sn);
	X509_NAME_free(in);
	return x;
}

/* DER of certificates concatenated (a SIS chain blob), malloc'd. */
static uint8_t *blob(size_t *len, X509 *a, X509 *b, X509 *c)
{
	X509 *v[3] = { a, b, c };
	uint8_t *out = NULL;
	size_t total = 0;

	for (int i = 0; i < 3 && v[i] != NULL; i++) {
		unsigned char *der = NULL;
		int l = i2d_X509(v[i], &der);
		if (l <= 0 || (out = realloc(out, total + (size_t)l)) == NULL)
			abort();
		memcpy(out + total, der, (size_t)l);
		total += (size_t)l;
		OPENSSL_free(der);
	}
	*len = total;
	return out;
}

/* Decode one self-signed certificate's extensions. */
static int dec1(const struct ext *e, size_t n, struct crypto_constraints *c, struct sisign_error *err)
{
	X509 *x = mk("one", key_leaf, "one", key_leaf, e, n);
	int r = crypto_cert_constraints(x, c, err);
	X509_free(x);
	return r;
}

static int dec_ok(const struct ext *e, struct crypto_constraints *c)
{
	struct sisign_error err;
	int r = dec1(e, 1, c, &err);
	CHECK_MSG(r == SISIGN_OK, "%s", err.message);
	return r == SISIGN_OK;
}

static void dec_bad(const struct ext *e, const char *want)
{
	struct crypto_constraints c;
	struct sisign_error err;

	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(dec1(e, 1, &c, &err), SISIGN_ERR_BAD_CERT);
	CHECK_MSG(strstr(err.message, want) != NULL, "message \"%s\" lacks \"%s\"", err.message, want);
	CHECK(!c.devices_set && !c.sids_set && !c.vids_set && !c.caps_set && c.devices == NULL && c.sids == NULL);
	crypto_constraints_free(&c);
}

static void test_none(void)
{
	struct crypto_constraints c;
	struct sisign_error err;

	CHECK_EQ_INT(dec1(NULL, 0, &c, &err), SISIGN_OK);
	CHECK(!c.devices_set && !c.sids_set && !c.vids_set && !c.caps_set);
	CHECK(c.caps[0] == UINT32_MAX && c.caps[1] == UINT32_MAX);
	crypto_constraints_free(&c);
}

static void test_devices(void)
{
	struct crypto_constraints c;
	struct ext two = EXT(OID_DEV, 0x30, 0x14, 0x0C, 0x0F, '3', '5', '4', '0', '0', '0', '0', '0', '0', '0', '0',
		'0', '0', '0', '1', 0x0C, 0x01, 'x');
	struct ext empty = EXT(OID_DEV, 0x30, 0x00);
	struct ext empty_id = EXT(OID_DEV, 0x30, 0x02, 0x0C, 0x00);

	if (dec_ok(&two, &c)) {
		CHECK(c.devices_set && c.ndevices == 2);
		CHECK(strcmp(c.devices[0], "354000000000001") == 0 && strcmp(c.devices[1], "x") == 0);
		CHECK(!c.sids_set && !c.vids_set && !c.caps_set);
	}
	crypto_constraints_free(&c);
	CHECK(c.devices == NULL && c.ndevices == 0 && !c.devices_set);
	/* An empty list is a list: constrained, nothing passes. */
	if (dec_ok(&empty, &c))
		CHECK(c.devices_set && c.ndevices == 0);
	crypto_constraints_free(&c);
	if (dec_ok(&empty_id, &c))
		CHECK(c.devices_set && c.ndevices == 1 && c.devices[0][0] == '\0');
	crypto_constraints_free(&c);

	/* Wrong tags: an INTEGER or a PrintableString in the list, a SET. */
	dec_bad(&(struct ext)EXT(OID_DEV, 0x30, 0x03, 0x02, 0x01, 0x05), "entry 1: element of the wrong tag");
	dec_bad(&(struct ext)EXT(OID_DEV, 0x30, 0x06, 0x0C, 0x01, 'a', 0x13, 0x01, 'b'),
		"entry 2: element of the wrong tag");
	dec_bad(&(struct ext)EXT(OID_DEV, 0x31, 0x03, 0x0C, 0x01, 'a'), "wrong tag");
	dec_bad(&(struct ext)EXT(OID_DEV, 0x0C, 0x01, 'a'), "wrong tag");
	dec_bad(&(struct ext)EXT(OID_DEV, 0x30, 0x03, 0x0C, 0x01, 0x00), "NUL");
	dec_bad(&(struct ext)EXT(OID_DEV, 0x30, 0x03, 0x0C, 0x01, 0xFF), "not valid UTF-8");
	dec_bad(&(struct ext)EXT(OID_DEV, 0x30, 0x03, 0x0C, 0x01, 'a', 0x00), "bytes after the SEQUENCE");
}

static void test_lengths(void)
{
	/* Overlong: the SEQUENCE or an element claims more than there is. */
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x05, 0x02, 0x01, 0x01), "runs past the end");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x03, 0x02, 0x7F, 0x01), "runs past the end");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x01, 0x01), "runs past the end");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00), "length field too long");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00), "indefinite length");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x81, 0x03, 0x02, 0x01, 0x01), "shortest form");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x82, 0x00, 0x03, 0x02, 0x01, 0x01), "shortest form");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30), "cut short");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x82, 0x01), "cut short");
	dec_bad(&(struct ext)EXT(OID_CAP, 0x03), "cut short");
}

static void test_ints(void)
{
	struct crypto_constraints c;
	/* 5; 0xE0001234 positive (00 E0 00 12 34); the same as a 32-bit
	 * negative (E0 00 12 34); -1 (FF) = 0xFFFFFFFF; 0x80 (00 80); 0. */
	struct ext sids = EXT(OID_SID, 0x30, 0x1A, 0x02, 0x01, 0x05, 0x02, 0x05, 0x00, 0xE0, 0x00, 0x12, 0x34, 0x02,
		0x04, 0xE0, 0x00, 0x12, 0x34, 0x02, 0x01, 0xFF, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x00);
	struct ext vids = EXT(OID_VID, 0x30, 0x06, 0x02, 0x04, 0x70, 0x00, 0x00, 0x01);

	if (dec_ok(&sids, &c)) {
		CHECK(c.sids_set && c.nsids == 6 && !c.vids_set);
		if (c.nsids == 6) {
			CHECK(c.sids[0] == 5 && c.sids[1] == 0xE0001234u && c.sids[2] == 0xE0001234u);
			CHECK(c.sids[3] == 0xFFFFFFFFu && c.sids[4] == 0x80 && c.sids[5] == 0);
		}
	}
	crypto_constraints_free(&c);
	if (dec_ok(&vids, &c))
		CHECK(c.vids_set && !c.sids_set && c.nvids == 1 && c.vids[0] == 0x70000001u);
	crypto_constraints_free(&c);
	if (dec_ok(&(struct ext)EXT(OID_VID, 0x30, 0x00), &c))
		CHECK(c.vids_set && c.nvids == 0);
	crypto_constraints_free(&c);

	/* Past 32 bits either way, empty, not DER, wrong tags. */
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x07, 0x02, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00), "32 bits");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x07, 0x02, 0x05, 0xFF, 0x00, 0x00, 0x00, 0x00), "32 bits");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x08, 0x02, 0x06, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00), "32 bits");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x05, 0x02, 0x01, 0x01, 0x02, 0x00), "entry 2: INTEGER without content");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x04, 0x02, 0x02, 0x00, 0x01), "INTEGER not in its shortest form");
	dec_bad(&(struct ext)EXT(OID_VID, 0x30, 0x04, 0x02, 0x02, 0xFF, 0x80), "INTEGER not in its shortest form");
	dec_bad(&(struct ext)EXT(OID_VID, 0x30, 0x03, 0x0C, 0x01, '1'), "entry 1: element of the wrong tag");
	dec_bad(&(struct ext)EXT(OID_VID, 0x30, 0x03, 0x0A, 0x01, 0x01), "wrong tag"); /* ENUMERATED */
	dec_bad(&(struct ext)EXT(OID_SID, 0x02, 0x01, 0x01), "wrong tag");
	dec_bad(&(struct ext)EXT(OID_SID, 0x30, 0x03, 0x02, 0x01, 0x01, 0x30, 0x00), "bytes after the SEQUENCE");
}

static void test_caps(void)
{
	struct crypto_constraints c;

	/* ReadUserData (15) and WriteUserData (16): 7 unused bits. */
	if (dec_ok(&(struct ext)EXT(OID_CAP, 0x03, 0x04, 0x07, 0x00, 0x01, 0x80), &c))
		CHECK(c.caps_set && c.caps[0] == (CAP(15) | CAP(16)) && c.caps[1] == 0);
	crypto_constraints_free(&c);
	/* Bit 0 is the MSB of the first octet: TCB; the padding bits do not count. */
	if (dec_ok(&(struct ext)EXT(OID_CAP, 0x03, 0x02, 0x07, 0xFF), &c))
		CHECK(c.caps_set && c.caps[0] == CAP(0) && c.caps[1] == 0);
	crypto_constraints_free(&c);
	/* All 20 known, and bits 20..39 set too: ignored. */
	if (dec_ok(&(struct ext)EXT(OID_CAP, 0x03, 0x06, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), &c))
		CHECK(c.caps_set && c.caps[0] == 0xFFFFFu && c.caps[1] == 0);
	crypto_constraints_free(&c);
	/* Only bits >= 20: constrained to nothing. */
	if (dec_ok(&(struct ext)EXT(OID_CAP, 0x03, 0x04, 0x00, 0x00, 0x00, 0x0F), &c))
		CHECK(c.caps_set && c.caps[0] == 0 && c.caps[1] == 0);
	crypto_constraints_free(&c);
	/* No bits at all. */
	if (dec_ok(&(struct ext)EXT(OID_CAP, 0x03, 0x01, 0x00), &c))
		CHECK(c.caps_set && c.caps[0] == 0);
	crypto_constraints_free(&c);

	dec_bad(&(struct ext)EXT(OID_CAP, 0x03, 0x00), "without its unused-bits octet");
	dec_bad(&(struct ext)EXT(OID_CAP, 0x03, 0x02, 0x08, 0xFF), "unused bits");
	dec_bad(&(struct ext)EXT(OID_CAP, 0x03, 0x02, 0xFF, 0xFF), "unused bits");
	dec_bad(&(struct ext)EXT(OID_CAP, 0x03, 0x01, 0x01), "unused bits");
	dec_bad(&(struct ext)EXT(OID_CAP, 0x23, 0x04, 0x03, 0x02, 0x00, 0x80), "wrong tag"); /* constructed */
	dec_bad(&(struct ext)EXT(OID_CAP, 0x04, 0x02, 0x00, 0x80), "wrong tag");              /* OCTET STRING */
	dec_bad(&(struct ext)EXT(OID_CAP, 0x03, 0x02, 0x00, 0x80, 0x00), "bytes after the BIT STRING");
}

/* A SEQUENCE OF n INTEGERs 1..n (values < 128). */
static uint8_t *int_list(size_t n, size_t *len)
{
	size_t body = n * 3, hdr = 4, i;
	uint8_t *p = malloc(hdr + body);

	if (p == NULL)
		abort();
	p[0] = 0x30;
	p[1] = 0x82;
	p[2] = (uint8_t)(body >> 8);
	p[3] = (uint8_t)body;
	for (i = 0; i < n; i++) {
		p[hdr + 3 * i] = 0x02;
		p[hdr + 3 * i + 1] = 0x01;
		p[hdr + 3 * i + 2] = (uint8_t)(i % 100 + 1);
	}
	*len = hdr + body;
	return p;
}

static void test_caps_on_size(void)
{
	struct crypto_constraints c;
	struct sisign_error err;
	struct ext e = { OID_SID, NULL, 0 };
	uint8_t *der, *id;
	size_t len;

	der = int_list(CRYPTO_CONSTRAINT_LIST_MAX, &len);
	e.der = der;
	e.len = len;
	CHECK_EQ_INT(dec1(&e, 1, &c, &err), SISIGN_OK);
	CHECK(c.nsids == CRYPTO_CONSTRAINT_LIST_MAX);
	crypto_constraints_free(&c);
	free(der);
	der = int_list(CRYPTO_CONSTRAINT_LIST_MAX + 1, &len);
	e.der = der;
	e.len = len;
	CHECK_EQ_INT(dec1(&e, 1, &c, &err), SISIGN_ERR_BAD_CERT);
	CHECK_MSG(strstr(err.message, "more than 4096 entries") != NULL, "%s", err.message);
	crypto_constraints_free(&c);
	free(der);

	/* A device ID of 255 bytes passes, 256 does not. */
	for (size_t l = CRYPTO_DEVICE_ID_MAX; l <= CRYPTO_DEVICE_ID_MAX + 1; l++) {
		size_t h = l < 256 ? 3 : 4, inner = h + l;

		if ((id = malloc(4 + inner)) == NULL)
			abort();
		id[0] = 0x30;
		id[1] = 0x82;
		id[2] = (uint8_t)(inner >> 8);
		id[3] = (uint8_t)inner;
		id[4] = 0x0C;
		if (h == 3) {
			id[5] = 0x81;
			id[6] = (uint8_t)l;
		} else {
			id[5] = 0x82;
			id[6] = (uint8_t)(l >> 8);
			id[7] = (uint8_t)l;
		}
		memset(id + 4 + h, '7', l);
		e.oid = OID_DEV;
		e.der = id;
		e.len = 4 + inner;
		CHECK_EQ_INT(dec1(&e, 1, &c, &err), l == CRYPTO_DEVICE_ID_MAX ? SISIGN_OK : SISIGN_ERR_BAD_CERT);
		crypto_constraints_free(&c);
		free(id);
	}
}

static void test_duplicate(void)
{
	struct crypto_constraints c;
	struct sisign_error err;
	struct ext two[2] = { EXT(OID_SID, 0x30, 0x03, 0x02, 0x01, 0x01), EXT(OID_SID, 0x30, 0x03, 0x02, 0x01, 0x02) };

	CHECK_EQ_INT(dec1(two, 2, &c, &err), SISIGN_ERR_BAD_CERT);
	CHECK(strstr(err.message, "more than once") != NULL);
	crypto_constraints_free(&c);
}

/* ---- chains ---------------------------------------------------------------------- */

static void test_chain(void)
{
	struct ext leaf_e[] = {
		EXT(OID_SID, 0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03),
		EXT(OID_DEV, 0x30, 0x0A, 0x0C, 0x03, 'a', 'b', 'c', 0x0C, 0x03, 'D', 'E', 'F'),
		EXT(OID_CAP, 0x03, 0x04, 0x06, 0x00, 0x01, 0xC0), /* 15, 16, 17 */
	};
	struct ext ca_e[] = {
		EXT(OID_SID, 0x30, 0x09, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03, 0x02, 0x01, 0x04),
		EXT(OID_DEV, 0x30, 0x05, 0x0C, 0x03, 'A', 'B', 'C'),
		EXT(OID_CAP, 0x03, 0x04, 0x06, 0x80, 0x01, 0x40), /* 0, 15, 17 */
		EXT(OID_VID, 0x30, 0x03, 0x02, 0x01, 0x09),
	};
	struct ext root_e[] = {
		EXT(OID_SID, 0x30, 0x03, 0x02, 0x01, 0x07),
	};
	struct ext broken[] = { EXT(OID_VID, 0x30, 0x03, 0x0C, 0x01, '1') };
	X509 *root = mk("root", key_root, "root", key_root, root_e, 1);
	X509 *root0 = mk("root", key_root, "root", key_root, NULL, 0);
	X509 *ca = mk("ca", key_ca, "root", key_root, ca_e, 4);
	X509 *leaf = mk("leaf", key_leaf, "ca", key_ca, leaf_e, 3);
	X509 *bad = mk("ca", key_ca, "root", key_root, broken, 1);
	struct crypto_constraints c, d;
	struct sisign_error err;
	uint8_t *b;
	size_t len;

	/* leaf then ca: SIDs {1,2,3} ∩ {2,3,4}; devices "abc","DEF" ∩ "ABC"
	 * (case-insensitive, the leaf's spelling kept); caps {15,16,17} ∩
	 * {0,15,17}; VIDs only the CA's. */
	b = blob(&len, leaf, ca, root0);
	CHECK_EQ_INT(crypto_chain_constraints(b, len, &c, &err), SISIGN_OK);
	CHECK(c.sids_set && c.nsids == 2 && c.sids[0] == 2 && c.sids[1] == 3);
	CHECK(c.devices_set && c.ndevices == 1 && strcmp(c.devices[0], "abc") == 0);
	CHECK(c.caps_set && c.caps[0] == (CAP(15) | CAP(17)) && c.caps[1] == 0);
	CHECK(c.vids_set && c.nvids == 1 && c.vids[0] == 9);
	free(b);

	/* A second chain of the same controller intersects further. */
	b = blob(&len, root, NULL, NULL);
	CHECK_EQ_INT(crypto_chain_constraints(b, len, &d, &err), SISIGN_OK);
	CHECK(d.sids_set && d.nsids == 1 && d.sids[0] == 7 && !d.devices_set && !d.caps_set);
	CHECK(d.caps[0] == UINT32_MAX && d.caps[1] == UINT32_MAX);
	free(b);
	crypto_constraints_merge(&c, &d);
	CHECK(c.sids_set && c.nsids == 0); /* emptied: stays constrained */
	CHECK(c.devices_set && c.ndevices == 1 && c.caps[0] == (CAP(15) | CAP(17)) && c.vids_set && c.nvids == 1);
	crypto_constraints_free(&d);
	/* Into an empty accumulator a chain's lists are copied. */
	memset(&d, 0, sizeof d);
	crypto_constraints_merge(&d, &c);
	CHECK(d.sids_set && d.nsids == 0 && d.devices_set && d.ndevices == 1 && d.devices != c.devices);
	CHECK(d.devices_set && strcmp(d.devices[0], "abc") == 0 && d.caps_set && d.caps[0] == c.caps[0]);
	CHECK(d.vids_set && d.nvids == 1 && d.vids[0] == 9 && d.vids != c.vids);
	crypto_constraints_free(&d);
	crypto_constraints_free(&c);

	/* The root's list {7} after {2,3}: empty, and stays constrained. */
	b = blob(&len, leaf, ca, root);
	CHECK_EQ_INT(crypto_chain_constraints(b, len, &c, &err), SISIGN_OK);
	CHECK(c.sids_set && c.nsids == 0 && c.sids != NULL);
	crypto_constraints_free(&c);
	free(b);

	/* Only a later certificate has a list: it sets it. */
	b = blob(&len, root0, root, NULL);
	CHECK_EQ_INT(crypto_chain_constraints(b, len, &c, &err), SISIGN_OK);
	CHECK(c.sids_set && c.nsids == 1 && c.sids[0] == 7 && !c.caps_set && c.caps[0] == UINT32_MAX);
	crypto_constraints_free(&c);
	free(b);

	/* No extension anywhere: nothing constrained, all capabilities. */
	b = blob(&len, root0, NULL, NULL);
	CHECK_EQ_INT(crypto_chain_constraints(b, len, &c, &err), SISIGN_OK);
	CHECK(!c.sids_set && !c.devices_set && !c.vids_set && !c.caps_set);
	CHECK(c.caps[0] == UINT32_MAX && c.caps[1] == UINT32_MAX);
	crypto_constraints_free(&c);
	free(b);

	/* One certificate that does not decode fails the chain. */
	b = blob(&len, leaf, bad, root);
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(crypto_chain_constraints(b, len, &c, &err), SISIGN_ERR_BAD_CERT);
	CHECK_MSG(strncmp(err.message, "certificate 2 of the chain: VID list", 36) == 0, "%s", err.message);
	CHECK(!c.sids_set && c.sids == NULL);
	crypto_constraints_free(&c);

	/* The public description: per certificate, the broken one says why. */
	{
		struct sisign_cert_constraints *v = NULL;
		size_t n = 0;

		CHECK_EQ_INT(sisign_certs_constraints(b, len, &v, &n, &err), SISIGN_OK);
		CHECK(n == 3 && v != NULL);
		if (n == 3) {
			CHECK(v[0].sids_set && v[0].nsids == 3 && v[0].sids[2] == 3 && v[0].error[0] == '\0');
			CHECK(v[0].devices_set && v[0].ndevices == 2 && strcmp(v[0].devices[1], "DEF") == 0);
			CHECK(v[0].caps_set && v[0].caps[0] == (CAP(15) | CAP(16) | CAP(17)) && v[0].caps[1] == 0);
			CHECK(!v[0].vids_set);
			CHECK(strstr(v[1].error, "VID list") != NULL && !v[1].vids_set);
			CHECK(v[2].sids_set && v[2].nsids == 1 && !v[2].caps_set && v[2].caps[0] == 0);
		}
		sisign_cert_constraints_free(v, n);
		CHECK_EQ_INT(sisign_certs_constraints(b, 0, &v, &n, &err), SISIGN_OK);
		CHECK(v == NULL && n == 0);
		CHECK_EQ_INT(sisign_certs_constraints(b, len - 1, &v, &n, &err), SISIGN_ERR_BAD_CERT);
		CHECK(v == NULL && n == 0);
	}
	free(b);

	/* Not a chain at all. */
	CHECK_EQ_INT(crypto_chain_constraints((const uint8_t *)"\x30\x03\x02\x01\x01", 5, &c, &err),
		SISIGN_ERR_BAD_CERT);
	CHECK_EQ_INT(crypto_chain_constraints(NULL, 0, &c, &err), SISIGN_ERR_BAD_CERT);
	crypto_constraints_free(&c);
	crypto_constraints_merge(NULL, NULL);
	crypto_constraints_free(NULL);

	X509_free(root);
	X509_free(root0);
	X509_free(ca);
	X509_free(leaf);
	X509_free(bad);
}

/* ---- EKU and self-signed ------------------------------------------------------------ */

static int eku(const struct ext *e, const char *const *alt, int mandate, const char **why)
{
	X509 *x = mk("eku", key_leaf, "eku", key_leaf, e, e != NULL ? 1 : 0);
	unsigned char *der = NULL;
	int l = i2d_X509(x, &der), ok;

	if (l <= 0)
		abort();
	ok = crypto_eku_codesign_ok(der, (size_t)l, alt, mandate, why);
	OPENSSL_free(der);
	X509_free(x);
	return ok;
}

static void test_eku(void)
{
	/* SEQUENCE { codeSigning }, { serverAuth }, { serverAuth, 1.3.6.1.4.1.94.1.49.1.2.2.1 } */
	struct ext cs = EXT(OID_EKU, 0x30, 0x0A, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03);
	struct ext sa = EXT(OID_EKU, 0x30, 0x0A, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01);
	struct ext alt = EXT(OID_EKU, 0x30, 0x18, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01, 0x06,
		0x0C, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x5E, 0x01, 0x31, 0x01, 0x02, 0x02, 0x01);
	struct ext broken = EXT(OID_EKU, 0x30, 0x03, 0x02, 0x01, 0x01);
	static const char *const shipped[] = { "1.3.6.1.4.1.94.1.49.1.2.2.1", "1.3.6.1.4.1.94.1.49.1.2.2.5", NULL };
	static const char *const other[] = { "1.3.6.1.4.1.94.1.49.1.2.2.5", NULL };
	static const char *const prefix[] = { "1.3.6.1.4.1.94.1.49.1.2.2", NULL };
	const char *why = "unset";

	/* IR-EKU-2: no EKU is fine unless mandated. */
	CHECK_EQ_INT(eku(NULL, NULL, 0, &why), 1);
	CHECK(why == NULL);
	CHECK_EQ_INT(eku(NULL, shipped, 1, &why), 0);
	CHECK(why != NULL && strstr(why, "MandateCodeSigningExtension") != NULL);
	/* IR-EKU-1 */
	CHECK_EQ_INT(eku(&cs, NULL, 0, &why), 1);
	CHECK(why == NULL);
	CHECK_EQ_INT(eku(&cs, NULL, 1, &why), 1);
	CHECK_EQ_INT(eku(&sa, shipped, 0, &why), 0);
	CHECK(why != NULL && strstr(why, "does not list codeSigning") != NULL);
	CHECK_EQ_INT(eku(&sa, shipped, 1, &why), 0);
	CHECK_EQ_INT(eku(&alt, NULL, 0, &why), 0);
	CHECK_EQ_INT(eku(&alt, other, 0, &why), 0);
	CHECK_EQ_INT(eku(&alt, prefix, 0, &why), 0); /* exact match only */
	CHECK_EQ_INT(eku(&alt, shipped, 0, &why), 1);
	CHECK_EQ_INT(eku(&alt, shipped, 1, NULL), 1);
	CHECK_EQ_INT(eku(&broken, shipped, 0, &why), 0);
	CHECK(why != NULL && strstr(why, "does not decode") != NULL);
	CHECK_EQ_INT(crypto_eku_codesign_ok((const uint8_t *)"\x30\x00", 2, NULL, 0, &why), 0);
	CHECK(why != NULL && strstr(why, "certificate does not decode") != NULL);
	CHECK_EQ_INT(crypto_eku_codesign_ok(NULL, 0, NULL, 0, &why), 0);
}

static void test_self_signed(void)
{
	X509 *root = mk("root", key_root, "root", key_root, NULL, 0);
	X509 *ca = mk("ca", key_ca, "root", key_root, NULL, 0);
	X509 *leaf = mk("leaf", key_leaf, "ca", key_ca, NULL, 0);
	X509 *self = mk("self", key_leaf, "self", key_leaf, NULL, 0);
	/* Self-issued by name, but signed by another key. */
	X509 *forged = mk("self", key_leaf, "self", key_other, NULL, 0);
	uint8_t *b;
	size_t len;

	b = blob(&len, self, NULL, NULL);
	CHECK_EQ_INT(crypto_chain_self_signed(b, len), 1);
	free(b);
	b = blob(&len, leaf, ca, root);
	CHECK_EQ_INT(crypto_chain_self_signed(b, len), 1);
	CHECK_EQ_INT(crypto_chain_self_signed(b, len - 1), 0);
	free(b);
	b = blob(&len, leaf, ca, NULL);
	CHECK_EQ_INT(crypto_chain_self_signed(b, len), 0);
	free(b);
	b = blob(&len, leaf, NULL, NULL);
	CHECK_EQ_INT(crypto_chain_self_signed(b, len), 0);
	free(b);
	b = blob(&len, forged, NULL, NULL);
	CHECK_EQ_INT(crypto_chain_self_signed(b, len), 0);
	free(b);
	CHECK_EQ_INT(crypto_chain_self_signed(NULL, 0), 0);
	X509_free(root);
	X509_free(ca);
	X509_free(leaf);
	X509_free(self);
	X509_free(forged);
}

int main(void)
{
	key_root = EVP_EC_gen("P-256");
	key_ca = EVP_EC_gen("P-256");
	key_leaf = EVP_EC_gen("P-256");
	key_other = EVP_EC_gen("P-256");
	if (key_root == NULL || key_ca == NULL || key_leaf == NULL || key_other == NULL)
		abort();
	test_none();
	test_devices();
	test_lengths();
	test_ints();
	test_caps();
	test_caps_on_size();
	test_duplicate();
	test_chain();
	test_eku();
	test_self_signed();
	EVP_PKEY_free(key_root);
	EVP_PKEY_free(key_ca);
	EVP_PKEY_free(key_leaf);
	EVP_PKEY_free(key_other);
	return tu_finish();
}
