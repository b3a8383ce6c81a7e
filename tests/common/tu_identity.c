/* SPDX-License-Identifier: Apache-2.0 */
/* Test keys and self-signed certificates (testutil.h).  Only OpenSSL here,
 * so the benchmark, which links the shared library, can build it too. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

EVP_PKEY *tu_gen_dsa(int bits)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL), *kc = NULL;
	EVP_PKEY *params = NULL, *key = NULL;

	if (pc == NULL || EVP_PKEY_paramgen_init(pc) <= 0 || EVP_PKEY_CTX_set_dsa_paramgen_bits(pc, bits) <= 0 ||
		EVP_PKEY_CTX_set_dsa_paramgen_q_bits(pc, 160) <= 0 || EVP_PKEY_paramgen(pc, &params) <= 0)
		goto out;
	if ((kc = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL)) == NULL || EVP_PKEY_keygen_init(kc) <= 0 ||
		EVP_PKEY_keygen(kc, &key) <= 0)
		key = NULL;
out:
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_CTX_free(kc);
	EVP_PKEY_free(params);
	return key;
}

int tu_make_identity(const struct tu_identity *id, const char *keypath, const char *certpath)
{
	EVP_PKEY *pk;
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *f;
	int ok;

	if (strcmp(id->type, "DSA") == 0)
		pk = tu_gen_dsa(id->bits);
	else
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)id->bits);
	ok = pk != NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), id->serial);
	X509_gmtime_adj(X509_getm_notBefore(x), id->not_before);
	X509_gmtime_adj(X509_getm_notAfter(x), id->not_after);
	X509_set_pubkey(x, pk);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)id->cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	if (id->eku) {
		X509V3_CTX ctx;
		X509_EXTENSION *e;
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		e = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, id->eku);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (X509_sign(x, pk, EVP_sha256()) <= 0)
		ok = 0;
	f = fopen(keypath, "w");
	PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	f = fopen(certpath, "w");
	PEM_write_X509(f, x);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(pk);
	return ok ? 0 : -1;
}
