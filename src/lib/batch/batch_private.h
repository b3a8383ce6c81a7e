/* SPDX-License-Identifier: Apache-2.0 */
/* Internal side of the batch engine. */
#ifndef SISIGN_BATCH_PRIVATE_H
#define SISIGN_BATCH_PRIVATE_H

#if !defined(SISIGN_BUILD) && !defined(SISIGN_TEST)
#error "batch_private.h is internal to libsisign"
#endif

#include <pthread.h>

#include <sisign/batch.h>

/* Remove "NAME.tmpXXXXXX" (for a long NAME ".sisign-HHHHHHHH.tmpXXXXXX",
 * see util/file.c) leftovers of a killed run for the given output
 * paths (one directory scan per distinct directory).  A temp that a live
 * writer holds locked, or that changed in the last 2 seconds, is kept.
 * Returns how many were removed. */
size_t batch_clean_stale_temps(const char *const *outputs, size_t n);

#endif
