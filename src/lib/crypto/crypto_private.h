/* SPDX-License-Identifier: Apache-2.0 */
/* Internal crypto layer: certificate chains as SIS stores them, SHA-1
 * signatures as Symbian makes and checks them (sis-format.md §7.2), PKIX path
 * validation against a configurable root store at a configurable time
 * (§7.9, §7.10), and certificate descriptions for reports.
 *
 * Every fallible function returns a sisign_err code (SISIGN_OK = 0) and fills
 * err (which may be NULL).  Out-params are set to NULL/0 on entry. */
#ifndef SISIGN_CRYPTO_PRIVATE_H
#define SISIGN_CRYPTO_PRIVATE_H

#if !defined(SISIGN_BUILD) && !defined(SISIGN_TEST)
#error "crypto_private.h is internal to libsisign"
#endif

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/core.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <sisign/error.h>
#include <sisign/signer.h>

/* The only two algorithm identifier strings Symbian accepts (§7.2). */
#define CRYPTO_OID_RSA_SHA1 "1.2.840.113549.1.1.5"
#define CRYPTO_OID_DSA_SHA1 "1.2.840.10040.4.3"
/* id-kp-codeSigning. */
#define CRYPTO_OID_CODE_SIGNING "1.3.6.1.5.5.7.3.3"

/* Largest certificate or key file we read (they are a few KiB). */
#define CRYPTO_FILE_MAX ((size_t)4 * 1024 * 1024)

/* Prepend "prefix: " to err->message (err may be NULL). */
void crypto_err_prefix(struct sisign_error *err, const char *prefix);

/* ---- certificate chains ---------------------------------------------------- */

/* Parse a SIS certificate-chain blob: DER certificates concatenated with no
 * separators, signer first (§7.3).  Strict: each certificate is taken by its
 * own DER length; an empty blob or any bytes that are not a whole certificate
 * give SISIGN_ERR_BAD_CERT (err->offset = offset in the blob).  Caller frees
 * *out with crypto_certs_free(). */
int crypto_certs_from_der_blob(const uint8_t *p, size_t n, STACK_OF(X509) **out, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* Load certificates from a file: PEM with one or more CERTIFICATE blocks (in
 * file order; other PEM blocks such as keys are skipped), or DER (one
 * certificate or several concatenated).  No certificate at all, or a broken
 * one, gives SISIGN_ERR_BAD_CERT; a missing file SISIGN_ERR_SYSTEM.  Caller
 * frees *out with crypto_certs_free(). */
int crypto_certs_load_file(const char *path, STACK_OF(X509) **out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* As crypto_certs_load_file; with allow_empty, an empty file or a PEM file
 * without any CERTIFICATE block (e.g. a key file) gives SISIGN_OK and
 * *out = NULL. */
int crypto_certs_load_file_ex(const char *path, int allow_empty, STACK_OF(X509) **out, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* Serialise certificates as a SIS chain blob (DER concatenated, stack
 * order).  *out is malloc'd; caller frees. */
int crypto_certs_to_der_blob(STACK_OF(X509) *certs, uint8_t **out, size_t *len, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* Frees the stack and every certificate in it; accepts NULL. */
void crypto_certs_free(STACK_OF(X509) *certs);

/* ---- keys and signatures ----------------------------------------------------- */

/* Passphrase buffer handed to the front end. */
#define CRYPTO_PASSPHRASE_MAX 1024

/* State of crypto_pw_cb; zero it and fill in cb, userdata and path. */
struct crypto_pw {
	sisign_secret_cb cb;
	void *userdata;
	const char *path;
	int asked;   /* the key turned out to be encrypted */
	int cb_err;  /* negative code the front end returned (e.g. CANCELLED) */
};

/* OSSL_PASSPHRASE_CALLBACK asking the front end through a struct crypto_pw
 * (arg).  OpenSSL calls it only for an encrypted key, and the decoder caches
 * the answer, so the front end is asked once.  OpenSSL's convention: 1 with
 * the passphrase in pass, 0 on failure (the reason left in the state). */
int crypto_pw_cb(char *pass, size_t pass_size, size_t *pass_len, const OSSL_PARAM params[], void *arg);

/* 1 if data is a DER PKCS#12 (PFX) file, else 0 (by content, whatever the
 * file is called). */
int crypto_p12_is(const uint8_t *data, size_t len);

/* Read a PKCS#12 file: the private key, its certificate (*cert, NULL if the
 * file has none for the key) and the other certificates (*ca, file order,
 * NULL if none; ca may be NULL).  A file without a password opens without
 * asking; otherwise st->cb is asked once and the answer checked against
 * the file's MAC: a wrong one is SISIGN_ERR_BAD_PASSPHRASE ("wrong
 * password"), never retried.  Old ciphers (RC2-40) load OpenSSL's legacy
 * provider into the default library context, once, when needed.  Other
 * failures: SISIGN_ERR_BAD_KEY.  Messages start with st->path.  Caller
 * frees the outputs. */
int crypto_p12_load(const uint8_t *data, size_t len, struct crypto_pw *st, EVP_PKEY **key, X509 **cert,
	STACK_OF(X509) **ca, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* A standalone, public-only copy of pkey (re-decoded from its DER
 * SubjectPublicKeyInfo): no secret, and no provider or libp11 method
 * attached.  NULL on failure (OpenSSL's error queue says why).  Caller frees
 * with EVP_PKEY_free(). */
EVP_PKEY *crypto_pkey_public_copy(EVP_PKEY *pkey) SISIGN_WARN_UNUSED;

/* SISIGN_KEY_RSA, SISIGN_KEY_DSA or SISIGN_KEY_UNKNOWN (also for NULL). */
enum sisign_key_type crypto_pkey_type(const EVP_PKEY *pkey);

/* The algorithm OID string a signature made with this key carries, or NULL
 * for a key type Symbian does not support. */
const char *crypto_sig_oid_for_pkey(const EVP_PKEY *pkey);

/* 1 if an RSA or DSA key holds its private part (the decoders also accept
 * a bare public key where a private key was asked for). */
int crypto_pkey_has_private(const EVP_PKEY *pkey);

/* SISIGN_OK when key (private or public) has the same public key as cert,
 * else SISIGN_ERR_KEY_MISMATCH (also for NULL arguments or a certificate
 * whose key cannot be decoded).  For DSA the public value y is compared, so a
 * certificate that omits the domain parameters still matches. */
int crypto_key_matches_cert(EVP_PKEY *key, X509 *cert) SISIGN_WARN_UNUSED;

/* Sign a SHA-1 digest: RSA → PKCS#1 v1.5 over the SHA-1 DigestInfo (exactly
 * modulus-length bytes); DSA → DER SEQUENCE{r,s} (exact length, no padding).
 * Other key types: SISIGN_ERR_BAD_KEY.  *sig malloc'd; caller frees. */
int crypto_sign_sha1_with_pkey(EVP_PKEY *pkey, const uint8_t digest[20], uint8_t **sig, size_t *siglen,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Verify one SISSignature the way the device does (§7.2):
 *  - oid must be CRYPTO_OID_RSA_SHA1 or CRYPTO_OID_DSA_SHA1, else
 *    SISIGN_ERR_SIG_UNSUPPORTED; the primitive comes from the key type of the
 *    signer certificate, not from the OID;
 *  - RSA: PKCS#1 v1.5 with the SHA-1 DigestInfo (a blob shorter than the
 *    modulus is taken as a big-endian integer, i.e. left-padded);
 *  - DSA: the blob is a DER SEQUENCE{r,s} that may be followed by zero bytes
 *    (signsis pads to DSA_size); only the DER is verified, any non-zero
 *    trailing byte makes the signature invalid;
 *  - other key types: SISIGN_ERR_SIG_UNSUPPORTED.
 * Returns SISIGN_OK or SISIGN_ERR_SIG_INVALID. */
int crypto_verify_sha1_sig(X509 *signer, const char *oid, const uint8_t digest[20], const uint8_t *sig,
	size_t siglen, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* The same check against a public key (no OID: the key type decides). */
int crypto_verify_sha1_pkey(EVP_PKEY *pk, const uint8_t digest[20], const uint8_t *sig, size_t siglen,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* ---- path validation ------------------------------------------------------------ */

struct crypto_trust;

int crypto_trust_new(struct crypto_trust **out, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* Add roots from a PEM or DER file (a PEM file may hold several), or from a
 * directory: every *.pem, *.cer, *.crt, *.der file in it (not recursive;
 * empty files and PEM files without a certificate, such as key files, are
 * skipped).  A
 * directory without any certificate is SISIGN_ERR_BAD_CERT. */
int crypto_trust_add_file(struct crypto_trust *t, const char *path, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* Add one root (a reference is taken). */
int crypto_trust_add_cert(struct crypto_trust *t, X509 *cert, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* Number of roots added so far. */
size_t crypto_trust_count(const struct crypto_trust *t);
void crypto_trust_free(struct crypto_trust *t);

enum crypto_chain_verdict {
	CHAIN_TRUSTED = 0,   /* path to a trust-store root, all valid at `at` */
	CHAIN_SELF_SIGNED,   /* leaf self-signed, or chain ends in a self-signed root not in the store */
	CHAIN_UNTRUSTED,     /* no path to a trusted root */
	CHAIN_EXPIRED,       /* path to a trusted root, but a certificate is outside its validity at `at` */
	CHAIN_INVALID,       /* broken signature, bad CA certificate, ... */
};

struct crypto_chain_result {
	enum crypto_chain_verdict verdict;
	int ossl_error;           /* X509_V_ERR_* behind the verdict, X509_V_OK when trusted */
	int error_depth;          /* chain depth of that error (0 = signer), -1 if none */
	char error_str[256];      /* X509_verify_cert_error_string(ossl_error) */
	/* For CHAIN_SELF_SIGNED only: the verdict when the chain is validated
	 * with its own self-signed top certificate as the anchor (TRUSTED means
	 * "a valid self-signed chain", EXPIRED or INVALID otherwise). */
	enum crypto_chain_verdict self_signed_verdict;
	int has_eku;              /* signer has an extendedKeyUsage extension */
	int eku_ok;               /* no EKU, or EKU contains codeSigning */
	int path_len;             /* certificates in the validated path incl. root, 0 if none */
	char root_subject[512];   /* subject of the anchor used, "" if none */
};

/* Validate chain (signer first; the rest are untrusted candidates for path
 * building, in any order) against the roots in t at time `at`.  No purpose
 * check (code-signing certificates are fine), security level 0 (Symbian roots
 * are RSA-512/1024 with MD5/SHA-1), no partial chains.  t may be NULL (an
 * empty store).  Returns SISIGN_OK when validation ran, whatever the verdict
 * (see res); an error only for bad arguments or an OpenSSL failure. */
int crypto_chain_validate(struct crypto_trust *t, STACK_OF(X509) *chain, time_t at,
	struct crypto_chain_result *res, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* ---- description --------------------------------------------------------------------- */

struct crypto_cert_info {
	char subject[512];        /* "CN=..., O=...", UTF-8 kept, control characters escaped */
	char issuer[512];
	char serial_hex[130];     /* upper-case hex, "-" prefix if negative; truncated if absurdly long */
	time_t not_before, not_after;
	char key_type[8];         /* "RSA", "DSA" or "other" */
	int key_bits;             /* 0 if unknown */
	char sig_alg[64];         /* e.g. "md5WithRSAEncryption" */
	char sha256_hex[65];      /* lower-case hex of the DER's SHA-256 */
	int has_eku, eku_codesigning;
	int self_signed;          /* issuer == subject (signature not checked) */
};

/* name in the one DN style of sisign (package.h, struct sisign_cert_info):
 * RFC 2253, ", " between components, UTF-8 as is; cut at a character
 * boundary to fit cap.  SISIGN_OK, SISIGN_ERR_NOMEM, SISIGN_ERR_BAD_CERT. */
/* The name-printing flags of the one DN style (crypto_dn_oneline):
 * RFC 2253 order and escaping, UTF-8 kept, ", " between components. */
#define CRYPTO_DN_FLAGS \
	(((XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) & ~(unsigned long)XN_FLAG_SEP_MASK) | XN_FLAG_SEP_CPLUS_SPC)
int crypto_dn_oneline(const X509_NAME *name, char *dst, size_t cap, struct sisign_error *err) SISIGN_WARN_UNUSED;

int crypto_cert_describe(X509 *cert, struct crypto_cert_info *info, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* ASN1_TIME → seconds since the epoch (UTC). */
int crypto_asn1_time_to_time_t(const ASN1_TIME *t, time_t *out) SISIGN_WARN_UNUSED;

/* True if cert's extendedKeyUsage lists the dotted OID (0 if no EKU). */
int crypto_cert_has_eku_oid(X509 *cert, const char *oid);

/* ---- what a certificate allows (constraints.c) ------------------------------- */

/* Symbian developer-certificate constraint extensions (install-rules.md §5). */
#define CRYPTO_OID_DEVCERT_DEVICES "1.2.826.0.1.1796587.1.1.1.1" /* SEQUENCE OF UTF8String */
#define CRYPTO_OID_DEVCERT_SIDS "1.2.826.0.1.1796587.1.1.1.4"    /* SEQUENCE OF INTEGER */
#define CRYPTO_OID_DEVCERT_VIDS "1.2.826.0.1.1796587.1.1.1.5"    /* SEQUENCE OF INTEGER */
#define CRYPTO_OID_DEVCERT_CAPS "1.2.826.0.1.1796587.1.1.1.6"    /* BIT STRING */

/* Caps on what one extension may hold.  Symbian Signed issued developer
 * certificates for at most 1,000 IMEIs, and SID/VID lists are a handful;
 * 4096 entries is ample and keeps intersecting two lists (quadratic) and
 * the allocation small.  An IMEI is 15 digits; 255 bytes for a device ID is
 * ample.  A certificate past either cap does not decode (SISIGN_ERR_BAD_CERT). */
#define CRYPTO_CONSTRAINT_LIST_MAX 4096
#define CRYPTO_DEVICE_ID_MAX 255
#define CRYPTO_STR_(x) #x
#define CRYPTO_STR(x) CRYPTO_STR_(x)
#define CRYPTO_CONSTRAINT_LIST_MAX_TEXT CRYPTO_STR(CRYPTO_CONSTRAINT_LIST_MAX)
#define CRYPTO_DEVICE_ID_MAX_TEXT CRYPTO_STR(CRYPTO_DEVICE_ID_MAX)

/* Developer-certificate constraints, of one certificate or combined.  A
 * *_set flag is 1 when some certificate carries that extension; a set list
 * may be empty and then allows nothing.  Lists keep the order of the first
 * certificate that set them. */
struct crypto_constraints {
	int devices_set; size_t ndevices; char **devices;   /* IR-DEV-1 */
	int sids_set;    size_t nsids;    uint32_t *sids;   /* IR-UID-2, IR-EXE-7 */
	int vids_set;    size_t nvids;    uint32_t *vids;   /* IR-EXE-5 */
	int caps_set;    uint32_t caps[2];                  /* K of §4; all bits when !caps_set */
};

/* Decode the constraint extensions of one certificate.  Rules (§5): each
 * extension is exactly one DER element of its type, nothing after it; any
 * element of the wrong tag, an indefinite or non-shortest length, or a
 * length past the end fails.  INTEGERs are the device's 32-bit values: any
 * value from -2^31 to 2^32-1, taken modulo 2^32 (so E0 00 12 34 and
 * 00 E0 00 12 34 both give 0xE0001234); others fail.  The capability BIT
 * STRING is read in named-bit order (bit i = capability i, bit 0 the MSB of
 * the first content octet); bits >= 20 are ignored, padding bits too; as
 * on the device, no content at all (03 00) is the empty set, while a lone
 * unused-bits octet (03 01 00, DER's empty string) or unused bits > 7
 * fails.  Device IDs must
 * be UTF-8 without NUL.  More than CRYPTO_CONSTRAINT_LIST_MAX entries or a
 * device ID over CRYPTO_DEVICE_ID_MAX bytes fail, and so does an extension
 * that appears twice.  Failure: SISIGN_ERR_BAD_CERT (message names the
 * extension and the entry), SISIGN_ERR_NOMEM.  *out is initialised either
 * way; free it with crypto_constraints_free(). */
int crypto_cert_constraints(X509 *x, struct crypto_constraints *out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Combine the constraint extensions of every certificate of a chain (signer
 * first, DER concatenated, as struct sisign_chain.certs) per
 * install-rules.md §5: the first certificate carrying a list sets it, each
 * later one intersects it (device IDs compared case-insensitively), and the
 * capability set starts as all bits and is intersected.  A chain that does
 * not parse, or any certificate whose extensions do not decode, gives
 * SISIGN_ERR_BAD_CERT (message starts "certificate N of the chain: ");
 * SISIGN_ERR_NOMEM.  *out is initialised either way (nothing set, caps all
 * bits); free it with crypto_constraints_free(). */
int crypto_chain_constraints(const uint8_t *certs, size_t certs_len, struct crypto_constraints *out,
	struct sisign_error *err) SISIGN_WARN_UNUSED;
/* Intersect b into a (combining several chains of one controller).  A list
 * only b has is copied into a; if that copy runs out of memory the list is
 * left set and empty in a (allows nothing: never wider than the truth).
 * a may start zeroed or from crypto_chain_constraints. */
void crypto_constraints_merge(struct crypto_constraints *a, const struct crypto_constraints *b);
/* Frees the lists and resets *c to "nothing set"; accepts NULL. */
void crypto_constraints_free(struct crypto_constraints *c);

/* IR-EKU-1/2 on the signer (end-entity) certificate: with an
 * extendedKeyUsage extension it must list codeSigning (1.3.6.1.5.5.7.3.3)
 * or one of alt_oids (dotted strings, exact match; NULL-terminated array,
 * may be NULL: policy AlternativeCodeSigningOID); without one it is
 * acceptable unless mandate (policy MandateCodeSigningExtension).  1 =
 * acceptable for code signing, 0 = not, with a static reason in *why (NULL
 * when 1; why may be NULL).  A certificate or EKU that does not decode
 * gives 0. */
int crypto_eku_codesign_ok(const uint8_t *cert_der, size_t len, const char *const *alt_oids, int mandate,
	const char **why);

/* 1 if the last certificate of the chain is self-issued and self-signed
 * (its signature verifies with its own key): the chain carries its own
 * anchor, which the device treats as "self-signed" (EValidated) unless that
 * root is in its certstore.  0 otherwise, also for a chain that does not
 * parse, and for a chain that stops below its root. */
int crypto_chain_self_signed(const uint8_t *certs, size_t certs_len);

#endif
