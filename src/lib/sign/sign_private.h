/* SPDX-License-Identifier: Apache-2.0 */
/* Internal side of sign.c, for the batch engine: the refusals made before
 * signing, and signing with an optional queue held around the signer call
 * only (the digest and the rebuilt controller are worked out outside it). */
#ifndef SISIGN_SIGN_PRIVATE_H
#define SISIGN_SIGN_PRIVATE_H

#if !defined(SISIGN_BUILD) && !defined(SISIGN_TEST)
#error "sign_private.h is internal to libsisign"
#endif

#include <pthread.h>
#include <stdatomic.h>

#include <sisign/sign.h>

/* What sisign_pkg_sign refuses: a ROM stub, a damaged controller, a chain
 * already in it (top level or embedded) whose signature does not verify or
 * uses an algorithm the device refuses, and a data check already made that
 * failed (sisign_pkg_check_signable_nodata).  No file data is read. */
int sign_check_nodata(struct sisign_pkg *pkg, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* The same, and file data that does not match its hashes (one pass over
 * SISData, cached; sisign_pkg_check_signable): for the paths that must
 * decide before they sign or write (dry run, skip-signed). */
int sign_check_signable(struct sisign_pkg *pkg, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Is out what signing in with id gives (added = 1), or in itself (added =
 * 0)?  added = 1: out has one chain more than in, the last one's signer
 * certificate is id's (same DER) and its signature verifies, and out
 * without that chain is in: the controller byte for byte (decompressed),
 * UID2, the data CRC field (its value: the CRC of SISData, when in's data
 * check worked it out) and every byte of SISData and after it.
 * added = 0: the same chains, the same controller and the same 16-byte
 * header.  1 yes, 0 no, a negative sisign_err when reading failed.  in is
 * not checked here (see sign_check_signable). */
int sign_output_matches(const struct sisign_pkg *in, const struct sisign_pkg *out, const struct sisign_identity *id,
	int added, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* sisign_pkg_sign (sign_check_nodata first; the writer checks the file
 * hashes unless they were checked before), with queue (if not NULL) held exactly around the
 * signer call.  stop (may be NULL) is read inside the queue, just before the
 * signer call: when set, nothing is signed and SIGN_STOPPED is returned
 * (err untouched), so a batch whose token failed makes no further call. */
#define SIGN_STOPPED 1
int sign_pkg_queued(struct sisign_pkg *pkg, struct sisign_identity *id, pthread_mutex_t *queue,
	atomic_int *stop, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* The same, with the signer call made by gate(ud, signer, digest, ...)
 * instead of directly: the batch's signing thread.  gate returns
 * SIGN_STOPPED, an error, or SISIGN_OK with *sig malloc'd, like
 * sisign_signer_sign_sha1. */
typedef int (*sign_gate_fn)(void *ud, struct sisign_signer *signer, const unsigned char digest[20],
	unsigned char **sig, size_t *siglen, struct sisign_error *err);
int sign_pkg_gated(struct sisign_pkg *pkg, struct sisign_identity *id, sign_gate_fn gate, void *ud,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

#endif
