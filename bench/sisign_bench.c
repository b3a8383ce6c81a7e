/* SPDX-License-Identifier: Apache-2.0 */
/* sisign batch benchmarks (issues #6, #14): prints rows, not part of the
 * test suite.
 *
 *   sisign_bench [--quick] [--jobs N] [--dir DIR] [--small N] [--scale N,N,...]
 *
 * Every row on standard output is one line of five tab-separated fields,
 * the format every benchmark of bench/run-bench.sh prints:
 *     name  value  baseline  ratio  goal      ("-" where a field has none)
 * Progress goes to standard error.
 *
 * Token rows need a SoftHSM token: BENCH_TOKEN_URI (e.g.
 * "pkcs11:token=bench;object=sisign;type=private"), SOFTHSM2_CONF,
 * SOFTHSM2_MODULE and SISIGN_PIN in the environment (bench/run-bench.sh
 * makes one); without them those rows say "skipped" and the scaling
 * series uses a key file.
 *
 *   1. raw C_Sign rate: a loop of C_SignInit+C_Sign (CKM_RSA_PKCS, SHA-1
 *      DigestInfo) on one session of the same token, same process, before
 *      the batches and again after them (the second row's ratio is the
 *      drift between the two);
 *   2. a batch of --small N (1000) small packages (one 4 KiB deflated file
 *      each) signed on that token with the default settings (one login,
 *      one signing queue, one worker per core, --out-dir), packages/s vs the
 *      mean of the two raw rates: once with the outputs on --dir's
 *      filesystem, and once on a tmpfs (/dev/shm, when there is one and
 *      --dir is not already a tmpfs), which leaves sisign's own cost
 *      without the filesystem's; the same with parallel_sign on concurrent
 *      sessions, and with a key file;
 *   3. the scaling series: the default token batch over 10, 100, 1000 and
 *      10000 packages, each in a child process of its own: time per
 *      package (vs that of the 1000-package run) and the child's peak RSS
 *      (vs that of the smallest run).
 *
 * Every batch writes into a directory of its own, and no output is deleted
 * before the end of the run: ext4 without a journal skips, when it
 * allocates an inode, every inode freed in the last 60 seconds, and reads
 * the inode table to find them; deleting one batch's outputs right before
 * the next batch would make that scan part of what is measured.  (Two runs
 * on such a filesystem less than a minute apart still see the first's
 * deletions: bench/performance.md.in says so.) */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include <zlib.h>

#include <sisign/batch.h>
#include <sisign/package.h>
#include <sisign/sign.h>
#include <sisign/token.h>
#include <sisign/verify.h>

#include "testutil.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct sisign_error *e)
{
	fprintf(stderr, "sisign_bench: %s: %s\n", what, e ? e->message : strerror(errno));
	exit(1);
}

/* ---- fixtures ------------------------------------------------------------ */

static void make_identity(const char *keypath, const char *certpath)
{
	static const struct tu_identity id = { "RSA", 2048, 1, -86400, 365L * 86400, "sisign bench", NULL };
	(void)tu_make_identity(&id, keypath, certpath);
}

static void pack_one(const char *out, const char *const *srcs, size_t nsrc, uint32_t uid)
{
	struct sisign_pack_file pf[8];
	const char *names[] = { "Bench" };
	struct sisign_datetime dt = { 2024, 1, 1, 0, 0, 0 };
	struct sisign_pack_opts po;
	struct sisign_error err;
	static const char *const targets[] = { "!:\\data\\f0.bin", "!:\\data\\f1.bin", "!:\\data\\f2.bin",
		"!:\\data\\f3.bin", "!:\\data\\f4.bin", "!:\\data\\f5.bin", "!:\\data\\f6.bin", "!:\\data\\f7.bin" };
	memset(pf, 0, sizeof pf);
	for (size_t i = 0; i < nsrc; i++) {
		pf[i].source = srcs[i];
		pf[i].target = targets[i];
	}
	memset(&po, 0, sizeof po);
	po.uid = uid;
	po.names = names;
	po.vendor = "Bench";
	po.files = pf;
	po.nfiles = nsrc;
	po.created = &dt;
	if (sisign_pack(&po, out, &err) != SISIGN_OK)
		die("pack", &err);
}

/* Text-like data: words from a small vocabulary with random numbers, which
 * deflate shrinks about 3:1 — like typical application payloads. */
static int bench_jobs; /* --jobs N: batch worker threads (0 = all cores) */
static int random_data;

static void write_data(const char *path, uint64_t size)
{
	static const char *const words[] = { "symbian", "package", "install", "resource", "bitmap", "0x1000",
		"capability", "\n", "sys", "bin", "private", "data", "font", "lang", "=", "{", "}", ";" };
	FILE *f = fopen(path, "w");
	uint64_t s = 88172645463325252ull, w = 0;
	char buf[1 << 16];
	size_t o = 0;
	if (!f)
		die(path, NULL);
	if (random_data) {
		while (w < size) {
			size_t k = size - w < sizeof buf ? (size_t)(size - w) : sizeof buf;
			for (size_t i = 0; i + 8 <= sizeof buf; i += 8) {
				s ^= s << 13;
				s ^= s >> 7;
				s ^= s << 17;
				memcpy(buf + i, &s, 8);
			}
			fwrite(buf, 1, k, f);
			w += k;
		}
		fclose(f);
		return;
	}
	while (w < size) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		const char *word = words[s % (sizeof words / sizeof words[0])];
		char num[24];
		if ((s >> 20) % 4 == 0) {
			snprintf(num, sizeof num, "%u ", (unsigned)(s >> 32) % 100000u);
			word = num;
		}
		size_t n = strlen(word);
		if (o + n + 1 > sizeof buf || w + o + n + 1 > size) {
			fwrite(buf, 1, o, f);
			w += o;
			o = 0;
			if (w + n + 1 > size) {
				while (w < size) {
					fputc('.', f);
					w++;
				}
				break;
			}
		}
		memcpy(buf + o, word, n);
		o += n;
		buf[o++] = ' ';
	}
	if (o && w < size)
		fwrite(buf, 1, o, f);
	fclose(f);
}

/* ---- raw token rate ---------------------------------------------------------- */

static int pin_cb(void *ud, const char *kind, const char *what, int tries, char *buf, size_t n)
{
	const char *pin = getenv("SISIGN_PIN");
	(void)ud;
	(void)kind;
	(void)what;
	(void)tries;
	if (!pin)
		return SISIGN_ERR_CANCELLED;
	snprintf(buf, n, "%s", pin);
	return (int)strlen(buf);
}

/* Token label and key label from the bench URI (token=...;object=...). */
static void uri_attr(const char *uri, const char *name, char *out, size_t n)
{
	const char *p = strstr(uri, name);
	size_t k = 0;
	out[0] = '\0';
	if (!p)
		return;
	p += strlen(name);
	while (*p && *p != ';' && *p != '?' && k + 1 < n)
		out[k++] = *p++;
	out[k] = '\0';
}

static double raw_rate(const char *module, const char *uri, int iters)
{
	void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	CK_C_GetFunctionList gfl;
	CK_FUNCTION_LIST *f = NULL;
	CK_SLOT_ID slots[64];
	CK_ULONG ns = 64, found = 0;
	CK_SESSION_HANDLE sh;
	CK_OBJECT_HANDLE key;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	char tlabel[64], klabel[64];
	const char *pin = getenv("SISIGN_PIN");
	unsigned char di[35] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x05, 0x00, 0x04, 0x14 };
	unsigned char sig[1024];
	double t0, rate = -1;
	int slot = -1;

	uri_attr(uri, "token=", tlabel, sizeof tlabel);
	uri_attr(uri, "object=", klabel, sizeof klabel);
	if (!h || !pin)
		return -1;
	*(void **)&gfl = dlsym(h, "C_GetFunctionList");
	if (!gfl || gfl(&f) != CKR_OK || f->C_Initialize(NULL) != CKR_OK)
		goto out;
	if (f->C_GetSlotList(CK_TRUE, slots, &ns) != CKR_OK)
		goto fin;
	for (CK_ULONG i = 0; i < ns && slot < 0; i++) {
		CK_TOKEN_INFO ti;
		char lab[33];
		if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		memcpy(lab, ti.label, 32);
		lab[32] = '\0';
		for (int k = 31; k >= 0 && lab[k] == ' '; k--)
			lab[k] = '\0';
		if (strcmp(lab, tlabel) == 0)
			slot = (int)i;
	}
	if (slot < 0 || f->C_OpenSession(slots[slot], CKF_SERIAL_SESSION, NULL, NULL, &sh) != CKR_OK)
		goto fin;
	if (f->C_Login(sh, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin)) != CKR_OK)
		goto fin;
	{
		CK_ATTRIBUTE t[2] = { { CKA_CLASS, &cls, sizeof cls }, { CKA_LABEL, klabel, strlen(klabel) } };
		if (f->C_FindObjectsInit(sh, t, 2) != CKR_OK)
			goto fin;
		f->C_FindObjects(sh, &key, 1, &found);
		f->C_FindObjectsFinal(sh);
	}
	if (found != 1)
		goto fin;
	t0 = now();
	for (int i = 0; i < iters; i++) {
		CK_ULONG sl = sizeof sig;
		di[15 + (i % 20)] = (unsigned char)i;
		if (f->C_SignInit(sh, &mech, key) != CKR_OK || f->C_Sign(sh, di, sizeof di, sig, &sl) != CKR_OK)
			goto fin;
	}
	rate = iters / (now() - t0);
fin:
	f->C_Finalize(NULL);
out:
	if (h)
		dlclose(h);
	return rate;
}

/* ---- children (own process, so ru_maxrss is theirs alone) ----------------------- */

/* Run argv, return wall seconds; *maxrss_kib = the child's peak RSS. */
static double run_child(char *const argv[], long *maxrss_kib, char *errbuf, size_t errn)
{
	int pfd[2];
	double t0 = now();
	struct rusage ru;
	int st;
	pid_t pid;
	if (pipe(pfd) != 0)
		die("pipe", NULL);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	{
		ssize_t n, got = 0;
		while (errbuf && (n = read(pfd[0], errbuf + got, errn - 1 - (size_t)got)) > 0)
			got += n;
		if (errbuf)
			errbuf[got] = '\0';
	}
	close(pfd[0]);
	if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "sisign_bench: child %s failed: %s\n", argv[1], errbuf ? errbuf : "");
		exit(1);
	}
	if (maxrss_kib)
		*maxrss_kib = ru.ru_maxrss;
	return now() - t0;
}

/* ---- batches -------------------------------------------------------------------- */

static double run_batch(const char *dir, const char *outdir, size_t n, struct sisign_signer *sg,
	struct sisign_identity *id, int parallel)
{
	struct sisign_batch_opts o;
	struct sisign_batch *b = NULL;
	struct sisign_error e;
	size_t done = 0;
	double t0;
	memset(&o, 0, sizeof o);
	o.op = SISIGN_BATCH_SIGN;
	o.identity = id;
	o.signer = sg;
	o.parallel_sign = parallel;
	o.threads = bench_jobs;
	if (sisign_batch_new(&o, &b, &e))
		die("batch", &e);
	for (size_t i = 0; i < n; i++) {
		char in[4096], out[4096];
		snprintf(in, sizeof in, "%s/p%05zu.sis", dir, i);
		snprintf(out, sizeof out, "%s/p%05zu.sis", outdir, i);
		if (sisign_batch_add(b, in, out, &e))
			die("batch add", &e);
	}
	t0 = now();
	if (sisign_batch_run(b, &e))
		die("batch run", &e);
	t0 = now() - t0;
	sisign_batch_summary(b, NULL, &done, NULL, NULL, NULL);
	if (done != n) {
		struct sisign_batch_result res;
		(void)sisign_batch_result(b, 0, &res);
		die("batch: not every package was signed", &res.err);
	}
	sisign_batch_free(b);
	return (double)n / t0;
}

/* One row: name, value, baseline, ratio, goal; a value or baseline < 0 is
 * "-", and so is the ratio then. */
static void row(const char *name, double value, double base, int decimals, const char *goal)
{
	char v[64] = "-", b[64] = "-", r[64] = "-";
	if (value >= 0)
		snprintf(v, sizeof v, "%.*f", decimals, value);
	if (base >= 0)
		snprintf(b, sizeof b, "%.*f", decimals, base);
	if (value >= 0 && base > 0)
		snprintf(r, sizeof r, "%.2f", value / base);
	printf("%s\t%s\t%s\t%s\t%s\n", name, v, b, r, goal ? goal : "-");
	fflush(stdout);
}

static void skipped(const char *name, const char *why)
{
	printf("%s\tskipped: %s\t-\t-\t-\n", name, why);
	fflush(stdout);
}

/* The type of the filesystem holding path, for row names. */
static const char *fs_name(const char *path)
{
	struct statfs sf;
	if (statfs(path, &sf) != 0)
		return "?";
	switch ((unsigned long)sf.f_type) {
	case 0x01021994ul: return "tmpfs";
	case 0xEF53ul: return "ext2/3/4";
	case 0x58465342ul: return "xfs";
	case 0x9123683Eul: return "btrfs";
	case 0x794C7630ul: return "overlayfs";
	default: return "other";
	}
}

/* n copies of the package at proto, as DIR/p%05zu.sis (plain writes: the
 * inputs need not be durable). */
static void copy_inputs(const char *proto, const char *dir, size_t from, size_t n)
{
	static uint8_t buf[1 << 16];
	FILE *f = fopen(proto, "rb");
	size_t len;
	if (!f)
		die(proto, NULL);
	len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	for (size_t i = from; i < n; i++) {
		char path[4200];
		int fd;
		snprintf(path, sizeof path, "%s/p%05zu.sis", dir, i);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
			write(fd, buf, len) != (ssize_t)len || close(fd) != 0)
			die(path, NULL);
	}
}

static int open_token(const char *module, const char *uri, int parallel, struct sisign_signer **sg,
	struct sisign_identity **id)
{
	struct sisign_token_opts to;
	struct sisign_error e;
	memset(&to, 0, sizeof to);
	to.module = module;
	to.pin_cb = pin_cb;
	to.parallel_sessions = parallel;
	if (sisign_signer_from_pkcs11(uri, &to, sg, &e) || sisign_identity_new(*sg, NULL, id, &e))
		die("token identity", &e);
	return 0;
}

/* Child: one default batch over the first n inputs of dir into outdir,
 * on the token when the environment has one, else with key + cert.
 * Prints the batch's seconds on stderr. */
static int child_batch(const char *dir, const char *outdir, size_t n, const char *key, const char *cert)
{
	const char *uri = getenv("BENCH_TOKEN_URI"), *module = getenv("SOFTHSM2_MODULE");
	struct sisign_signer *sg = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_error e;
	double rate;
	if (uri && getenv("SOFTHSM2_CONF")) {
		(void)open_token(module, uri, 0, &sg, &id);
	} else {
		struct sisign_identity_opts io;
		memset(&io, 0, sizeof io);
		io.cert_file = cert;
		if (sisign_signer_from_key_file(key, NULL, NULL, &sg, &e) || sisign_identity_new(sg, &io, &id, &e))
			die("identity", &e);
	}
	rate = run_batch(dir, outdir, n, sg, id, 0);
	fprintf(stderr, "%.6f\n", (double)n / rate);
	sisign_identity_free(id);
	sisign_signer_free(sg);
	return 0;
}

static void rm_rf(const char *path)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "sisign_bench: could not remove %s\n", path);
}

int main(int argc, char **argv)
{
	int quick = 0;
	size_t nsmall = 1000, scale[16], nscale = 0, maxn;
	const char *base = NULL, *scale_arg = "10,100,1000,10000";
	char dir[1024], in[4096], q[4096], key[4096], cert[4096], self[4096], src[4096], proto[4096];
	const char *uri = getenv("BENCH_TOKEN_URI"), *module = getenv("SOFTHSM2_MODULE");
	struct sisign_signer *fsg = NULL, *tsg = NULL;
	struct sisign_identity *fid = NULL, *tid = NULL;
	struct sisign_identity_opts io;
	struct sisign_error e;
	double raw = -1, file1;
	int have_token;

	if (argc == 7 && strcmp(argv[1], "--child-batch") == 0)
		return child_batch(argv[2], argv[3], strtoul(argv[4], NULL, 10), argv[5], argv[6]);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			quick = 1;
			nsmall = 40;
			scale_arg = "10,40";
		} else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
			bench_jobs = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			base = argv[++i];
		} else if (strcmp(argv[i], "--small") == 0 && i + 1 < argc) {
			nsmall = strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
			scale_arg = argv[++i];
		} else {
			fprintf(stderr, "usage: sisign_bench [--quick] [--jobs N] [--dir DIR] [--small N] [--scale N,N,...]\n");
			return 2;
		}
	}
	for (const char *p = scale_arg; *p && nscale < sizeof scale / sizeof scale[0];) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || v == 0) {
			fprintf(stderr, "sisign_bench: bad --scale list '%s'\n", scale_arg);
			return 2;
		}
		scale[nscale++] = v;
		p = *end == ',' ? end + 1 : end;
	}
	if (nsmall == 0) {
		fprintf(stderr, "sisign_bench: --small wants at least 1\n");
		return 2;
	}
	maxn = nsmall;
	for (size_t i = 0; i < nscale; i++)
		if (scale[i] > maxn)
			maxn = scale[i];
	if (!module)
		module = "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so";
	have_token = uri && getenv("SOFTHSM2_CONF");
	{
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n < 0)
			die("readlink", NULL);
		self[n] = '\0';
	}
	snprintf(dir, sizeof dir, "%s/sisign-bench-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp", NULL);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	make_identity(key, cert);
	memset(&io, 0, sizeof io);
	io.cert_file = cert;
	if (sisign_signer_from_key_file(key, NULL, NULL, &fsg, &e) || sisign_identity_new(fsg, &io, &fid, &e))
		die("identity", &e);

	/* the inputs: one packed package (a 4 KiB text-like file, deflated),
	 * copied maxn times */
	snprintf(in, sizeof in, "%s/in", dir);
	mkdir(in, 0755);
	snprintf(src, sizeof src, "%s/src.txt", dir);
	write_data(src, 4096);
	snprintf(proto, sizeof proto, "%s/proto.sis", dir);
	{
		const char *srcs[1] = { src };
		pack_one(proto, srcs, 1, 0xE0010000u);
	}
	fprintf(stderr, "sisign_bench: making %zu input packages\n", maxn);
	copy_inputs(proto, in, 0, maxn);

	/* raw rate, the batches of nsmall in this process, the raw rate again;
	 * the rows come after, each batch against the mean of the two */
	if (have_token) {
		double tok1, tokm = -1, tokp, raw2, rawm;
		char name[300], shm[1024];
		struct stat sst;
		fprintf(stderr, "sisign_bench: raw C_Sign rate\n");
		raw = raw_rate(module, uri, quick ? 100 : 2000);
		if (raw < 0)
			die("raw C_Sign loop: no token, key or PIN (BENCH_TOKEN_URI, SISIGN_PIN)", NULL);
		fprintf(stderr, "sisign_bench: token batch of %zu\n", nsmall);
		open_token(module, uri, 0, &tsg, &tid);
		snprintf(q, sizeof q, "%s/out-token", dir);
		mkdir(q, 0755);
		tok1 = run_batch(in, q, nsmall, tsg, tid, 0);
		/* the same on a tmpfs, unless --dir is one */
		shm[0] = '\0';
		if (strcmp(fs_name(dir), "tmpfs") != 0 && stat("/dev/shm", &sst) == 0 &&
		    strcmp(fs_name("/dev/shm"), "tmpfs") == 0) {
			snprintf(shm, sizeof shm, "/dev/shm/sisign-bench-XXXXXX");
			if (mkdtemp(shm)) {
				fprintf(stderr, "sisign_bench: token batch of %zu, outputs on %s\n", nsmall, shm);
				tokm = run_batch(in, shm, nsmall, tsg, tid, 0);
			} else {
				shm[0] = '\0';
			}
		}
		sisign_identity_free(tid);
		sisign_signer_free(tsg);
		snprintf(q, sizeof q, "%s/out-parallel", dir);
		mkdir(q, 0755);
		fprintf(stderr, "sisign_bench: token batch of %zu, parallel sessions\n", nsmall);
		open_token(module, uri, 1, &tsg, &tid);
		tokp = run_batch(in, q, nsmall, tsg, tid, 1);
		sisign_identity_free(tid);
		sisign_signer_free(tsg);
		fprintf(stderr, "sisign_bench: raw C_Sign rate again\n");
		raw2 = raw_rate(module, uri, quick ? 100 : 2000);
		if (raw2 < 0)
			die("raw C_Sign loop, second time", NULL);
		rawm = (raw + raw2) / 2;
		row("raw C_Sign rate, one session, before the batches (1/s)", raw, -1, 1, NULL);
		row("raw C_Sign rate, one session, after the batches (1/s) vs before", raw2, raw, 1, "~1: no drift");
		snprintf(name, sizeof name, "token batch of %zu, default settings, outputs on %s (pkg/s) vs raw C_Sign (mean)",
			nsmall, fs_name(dir));
		row(name, tok1, rawm, 1, ">= 0.80");
		if (shm[0]) {
			snprintf(name, sizeof name, "token batch of %zu, default settings, outputs on tmpfs (pkg/s) vs raw (mean)",
				nsmall);
			row(name, tokm, rawm, 1, ">= 0.80");
			rm_rf(shm);
		}
		snprintf(name, sizeof name, "token batch of %zu, parallel_sign + sessions, outputs on %s (pkg/s) vs raw (mean)",
			nsmall, fs_name(dir));
		row(name, tokp, rawm, 1, NULL);
	} else {
		row("raw C_Sign rate, one session (1/s)", raw, -1, 1, NULL);
		skipped("token batch vs raw C_Sign", "no BENCH_TOKEN_URI/SoftHSM");
	}
	{
		char name[200];
		fprintf(stderr, "sisign_bench: key-file batch of %zu\n", nsmall);
		snprintf(q, sizeof q, "%s/out-file", dir);
		mkdir(q, 0755);
		file1 = run_batch(in, q, nsmall, fsg, fid, 0);
		snprintf(name, sizeof name, "key-file batch of %zu, default settings (pkg/s)", nsmall);
		row(name, file1, -1, 1, NULL);
	}

	/* the scaling series, a child each */
	{
		double ms[16], ref_ms;
		long rss[16];
		size_t ref = 0;
		char nbuf[32], errbuf[4096], name[200], *last;
		char *av[8];
		for (size_t i = 0; i < nscale; i++) {
			fprintf(stderr, "sisign_bench: %s batch of %zu in a child\n", have_token ? "token" : "key-file", scale[i]);
			snprintf(q, sizeof q, "%s/out-scale-%zu", dir, i);
			mkdir(q, 0755);
			snprintf(nbuf, sizeof nbuf, "%zu", scale[i]);
			av[0] = self;
			av[1] = (char *)"--child-batch";
			av[2] = in;
			av[3] = q;
			av[4] = nbuf;
			av[5] = key;
			av[6] = cert;
			av[7] = NULL;
			(void)run_child(av, &rss[i], errbuf, sizeof errbuf);
			{
				/* the child's last line is its batch's seconds */
				size_t k = strlen(errbuf);
				while (k && errbuf[k - 1] == '\n')
					errbuf[--k] = '\0';
				last = strrchr(errbuf, '\n');
				ms[i] = strtod(last ? last + 1 : errbuf, NULL) * 1000.0 / (double)scale[i];
			}
		}
		/* the reference time: the run closest to 1000 packages */
		for (size_t i = 1; i < nscale; i++)
			if (labs((long)scale[i] - 1000) < labs((long)scale[ref] - 1000))
				ref = i;
		ref_ms = ms[ref];
		for (size_t i = 0; i < nscale; i++) {
			snprintf(name, sizeof name, "scaling: %s batch of %zu, ms per package vs %zu", have_token ? "token" : "key-file",
				scale[i], scale[ref]);
			row(name, ms[i], ref_ms, 3, "linear: ~1");
		}
		for (size_t i = 0; i < nscale; i++) {
			snprintf(name, sizeof name, "scaling: %s batch of %zu, peak RSS (MiB) vs %zu", have_token ? "token" : "key-file",
				scale[i], scale[0]);
			row(name, rss[i] / 1024.0, rss[0] / 1024.0, 1, "flat");
		}
	}
	sisign_identity_free(fid);
	sisign_signer_free(fsg);
	rm_rf(dir);
	return 0;
}
