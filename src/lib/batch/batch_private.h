/* SPDX-License-Identifier: Apache-2.0 */
/* Internal side of the batch engine. */
#ifndef SISIGN_BATCH_PRIVATE_H
#define SISIGN_BATCH_PRIVATE_H

#if !defined(SISIGN_BUILD) && !defined(SISIGN_TEST)
#error "batch_private.h is internal to libsisign"
#endif

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <sisign/batch.h>
#include <sisign/check.h>

/* Remove "NAME.tmpXXXXXX" (for a long NAME ".sisign-HHHHHHHH.tmpXXXXXX",
 * see util/file.c) leftovers of a killed run for the given output
 * paths (one directory scan per distinct directory).  A temp that a live
 * writer holds locked, or that changed in the last 2 seconds, is kept.
 * Returns how many were removed. */
size_t batch_clean_stale_temps(const char *const *outputs, size_t n);

/* A set of interned blobs (intern.c): each distinct byte string is stored
 * once and lives until intern_free.  Thread-safe. */
struct intern_entry;
struct intern {
	pthread_mutex_t lock;
	struct intern_entry **slots;
	size_t nslots, n;
};

void intern_init(struct intern *t);
void intern_free(struct intern *t);
/* The stored copy of the len bytes at p (followed by a NUL), aligned for
 * any struct of pointers and ints; NULL when out of memory. */
const void *intern_blob(struct intern *t, const void *p, size_t len);
/* intern_blob of a string (NULL stays NULL). */
const char *intern_str(struct intern *t, const char *s);

#endif
