/* SPDX-License-Identifier: Apache-2.0 */
/* The batch's signing thread: with several workers and the one queue,
 * every signature is made by one thread that is neither the caller nor
 * (as the signatures keep their order) ever two at once; with one worker
 * they are made on the calling thread, as before. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sisign/batch.h>
#include <sisign/package.h>
#include <sisign/sign.h>

#include "sign/signer_private.h"
#include "testutil.h"

#define NPKG 40

/* A signer that signs with a file key and notes, for each signature, the
 * thread that asked and how many were in flight at once. */
struct spy {
	struct sisign_signer *real;
	pthread_mutex_t lock;
	pthread_t who[NPKG * 2];
	size_t n;
	atomic_int in_flight;
	int max_in_flight;
};

static int spy_sign(void *ctx, const unsigned char digest[20], unsigned char **sig, size_t *siglen,
	struct sisign_error *err)
{
	struct spy *s = ctx;
	int now = atomic_fetch_add(&s->in_flight, 1) + 1, r;
	pthread_mutex_lock(&s->lock);
	if (now > s->max_in_flight)
		s->max_in_flight = now;
	if (s->n < sizeof s->who / sizeof s->who[0])
		s->who[s->n++] = pthread_self();
	pthread_mutex_unlock(&s->lock);
	r = s->real->ops->sign_sha1(s->real->ctx, digest, sig, siglen, err);
	atomic_fetch_sub(&s->in_flight, 1);
	return r;
}

static const struct signer_ops spy_ops = { .sign_sha1 = spy_sign, .destroy = NULL, .device = 1 };

static void run(const char *tmp, struct sisign_signer *sg, struct sisign_identity *id, struct spy *spy, int threads,
	const char *out)
{
	struct sisign_batch_opts o;
	struct sisign_batch *b = NULL;
	struct sisign_error err;
	size_t done = 0;
	char dir[4096];

	snprintf(dir, sizeof dir, "%s/%s", tmp, out);
	CHECK(mkdir(dir, 0755) == 0);
	memset(&o, 0, sizeof o);
	o.op = SISIGN_BATCH_SIGN;
	o.identity = id;
	o.signer = sg;
	o.threads = threads;
	spy->n = 0;
	spy->max_in_flight = 0;
	CHECK_EQ_INT(sisign_batch_new(&o, &b, &err), SISIGN_OK);
	for (size_t i = 0; b && i < NPKG; i++) {
		char ip[4200], op[4200];
		snprintf(ip, sizeof ip, "%s/in/p%02zu.sis", tmp, i);
		snprintf(op, sizeof op, "%s/p%02zu.sis", dir, i);
		CHECK_EQ_INT(sisign_batch_add(b, ip, op, &err), SISIGN_OK);
	}
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_OK);
	sisign_batch_summary(b, NULL, &done, NULL, NULL, NULL);
	CHECK_EQ_INT((int)done, NPKG);
	sisign_batch_free(b);
}

int main(void)
{
	char *tmp = tu_tmpdir();
	char key[4096], cert[4096], src[4096], p[4096];
	static const struct tu_identity tid = { "RSA", 2048, 12, -86400, 365L * 86400, "sisign signthread test", NULL };
	struct sisign_identity_opts io;
	struct sisign_signer *real = NULL, *sg = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_error err;
	struct spy spy;
	int same;

	snprintf(key, sizeof key, "%s/key.pem", tmp);
	snprintf(cert, sizeof cert, "%s/cert.pem", tmp);
	CHECK(tu_make_identity(&tid, key, cert) == 0);
	CHECK_EQ_INT(sisign_signer_from_key_file(key, NULL, NULL, &real, &err), SISIGN_OK);
	memset(&spy, 0, sizeof spy);
	spy.real = real;
	pthread_mutex_init(&spy.lock, NULL);
	atomic_init(&spy.in_flight, 0);
	CHECK_EQ_INT(signer_new(&spy_ops, &spy, real->pub, "spy", &sg, &err), SISIGN_OK);
	memset(&io, 0, sizeof io);
	io.cert_file = cert;
	CHECK_EQ_INT(sisign_identity_new(sg, &io, &id, &err), SISIGN_OK);

	/* NPKG unsigned packages of one small file */
	snprintf(src, sizeof src, "%s/f.txt", tmp);
	CHECK(tu_write_file(src, "signing thread test data\n", 25) == 0);
	snprintf(p, sizeof p, "%s/in", tmp);
	CHECK(mkdir(p, 0755) == 0);
	for (size_t i = 0; i < NPKG; i++) {
		struct sisign_pack_file pf;
		const char *names[] = { "Sign thread" };
		struct sisign_datetime dt = { 2024, 1, 1, 0, 0, 0 };
		struct sisign_pack_opts po;
		memset(&pf, 0, sizeof pf);
		pf.source = src;
		pf.target = "!:\\data\\f.txt";
		memset(&po, 0, sizeof po);
		po.uid = 0xE0020000u + (uint32_t)i;
		po.names = names;
		po.vendor = "Test";
		po.files = &pf;
		po.nfiles = 1;
		po.created = &dt;
		snprintf(p, sizeof p, "%s/in/p%02zu.sis", tmp, i);
		CHECK_EQ_INT(sisign_pack(&po, p, &err), SISIGN_OK);
	}

	/* Three workers, one queue: one signing thread, not the caller's,
	 * one signature at a time. */
	run(tmp, sg, id, &spy, 3, "out3");
	CHECK_EQ_INT((int)spy.n, NPKG);
	same = 1;
	for (size_t i = 1; i < spy.n; i++)
		same &= pthread_equal(spy.who[i], spy.who[0]) != 0;
	CHECK(same);
	CHECK(spy.n > 0 && !pthread_equal(spy.who[0], pthread_self()));
	CHECK_EQ_INT(spy.max_in_flight, 1);

	/* One worker: the jobs, signatures included, on the calling thread. */
	run(tmp, sg, id, &spy, 1, "out1");
	CHECK_EQ_INT((int)spy.n, NPKG);
	same = 1;
	for (size_t i = 0; i < spy.n; i++)
		same &= pthread_equal(spy.who[i], pthread_self()) != 0;
	CHECK(same);

	sisign_identity_free(id);
	sisign_signer_free(sg);
	sisign_signer_free(real);
	pthread_mutex_destroy(&spy.lock);
	tu_rmrf(tmp);
	free(tmp);
	return tu_finish();
}
