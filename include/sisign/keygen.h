/* SPDX-License-Identifier: Apache-2.0 */
/* sisign — keys and certificates: generate a key on a token or in a file,
 * issue a self-signed code-signing certificate or a PKCS#10 request, import
 * a key and certificate onto a token, export a token certificate.
 *
 * Token keys are RSA (libp11 0.4.12 and SoftHSM tokens sign with
 * CKM_RSA_PKCS); DSA-1024 — what Symbian's makekeys made — is for key files
 * only.  A key generated or imported on a token is CKA_TOKEN, CKA_PRIVATE,
 * CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_SIGN only (no decrypt, unwrap or
 * derive); its public key and any certificate go beside it under the same
 * CKA_LABEL and CKA_ID.
 *
 * Certificates (sisign_cert_params): X.509 v3, issuer = subject, a random
 * positive 127-bit serial, basicConstraints CA:FALSE (critical), keyUsage
 * digitalSignature (critical), extendedKeyUsage codeSigning, a subject key
 * identifier; signed with SHA-1 by default (sha1WithRSAEncryption or
 * dsaWithSHA1, what Symbian devices check) or SHA-256 on request.
 *
 * Subjects: makekeys' syntax, space-separated KEY=value pairs whose values
 * may contain spaces ("CN=Jane Dev OU=Apps O=Acme C=FI EM=jane@acme.example";
 * keys CN, OU, O/OR, L/LO, ST, C/CO, EM/E/emailAddress, case-insensitive), or
 * OpenSSL's "/CN=Jane Dev/O=Acme" syntax (any attribute OpenSSL knows;
 * "\/" is a literal slash).  Values are UTF-8. */
#ifndef SISIGN_KEYGEN_H
#define SISIGN_KEYGEN_H

#include <stddef.h>
#include <time.h>
#include <sisign/error.h>
#include <sisign/signer.h>
#include <sisign/token.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sisign_digest {
	SISIGN_DIGEST_SHA1 = 0,   /* default: what Symbian devices verify */
	SISIGN_DIGEST_SHA256 = 1,
};

/* Longest value a makekeys-style attribute may have (bytes). */
#define SISIGN_SUBJECT_VALUE_MAX 256

/* Check a subject string and give its one-line form in sisign's one DN
 * style (package.h: "CN=Jane Dev, OU=Apps, ...", malloc'd, caller frees;
 * oneline may be NULL).
 * SISIGN_ERR_INVALID_ARG with a message naming the problem: empty subject,
 * unknown attribute, empty value, a value over SISIGN_SUBJECT_VALUE_MAX,
 * a country not two letters, invalid UTF-8, text before the first KEY=. */
SISIGN_API int sisign_subject_check(const char *subject, char **oneline, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* The validity a new certificate gets when none is asked for, in days: what
 * `sisign keygen --cert`, `sisign cert`, makekeys and the app's certificate
 * wizard all start from.  One year, as Symbian's makekeys did; a longer life
 * is one --days (or the wizard's field) away. */
#define SISIGN_CERT_DAYS_DEFAULT 365

struct sisign_cert_params {
	const char *subject;        /* required; see above */
	int days;                   /* validity in days when not_after is 0; 0 means
	                             * SISIGN_CERT_DAYS_DEFAULT */
	time_t not_before;          /* 0: now */
	time_t not_after;           /* 0: not_before + days */
	enum sisign_digest digest;
};

/* An existing private key: a key file or a token key. */
struct sisign_key_ref {
	const char *key_file;       /* PEM/DER key file (as sisign_signer_from_key_file) ... */
	sisign_secret_cb pass_cb;   /* ... and its passphrase source (may be NULL) */
	void *pass_cb_data;
	const char *uri;            /* ... or a pkcs11: URI naming one private key */
	const struct sisign_token_opts *token_opts; /* may be NULL */
};

struct sisign_keygen_params {
	enum sisign_key_type type;  /* SISIGN_KEY_RSA (also for 0) or SISIGN_KEY_DSA (files only) */
	int bits;                   /* RSA 1024/2048/3072/4096 (0: 2048); DSA 1024 (0: 1024) */
	/* Tokens only.  label: CKA_LABEL; NULL takes the URI's object=, and
	 * one of the two is required.  id: CKA_ID bytes; NULL takes the URI's
	 * id=, else 8 random bytes. */
	const char *label;
	const unsigned char *id;
	size_t id_len;
};

struct sisign_keygen_result {
	char *key_uri;              /* tokens: the private key's URI (sign with it); else NULL */
	char *id_hex;               /* tokens: CKA_ID as lowercase hex; else NULL */
	unsigned char *cert_der;    /* the self-signed certificate, if one was asked for */
	size_t cert_der_len;
};

/* Accepts NULL. */
SISIGN_API void sisign_keygen_result_free(struct sisign_keygen_result *r);

/* Generate an RSA key pair on the token token_uri names (token attributes
 * as for sisign_signer_from_pkcs11; object= and id= may give the label and
 * id), and with cp non-NULL a self-signed certificate for it, stored on the
 * token beside the key.  One login for all of it.
 * Errors: those of sisign_signer_from_pkcs11 for module, token and PIN;
 * SISIGN_ERR_INVALID_ARG (no label, DSA, bad size, bad subject — checked
 * before anything is generated); SISIGN_ERR_EXISTS when an object with the
 * label or the id is already on the token (nothing is written);
 * SISIGN_ERR_TOKEN (err->ckr) when the token refuses.  If the certificate
 * cannot be made after the key was, the new key pair is destroyed again.
 * Caller frees *out with sisign_keygen_result_free(). */
SISIGN_API int sisign_keygen_token(const char *token_uri, const struct sisign_token_opts *opts,
	const struct sisign_keygen_params *kp, const struct sisign_cert_params *cp,
	struct sisign_keygen_result **out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Flags for sisign_keygen_file. */
#define SISIGN_KEYFILE_OVERWRITE 1u   /* replace an existing key file */
#define SISIGN_KEYFILE_TRADITIONAL 2u /* "RSA/DSA PRIVATE KEY" PEM with DES-EDE3-CBC (makekeys'
                                       * format, readable by Symbian's signsis); default is
                                       * PKCS#8, AES-256-CBC with PBKDF2 */

/* Generate an RSA or DSA key into a new PEM file (mode 0600, written
 * atomically).  pass_cb (kind "passphrase", what = path) gives the
 * passphrase; pass_cb NULL writes the key unencrypted.  A passphrase
 * shorter than 4 bytes is SISIGN_ERR_BAD_PASSPHRASE.  With cp non-NULL a
 * self-signed certificate is made too (*out->cert_der).  An existing file
 * is SISIGN_ERR_EXISTS unless SISIGN_KEYFILE_OVERWRITE.  Caller frees *out
 * (may be NULL if not wanted). */
SISIGN_API int sisign_keygen_file(const struct sisign_keygen_params *kp, const char *path, unsigned flags,
	sisign_secret_cb pass_cb, void *pass_cb_data, const struct sisign_cert_params *cp,
	struct sisign_keygen_result **out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Flags for sisign_cert_selfsign. */
#define SISIGN_CERT_STORE 1u          /* token key: store the certificate on the token under the
                                       * key's label and id (SISIGN_ERR_EXISTS if a certificate
                                       * with that id is there already) */

/* A self-signed certificate for an existing key; *der malloc'd (caller
 * frees).  Errors as for loading the key (signer.h / token.h) plus
 * SISIGN_ERR_INVALID_ARG for bad parameters or subject. */
SISIGN_API int sisign_cert_selfsign(const struct sisign_key_ref *key, const struct sisign_cert_params *cp,
	unsigned flags, unsigned char **der, size_t *der_len, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* A PKCS#10 certificate request (subject, public key, signed with the key
 * by digest); *der malloc'd, caller frees. */
SISIGN_API int sisign_csr_make(const struct sisign_key_ref *key, const char *subject, enum sisign_digest digest,
	unsigned char **der, size_t *der_len, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Put an RSA private key and its certificate onto a token as non-
 * extractable, sensitive, sign-only objects (plus the public key).
 *   key_file:  PEM or DER private key, or a PKCS#12 file (passphrase from
 *              pass_cb, kind "passphrase"), which may bring the certificate;
 *   cert_file: PEM/DER certificate, or NULL (the PKCS#12's, if any; a key
 *              without certificate is allowed);
 *   label/id:  as in sisign_keygen_params (the URI's object=/id=, else a
 *              random id; the label defaults to the certificate's CN).
 * The certificate must match the key (SISIGN_ERR_KEY_MISMATCH).  An object
 * with the label or id already there is SISIGN_ERR_EXISTS.  *key_uri
 * (malloc'd) is the new key's URI. */
SISIGN_API int sisign_token_import(const char *token_uri, const struct sisign_token_opts *opts,
	const char *key_file, const char *cert_file, sisign_secret_cb pass_cb, void *pass_cb_data,
	const char *label, const unsigned char *id, size_t id_len, char **key_uri, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* The DER of the one certificate uri names (object= and/or id=; type=cert
 * or none).  No match: SISIGN_ERR_KEY_NOT_FOUND; several:
 * SISIGN_ERR_AMBIGUOUS.  Certificates are public: the login is done only
 * if a PIN source is given.  *der malloc'd, caller frees. */
SISIGN_API int sisign_token_export_cert(const char *uri, const struct sisign_token_opts *opts,
	unsigned char **der, size_t *der_len, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Write DER bytes to path atomically, as DER (pem_type NULL) or as PEM
 * with that type ("CERTIFICATE", "CERTIFICATE REQUEST").  An existing file
 * is SISIGN_ERR_EXISTS unless overwrite. */
SISIGN_API int sisign_der_write_file(const char *path, const unsigned char *der, size_t der_len,
	const char *pem_type, int overwrite, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Write the DER certificates concatenated in certs (a SIS chain blob, as
 * struct sisign_chain's certs) as PEM, one block each in order, to name
 * (no '/') inside the open directory dirfd (or AT_FDCWD), atomically.  An
 * existing regular file is replaced; a symbolic link or anything else at
 * name is refused with SISIGN_ERR_EXISTS (never followed).  Bytes that are
 * not whole certificates: SISIGN_ERR_BAD_CERT. */
SISIGN_API int sisign_certs_write_pem_at(int dirfd, const char *name, const unsigned char *certs,
	size_t certs_len, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Every certificate in a PEM or DER file as readable text (the layout of
 * `openssl x509 -text`, one block per certificate, each followed by its
 * SHA-256 fingerprint).  A file without a certificate or with a broken one
 * gives SISIGN_ERR_BAD_CERT.  *text is malloc'd and NUL-terminated; caller
 * frees. */
SISIGN_API int sisign_cert_file_text(const char *path, char **text, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* DER bytes as PEM text with the given type ("CERTIFICATE", ...), 64
 * base64 characters a line.  *pem is malloc'd and NUL-terminated; caller
 * frees. */
SISIGN_API int sisign_pem_encode(const char *pem_type, const unsigned char *der, size_t der_len, char **pem,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
