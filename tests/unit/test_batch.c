/* SPDX-License-Identifier: Apache-2.0 */
/* Batch engine: many packages, one identity, worker threads, one signing
 * queue; per-job statuses with exact error codes; output identical to
 * sisign_pkg_sign; skip-signed, resign, unsign, verify, dry run, cancel,
 * stale temp cleanup, preflight; long names, in-place locking. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sisign/batch.h>
#include <sisign/check.h>
#include <sisign/package.h>
#include <sisign/sign.h>
#include <sisign/verify.h>

#include "batch/batch_private.h"
#include "testutil.h"
#include "util/util_private.h"

#define NPKG 24
#define BAD 7 /* index of the corrupt package */

static char *tmp;

/* Set path's times to secs seconds ago. */
static int backdate(const char *path, time_t secs)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - secs;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	return utimensat(AT_FDCWD, path, ts, 0);
}

static void make_identity(const char *keypath, const char *certpath)
{
	static const struct tu_identity id = { "RSA", 2048, 11, -86400, 365L * 86400, "sisign batch test", NULL };
	CHECK(tu_make_identity(&id, keypath, certpath) == 0);
}

static void path_of(char *buf, size_t n, const char *sub, size_t i)
{
	snprintf(buf, n, "%s/%s/p%02zu.sis", tmp, sub, i);
}

/* A package with one stored file whose bytes are known, so one can be
 * corrupted in place. */
static void make_pkg(const char *path, size_t i)
{
	char src[4096], content[600];
	struct sisign_pack_file pf = { src, "!:\\data\\f.txt", NULL, 0, 0, 0 };
	const char *names[] = { "Batch" };
	struct sisign_datetime dt = { 2024, 1, 2, 3, 4, 5 };
	struct sisign_pack_opts po;
	struct sisign_error err;
	snprintf(src, sizeof src, "%s/src%02zu.txt", tmp, i);
	memset(content, 'a' + (int)(i % 26), sizeof content);
	snprintf(content, 40, "package %zu payload", i);
	CHECK(tu_write_file(src, content, sizeof content) == 0);
	memset(&po, 0, sizeof po);
	po.uid = 0xE0000100u + (uint32_t)i;
	po.names = names;
	po.vendor = "Test";
	po.files = &pf;
	po.nfiles = 1;
	po.store = 1;
	po.created = &dt;
	CHECK(sisign_pack(&po, path, &err) == SISIGN_OK);
}

static void corrupt(const char *path, size_t i)
{
	size_t len = 0;
	uint8_t *p = tu_read_file(path, &len);
	char needle[40];
	int n = snprintf(needle, sizeof needle, "package %zu payload", i);
	CHECK(p != NULL);
	for (size_t k = 0; p && k + (size_t)n <= len; k++)
		if (memcmp(p + k, needle, (size_t)n) == 0) {
			p[k] ^= 0x20; /* still stored data, SHA-1 no longer matches */
			break;
		}
	CHECK(p && tu_write_file(path, p, len) == 0);
	free(p);
}

static int files_equal(const char *a, const char *b)
{
	size_t na = 0, nb = 0;
	uint8_t *pa = tu_read_file(a, &na), *pb = tu_read_file(b, &nb);
	int eq = pa && pb && na == nb && memcmp(pa, pb, na) == 0;
	free(pa);
	free(pb);
	return eq;
}

static int exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static size_t count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;
	while (d && (de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".tmp"))
			n++;
	if (d)
		closedir(d);
	return n;
}

static enum sisign_verdict verify_file(const char *path, size_t *nchains)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_verify_report *rep = NULL;
	struct sisign_error err;
	enum sisign_verdict v = SISIGN_VERDICT_INVALID;
	*nchains = 0;
	if (sisign_pkg_open(path, NULL, &pkg, &err) != SISIGN_OK)
		return v;
	if (sisign_pkg_verify(pkg, NULL, &rep, &err) == SISIGN_OK) {
		v = rep->verdict;
		*nchains = rep->top.nchains;
	}
	sisign_verify_report_free(rep);
	sisign_pkg_free(pkg);
	return v;
}

struct counter {
	size_t results, progress, last_done, starts;
	struct sisign_batch *cancel_batch;
	size_t cancel_after;
};

/* Cancels when the cancel_after'th job starts.  (Not from on_result: a
 * worker reports its jobs in groups, after their directory fsync, so a
 * cancel from there may come after every job is done.) */
static void on_start(void *ud, size_t index)
{
	struct counter *c = ud;
	(void)index;
	c->starts++;
	if (c->cancel_batch && c->starts == c->cancel_after)
		sisign_batch_cancel(c->cancel_batch);
}

static void on_result(void *ud, size_t index, const struct sisign_batch_result *res)
{
	struct counter *c = ud;
	(void)index;
	(void)res;
	c->results++;
}

static void on_progress(void *ud, const struct sisign_batch_progress *p)
{
	struct counter *c = ud;
	c->progress++;
	c->last_done = p->files_done;
}

/* Job i's result (sisign_batch_result fills a copy). */
static struct sisign_batch_result res_of(const struct sisign_batch *b, size_t i)
{
	struct sisign_batch_result r;
	CHECK_EQ_INT(sisign_batch_result(b, i, &r), SISIGN_OK);
	return r;
}

static struct sisign_batch *new_batch(struct sisign_batch_opts *o, const char *in, const char *out)
{
	struct sisign_batch *b = NULL;
	struct sisign_error err;
	CHECK_EQ_INT(sisign_batch_new(o, &b, &err), SISIGN_OK);
	for (size_t i = 0; b && i < NPKG; i++) {
		char ip[4096], op[4096];
		path_of(ip, sizeof ip, in, i);
		path_of(op, sizeof op, out ? out : in, i);
		CHECK_EQ_INT(sisign_batch_add(b, ip, out ? op : NULL, &err), SISIGN_OK);
	}
	return b;
}

static void test_batch(void)
{
	char key[4096], cert[4096], p[4096], q[4096], dir[4096];
	struct sisign_signer *sg = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_identity_opts io = { cert, NULL, 0, 0 };
	struct sisign_batch_opts o;
	struct sisign_batch *b = NULL;
	struct sisign_error err;
	struct counter cnt;
	size_t done, skipped, checked, pending, nch;
	uint8_t *before[NPKG];
	size_t before_len[NPKG];

	snprintf(key, sizeof key, "%s/key.pem", tmp);
	snprintf(cert, sizeof cert, "%s/cert.pem", tmp);
	make_identity(key, cert);
	CHECK_EQ_INT(sisign_signer_from_key_file(key, NULL, NULL, &sg, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_identity_new(sg, &io, &id, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_batch_preflight(sg, id, &err), SISIGN_OK);

	snprintf(dir, sizeof dir, "%s/in", tmp);
	mkdir(dir, 0755);
	snprintf(dir, sizeof dir, "%s/out", tmp);
	mkdir(dir, 0755);
	for (size_t i = 0; i < NPKG; i++) {
		path_of(p, sizeof p, "in", i);
		make_pkg(p, i);
		if (i == BAD)
			corrupt(p, i);
		before[i] = tu_read_file(p, &before_len[i]);
	}

	/* Argument errors. */
	memset(&o, 0, sizeof o);
	o.op = SISIGN_BATCH_SIGN;
	CHECK_EQ_INT(sisign_batch_new(&o, &b, &err), SISIGN_ERR_INVALID_ARG);
	CHECK(b == NULL);
	o.identity = id;
	o.signer = sg;
	o.skip_signed = o.resign = 1;
	CHECK_EQ_INT(sisign_batch_new(&o, &b, &err), SISIGN_ERR_INVALID_ARG);
	o.skip_signed = o.resign = 0;
	o.token_sessions = -1;
	CHECK_EQ_INT(sisign_batch_new(&o, &b, &err), SISIGN_ERR_INVALID_ARG);
	o.token_sessions = SISIGN_TOKEN_SESSIONS_MAX + 1;
	CHECK_EQ_INT(sisign_batch_new(&o, &b, &err), SISIGN_ERR_INVALID_ARG);
	CHECK(b == NULL);

	/* A leftover of a "killed" run for one output (an hour old: the
	 * cleaner leaves young temps alone), and an unrelated file that only
	 * looks like one. */
	snprintf(p, sizeof p, "%s/out/p03.sis.tmpAbC123", tmp);
	CHECK(tu_write_file(p, "x", 1) == 0);
	CHECK(backdate(p, 3600) == 0);
	snprintf(q, sizeof q, "%s/out/other.sis.tmpAbC123", tmp);
	CHECK(tu_write_file(q, "x", 1) == 0);

	/* 1. Sign into out/: one corrupt package fails, the rest are signed. */
	memset(&o, 0, sizeof o);
	memset(&cnt, 0, sizeof cnt);
	o.op = SISIGN_BATCH_SIGN;
	o.identity = id;
	o.signer = sg;
	o.threads = 3;
	o.output_sha256 = 1;
	o.clean_stale_temps = 1;
	o.on_result = on_result;
	o.on_progress = on_progress;
	o.userdata = &cnt;
	b = new_batch(&o, "in", "out");
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_OK);
	CHECK(!exists(p));
	CHECK(exists(q));
	unlink(q);
	CHECK_EQ_INT(cnt.results, NPKG);
	CHECK_EQ_INT(cnt.progress, NPKG);
	CHECK_EQ_INT(cnt.last_done, NPKG);
	sisign_batch_summary(b, NULL, &done, &skipped, &checked, &pending);
	CHECK_EQ_INT(done, NPKG - 1);
	CHECK_EQ_INT(skipped + checked + pending, 0);
	for (size_t i = 0; i < NPKG; i++) {
		struct sisign_batch_result rr = res_of(b, i), *r = &rr;
		path_of(p, sizeof p, "out", i);
		if (i == BAD) {
			CHECK_EQ_INT(r->status, SISIGN_JOB_FAILED);
			CHECK_EQ_INT(r->err.code, SISIGN_ERR_HASH_MISMATCH);
			CHECK(!exists(p));
			CHECK(r->output_sha256[0] == '\0');
			continue;
		}
		CHECK_EQ_INT(r->status, SISIGN_JOB_DONE);
		CHECK_EQ_INT(r->err.code, 0);
		CHECK_EQ_INT(r->nchains, 1);
		CHECK_EQ_INT(strlen(r->output_sha256), 64);
		CHECK_EQ_INT(verify_file(p, &nch), SISIGN_VERDICT_SELF_SIGNED);
		CHECK_EQ_INT(nch, 1);
	}
	{
		struct sisign_batch_result none;
		CHECK_EQ_INT(sisign_batch_result(b, NPKG, &none), SISIGN_ERR_INVALID_ARG);
		CHECK_EQ_INT(none.status, SISIGN_JOB_PENDING);
	}
	sisign_batch_free(b);
	snprintf(dir, sizeof dir, "%s/out", tmp);
	CHECK_EQ_INT(count_tmp(dir), 0);

	/* Same bytes as the single-file path. */
	{
		struct sisign_pkg *pkg = NULL;
		path_of(p, sizeof p, "in", 2);
		CHECK_EQ_INT(sisign_pkg_open(p, NULL, &pkg, &err), SISIGN_OK);
		CHECK_EQ_INT(sisign_pkg_sign(pkg, id, &err), SISIGN_OK);
		snprintf(q, sizeof q, "%s/single.sis", tmp);
		CHECK_EQ_INT(sisign_pkg_write(pkg, q, 0644, &err), SISIGN_OK);
		sisign_pkg_free(pkg);
		path_of(p, sizeof p, "out", 2);
		CHECK(files_equal(p, q));
	}

	/* 2. Rerun with skip_signed: every existing output counts as done. */
	memset(&cnt, 0, sizeof cnt);
	o.skip_signed = 1;
	b = new_batch(&o, "in", "out");
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_OK);
	sisign_batch_summary(b, NULL, &done, &skipped, &checked, &pending);
	CHECK_EQ_INT(skipped, NPKG - 1);
	CHECK_EQ_INT(done, 0);
	CHECK_EQ_INT(res_of(b, BAD).err.code, SISIGN_ERR_HASH_MISMATCH);
	sisign_batch_free(b);

	/* 3. Sign out/ in place with parallel_sign and resign: still one chain. */
	o.skip_signed = 0;
	o.resign = 1;
	o.parallel_sign = 1;
	o.threads = 4;
	b = new_batch(&o, "out", NULL);
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_OK);
	for (size_t i = 0; i < NPKG; i++) {
		struct sisign_batch_result rr = res_of(b, i), *r = &rr;
		if (i == BAD) {
			CHECK_EQ_INT(r->err.code, SISIGN_ERR_SYSTEM); /* no such output */
			continue;
		}
		CHECK_EQ_INT(r->status, SISIGN_JOB_DONE);
		CHECK_EQ_INT(r->nchains, 1);
		path_of(p, sizeof p, "out", i);
		CHECK_EQ_INT(verify_file(p, &nch), SISIGN_VERDICT_SELF_SIGNED);
		CHECK_EQ_INT(nch, 1);
	}
	sisign_batch_free(b);
	/* ... and without resign a second chain is added. */
	o.resign = 0;
	b = new_batch(&o, "out", NULL);
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_OK);
	CHECK_EQ_INT(res_of(b, 0).nchains, 2);
	sisign_batch_free(b);
	/* ... and a third with 3 signatures in flight (token_sessions; with
	 * threads 1 the batch still runs 3 workers). */
	o.parallel_sign = 0;
	o.token_sessions = 3;
	o.threads = 1;
	b = new_batch(&o, "out", NULL);
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_OK);
	for (size_t i = 0; i < NPKG; i++) {
		if (i == BAD)
			continue;
		CHECK_EQ_INT(res_of(b, i).status, SISIGN_JOB_DONE);
		path_of(p, sizeof p, "out", i);
		CHECK_EQ_INT(verify_file(p, &nch), SISIGN_VERDICT_SELF_SIGNED);
		CHECK_EQ_INT(nch, 3);
	}
	sisign_batch_free(b);
	o.token_sessions = 0;

	/* 4. Verify batch: a verdict per package, nothing written. */
	memset(&o, 0, sizeof o);
	o.op = SISIGN_BATCH_VERIFY;
	b = new_batch(&o, "out", NULL);
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_OK);
	CHECK_EQ_INT(res_of(b, 0).verdict, SISIGN_VERDICT_SELF_SIGNED);
	CHECK_EQ_INT(res_of(b, 0).nchains, 3);
	CHECK(res_of(b, 0).output == NULL);
	CHECK_EQ_INT(res_of(b, BAD).status, SISIGN_JOB_FAILED);
	sisign_batch_free(b);

	/* 5. Unsign all in place. */
	o.op = SISIGN_BATCH_UNSIGN;
	o.unsign_all = 1;
	b = new_batch(&o, "out", NULL);
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_OK);
	CHECK_EQ_INT(res_of(b, 0).status, SISIGN_JOB_DONE);
	CHECK_EQ_INT(res_of(b, 0).nchains, 0);
	sisign_batch_free(b);
	/* Unsigning an unsigned package: exact error. */
	b = new_batch(&o, "out", NULL);
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_OK);
	CHECK_EQ_INT(res_of(b, 0).err.code, SISIGN_ERR_NOT_SIGNED);
	sisign_batch_free(b);

	/* 6. Dry run: parses and checks everything, writes nothing. */
	snprintf(dir, sizeof dir, "%s/dry", tmp);
	mkdir(dir, 0755);
	memset(&o, 0, sizeof o);
	o.op = SISIGN_BATCH_SIGN;
	o.identity = id;
	o.signer = sg;
	o.dry_run = 1;
	b = new_batch(&o, "in", "dry");
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_OK);
	sisign_batch_summary(b, NULL, &done, &skipped, &checked, &pending);
	CHECK_EQ_INT(checked, NPKG - 1);
	CHECK_EQ_INT(done, 0);
	CHECK_EQ_INT(res_of(b, BAD).err.code, SISIGN_ERR_HASH_MISMATCH);
	sisign_batch_free(b);
	{
		DIR *d = opendir(dir);
		struct dirent *de;
		size_t n = 0;
		while (d && (de = readdir(d)) != NULL)
			n += de->d_name[0] != '.';
		if (d)
			closedir(d);
		CHECK_EQ_INT(n, 0);
	}

	/* 7. Cancel while the third job starts: jobs in flight finish (and
	 * are reported), the rest stay pending, no temp file remains. */
	snprintf(dir, sizeof dir, "%s/cancel", tmp);
	mkdir(dir, 0755);
	memset(&o, 0, sizeof o);
	memset(&cnt, 0, sizeof cnt);
	o.op = SISIGN_BATCH_SIGN;
	o.identity = id;
	o.signer = sg;
	o.threads = 2;
	o.on_result = on_result;
	o.on_start = on_start;
	o.userdata = &cnt;
	b = new_batch(&o, "in", "cancel");
	cnt.cancel_batch = b;
	cnt.cancel_after = 3;
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_ERR_CANCELLED);
	sisign_batch_summary(b, NULL, &done, &skipped, &checked, &pending);
	CHECK(pending > 0);
	CHECK(cnt.results >= 3 && cnt.results <= 4);
	for (size_t i = 0; i < NPKG; i++) {
		struct sisign_batch_result rr = res_of(b, i), *r = &rr;
		path_of(p, sizeof p, "cancel", i);
		if (r->status == SISIGN_JOB_DONE)
			CHECK(verify_file(p, &nch) == SISIGN_VERDICT_SELF_SIGNED);
		else
			CHECK(!exists(p));
	}
	CHECK_EQ_INT(count_tmp(dir), 0);
	sisign_batch_free(b);

	/* Inputs untouched throughout. */
	for (size_t i = 0; i < NPKG; i++) {
		size_t len = 0;
		uint8_t *now;
		path_of(p, sizeof p, "in", i);
		now = tu_read_file(p, &len);
		CHECK(now && len == before_len[i] && memcmp(now, before[i], len) == 0);
		free(now);
		free(before[i]);
	}
	CHECK_EQ_INT(strcmp(sisign_job_status_name(SISIGN_JOB_FAILED), "error"), 0);
	sisign_identity_free(id);
	sisign_signer_free(sg);
}

/* The stale-temp cleaner removes only temps nobody can be writing: an old
 * unlocked one goes; one a writer holds flocked (as util/file.c's writer
 * does for its whole life), a young one, a symlink with the temp name, and
 * an old temp of another output stay. */
/* on_commit (issue #11 item 9): called before each output is renamed in,
 * with the SHA-256 of the bytes that then appear; a refusal discards that
 * output and stops the batch before its next signature. */
struct hook {
	size_t calls, refuse_at;
	int absent_each_time; /* the output did not exist yet at every call */
	char sha[NPKG][65];
};

static int on_commit(void *ud, size_t index, const struct sisign_batch_result *res, struct sisign_error *err)
{
	struct hook *h = ud;
	if (access(res->output, F_OK) == 0)
		h->absent_each_time = 0;
	if (index < NPKG)
		memcpy(h->sha[index], res->output_sha256, 65);
	if (++h->calls == h->refuse_at) {
		sisign_error_clear(err);
		err->code = SISIGN_ERR_SYSTEM;
		snprintf(err->message, sizeof err->message, "audit log full");
		return SISIGN_ERR_SYSTEM;
	}
	return SISIGN_OK;
}

static void sha256_hex(const char *path, char hex[65])
{
	size_t len = 0;
	uint8_t *p = tu_read_file(path, &len);
	unsigned char md[32];
	hex[0] = '\0';
	if (!p || EVP_Digest(p, len, md, NULL, EVP_sha256(), NULL) != 1) {
		free(p);
		return;
	}
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	free(p);
}

static void test_commit_hook(void)
{
	char key[4096], cert[4096], p[4096], hex[65];
	struct sisign_signer *sg = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_identity_opts io = { cert, NULL, 0, 0 };
	struct sisign_batch_opts o;
	struct sisign_batch *b;
	struct sisign_error err;
	struct hook h;
	size_t done = 0, pending = 0;

	snprintf(key, sizeof key, "%s/hkey.pem", tmp);
	snprintf(cert, sizeof cert, "%s/hcert.pem", tmp);
	make_identity(key, cert);
	CHECK_EQ_INT(sisign_signer_from_key_file(key, NULL, NULL, &sg, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_identity_new(sg, &io, &id, &err), SISIGN_OK);
	snprintf(p, sizeof p, "%s/hook", tmp);
	mkdir(p, 0755);

	memset(&h, 0, sizeof h);
	h.refuse_at = 3;
	h.absent_each_time = 1;
	memset(&o, 0, sizeof o);
	o.op = SISIGN_BATCH_SIGN;
	o.identity = id;
	o.signer = sg;
	o.threads = 1; /* jobs in order, on this thread */
	o.on_commit = on_commit;
	o.userdata = &h;
	b = new_batch(&o, "in", "hook");
	sisign_error_clear(&err);
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_ERR_SYSTEM);
	CHECK(strcmp(err.message, "audit log full") == 0);
	CHECK_EQ_INT(h.calls, 3);
	CHECK(h.absent_each_time);
	for (size_t i = 0; i < NPKG; i++) {
		struct sisign_batch_result rr = res_of(b, i), *r = &rr;
		path_of(p, sizeof p, "hook", i);
		if (i < 2) { /* committed: the file has the digest the hook saw */
			CHECK_EQ_INT(r->status, SISIGN_JOB_DONE);
			sha256_hex(p, hex);
			CHECK(strlen(hex) == 64 && strcmp(hex, h.sha[i]) == 0 && strcmp(hex, r->output_sha256) == 0);
		} else if (i == 2) { /* refused: FAILED with the hook's error, nothing written */
			CHECK_EQ_INT(r->status, SISIGN_JOB_FAILED);
			CHECK_EQ_INT(r->err.code, SISIGN_ERR_SYSTEM);
			CHECK(!exists(p));
		} else { /* never signed */
			CHECK_EQ_INT(r->status, SISIGN_JOB_PENDING);
			CHECK(!exists(p));
		}
	}
	sisign_batch_summary(b, NULL, &done, NULL, NULL, &pending);
	CHECK_EQ_INT(done, 2);
	CHECK_EQ_INT(pending, NPKG - 3);
	snprintf(p, sizeof p, "%s/hook", tmp);
	CHECK_EQ_INT(count_tmp(p), 0);
	sisign_batch_free(b);
	sisign_identity_free(id);
	sisign_signer_free(sg);
}

static void test_stale_temps(void)
{
	char dir[2048], out[4096], stale[4096], live[4096], young[4096], link[4096], other[4096], victim[4096];
	const char *outs[1];
	int fd;

	snprintf(dir, sizeof dir, "%s/stale", tmp);
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(out, sizeof out, "%s/a.sis", dir);
	snprintf(stale, sizeof stale, "%s/a.sis.tmpQw3rty", dir);
	snprintf(live, sizeof live, "%s/a.sis.tmplive01", dir);
	snprintf(young, sizeof young, "%s/a.sis.tmpyoung1", dir);
	snprintf(link, sizeof link, "%s/a.sis.tmplink01", dir);
	snprintf(other, sizeof other, "%s/b.sis.tmpQw3rty", dir);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	CHECK(tu_write_file(stale, "s", 1) == 0);
	CHECK(tu_write_file(live, "l", 1) == 0);
	CHECK(tu_write_file(young, "y", 1) == 0);
	CHECK(tu_write_file(other, "o", 1) == 0);
	CHECK(tu_write_file(victim, "v", 1) == 0);
	CHECK(symlink(victim, link) == 0);
	CHECK(backdate(stale, 3600) == 0 && backdate(live, 3600) == 0 && backdate(other, 3600) == 0);
	CHECK(backdate(victim, 3600) == 0);
	/* The "writer": its own open file, locked as atomic_openat locks. */
	fd = open(live, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);

	outs[0] = out;
	CHECK_EQ_INT(batch_clean_stale_temps(outs, 1), 1);
	CHECK(!exists(stale));
	CHECK(exists(live));
	CHECK(exists(young));
	CHECK(exists(other));
	CHECK(exists(victim));
	{
		struct stat lst;
		CHECK(lstat(link, &lst) == 0 && S_ISLNK(lst.st_mode));
	}

	/* Once the writer is gone (killed: its lock dies with it), the old
	 * temp is a leftover like any other. */
	close(fd);
	CHECK_EQ_INT(batch_clean_stale_temps(outs, 1), 1);
	CHECK(!exists(live));
	CHECK(exists(young));
}

/* The atomic writer holds an exclusive flock on its temp file from
 * creation to rename, in both the O_TMPFILE and the named-temp case, and
 * leaves no temp behind. */
static void test_atomic_lock(void)
{
	char dir[2048], out[4096], name[4096];
	struct atomic_file af;
	struct sisign_error err;
	int fd;

	snprintf(dir, sizeof dir, "%s/lock", tmp);
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(out, sizeof out, "%s/o.bin", dir);
	CHECK_EQ_INT(atomic_open(&af, out, 0644, &err), SISIGN_OK);
	CHECK_EQ_INT(atomic_write(&af, "abc", 3, &err), SISIGN_OK);
	/* Our own, separate open of the same file must find it locked. */
	snprintf(name, sizeof name, "/proc/self/fd/%d", af.fd);
	fd = open(name, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(flock(fd, LOCK_EX | LOCK_NB) != 0);
	CHECK_EQ_INT(atomic_commit(&af, &err), SISIGN_OK);
	/* Renamed and closed: the lock is gone with the writer's file. */
	CHECK(flock(fd, LOCK_EX | LOCK_NB) == 0);
	close(fd);
	CHECK(exists(out));
	CHECK_EQ_INT(count_tmp(dir), 0);
}

/* Issue #11: a 255-byte name works (short temp name, none left behind),
 * and the stale-temp cleaner removes an old short temp of that output but
 * not one of another stem; the mode never keeps setuid/setgid/sticky. */
static void test_long_names(void)
{
	char dir[2048], out[4096], stem[ATOMIC_TMP_STEM_MAX], mine[4096], theirs[4096], base[256];
	const char *outs[1];
	struct atomic_file af;
	struct sisign_error err;
	struct stat st;

	snprintf(dir, sizeof dir, "%s/long", tmp);
	CHECK(mkdir(dir, 0700) == 0);
	memset(base, 'n', 255);
	base[255] = '\0';
	snprintf(out, sizeof out, "%s/%s", dir, base);
	CHECK_EQ_INT(atomic_open(&af, out, 04755, &err), SISIGN_OK);
	CHECK_EQ_INT(atomic_write(&af, "abc", 3, &err), SISIGN_OK);
	CHECK_EQ_INT(atomic_commit(&af, &err), SISIGN_OK);
	CHECK(stat(out, &st) == 0 && (st.st_mode & 07777) == 0755);
	CHECK_EQ_INT(count_tmp(dir), 0);

	CHECK_EQ_INT(atomic_tmp_short_stem("short.sis", stem), 0);
	CHECK_EQ_INT(atomic_tmp_short_stem(base, stem), 1);
	CHECK_EQ_INT((long long)strlen(stem), 16);
	snprintf(mine, sizeof mine, "%s/%s.tmpAbc123", dir, stem);
	snprintf(theirs, sizeof theirs, "%s/.sisign-00000000.tmpAbc123", dir);
	CHECK(tu_write_file(mine, "m", 1) == 0 && tu_write_file(theirs, "t", 1) == 0);
	CHECK(backdate(mine, 3600) == 0 && backdate(theirs, 3600) == 0);
	outs[0] = out;
	CHECK_EQ_INT(batch_clean_stale_temps(outs, 1), 1);
	CHECK(!exists(mine));
	CHECK(exists(theirs));
}

/* Issue #11: sisign_pkg_open_exclusive holds the input's lock until the
 * package is freed (a second nowait open fails with EWOULDBLOCK), and
 * sisign_pkg_replace writes through a symlink to its target, keeping the
 * link and the target's bits without setuid; a FIFO is refused at once. */
static void test_exclusive(void)
{
	char dir[2048], target[4096], link[4096], fifo[4096];
	struct sisign_pkg *a = NULL, *b = NULL;
	struct sisign_error err;
	struct stat st;

	snprintf(dir, sizeof dir, "%s/excl", tmp);
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(target, sizeof target, "%s/t.sis", dir);
	snprintf(link, sizeof link, "%s/l.sis", dir);
	snprintf(fifo, sizeof fifo, "%s/f.sis", dir);
	make_pkg(target, 1);
	CHECK(chmod(target, 04750) == 0);
	CHECK(symlink("t.sis", link) == 0);

	CHECK_EQ_INT(sisign_pkg_open_exclusive(link, NULL, 1, &a, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_pkg_open_exclusive(target, NULL, 1, &b, &err), SISIGN_ERR_SYSTEM);
	CHECK_EQ_INT(err.sys_errno, EWOULDBLOCK);
	CHECK(b == NULL);
	CHECK_EQ_INT(sisign_pkg_replace(a, &err), SISIGN_OK);
	sisign_pkg_free(a);
	a = NULL;
	CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(stat(target, &st) == 0 && (st.st_mode & 07777) == 0750);
	CHECK_EQ_INT(count_tmp(dir), 0);
	/* Unlocked once freed. */
	CHECK_EQ_INT(sisign_pkg_open_exclusive(target, NULL, 1, &b, &err), SISIGN_OK);
	sisign_pkg_free(b);
	b = NULL;

	/* Only for packages opened to be replaced. */
	CHECK_EQ_INT(sisign_pkg_open(target, NULL, &a, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_pkg_replace(a, &err), SISIGN_ERR_INVALID_ARG);
	sisign_pkg_free(a);
	a = NULL;

	CHECK(mkfifo(fifo, 0600) == 0);
	CHECK_EQ_INT(sisign_pkg_open(fifo, NULL, &a, &err), SISIGN_ERR_INVALID_ARG);
	CHECK_EQ_INT(sisign_pkg_open_exclusive(fifo, NULL, 0, &a, &err), SISIGN_ERR_INVALID_ARG);
	CHECK(a == NULL);
}

/* The slicing-by-8 CRC-16 (util/misc.c, optimised for big batches) gives
 * exactly what the plain bytewise definition gives. */
static uint16_t crc16_ref(uint16_t crc, const uint8_t *p, size_t n)
{
	while (n--) {
		crc ^= (uint16_t)(*p++ << 8);
		for (int k = 0; k < 8; k++)
			crc = (uint16_t)((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
	}
	return crc;
}

static void test_crc16(void)
{
	uint8_t buf[4096];
	uint32_t x = 12345;
	int bad = 0;
	for (size_t i = 0; i < sizeof buf; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	CHECK_EQ_INT(crc16_update(0, "123456789", 9), 0x31C3);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n < 200; n++)
			bad += crc16_update(0x1D0F, buf + off, n) != crc16_ref(0x1D0F, buf + off, n);
	CHECK_EQ_INT(bad, 0);
	/* piecewise == whole */
	{
		uint16_t c = 0;
		for (size_t o = 0; o < sizeof buf; o += 13)
			c = crc16_update(c, buf + o, o + 13 <= sizeof buf ? 13 : sizeof buf - o);
		CHECK_EQ_INT(c, crc16_ref(0, buf, sizeof buf));
	}
}

/* Issue #14 item 4: what a batch keeps per job stays small whatever the
 * number of jobs (it used to be a whole result, with an 800-byte error
 * inside, per job).  Measured deterministically as the bytes malloc holds
 * for the batch after a dry run of 4096 jobs (a power of two, so the job
 * array has no spare room) on the calling thread (threads 1: every
 * allocation comes from the main arena, which mallinfo2 counts): the job
 * state, the input path, and nothing per job for the findings and
 * warnings that every job shares (interned). */
/* Bytes malloc has handed out and not had back: the main arena's, and
 * the big blocks it maps on their own (such as a batch's job array). */
static size_t malloc_held(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void test_flat_state(void)
{
	/* Under a sanitizer mallinfo2 counts nothing and every malloc is
	 * slow (ctest's fast_unwind_on_malloc=0): 64 jobs then, for the rest
	 * of the checks. */
	const size_t NJOBS = malloc_held() ? 4096 : 64;
	char key[4096], cert[4096], p[4096];
	struct sisign_signer *sg = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_identity_opts io = { cert, NULL, 0, 0 };
	struct sisign_batch_opts o;
	struct sisign_batch *b = NULL;
	struct sisign_batch_result r0, rn;
	struct sisign_error err;
	size_t checked = 0, before, after;

	snprintf(key, sizeof key, "%s/key.pem", tmp);
	snprintf(cert, sizeof cert, "%s/cert.pem", tmp);
	CHECK_EQ_INT(sisign_signer_from_key_file(key, NULL, NULL, &sg, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_identity_new(sg, &io, &id, &err), SISIGN_OK);
	path_of(p, sizeof p, "in", 0);
	memset(&o, 0, sizeof o);
	o.op = SISIGN_BATCH_SIGN;
	o.identity = id;
	o.signer = sg;
	o.dry_run = 1;
	o.threads = 1;
	o.check = 1;
	CHECK_EQ_INT(sisign_batch_new(&o, &b, &err), SISIGN_OK);
	before = malloc_held();
	for (size_t i = 0; i < NJOBS; i++)
		CHECK_EQ_INT(sisign_batch_add(b, p, NULL, &err), SISIGN_OK);
	CHECK_EQ_INT(sisign_batch_run(b, &err), SISIGN_OK);
	after = malloc_held();
	sisign_batch_summary(b, NULL, NULL, NULL, &checked, NULL);
	CHECK(checked == NJOBS);
	r0 = res_of(b, 0);
	rn = res_of(b, NJOBS - 1);
	CHECK_EQ_INT(r0.status, SISIGN_JOB_CHECKED);
	CHECK(r0.check_worst >= SISIGN_CHECK_WARNING && r0.nfindings > 0);
	CHECK(strcmp(r0.findings[0].rule, "IR-SIG-5") == 0); /* self-signed: the user is asked */
	/* one copy of the findings for all the jobs */
	CHECK(r0.findings == rn.findings && r0.nfindings == rn.nfindings);
	if (before == 0 && after == 0) {
		printf("skip: mallinfo2 counts nothing here (a sanitizer's allocator)\n");
	} else {
		size_t per_job = (after - before) / NJOBS;
		printf("batch state: %zu bytes per job\n", per_job);
		CHECK(after > before && per_job < 256);
	}
	sisign_batch_free(b);
	sisign_identity_free(id);
	sisign_signer_free(sg);
}

int main(void)
{
	test_crc16();
	tmp = tu_tmpdir();
	test_batch();
	test_commit_hook();
	test_stale_temps();
	test_atomic_lock();
	test_long_names();
	test_exclusive();
	test_flat_state();
	tu_rmrf(tmp);
	free(tmp);
	return tu_finish();
}
