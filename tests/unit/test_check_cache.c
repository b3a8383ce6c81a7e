/* SPDX-License-Identifier: Apache-2.0 */
/* The install check's cache (sisign_check_cache): packages signed by one
 * identity, some carrying earlier chains of other identities (one expired,
 * one without code-signing usage), get exactly the report of an uncached
 * check, alone, through a cache, from several threads at once, with and
 * without a named root; and a chain is decoded once however many packages
 * carry it (a check, and a batch with the check on). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sisign/batch.h>
#include <sisign/check.h>
#include <sisign/package.h>
#include <sisign/sign.h>

#include "check/check_private.h"
#include "testutil.h"

#define NPKG 8
#define NTHREADS 4

static char *tmp;

struct ident {
	char key[4096], cert[4096];
	struct sisign_signer *sg;
	struct sisign_identity *id;
};

static void make_ident(struct ident *d, const char *name, long nb, long na, const char *eku)
{
	struct tu_identity ti = { "RSA", 2048, 7, nb, na, name, eku };
	struct sisign_identity_opts io = { d->cert, NULL, 1, 0 };
	struct sisign_error err;

	snprintf(d->key, sizeof d->key, "%s/%s.key", tmp, name);
	snprintf(d->cert, sizeof d->cert, "%s/%s.pem", tmp, name);
	CHECK(tu_make_identity(&ti, d->key, d->cert) == 0);
	CHECK_EQ_INT(sisign_signer_from_key_file(d->key, NULL, NULL, &d->sg, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_identity_new(d->sg, &io, &d->id, &err), SISIGN_OK);
}

/* Package i: UIDs in and out of the protected range, so the trust matters. */
static void make_pkg(const char *path, size_t i)
{
	char src[4096], content[300];
	struct sisign_pack_file pf = { src, "!:\\data\\f.txt", NULL, 0, 0, 0 };
	const char *names[] = { "Cache" };
	struct sisign_datetime dt = { 2024, 1, 2, 3, 4, 5 };
	struct sisign_pack_opts po;
	struct sisign_error err;

	snprintf(src, sizeof src, "%s/src%zu.txt", tmp, i);
	memset(content, 'a' + (int)i, sizeof content);
	CHECK(tu_write_file(src, content, sizeof content) == 0);
	memset(&po, 0, sizeof po);
	po.uid = (i % 3 == 0 ? 0x10000100u : 0xE0000100u) + (uint32_t)i;
	po.names = names;
	po.vendor = "Test";
	po.files = &pf;
	po.nfiles = 1;
	po.store = 1;
	po.created = &dt;
	CHECK_EQ_INT(sisign_pack(&po, path, &err), SISIGN_OK);
}

static struct sisign_pkg *pkgs[NPKG];

static int same_report(const struct sisign_check_report *a, const struct sisign_check_report *b)
{
	if (a->nfindings != b->nfindings || a->worst != b->worst || a->trust != b->trust ||
	    memcmp(a->requested_caps, b->requested_caps, sizeof a->requested_caps))
		return 0;
	for (size_t i = 0; i < a->nfindings; i++) {
		const struct sisign_finding *f = &a->findings[i], *g = &b->findings[i];
		if (strcmp(f->rule, g->rule) || f->severity != g->severity || f->depth != g->depth ||
		    f->uid != g->uid || strcmp(f->message, g->message) || strcmp(f->fix, g->fix) ||
		    (!f->file != !g->file) || (f->file && strcmp(f->file, g->file)) ||
		    (!f->needs != !g->needs) || (f->needs && strcmp(f->needs, g->needs)))
			return 0;
	}
	return 1;
}

static struct sisign_check_report *check(size_t i, const struct sisign_check_opts *o)
{
	struct sisign_check_report *rep = NULL;
	struct sisign_error err;

	CHECK_EQ_INT(sisign_pkg_check_install(pkgs[i], o, &rep, &err), SISIGN_OK);
	return rep;
}

struct worker {
	const struct sisign_check_opts *o;
	struct sisign_check_report **want;
	int bad;
};

static void *run_worker(void *arg)
{
	struct worker *w = arg;

	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < NPKG; i++) {
			struct sisign_check_report *rep = NULL;
			struct sisign_error err;
			if (sisign_pkg_check_install(pkgs[i], w->o, &rep, &err) != SISIGN_OK || !same_report(rep, w->want[i]))
				w->bad++;
			sisign_check_report_free(rep);
		}
	return NULL;
}

/* Every package: the cached report equals the uncached one, in one thread and in several. */
static void compare(struct sisign_check_opts *o, const char *what, int findings)
{
	struct sisign_check_report *want[NPKG], *got;
	struct sisign_check_cache *cache = NULL;
	struct sisign_error err;
	pthread_t th[NTHREADS];
	struct worker w[NTHREADS];
	struct sisign_check_opts co = *o;
	size_t distinct = 0;

	o->cache = NULL;
	for (size_t i = 0; i < NPKG; i++)
		want[i] = check(i, o);
	CHECK_EQ_INT(sisign_check_cache_new(16, &cache, &err), SISIGN_OK);
	co.cache = cache;
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < NPKG; i++) {
			got = check(i, &co);
			CHECK_MSG(got && want[i] && same_report(got, want[i]), "%s: package %zu, round %d", what, i, round);
			sisign_check_report_free(got);
		}
	for (size_t i = 0; i < NPKG; i++)
		distinct += want[i]->nfindings;
	CHECK_MSG(!findings == !distinct, "%s: %zu findings", what, distinct);
	sisign_check_cache_free(cache);
	/* A fresh cache filled by several threads at once. */
	CHECK_EQ_INT(sisign_check_cache_new(16, &cache, &err), SISIGN_OK);
	co.cache = cache;
	for (int t = 0; t < NTHREADS; t++) {
		w[t].o = &co;
		w[t].want = want;
		w[t].bad = 0;
		CHECK(pthread_create(&th[t], NULL, run_worker, &w[t]) == 0);
	}
	for (int t = 0; t < NTHREADS; t++) {
		CHECK(pthread_join(th[t], NULL) == 0);
		CHECK_MSG(w[t].bad == 0, "%s: thread %d", what, t);
	}
	sisign_check_cache_free(cache);
	for (size_t i = 0; i < NPKG; i++)
		sisign_check_report_free(want[i]);
}

int main(void)
{
	struct ident a, b, old;
	struct sisign_check_opts o;
	struct sisign_check_root root = { NULL, 1, { 0x000FFFFFu, 0 } };
	struct sisign_check_cache *cache = NULL;
	struct sisign_check_report *rep;
	struct sisign_error err;
	char path[4096];
	size_t before, after;

	tmp = tu_tmpdir();
	make_ident(&a, "signer", -86400, 365L * 86400, "codeSigning");
	make_ident(&b, "noeku", -86400, 365L * 86400, "serverAuth");
	make_ident(&old, "expired", -3 * 86400, -86400, "codeSigning");
	/* 0, 1: A only; 2, 3: B then A; 4, 5: expired then A; 6: B, expired, A; 7: A only. */
	for (size_t i = 0; i < NPKG; i++) {
		snprintf(path, sizeof path, "%s/p%zu.sis", tmp, i);
		make_pkg(path, i);
		CHECK_EQ_INT(sisign_pkg_open(path, NULL, &pkgs[i], &err), SISIGN_OK);
		if (i == 2 || i == 3 || i == 6)
			CHECK_EQ_INT(sisign_pkg_sign(pkgs[i], b.id, &err), SISIGN_OK);
		if (i == 4 || i == 5 || i == 6)
			CHECK_EQ_INT(sisign_pkg_sign(pkgs[i], old.id, &err), SISIGN_OK);
		CHECK_EQ_INT(sisign_pkg_sign(pkgs[i], a.id, &err), SISIGN_OK);
	}

	memset(&o, 0, sizeof o);
	o.skip_data = 1;
	compare(&o, "own chains", 1);
	/* As a dry run checks: the identity's chain added to the package's. */
	o.certs = sisign_identity_chain(b.id, &o.certs_len);
	o.keep_chains = 1;
	compare(&o, "identity B added", 1);
	o.keep_chains = 0;
	compare(&o, "identity B alone", 1);
	o.certs = NULL;
	o.certs_len = 0;
	/* A named root: trusted, and the root store comes from the cache. */
	root.file = a.cert;
	o.roots = &root;
	o.nroots = 1;
	compare(&o, "root A", 0);
	rep = check(0, &o);
	CHECK(rep && rep->trust == SISIGN_TRUST_TRUSTED);
	sisign_check_report_free(rep);
	o.roots = NULL;
	o.nroots = 0;

	/* The cache is used: packages 0, 1 and 7 carry only A's chain. */
	before = chk_test_chain_decodes();
	for (int n = 0; n < 5; n++) {
		sisign_check_report_free(check(0, &o));
		sisign_check_report_free(check(1, &o));
	}
	after = chk_test_chain_decodes();
	CHECK_MSG(after - before == 10, "uncached: %zu decodes for 10 checks", after - before);
	CHECK_EQ_INT(sisign_check_cache_new(8, &cache, &err), SISIGN_OK);
	o.cache = cache;
	before = chk_test_chain_decodes();
	for (int n = 0; n < 5; n++) {
		sisign_check_report_free(check(0, &o));
		sisign_check_report_free(check(1, &o));
		sisign_check_report_free(check(7, &o));
	}
	after = chk_test_chain_decodes();
	CHECK_MSG(after - before == 1, "cached: %zu decodes of one chain for 15 checks", after - before);
	/* A cache bound to the default policy is not used with another root set. */
	root.file = a.cert;
	o.roots = &root;
	o.nroots = 1;
	before = chk_test_chain_decodes();
	sisign_check_report_free(check(0, &o));
	after = chk_test_chain_decodes();
	CHECK_EQ_INT(after - before, 1);
	sisign_check_cache_free(cache);
	o.cache = NULL;
	o.roots = NULL;
	o.nroots = 0;

	/* A batch with the check on decodes the identity's chain once. */
	{
		struct sisign_batch_opts bo;
		struct sisign_batch *bt = NULL;
		size_t done = 0;
		memset(&bo, 0, sizeof bo);
		bo.op = SISIGN_BATCH_SIGN;
		bo.identity = a.id;
		bo.signer = a.sg;
		bo.threads = 2;
		bo.check = 1;
		CHECK_EQ_INT(sisign_batch_new(&bo, &bt, &err), SISIGN_OK);
		for (size_t i = 0; i < 12; i++) {
			char in[4096], out[4096];
			snprintf(in, sizeof in, "%s/p%zu.sis", tmp, i % 2);
			snprintf(out, sizeof out, "%s/out%zu.sis", tmp, i);
			CHECK_EQ_INT(sisign_batch_add(bt, in, out, &err), SISIGN_OK);
		}
		before = chk_test_chain_decodes();
		CHECK_EQ_INT(sisign_batch_run(bt, &err), SISIGN_OK);
		after = chk_test_chain_decodes();
		sisign_batch_summary(bt, NULL, &done, NULL, NULL, NULL);
		CHECK_EQ_INT(done, 12);
		/* Two threads may both miss the first time. */
		CHECK_MSG(after - before <= 2, "batch: %zu decodes for 12 packages of one chain", after - before);
		sisign_batch_free(bt);
	}

	for (size_t i = 0; i < NPKG; i++)
		sisign_pkg_free(pkgs[i]);
	sisign_identity_free(a.id);
	sisign_identity_free(b.id);
	sisign_identity_free(old.id);
	sisign_signer_free(a.sg);
	sisign_signer_free(b.sg);
	sisign_signer_free(old.sg);
	tu_rmrf(tmp);
	free(tmp);
	return tu_finish();
}
