/* SPDX-License-Identifier: Apache-2.0 */
/* Interned blobs for the batch's stored results: the warnings and the
 * install-rule findings of thousands of packages signed by one identity are
 * mostly the same few texts, so each distinct one is kept once, however
 * many jobs share it (a batch's memory then grows with what differs, not
 * with the number of jobs). */
#include "batch/batch_private.h"

#include <stdlib.h>
#include <string.h>

struct intern_entry {
	struct intern_entry *next;
	size_t len;
	uint64_t hash;
	unsigned char data[]; /* len bytes, then a NUL (so a string is one) */
};

/* The blobs interned include arrays of struct sisign_finding. */
_Static_assert(offsetof(struct intern_entry, data) % _Alignof(struct sisign_finding) == 0,
	"interned data must be aligned for struct sisign_finding");

void intern_init(struct intern *t)
{
	memset(t, 0, sizeof *t);
	pthread_mutex_init(&t->lock, NULL);
}

void intern_free(struct intern *t)
{
	for (size_t i = 0; i < t->nslots; i++) {
		struct intern_entry *e = t->slots[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(t->slots);
	pthread_mutex_destroy(&t->lock);
}

/* FNV-1a, 64 bits: the texts are short and not chosen by an adversary
 * who could gain anything from collisions (they only cost a compare). */
static uint64_t hash_bytes(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3u;
	}
	return h;
}

/* Double the slots (at least 64); on no memory the table stays as it is
 * (lookups only get slower). */
static void grow(struct intern *t)
{
	size_t nn = t->nslots ? t->nslots * 2 : 64;
	struct intern_entry **ns = calloc(nn, sizeof *ns);
	if (!ns)
		return;
	for (size_t i = 0; i < t->nslots; i++) {
		struct intern_entry *e = t->slots[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = ns[e->hash & (nn - 1)];
			ns[e->hash & (nn - 1)] = e;
		}
	}
	free(t->slots);
	t->slots = ns;
	t->nslots = nn;
}

const void *intern_blob(struct intern *t, const void *p, size_t len)
{
	uint64_t h = hash_bytes(p, len);
	struct intern_entry *e;
	const void *r = NULL;

	pthread_mutex_lock(&t->lock);
	if (t->n >= t->nslots)
		grow(t);
	if (!t->nslots)
		goto out;
	for (e = t->slots[h & (t->nslots - 1)]; e; e = e->next) {
		if (e->hash == h && e->len == len && memcmp(e->data, p, len) == 0) {
			r = e->data;
			goto out;
		}
	}
	if (!(e = malloc(sizeof *e + len + 1)))
		goto out;
	e->len = len;
	e->hash = h;
	memcpy(e->data, p, len);
	e->data[len] = '\0';
	e->next = t->slots[h & (t->nslots - 1)];
	t->slots[h & (t->nslots - 1)] = e;
	t->n++;
	r = e->data;
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

const char *intern_str(struct intern *t, const char *s)
{
	return s ? intern_blob(t, s, strlen(s)) : NULL;
}
