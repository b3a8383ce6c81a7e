/* Internal side of the batch engine: the signing step split so that only
 * the signer call is serialised (the hash checks before it run on every
 * worker). */
#ifndef SISIGN_BATCH_PRIVATE_H
#define SISIGN_BATCH_PRIVATE_H

#if !defined(SISIGN_BUILD) && !defined(SISIGN_TEST)
#error "batch_private.h is internal to libsisign"
#endif

#include <pthread.h>

#include <sisign/batch.h>

/* sisign_pkg_sign() minus its sisign_pkg_check_data(): the caller has
 * already checked the file data (and that the package is not a stub and
 * undamaged: batch_pkg_signable()).  The signer must be the one `id` was
 * made from.  queue, if not NULL, is held exactly around the signer call.
 * The bytes produced are those sisign_pkg_sign() produces. */
int batch_pkg_sign_checked(struct sisign_pkg *pkg, struct sisign_signer *signer,
	const struct sisign_identity *id, pthread_mutex_t *queue, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* The refusals sisign_pkg_sign() makes before checking data: ROM stubs,
 * damaged controllers. */
int batch_pkg_signable(const struct sisign_pkg *pkg, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Remove "NAME.tmpXXXXXX" leftovers of a killed run for the given output
 * paths (one directory scan per distinct directory).  Returns how many
 * were removed. */
size_t batch_clean_stale_temps(const char *const *outputs, size_t n);

#endif
