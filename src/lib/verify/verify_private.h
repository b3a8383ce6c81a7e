/* SPDX-License-Identifier: Apache-2.0 */
/* Internal side of verify.c, for the signer and the batch engine: the
 * signature check of chains alone, without trust roots (sis-format.md
 * §7.9 step 2b, §7.10 step 5). */
#ifndef SISIGN_VERIFY_PRIVATE_H
#define SISIGN_VERIFY_PRIVATE_H

#if !defined(SISIGN_BUILD) && !defined(SISIGN_TEST)
#error "verify_private.h is internal to libsisign"
#endif

#include <stddef.h>

#include <sisign/package.h>

/* One chain's signatures over its signed region, each tried with the
 * chain's first certificate (verify-any, §7.3).  SISIGN_OK when one
 * verifies; SISIGN_ERR_SIG_UNSUPPORTED when every signature uses an
 * algorithm the device does not accept (MD2, MD5, ...);
 * SISIGN_ERR_SIG_INVALID otherwise (no signature, unreadable
 * certificates, a signature that does not verify); SISIGN_ERR_CRYPTO or
 * SISIGN_ERR_NOMEM when the check could not run.  detail (may be NULL)
 * gets the reason in words, signer (may be NULL) the first certificate's
 * subject when it could be read. */
int verify_chain_signature(const struct sisign_chain *ch, char *detail, size_t n, char *signer, size_t sn)
	SISIGN_WARN_UNUSED;

/* verify_chain_signature over every chain of every controller (top level
 * first, then each embedded one in order).  SISIGN_OK when all verify;
 * else the first failure's code, with a message in err naming the chain,
 * its controller and its signer, and *depth set to that controller's
 * depth (0 = top level; -1 when all verify).  These are the chains for
 * which sisign_pkg_verify says the package is invalid whatever the roots. */
int verify_pkg_chain_signatures(const struct sisign_pkg *pkg, int *depth, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

#endif
