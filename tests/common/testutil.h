/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal test harness: CHECK macros that count failures, and helpers to find
 * the corpus and read files.  A test program returns tu_finish(). */
#ifndef SISIGN_TESTUTIL_H
#define SISIGN_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>

extern int tu_failures;
extern int tu_checks;

#define CHECK(cond)                                                                      \
	do {                                                                                 \
		tu_checks++;                                                                     \
		if (!(cond)) {                                                                   \
			tu_failures++;                                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);     \
		}                                                                                \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                               \
	do {                                                                                 \
		long long tu_a_ = (long long)(a), tu_b_ = (long long)(b);                        \
		tu_checks++;                                                                     \
		if (tu_a_ != tu_b_) {                                                            \
			tu_failures++;                                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", __FILE__,  \
				__LINE__, #a, #b, tu_a_, tu_b_);                                         \
		}                                                                                \
	} while (0)

#define CHECK_MSG(cond, ...)                                                             \
	do {                                                                                 \
		tu_checks++;                                                                     \
		if (!(cond)) {                                                                   \
			tu_failures++;                                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);     \
			fprintf(stderr, __VA_ARGS__);                                                \
			fputc('\n', stderr);                                                         \
		}                                                                                \
	} while (0)

/* Prints "N passed, M failed" and returns the exit status (0, 1; 77 if
 * tu_skip() was called and nothing was checked). */
int tu_finish(void);
/* Marks the program as skipped, with a reason printed to stdout. */
void tu_skip(const char *why);

/* $SISIGN_CORPUS if it names a directory with MANIFEST.tsv, else NULL. */
const char *tu_corpus(void);
/* Reads a whole file (malloc'd); NULL on failure. */
uint8_t *tu_read_file(const char *path, size_t *len);
int tu_write_file(const char *path, const void *p, size_t n);
/* A fresh temporary directory (malloc'd path), removed by tu_rmrf. */
char *tu_tmpdir(void);
void tu_rmrf(const char *path);

/* ---- packages built in memory (tu_sisbuild.c) ---- */

/* An unsigned SISX package: one data entry of `size` zero bytes (deflated)
 * in data unit 0, `ndesc` file descriptions that all name it, `nunits` data
 * units in all (0 = 1; the others empty), and the controller and data CRC
 * fields only if with_crcs. */
struct tu_sis_spec {
	uint32_t uid;
	size_t ndesc;
	uint64_t size;
	size_t nunits;
	int with_crcs;
};
/* The package's bytes (malloc'd) and their count, or NULL. */
uint8_t *tu_build_sis(const struct tu_sis_spec *s, size_t *len);

/* ---- keys and certificates (tu_identity.c; OpenSSL only) ---- */

/* A fresh DSA key with a 160-bit q (Symbian's DSA-SHA1), or NULL. */
EVP_PKEY *tu_gen_dsa(int bits);

/* What tu_make_identity makes: a key and a self-signed certificate. */
struct tu_identity {
	const char *type;     /* "RSA" or "DSA" */
	int bits;
	long serial;
	long not_before;      /* validity, seconds from now */
	long not_after;
	const char *cn;       /* subject = issuer = CN=cn */
	const char *eku;      /* extendedKeyUsage value (e.g. "codeSigning"), or NULL */
};

/* Writes a fresh key (unencrypted PEM) to keypath and its self-signed
 * certificate (SHA-256, PEM) to certpath.  0, or -1 if the key or the
 * signature could not be made (the files are written all the same). */
int tu_make_identity(const struct tu_identity *id, const char *keypath, const char *certpath);

#endif
