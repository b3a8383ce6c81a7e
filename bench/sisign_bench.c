/* SPDX-License-Identifier: Apache-2.0 */
/* sisign benchmarks (issue #6): prints a table, not part of the test suite.
 *
 *   sisign_bench [--quick] [--random] [--jobs N] [--dir DIR] [--small N] [--big-mib M]
 *
 * --random: the big package holds incompressible data (stored, not
 * deflated), so signing costs SHA-1 + CRC + copy and no inflate.
 *
 * Token rows need a SoftHSM token: BENCH_TOKEN_URI (e.g.
 * "pkcs11:token=bench;object=sisign;type=private"), SOFTHSM2_CONF,
 * SOFTHSM2_MODULE and SISIGN_PIN in the environment (bench/run-bench.sh
 * makes one); without them those rows say "skipped".
 *
 *   1. raw C_Sign rate: a loop of C_SignInit+C_Sign (CKM_RSA_PKCS, SHA-1
 *      DigestInfo) on one session of the same token;
 *   2. a batch of N small packages signed on that token (one login, one
 *      signing queue; and with parallel_sign), packages/s vs the raw rate;
 *   3. one big package (default 1 GiB of file data): signing time vs `cp`
 *      of the same file, and peak RSS of the signing process;
 *   4. verify throughput vs a plain zlib inflate + SHA-1 pass over the same
 *      file data. */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
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
static int random_data; /* --random: incompressible data, stored uncompressed */

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

static int child_sign(const char *in, const char *out, const char *key, const char *cert)
{
	struct sisign_signer *sg = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_identity_opts io = { cert, NULL, 0, 0 };
	struct sisign_pkg *pkg = NULL;
	struct sisign_error e;
	if (sisign_signer_from_key_file(key, NULL, NULL, &sg, &e) || sisign_identity_new(sg, &io, &id, &e) ||
		sisign_pkg_open(in, NULL, &pkg, &e) || sisign_pkg_sign(pkg, id, &e) ||
		sisign_pkg_write(pkg, out, 0644, &e))
		die("sign", &e);
	sisign_pkg_free(pkg);
	sisign_identity_free(id);
	sisign_signer_free(sg);
	return 0;
}

static int child_verify(const char *in)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_verify_report *rep = NULL;
	struct sisign_error e;
	if (sisign_pkg_open(in, NULL, &pkg, &e) || sisign_pkg_verify(pkg, NULL, &rep, &e))
		die("verify", &e);
	if (rep->data != SISIGN_OK)
		die("verify: data", NULL);
	sisign_verify_report_free(rep);
	sisign_pkg_free(pkg);
	return 0;
}

/* Plain baseline: inflate + SHA-1 of every file's data, 1 MiB buffers. */
static int child_plain(const char *in)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_error e;
	const struct sisign_controller *c;
	size_t bs = (size_t)1 << 20;
	unsigned char *ib = malloc(bs), *ob = malloc(bs), md[20];
	int fd = open(in, O_RDONLY);
	/* Offsets only (a parse, no data read: check_data is what we time
	 * against, so locate payloads from the parse alone would be nicer;
	 * the public model gives them after check_data, done here untimed in
	 * a throw-away pass over a hot cache — the parent times only the
	 * loop below by reading our stderr). */
	if (sisign_pkg_open(in, NULL, &pkg, &e) || sisign_pkg_check_data(pkg, &e))
		die("open", &e);
	c = sisign_pkg_controller(pkg);
	double t0 = now();
	for (size_t i = 0; i < c->nfiles; i++) {
		const struct sisign_file *f = &c->files[i];
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		z_stream zs;
		uint64_t done = 0;
		unsigned int ml = 0;
		memset(&zs, 0, sizeof zs);
		EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
		if (f->data_algorithm == 1)
			inflateInit(&zs);
		while (done < f->data_stored) {
			size_t n = f->data_stored - done < bs ? (size_t)(f->data_stored - done) : bs;
			if (pread(fd, ib, n, (off_t)(f->data_offset + done)) != (ssize_t)n)
				die("pread", NULL);
			done += n;
			if (f->data_algorithm != 1) {
				EVP_DigestUpdate(ctx, ib, n);
				continue;
			}
			zs.next_in = ib;
			zs.avail_in = (uInt)n;
			while (zs.avail_in) {
				zs.next_out = ob;
				zs.avail_out = (uInt)bs;
				int zr = inflate(&zs, Z_NO_FLUSH);
				EVP_DigestUpdate(ctx, ob, bs - zs.avail_out);
				if (zr == Z_STREAM_END)
					break;
				if (zr != Z_OK)
					die("inflate", NULL);
			}
		}
		EVP_DigestFinal_ex(ctx, md, &ml);
		if (memcmp(md, f->hash, 20) != 0)
			die("baseline hash mismatch", NULL);
		if (f->data_algorithm == 1)
			inflateEnd(&zs);
		EVP_MD_CTX_free(ctx);
	}
	fprintf(stderr, "%.6f\n", now() - t0);
	sisign_pkg_free(pkg);
	free(ib);
	free(ob);
	close(fd);
	return 0;
}

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
		snprintf(in, sizeof in, "%s/p%04zu.sis", dir, i);
		snprintf(out, sizeof out, "%s/p%04zu.sis", outdir, i);
		if (sisign_batch_add(b, in, out, &e))
			die("batch add", &e);
	}
	t0 = now();
	if (sisign_batch_run(b, &e))
		die("batch run", &e);
	t0 = now() - t0;
	sisign_batch_summary(b, NULL, &done, NULL, NULL, NULL);
	if (done != n)
		die("batch: not every package was signed", &sisign_batch_result(b, 0)->err);
	sisign_batch_free(b);
	return (double)n / t0;
}

static void cpuinfo(char *buf, size_t n)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[200];
	snprintf(buf, n, "unknown");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');
			snprintf(buf, n, "%s", c ? c + 2 : line);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	int quick = 0;
	size_t nsmall = 1000;
	uint64_t big_mib = 1024;
	const char *base = NULL;
	char dir[1024], p[4096], q[4096], key[4096], cert[4096], cpu[256], self[4096];
	const char *uri = getenv("BENCH_TOKEN_URI"), *module = getenv("SOFTHSM2_MODULE");
	struct sisign_signer *fsg = NULL, *tsg = NULL;
	struct sisign_identity *fid = NULL, *tid = NULL;
	struct sisign_identity_opts io;
	struct sisign_error e;
	double raw = -1, tok1 = -1, tokp = -1, file1, filep;
	long rss_sign = 0, rss_verify = 0;
	char errbuf[256];

	if (argc >= 2 && strcmp(argv[1], "--child-sign") == 0 && argc == 6)
		return child_sign(argv[2], argv[3], argv[4], argv[5]);
	if (argc >= 2 && strcmp(argv[1], "--child-verify") == 0 && argc == 3)
		return child_verify(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "--child-plain") == 0 && argc == 3)
		return child_plain(argv[2]);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			quick = 1;
			nsmall = 40;
			big_mib = 8;
		} else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
			bench_jobs = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--random") == 0) {
			random_data = 1;
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			base = argv[++i];
		} else if (strcmp(argv[i], "--small") == 0 && i + 1 < argc) {
			nsmall = strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--big-mib") == 0 && i + 1 < argc) {
			big_mib = strtoull(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: sisign_bench [--quick] [--random] [--jobs N] [--dir DIR] [--small N] [--big-mib M]\n");
			return 2;
		}
	}
	if (!module)
		module = "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so";
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

	/* small packages */
	snprintf(p, sizeof p, "%s/small", dir);
	mkdir(p, 0755);
	snprintf(q, sizeof q, "%s/small/src.txt", dir);
	write_data(q, 4096);
	for (size_t i = 0; i < nsmall; i++) {
		char out[4096];
		const char *srcs[1] = { q };
		snprintf(out, sizeof out, "%s/small/p%04zu.sis", dir, i);
		pack_one(out, srcs, 1, 0xE0010000u + (uint32_t)i);
	}
	snprintf(p, sizeof p, "%s/small", dir);
	snprintf(q, sizeof q, "%s/out1", dir);
	mkdir(q, 0755);
	file1 = run_batch(p, q, nsmall, fsg, fid, 0);
	filep = run_batch(p, q, nsmall, fsg, fid, 1);

	if (uri && getenv("SOFTHSM2_CONF")) {
		struct sisign_token_opts to;
		raw = raw_rate(module, uri, quick ? 100 : 2000);
		memset(&to, 0, sizeof to);
		to.module = module;
		to.pin_cb = pin_cb;
		if (sisign_signer_from_pkcs11(uri, &to, &tsg, &e) || sisign_identity_new(tsg, NULL, &tid, &e))
			die("token identity", &e);
		snprintf(q, sizeof q, "%s/out2", dir);
		mkdir(q, 0755);
		tok1 = run_batch(p, q, nsmall, tsg, tid, 0);
		sisign_identity_free(tid);
		sisign_signer_free(tsg);
		/* the same token opened for concurrent sessions */
		to.parallel_sessions = 1;
		if (sisign_signer_from_pkcs11(uri, &to, &tsg, &e) || sisign_identity_new(tsg, NULL, &tid, &e))
			die("token identity", &e);
		tokp = run_batch(p, q, nsmall, tsg, tid, 1);
	}

	/* the big package: 4 files of big_mib/4 */
	{
		char srcs[4][4096];
		const char *sp[4];
		char big[4096], out[4096], *av[7];
		uint64_t per = (big_mib << 20) / 4;
		double t_sign, t_cp, t_cpsync, t_verify, t_plain;
		struct stat st;
		for (int i = 0; i < 4; i++) {
			snprintf(srcs[i], sizeof srcs[i], "%s/big%d.dat", dir, i);
			write_data(srcs[i], per);
			sp[i] = srcs[i];
		}
		snprintf(big, sizeof big, "%s/big.sis", dir);
		pack_one(big, sp, 4, 0xE0020000u);
		for (int i = 0; i < 4; i++)
			unlink(srcs[i]);
		stat(big, &st);
		snprintf(out, sizeof out, "%s/big-signed.sis", dir);
		/* warm the cache once, equally for both */
		av[0] = (char *)"/bin/cp";
		av[1] = big;
		av[2] = out;
		av[3] = NULL;
		(void)run_child(av, NULL, NULL, 0);
		unlink(out);
		t_cp = run_child(av, NULL, NULL, 0);
		unlink(out);
		{
			char cmd[3 * 4096 + 64];
			char *sh[] = { (char *)"/bin/sh", (char *)"-c", cmd, NULL };
			snprintf(cmd, sizeof cmd, "cp '%s' '%s' && sync '%s'", big, out, out);
			t_cpsync = run_child(sh, NULL, NULL, 0);
			unlink(out);
		}
		av[0] = self;
		av[1] = (char *)"--child-sign";
		av[2] = big;
		av[3] = out;
		av[4] = key;
		av[5] = cert;
		av[6] = NULL;
		t_sign = run_child(av, &rss_sign, errbuf, sizeof errbuf);
		av[1] = (char *)"--child-verify";
		av[2] = out;
		av[3] = NULL;
		t_verify = run_child(av, &rss_verify, errbuf, sizeof errbuf);
		av[1] = (char *)"--child-plain";
		(void)run_child(av, NULL, errbuf, sizeof errbuf);
		t_plain = strtod(errbuf, NULL);

		cpuinfo(cpu, sizeof cpu);
		printf("sisign benchmark%s — %ld CPU(s), %s\n", quick ? " (quick smoke run: sizes reduced, numbers not meaningful)" : "",
			sysconf(_SC_NPROCESSORS_ONLN), cpu);
		printf("%-58s %14s %14s %8s\n", "measurement", "value", "reference", "ratio");
		if (raw > 0) {
			printf("%-58s %10.1f/s %12.1f/s %8.2f  (goal >= 0.50)\n", "token batch, one queue: packages/s vs raw C_Sign/s",
				tok1, raw, tok1 / raw);
			printf("%-58s %10.1f/s %12.1f/s %8.2f\n", "token batch, parallel_sign: packages/s vs raw C_Sign/s", tokp,
				raw, tokp / raw);
		} else {
			printf("%-58s %14s\n", "token batch vs raw C_Sign rate", "skipped (no BENCH_TOKEN_URI/SoftHSM)");
		}
		printf("%-58s %10.1f/s %14s\n", "file-key batch, one queue: packages/s", file1, "-");
		printf("%-58s %10.1f/s %14s\n", "file-key batch, parallel_sign: packages/s", filep, "-");
		printf("%-58s %12.2fs %12.2fs %8.2f  (goal <= 1.50)\n", "big package sign vs cp", t_sign, t_cp, t_sign / t_cp);
		printf("%-58s %12.2fs %12.2fs %8.2f\n", "big package sign vs cp + sync (sign fsyncs)", t_sign, t_cpsync,
			t_sign / t_cpsync);
		printf("%-58s %10.1f MiB %14s %8s  (goal < 64 MiB)\n", "peak RSS, signing the big package", rss_sign / 1024.0, "-", "-");
		printf("%-58s %10.1f MiB %14s\n", "peak RSS, verifying the big package", rss_verify / 1024.0, "-");
		printf("%-58s %9.1f MB/s %9.1f MB/s %8.2f  (goal >= 0.70)\n",
			"verify throughput vs plain inflate+SHA-1 (uncompressed MB)", (double)(big_mib << 20) / 1e6 / t_verify,
			(double)(big_mib << 20) / 1e6 / t_plain, t_plain / t_verify);
		printf("%-58s %10.1f MiB (%llu packed bytes), %zu small packages\n", "big package data", (double)big_mib,
			(unsigned long long)st.st_size, nsmall);
	}
	sisign_identity_free(tid);
	sisign_signer_free(tsg);
	sisign_identity_free(fid);
	sisign_signer_free(fsg);
	{
		char cmd[4200];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "sisign_bench: could not remove %s\n", dir);
	}
	return 0;
}
