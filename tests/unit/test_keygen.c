/* SPDX-License-Identifier: Apache-2.0 */
/* Keys and certificates (keygen.h, crypto/x509build.c) with file keys:
 * subject parsing, the certificate profile, CSRs, DSA, SHA-256, key file
 * formats and modes, refusing to overwrite.  Token keys are covered by
 * tests/integration/test_keygen_token.sh against a fresh SoftHSM token. */
#include "testutil.h"
#include "crypto/crypto_private.h"
#include "crypto/x509build_private.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sisign/keygen.h>
#include <sisign/signer.h>

static char *tmp;

static char *path_in(const char *name)
{
	static char buf[4][1024];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", tmp, name);
	return buf[i];
}

static int pass_cb(void *ud, const char *kind, const char *what, int tries, char *buf, size_t size)
{
	(void)kind;
	(void)what;
	(void)tries;
	snprintf(buf, size, "%s", (const char *)ud);
	return (int)strlen(buf);
}

static void test_subjects(void)
{
	struct sisign_error err;
	char *one = NULL;
	static const char *const bad[] = {
		"", "Jane Dev", "CN=", "CN=Jane XX=1", "C=FIN CN=x", "CN=x EM=no-at-sign", "/CN=a/ZZZ=b", "/", "/CN",
		"CN=a\x01", "CN=\xff\xfe", "OU=x CN=",
	};

	CHECK_EQ_INT(sisign_subject_check("CN=Jane Dev OU=Apps O=Acme C=FI EM=jane@acme.example", &one, &err),
		SISIGN_OK);
	CHECK_MSG(one && strcmp(one, "emailAddress=jane@acme.example, C=FI, O=Acme, OU=Apps, CN=Jane Dev") == 0, "%s",
		one ? one : "(null)");
	free(one);
	one = NULL;
	/* makekeys' aliases OR and CO, lower-case keys, extra spaces */
	CHECK_EQ_INT(sisign_subject_check("  cn=Joe  Bloggs   OR=Acme Ltd CO=GB ", &one, &err), SISIGN_OK);
	CHECK_MSG(one && strcmp(one, "C=GB, O=Acme Ltd, CN=Joe  Bloggs") == 0, "%s", one ? one : "(null)");
	free(one);
	one = NULL;
	CHECK_EQ_INT(sisign_subject_check("/CN=Jane Dev/O=Acme\\/Sub/C=FI", &one, &err), SISIGN_OK);
	CHECK_MSG(one && strcmp(one, "C=FI, O=Acme/Sub, CN=Jane Dev") == 0, "%s", one ? one : "(null)");
	free(one);
	one = NULL;
	/* UTF-8 is kept; values over 64 characters are allowed (makekeys) */
	CHECK_EQ_INT(sisign_subject_check("CN=J\xc3\xa4nis O=" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			     NULL, &err), SISIGN_OK);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sisign_error_clear(&err);
		CHECK_MSG(sisign_subject_check(bad[i], &one, &err) == SISIGN_ERR_INVALID_ARG, "subject \"%s\"", bad[i]);
		CHECK_EQ_INT(err.code, SISIGN_ERR_INVALID_ARG);
		CHECK_MSG(err.message[0] != '\0', "no message for \"%s\"", bad[i]);
		CHECK(one == NULL);
	}
	sisign_error_clear(&err);
	CHECK_EQ_INT(sisign_subject_check("CN=Jane XX=1", NULL, &err), SISIGN_ERR_INVALID_ARG);
	CHECK_MSG(strstr(err.message, "XX") != NULL, "%s", err.message);
}

static X509 *der_to_x509(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	return d2i_X509(NULL, &p, (long)len);
}

/* The certificate profile from keygen.h. */
static void check_profile(X509 *x, int sig_nid, const char *cn, long days)
{
	const ASN1_INTEGER *ser = X509_get0_serialNumber(x);
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	EXTENDED_KEY_USAGE *eku;
	ASN1_OCTET_STRING *ski;
	int crit = -1, pday = 0, psec = 0;
	char buf[256];

	CHECK_EQ_INT(X509_get_version(x), X509_VERSION_3);
	CHECK_EQ_INT(X509_get_signature_nid(x), sig_nid);
	CHECK_EQ_INT(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof buf);
	CHECK_MSG(strcmp(buf, cn) == 0, "CN %s", buf);
	CHECK(ASN1_STRING_type(ser) == V_ASN1_INTEGER); /* positive */
	CHECK(ASN1_STRING_length(ser) >= 8);
	CHECK_EQ_INT(X509_verify(x, X509_get0_pubkey(x)), 1);
	/* (X509_check_issued would say KEYUSAGE_NO_CERTSIGN: right for a leaf.) */
	CHECK(ASN1_TIME_diff(&pday, &psec, X509_get0_notBefore(x), X509_get0_notAfter(x)) == 1);
	CHECK_EQ_INT(pday, days);
	CHECK(X509_cmp_current_time(X509_get0_notBefore(x)) <= 0);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	CHECK(bc && !bc->ca && crit == 1);
	BASIC_CONSTRAINTS_free(bc);
	ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	CHECK(ku && ASN1_BIT_STRING_get_bit(ku, 0) && !ASN1_BIT_STRING_get_bit(ku, 5) && crit == 1);
	ASN1_BIT_STRING_free(ku);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	CHECK(eku && sk_ASN1_OBJECT_num(eku) == 1 && OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) == NID_code_sign &&
		crit == 0);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	ski = X509_get_ext_d2i(x, NID_subject_key_identifier, &crit, NULL);
	CHECK(ski && ASN1_STRING_length(ski) == 20);
	ASN1_OCTET_STRING_free(ski);
	CHECK_EQ_INT(X509_check_purpose(x, -1, 0), 1); /* extensions cache well-formed */
	CHECK(!(X509_get_extension_flags(x) & EXFLAG_INVALID));
}

/* Sign a digest with the key file through the ordinary signer, verify with
 * the certificate: key file and certificate go together, and the file is
 * readable by the signing path. */
static void check_signs(const char *keyfile, const char *pass, X509 *x)
{
	struct sisign_signer *s = NULL;
	struct sisign_error err;
	unsigned char dg[20], *sig = NULL;
	size_t siglen = 0;
	EVP_PKEY_CTX *pc;

	SHA1((const unsigned char *)"sisign", 6, dg);
	CHECK_EQ_INT(sisign_signer_from_key_file(keyfile, pass ? pass_cb : NULL, (void *)pass, &s, &err), SISIGN_OK);
	if (!s)
		return;
	CHECK_EQ_INT(sisign_signer_sign_sha1(s, dg, &sig, &siglen, &err), SISIGN_OK);
	pc = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL);
	CHECK(pc && EVP_PKEY_verify_init(pc) == 1 && EVP_PKEY_CTX_set_signature_md(pc, EVP_sha1()) == 1 &&
		EVP_PKEY_verify(pc, sig, siglen, dg, 20) == 1);
	EVP_PKEY_CTX_free(pc);
	free(sig);
	sisign_signer_free(s);
}

static void test_file_rsa(void)
{
	struct sisign_keygen_params kp = { SISIGN_KEY_RSA, 1024, NULL, NULL, 0 };
	struct sisign_cert_params cp = { "CN=Jane Dev OU=Apps O=Acme C=FI EM=jane@acme.example", 0, 0, 0,
		SISIGN_DIGEST_SHA1 };
	struct sisign_keygen_result *res = NULL;
	struct sisign_error err;
	struct stat st;
	const char *key = path_in("rsa.key");
	X509 *x;
	uint8_t *pem;
	size_t n;

	CHECK_EQ_INT(sisign_keygen_file(&kp, key, 0, pass_cb, "secret", &cp, &res, &err), SISIGN_OK);
	CHECK(res && res->cert_der && !res->key_uri);
	CHECK(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);
	pem = tu_read_file(key, &n);
	CHECK(pem && strstr((char *)pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
	free(pem);
	if (res && res->cert_der && (x = der_to_x509(res->cert_der, res->cert_der_len)) != NULL) {
		check_profile(x, NID_sha1WithRSAEncryption, "Jane Dev", 365);
		CHECK_EQ_INT(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 1024);
		check_signs(key, "secret", x);
		X509_free(x);
	} else {
		CHECK(!"no certificate");
	}
	sisign_keygen_result_free(res);
	res = NULL;

	/* Refuse to overwrite: the old key stays. */
	pem = tu_read_file(key, &n);
	sisign_error_clear(&err);
	CHECK_EQ_INT(sisign_keygen_file(&kp, key, 0, NULL, NULL, NULL, NULL, &err), SISIGN_ERR_EXISTS);
	CHECK_EQ_INT(err.code, SISIGN_ERR_EXISTS);
	{
		size_t n2;
		uint8_t *again = tu_read_file(key, &n2);
		CHECK(again && pem && n2 == n && memcmp(again, pem, n) == 0);
		free(again);
	}
	free(pem);
	/* ... unless asked; unencrypted then. */
	CHECK_EQ_INT(sisign_keygen_file(&kp, key, SISIGN_KEYFILE_OVERWRITE, NULL, NULL, NULL, NULL, &err), SISIGN_OK);
	pem = tu_read_file(key, &n);
	CHECK(pem && strstr((char *)pem, "-----BEGIN PRIVATE KEY-----"));
	free(pem);

	/* Passphrase under 4 characters (makekeys' rule), bad sizes, bad subject. */
	CHECK_EQ_INT(sisign_keygen_file(&kp, path_in("short.key"), 0, pass_cb, "abc", NULL, NULL, &err),
		SISIGN_ERR_BAD_PASSPHRASE);
	CHECK(access(path_in("short.key"), F_OK) != 0);
	kp.bits = 1000;
	CHECK_EQ_INT(sisign_keygen_file(&kp, path_in("odd.key"), 0, NULL, NULL, NULL, NULL, &err),
		SISIGN_ERR_INVALID_ARG);
	kp.bits = 1024;
	cp.subject = "Jane";
	CHECK_EQ_INT(sisign_keygen_file(&kp, path_in("bad.key"), 0, NULL, NULL, &cp, NULL, &err),
		SISIGN_ERR_INVALID_ARG);
	CHECK(access(path_in("bad.key"), F_OK) != 0);
	cp.subject = "CN=x";
	cp.days = -1;
	CHECK_EQ_INT(sisign_keygen_file(&kp, path_in("bad.key"), 0, NULL, NULL, &cp, NULL, &err),
		SISIGN_ERR_INVALID_ARG);
}

static void test_file_dsa_and_existing(void)
{
	struct sisign_keygen_params kp = { SISIGN_KEY_DSA, 0, NULL, NULL, 0 };
	struct sisign_cert_params cp = { "CN=Joe Bloggs OR=Acme Ltd CO=GB", 30, 0, 0, SISIGN_DIGEST_SHA1 };
	struct sisign_keygen_result *res = NULL;
	struct sisign_key_ref ref;
	struct sisign_error err;
	const char *key = path_in("dsa.key");
	unsigned char *der = NULL;
	size_t len = 0;
	uint8_t *pem;
	size_t n;
	X509 *x;

	CHECK_EQ_INT(sisign_keygen_file(&kp, key, SISIGN_KEYFILE_TRADITIONAL, pass_cb, "secret", &cp, &res, &err),
		SISIGN_OK);
	pem = tu_read_file(key, &n);
	CHECK(pem && strstr((char *)pem, "-----BEGIN DSA PRIVATE KEY-----") && strstr((char *)pem, "DES-EDE3-CBC"));
	free(pem);
	if (res && (x = der_to_x509(res->cert_der, res->cert_der_len)) != NULL) {
		check_profile(x, NID_dsaWithSHA1, "Joe Bloggs", 30);
		CHECK_EQ_INT(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 1024);
		check_signs(key, "secret", x);
		X509_free(x);
	}
	sisign_keygen_result_free(res);

	/* A new certificate and a CSR for the existing key. */
	memset(&ref, 0, sizeof ref);
	ref.key_file = key;
	ref.pass_cb = pass_cb;
	ref.pass_cb_data = "secret";
	cp.digest = SISIGN_DIGEST_SHA256;
	cp.not_before = 1700000000;
	cp.not_after = 1800000000;
	CHECK_EQ_INT(sisign_cert_selfsign(&ref, &cp, 0, &der, &len, &err), SISIGN_OK);
	if (der && (x = der_to_x509(der, len)) != NULL) {
		time_t t;
		CHECK_EQ_INT(X509_get_signature_nid(x), NID_dsa_with_SHA256);
		CHECK(crypto_asn1_time_to_time_t(X509_get0_notBefore(x), &t) == 0 && t == 1700000000);
		CHECK(crypto_asn1_time_to_time_t(X509_get0_notAfter(x), &t) == 0 && t == 1800000000);
		CHECK_EQ_INT(X509_verify(x, X509_get0_pubkey(x)), 1);
		X509_free(x);
	}
	free(der);
	der = NULL;
	/* STORE is for token keys only. */
	CHECK_EQ_INT(sisign_cert_selfsign(&ref, &cp, SISIGN_CERT_STORE, &der, &len, &err), SISIGN_ERR_INVALID_ARG);

	CHECK_EQ_INT(sisign_csr_make(&ref, "/CN=Joe Bloggs/O=Acme", SISIGN_DIGEST_SHA1, &der, &len, &err), SISIGN_OK);
	if (der) {
		const unsigned char *p = der;
		X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
		char buf[64];
		CHECK(req != NULL);
		if (req) {
			CHECK_EQ_INT(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
			CHECK_EQ_INT(X509_REQ_get_signature_nid(req), NID_dsaWithSHA1);
			X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_organizationName, buf, sizeof buf);
			CHECK(strcmp(buf, "Acme") == 0);
			X509_REQ_free(req);
		}
	}
	free(der);
	der = NULL;

	/* Wrong passphrase: the key file's own error code. */
	ref.pass_cb_data = "wrong";
	CHECK_EQ_INT(sisign_csr_make(&ref, "CN=x", SISIGN_DIGEST_SHA1, &der, &len, &err), SISIGN_ERR_BAD_PASSPHRASE);
	CHECK(der == NULL);
	/* Bad subject before the key is even opened. */
	CHECK_EQ_INT(sisign_csr_make(&ref, "nonsense", SISIGN_DIGEST_SHA1, &der, &len, &err), SISIGN_ERR_INVALID_ARG);
	ref.key_file = NULL;
	CHECK_EQ_INT(sisign_csr_make(&ref, "CN=x", SISIGN_DIGEST_SHA1, &der, &len, &err), SISIGN_ERR_INVALID_ARG);
}

static void test_write(void)
{
	struct sisign_error err;
	const unsigned char der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	uint8_t *p;
	size_t n;

	CHECK_EQ_INT(sisign_der_write_file(path_in("x.pem"), der, sizeof der, "CERTIFICATE", 0, &err), SISIGN_OK);
	p = tu_read_file(path_in("x.pem"), &n);
	CHECK(p && strncmp((char *)p, "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n", 37) == 0);
	free(p);
	CHECK_EQ_INT(sisign_der_write_file(path_in("x.pem"), der, sizeof der, NULL, 0, &err), SISIGN_ERR_EXISTS);
	CHECK_EQ_INT(sisign_der_write_file(path_in("x.pem"), der, sizeof der, NULL, 1, &err), SISIGN_OK);
	p = tu_read_file(path_in("x.pem"), &n);
	CHECK(p && n == sizeof der && memcmp(p, der, n) == 0);
	free(p);
}

static void test_digestinfo(void)
{
	uint8_t d[32] = { 0 }, out[XB_DI_MAX];
	size_t n = 0;
	CHECK_EQ_INT(xb_digestinfo(NID_sha1, d, 20, out, &n), SISIGN_OK);
	CHECK_EQ_INT(n, 35);
	CHECK_EQ_INT(xb_digestinfo(NID_sha256, d, 32, out, &n), SISIGN_OK);
	CHECK_EQ_INT(n, 51);
	CHECK_EQ_INT(xb_digestinfo(NID_sha256, d, 20, out, &n), SISIGN_ERR_INVALID_ARG);
	CHECK_EQ_INT(xb_digestinfo(NID_md5, d, 16, out, &n), SISIGN_ERR_INVALID_ARG);
}

int main(void)
{
	tmp = tu_tmpdir();
	if (!tmp) {
		fprintf(stderr, "no temp dir\n");
		return 1;
	}
	test_subjects();
	test_digestinfo();
	test_write();
	test_file_rsa();
	test_file_dsa_and_existing();
	tu_rmrf(tmp);
	free(tmp);
	return tu_finish();
}
