/* SPDX-License-Identifier: Apache-2.0 */
/* Building and signing certificates and requests with any private key:
 * a key file (EVP_PKEY) or a token key reached only through a "sign this
 * digest" callback.  Also subject parsing (makekeys and /CN= syntax), file
 * key generation, loading and writing.  Internal to libsisign (xb_ prefix). */
#ifndef SISIGN_X509BUILD_PRIVATE_H
#define SISIGN_X509BUILD_PRIVATE_H

#if !defined(SISIGN_BUILD) && !defined(SISIGN_TEST)
#error "x509build_private.h is internal to libsisign"
#endif

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <sisign/error.h>
#include <sisign/keygen.h>
#include <sisign/signer.h>

/* Sign a digest of the given NID (NID_sha1 / NID_sha256): RSA PKCS#1 v1.5
 * over the DigestInfo, or DSA giving DER SEQUENCE{r,s}.  *sig malloc'd. */
typedef int (*xb_sign_fn)(void *ctx, int md_nid, const uint8_t *dgst, size_t dlen, uint8_t **sig,
	size_t *siglen, struct sisign_error *err);

struct xb_signer {
	EVP_PKEY *pub;      /* public key (not owned); its type picks the algorithm */
	xb_sign_fn sign;
	void *ctx;
};

/* The sign function for a private EVP_PKEY (ctx is the EVP_PKEY *). */
int xb_pkey_sign(void *ctx, int md_nid, const uint8_t *dgst, size_t dlen, uint8_t **sig, size_t *siglen,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* The DER DigestInfo for a SHA-1 or SHA-256 digest: *out gets up to 51
 * bytes (out must hold XB_DI_MAX). */
#define XB_DI_MAX 64
int xb_digestinfo(int md_nid, const uint8_t *dgst, size_t dlen, uint8_t *out, size_t *outlen) SISIGN_WARN_UNUSED;

/* NID_sha1 or NID_sha256 for the public enum. */
int xb_md_nid(enum sisign_digest d);

/* Parse a subject (makekeys "CN=Jane Dev O=Acme" or "/CN=Jane Dev/O=Acme");
 * SISIGN_ERR_INVALID_ARG with a precise message.  Caller frees *out with
 * X509_NAME_free. */
int xb_name_parse(const char *s, X509_NAME **out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Resolve validity from params at time now: *nb, *na.  INVALID_ARG for
 * days < 0, not_after <= not_before. */
int xb_validity(const struct sisign_cert_params *cp, time_t now, time_t *nb, time_t *na,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Build and sign the self-signed code-signing certificate keygen.h
 * describes; the result is re-parsed from its DER and its self-signature
 * checked before it is returned.  Caller frees *out (X509_free). */
int xb_cert_build(const struct xb_signer *s, const struct sisign_cert_params *cp, X509 **out,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Build and sign a PKCS#10 request (no attributes). */
int xb_req_build(const struct xb_signer *s, const char *subject, enum sisign_digest digest, X509_REQ **out,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Generate a key: RSA (bits 1024/2048/3072/4096) or DSA-1024 (q 160). */
int xb_generate(enum sisign_key_type type, int bits, EVP_PKEY **out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Load a private key file (PEM or DER, PKCS#1, traditional DSA, PKCS#8,
 * encrypted or not) or, with p12 != NULL, also a PKCS#12 file (*p12 then
 * gets its certificate, or NULL).  Errors as sisign_signer_from_key_file. */
int xb_load_key_file(const char *path, sisign_secret_cb cb, void *ud, EVP_PKEY **out, X509 **p12cert,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

#endif
