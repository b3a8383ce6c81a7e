/* SPDX-License-Identifier: Apache-2.0 */
/* sisign — a signer is "something that signs a SHA-1 digest": a key file or
 * a key on a token.  Signing a package (sign.h) takes any signer, so file keys
 * and token keys share one code path. */
#ifndef SISIGN_SIGNER_H
#define SISIGN_SIGNER_H

#include <stddef.h>
#include <sisign/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sisign_signer;

enum sisign_key_type {
	SISIGN_KEY_UNKNOWN = 0,
	SISIGN_KEY_RSA = 1,
	SISIGN_KEY_DSA = 2,
};

/* How the library asks a front end for a secret (passphrase or PIN).  The
 * library never prompts itself.
 *   kind:       "passphrase" or "pin"
 *   what:       what it is for, e.g. a key file name or a token label
 *   tries_left: remaining PIN tries if the token tells (-1: unknown)
 * Write the secret into buf (bufsize bytes, in the secure heap) and return
 * its length, or return a negative sisign_err (SISIGN_ERR_CANCELLED to give
 * up).  The library then applies sisign_secret_check to exactly that many
 * bytes (so a NUL inside is refused, not cut) before any login or
 * decryption, and wipes buf after use. */
typedef int (*sisign_secret_cb)(void *userdata, const char *kind, const char *what, int tries_left,
	char *buf, size_t bufsize);

/* The one rule every PIN and passphrase passes, whatever its source (file,
 * descriptor, environment, prompt, dialog, a URI's pin-source or
 * pin-value): buf holds len bytes (and has room for one more); exactly one
 * trailing line end is removed ("\n", or "\r\n" as one), then an empty
 * secret, one with a NUL byte and one with a line break ("\n" or "\r")
 * left in it are refused.  On success buf[*out_len] is '\0'.  Errors:
 * SISIGN_ERR_BAD_PIN when kind is "pin", else SISIGN_ERR_BAD_PASSPHRASE;
 * the message names the problem, never the secret. */
SISIGN_API int sisign_secret_check(const char *kind, char *buf, size_t len, size_t *out_len,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Memory for secrets: OpenSSL's secure heap, which the library sets up on
 * first use (64 KiB, locked in RAM where RLIMIT_MEMLOCK allows, left out of
 * core dumps) unless the application already called
 * CRYPTO_secure_malloc_init.  Zeroed; NULL when out of memory.
 * sisign_secret_free wipes and frees n bytes (p may be NULL). */
SISIGN_API void *sisign_secret_alloc(size_t n);
SISIGN_API void sisign_secret_free(void *p, size_t n);

/* Load a private key from a PEM or DER file: PKCS#1 RSA, PKCS#8 (plain or
 * encrypted), traditional DSA (plain or encrypted), or a PKCS#12 file
 * (.p12/.pfx, told by its content, not its name).  The callback is asked
 * for a passphrase only when the file is encrypted (a PKCS#12 file exported
 * without a password opens without asking); it may be NULL, in which case
 * an encrypted key fails with SISIGN_ERR_BAD_PASSPHRASE.  A wrong
 * passphrase gives SISIGN_ERR_BAD_PASSPHRASE, once: it is never asked
 * again.  A PKCS#12 file's certificate and its other certificates come
 * with the signer, as a token's do: sisign_identity_new uses them when no
 * certificate file is given (a certificate file given instead must belong
 * to the key, and replaces them).  Reading a PKCS#12 file with old ciphers
 * (RC2-40, as older Windows tools and `openssl pkcs12 -legacy` write) loads
 * OpenSSL's legacy provider into the default library context, once, and
 * only when the file cannot be read without it.  Caller frees *out with
 * sisign_signer_free(). */
SISIGN_API int sisign_signer_from_key_file(const char *path, sisign_secret_cb cb, void *userdata,
	struct sisign_signer **out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* 1 if path is a readable PKCS#12 (DER PFX) file, judged by its content;
 * 0 otherwise (also when it cannot be read).  Asks for nothing: front ends
 * use it to know that no separate certificate is needed. */
SISIGN_API int sisign_key_file_is_pkcs12(const char *path);

SISIGN_API void sisign_signer_free(struct sisign_signer *s);

SISIGN_API enum sisign_key_type sisign_signer_key_type(const struct sisign_signer *s);
/* Key size in bits (RSA modulus, DSA prime). */
SISIGN_API int sisign_signer_key_bits(const struct sisign_signer *s);
/* A human description: the key file path or the token key URI.  Never NULL. */
SISIGN_API const char *sisign_signer_describe(const struct sisign_signer *s);

/* Sign a 20-byte SHA-1 digest: RSA PKCS#1 v1.5 over the SHA-1 DigestInfo, or
 * DSA giving DER SEQUENCE{r,s}.  *sig is malloc'd; caller frees.
 * Every signature is verified against the signer's public key (the one the
 * certificate was matched against) before it is returned; one that does not
 * verify is discarded and gives SISIGN_ERR_TOKEN_FAILED for a token key (a
 * faulty token or driver) or SISIGN_ERR_CRYPTO for a key file. */
SISIGN_API int sisign_signer_sign_sha1(struct sisign_signer *s, const unsigned char digest[20],
	unsigned char **sig, size_t *siglen, struct sisign_error *err) SISIGN_WARN_UNUSED;

#ifdef __cplusplus
}
#endif
#endif
