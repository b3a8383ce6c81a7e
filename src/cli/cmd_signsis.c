/* SPDX-License-Identifier: Apache-2.0 */
/* signsis — Symbian's PC signing tool's command line (sis-format.md §8.1),
 * on top of the sisign library:
 *
 *   signsis [-s] [-c(r|d)] [-v] [-?|-h] [-i] [-o [-p]] [-u] input [output [cert key [passphrase]]]
 *
 * Reachable as `sisign signsis ...` and through a link named signsis.
 * Differences from Symbian's tool, all on purpose: the output is written
 * atomically (nothing is left behind on failure); the key must match the
 * certificate; the key may be a pkcs11: URI; a passphrase on the command
 * line still works but draws a warning ($SISIGN_PASS or the prompt are the
 * safe ways) and is wiped from argv as soon as it is read; -p writes
 * Chain/certN.pem atomically and refuses a Chain or certN.pem that is a
 * symbolic link; file data and earlier chains are kept byte for byte.
 * Also the form batch scripts use with one PKCS#12 file holding key and
 * certificate (told apart by a bare -c, which Symbian's -cr/-cd never is):
 *
 *   signsis -i INPUT -c KEY.p12 -o OUTDIR [-q] [-v]
 *
 * writing OUTDIR/<INPUT's name>, the password from $SISIGN_PASS or a prompt.
 * Exit status as signsis: 0 success, 1 SIS/crypto error, 4 bad command line. */
#include "cli.h"
#include "fe.h"
#include "keyopts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sisign/keygen.h>
#include <sisign/package.h>
#include <sisign/sign.h>

#define SS_EXIT_OK 0
#define SS_EXIT_ERROR 1
#define SS_EXIT_USAGE 4
#define SS_PASS_MAX 1024 /* as makekeys */

struct ss_args {
	int sign, unsign, report, extract, verbose, info, help;
	int alg;                  /* 0 auto, 'r' RSA, 'd' DSA */
	const char *pos[5];       /* input output cert key passphrase */
	int npos;
	char pass[SS_PASS_MAX];   /* pos[4] points here; argv's copy is wiped */
	/* -i INPUT -c KEY.p12 -o OUTDIR [-q]: */
	int p12_form, quiet;
	const char *in_file, *p12, *out_dir;
};

static void ss_help(FILE *fp)
{
	fprintf(fp,
		"usage: signsis [-?|-h] [-c(d|r)] [-i] [-o [-p]] [-s] [-u] [-v] input [output [certificate key [passphrase]]]\n"
		"\n"
		"  -s        sign input with certificate and key, writing output (default)\n"
		"  -cr, -cd  require an RSA or a DSA key\n"
		"  -u        remove the most recent signature chain, writing output\n"
		"  -o        report the certificates of each signature chain\n"
		"  -p        with -o: print full details and write Chain/certN.pem\n"
		"            (refused if Chain or the file is a symbolic link)\n"
		"  -v        verbose\n"
		"  -i        licence information\n"
		"  -?, -h    this help\n"
		"\n"
		"   or: signsis -i input -c key.p12 -o outdir [-q] [-v]\n"
		"\n"
		"  -i FILE   the package to sign\n"
		"  -c P12    a PKCS#12 file (.p12/.pfx) holding the key and its\n"
		"            certificate (and chain); password from $SISIGN_PASS or a prompt\n"
		"  -o DIR    write the signed package as DIR/<input's name> (DIR is made\n"
		"            if missing; the input itself is never replaced)\n"
		"  -q        quiet: print nothing but errors and warnings\n"
		"\n"
		"key may be a pkcs11: URI (PIN from $SISIGN_PIN or a prompt).  Give the\n"
		"passphrase in $SISIGN_PASS or at the prompt rather than as an argument\n"
		"(an argument is wiped from the process's command line once read).\n"
		"Exit: 0 success, 1 error, 4 bad command line.\n");
}

static int ss_usage(const char *fmt, ...) SISIGN_PRINTF(1, 2);
static int ss_error(const char *file, const struct sisign_error *err);

static int ss_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s -h'.\n", cli_progname);
	return SS_EXIT_USAGE;
}

/* True if argv holds a bare -c: Symbian's -c always carries r or d. */
static int ss_is_p12_form(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-c") == 0)
			return 1;
	return 0;
}

/* signsis -i INPUT -c KEY.p12 -o OUTDIR [-q] [-v] [-h] */
static int ss_parse_p12(int argc, char **argv, struct ss_args *a)
{
	a->p12_form = 1;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], **slot = NULL;
		if (strcmp(arg, "-i") == 0)
			slot = &a->in_file;
		else if (strcmp(arg, "-c") == 0)
			slot = &a->p12;
		else if (strcmp(arg, "-o") == 0)
			slot = &a->out_dir;
		else if (strcmp(arg, "-q") == 0)
			a->quiet = 1;
		else if (strcmp(arg, "-v") == 0)
			a->verbose = 1;
		else if (strcmp(arg, "-h") == 0 || strcmp(arg, "-?") == 0)
			a->help = 1;
		else
			return ss_usage("with -c KEY.p12 only -i INPUT, -o OUTDIR, -q and -v apply, not '%s'", arg);
		if (slot == NULL)
			continue;
		if (*slot != NULL)
			return ss_usage("%s is given twice", arg);
		if (i + 1 >= argc || argv[i + 1][0] == '\0')
			return ss_usage("%s needs a value", arg);
		*slot = argv[++i];
	}
	if (a->help)
		return 0;
	if (!a->in_file || !a->p12 || !a->out_dir)
		return ss_usage("-c KEY.p12 needs -i INPUT and -o OUTDIR too");
	if (a->quiet && a->verbose)
		return ss_usage("-q and -v cannot be combined");
	a->sign = 1;
	return 0;
}

static int ss_parse(int argc, char **argv, struct ss_args *a)
{
	int i;
	const char *p;

	memset(a, 0, sizeof *a);
	if (ss_is_p12_form(argc, argv))
		return ss_parse_p12(argc, argv, a);
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (arg[0] == '-' && arg[1] != '\0') {
			for (p = arg + 1; *p; p++) {
				switch (*p) {
				case 's': a->sign = 1; break;
				case 'u': a->unsign = 1; break;
				case 'o': a->report = 1; break;
				case 'p': a->extract = 1; break;
				case 'v': a->verbose = 1; break;
				case 'i': a->info = 1; break;
				case 'h':
				case '?': a->help = 1; break;
				case 'c':
					if (p[1] != 'r' && p[1] != 'd' && p[1] != 'R' && p[1] != 'D')
						return ss_usage("option -c needs r (RSA) or d (DSA), in '%s'", arg);
					p++;
					if (a->alg && a->alg != (*p | 0x20))
						return ss_usage("only one of -cr and -cd may be given");
					a->alg = *p | 0x20;
					break;
				default: {
					char bad[3] = { '-', *p, '\0' };
					return ss_usage("unknown option '%s'", bad);
				}
				}
			}
			continue;
		}
		if (a->npos >= 5)
			return ss_usage("too many arguments ('%s')", arg);
		if (a->npos == 4) {
			/* The passphrase: keep our own copy and wipe argv's, so
			 * it no longer shows in ps or /proc/PID/cmdline (a
			 * mitigation only: it was visible until now). */
			size_t n = strlen(argv[i]);
			if (n >= sizeof a->pass) {
				sisign_memzero(argv[i], n);
				return ss_usage("the passphrase is too long");
			}
			memcpy(a->pass, argv[i], n + 1);
			sisign_memzero(argv[i], n);
			arg = a->pass;
		}
		a->pos[a->npos++] = arg;
	}
	if (a->help || a->info)
		return 0;
	if (a->sign && a->unsign)
		return ss_usage("cannot sign (-s) and remove a signature (-u) at once");
	if (a->extract && !a->report)
		return ss_usage("-p only goes with -o");
	if (a->npos == 0)
		return a->verbose ? 0 : ss_usage("no input file");
	if (a->report && !a->sign && !a->unsign) {
		if (a->npos > 1)
			return ss_usage("-o takes only the input file, not '%s'", a->pos[1]);
		if (a->alg)
			return ss_usage("-c needs signing");
		return 0;
	}
	if (a->unsign) {
		if (a->npos < 2)
			return ss_usage("-u needs an output file");
		if (a->npos > 2)
			return ss_usage("a certificate ('%s') is given without signing", a->pos[2]);
		if (a->alg)
			return ss_usage("-c needs signing");
		return 0;
	}
	a->sign = 1;
	if (a->npos < 4)
		return ss_usage("signing needs input, output, certificate and key");
	return 0;
}

/* ---- -o report ---------------------------------------------------------- */

static void ss_date(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, size, "?");
		return;
	}
	snprintf(buf, size, "%d/%d/%d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
}

/* Chain/certN.pem: the certificates of chain k as PEM.  Neither Chain nor
 * the file is followed if it is a symbolic link (someone else may own the
 * directory signsis runs in): the file is written through a descriptor of
 * the directory opened with O_NOFOLLOW, atomically, and an existing link
 * at either name is an error. */
static int ss_extract(size_t k, const struct sisign_chain *ch)
{
	struct sisign_error err;
	char name[32], shown[48];
	int dfd, r;

	if (mkdir("Chain", 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "%s: cannot create directory Chain: %s\n", cli_progname, strerror(errno));
		return SS_EXIT_ERROR;
	}
	dfd = open("Chain", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		int e = errno;
		fprintf(stderr, "%s: Chain: %s\n", cli_progname,
			e == ELOOP || e == ENOTDIR ? "is a symbolic link or not a directory; not writing into it"
						   : strerror(e));
		return SS_EXIT_ERROR;
	}
	snprintf(name, sizeof name, "cert%zu.pem", k + 1);
	snprintf(shown, sizeof shown, "Chain/%s", name);
	sisign_error_clear(&err);
	r = sisign_certs_write_pem_at(dfd, name, ch->certs, ch->certs_len, &err);
	close(dfd);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		return ss_error(shown, &err);
	}
	return SS_EXIT_OK;
}

static int ss_report(const struct sisign_pkg *pkg, int extract)
{
	const struct sisign_controller *c = sisign_pkg_controller(pkg);
	struct sisign_error err;
	struct sisign_cert_info *ci = NULL;
	size_t k, i, n = 0;
	char d1[32], d2[32], t1[FE_TIME_BUFSIZE], t2[FE_TIME_BUFSIZE];
	int rc = SS_EXIT_OK;

	if (sisign_pkg_info(pkg)->kind != SISIGN_PKG_SISX)
		printf("Reporting Stub Sis Controller\n");
	if (c->nchains == 0) {
		printf("No primary signatures.\n");
		return SS_EXIT_OK;
	}
	printf("\nPrimary:\n");
	for (k = 0; k < c->nchains; k++) {
		sisign_error_clear(&err);
		if (sisign_certs_describe(c->chains[k].certs, c->chains[k].certs_len, &ci, &n, &err) != SISIGN_OK) {
			fe_print_error(stderr, cli_progname, NULL, &err);
			rc = SS_EXIT_ERROR;
		}
		for (i = 0; i < n; i++) {
			if (extract) {
				fe_time_format(ci[i].not_before, t1, sizeof t1);
				fe_time_format(ci[i].not_after, t2, sizeof t2);
				printf("Certificate:\n    Serial Number: %s\n    Issuer: ", ci[i].serial);
				fe_fputs_safe(ci[i].issuer, stdout);
				printf("\n    Validity\n        Not Before: %s\n        Not After : %s\n    Subject: ", t1, t2);
				fe_fputs_safe(ci[i].subject, stdout);
				printf("\n    Public Key Algorithm: %s (%d bit)\n    SHA-256 Fingerprint: %s\n", ci[i].key_type,
					ci[i].key_bits, ci[i].sha256);
			} else {
				ss_date(ci[i].not_before, d1, sizeof d1);
				ss_date(ci[i].not_after, d2, sizeof d2);
				printf("Issued by : ");
				fe_fputs_safe(ci[i].issuer, stdout);
				printf(".\nIssued to : ");
				fe_fputs_safe(ci[i].subject, stdout);
				printf(".\nValid from %s to %s\n\n", d1, d2);
			}
		}
		sisign_cert_info_free(ci);
		ci = NULL;
		n = 0;
		if (extract && ss_extract(k, &c->chains[k]) != SS_EXIT_OK)
			rc = SS_EXIT_ERROR;
	}
	return rc;
}

/* ---- sign / unsign -------------------------------------------------------- */

/* The passphrase from the command line, as a secret callback. */
static int argv_pass_cb(void *userdata, const char *kind, const char *what, int tries_left, char *buf,
	size_t size)
{
	const char *pw = userdata;
	size_t n = strlen(pw);

	(void)kind;
	(void)what;
	(void)tries_left;
	if (n + 1 > size)
		return SISIGN_ERR_TOO_LARGE;
	memcpy(buf, pw, n + 1);
	return (int)n;
}

static int ss_error(const char *file, const struct sisign_error *err)
{
	fe_print_error(stderr, cli_progname, file, err);
	return SS_EXIT_ERROR;
}

static int ss_sign(const struct ss_args *a, struct sisign_pkg *pkg, int mode)
{
	struct keyopts ko;
	struct sisign_signer *signer = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_error err;
	const char *out = a->pos[1], *pass = a->npos > 4 ? a->pos[4] : NULL;
	enum sisign_key_type kt;
	int r, rc = SS_EXIT_ERROR;

	keyopts_init(&ko);
	ko.key = a->pos[3];
	ko.cert = a->pos[2];
	sisign_error_clear(&err);
	if (pass && keyopts_is_uri(ko.key)) {
		fprintf(stderr, "%s: a token PIN is never taken from the command line; use SISIGN_PIN or the prompt\n",
			cli_progname);
		return SS_EXIT_USAGE;
	}
	if (pass) {
		fprintf(stderr, "%s: warning: passphrase given on the command line is visible to other users; "
				"use SISIGN_PASS or a prompt\n", cli_progname);
		(void)fe_protect_process();
		r = sisign_signer_from_key_file(ko.key, argv_pass_cb, (void *)pass, &signer, &err);
		if (r != SISIGN_OK) {
			if (err.code == 0)
				err.code = r;
			rc = ss_error(ko.key, &err);
			goto out;
		}
	} else if (keyopts_load_signer(&ko, &signer) != EXIT_OK) {
		goto out;
	}
	kt = sisign_signer_key_type(signer);
	if ((a->alg == 'r' && kt != SISIGN_KEY_RSA) || (a->alg == 'd' && kt != SISIGN_KEY_DSA)) {
		char *safe = sisign_token_uri_redact(ko.key);
		fprintf(stderr, "%s: ", cli_progname);
		fe_fputs_safe(safe ? safe : "?", stderr);
		fprintf(stderr, ": not %s key\n", a->alg == 'r' ? "an RSA" : "a DSA");
		free(safe);
		goto out;
	}
	if (keyopts_load_identity(&ko, signer, &id) != EXIT_OK)
		goto out;
	if (a->verbose)
		printf("Signing\n");
	r = sisign_pkg_sign(pkg, id, &err);
	if (r == SISIGN_OK)
		r = sisign_pkg_write(pkg, out, mode, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		rc = ss_error(r == SISIGN_ERR_SYSTEM ? out : a->pos[0], &err);
		goto out;
	}
	rc = SS_EXIT_OK;
out:
	sisign_identity_free(id);
	sisign_signer_free(signer);
	return rc;
}

/* -i INPUT -c KEY.p12 -o OUTDIR: INPUT signed into OUTDIR/<its name> with
 * the key, certificate and chain of the PKCS#12 file.  OUTDIR is made (one
 * level) only once the signature is made, so a failure leaves nothing. */
static int ss_sign_p12(const struct ss_args *a)
{
	struct keyopts ko;
	struct sisign_signer *signer = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	struct stat in, o;
	const char *base = strrchr(a->in_file, '/');
	char *out = NULL;
	size_t n;
	int r, rc = SS_EXIT_ERROR, mode = 0644, made_dir = 0;

	base = base ? base + 1 : a->in_file;
	if (*base == '\0')
		return ss_usage("-i needs a file, not the directory '%s'", a->in_file);
	n = strlen(a->out_dir) + 1 + strlen(base) + 1;
	if ((out = malloc(n)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", cli_progname);
		return SS_EXIT_ERROR;
	}
	snprintf(out, n, "%s/%s", a->out_dir, base);
	if (stat(a->in_file, &in) == 0) {
		mode = (int)(in.st_mode & 0777);
		if (stat(out, &o) == 0 && o.st_dev == in.st_dev && o.st_ino == in.st_ino) {
			fprintf(stderr, "%s: %s is the input itself; give another output directory\n", cli_progname,
				out);
			goto out;
		}
	}
	sisign_error_clear(&err);
	r = sisign_pkg_open(a->in_file, NULL, &pkg, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		rc = ss_error(a->in_file, &err);
		goto out;
	}
	if (keyopts_precheck(pkg, a->in_file) != EXIT_OK)
		goto out;
	keyopts_init(&ko);
	ko.key = a->p12;
	if (keyopts_load_signer(&ko, &signer) != EXIT_OK || keyopts_load_identity(&ko, signer, &id) != EXIT_OK)
		goto out;
	if (a->verbose)
		printf("Signing %s\n", a->in_file);
	r = sisign_pkg_sign(pkg, id, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		rc = ss_error(a->in_file, &err);
		goto out;
	}
	if (mkdir(a->out_dir, 0777) == 0) {
		made_dir = 1;
	} else if (errno != EEXIST) {
		fprintf(stderr, "%s: cannot create directory %s: %s\n", cli_progname, a->out_dir, strerror(errno));
		goto out;
	}
	/* The write checks the file hashes as it copies the file data: a
	 * mismatch there writes nothing, and the directory made for it goes. */
	r = sisign_pkg_write(pkg, out, mode, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		if (made_dir)
			(void)rmdir(a->out_dir);
		rc = ss_error(r == SISIGN_ERR_SYSTEM ? out : a->in_file, &err);
		goto out;
	}
	if (!a->quiet)
		printf("%s -> %s\n", a->in_file, out);
	rc = SS_EXIT_OK;
out:
	sisign_identity_free(id);
	sisign_signer_free(signer);
	sisign_pkg_free(pkg);
	free(out);
	return rc;
}

static int ss_run(int argc, char **argv, struct ss_args *a)
{
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	struct stat st;
	int rc, r, mode = 0644;

	cli_progname = "signsis"; /* messages read as the tool's own */
	if ((rc = ss_parse(argc, argv, a)) != 0)
		return rc;
	if (a->verbose || a->info)
		printf("SIGNSIS Version 5.1 (sisign %s)\n", sisign_version());
	if (a->help) {
		ss_help(stdout);
		return SS_EXIT_OK;
	}
	if (a->info) {
		printf("Uses the OpenSSL toolkit (https://www.openssl.org/), licensed under the Apache License 2.0.\n");
		return SS_EXIT_OK;
	}
	if (a->p12_form)
		return ss_sign_p12(a);
	if (a->npos == 0)
		return SS_EXIT_OK;
	if (stat(a->pos[0], &st) == 0)
		mode = (int)(st.st_mode & 07777);
	sisign_error_clear(&err);
	r = sisign_pkg_open(a->pos[0], NULL, &pkg, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		return ss_error(a->pos[0], &err);
	}
	rc = SS_EXIT_OK;
	if (a->sign) {
		rc = keyopts_precheck(pkg, a->pos[0]) == EXIT_OK ? ss_sign(a, pkg, mode) : SS_EXIT_ERROR;
	} else if (a->unsign) {
		if (a->verbose)
			printf("Removing signature\n");
		r = sisign_pkg_unsign(pkg, 0, &err);
		if (r == SISIGN_OK)
			r = sisign_pkg_write(pkg, a->pos[1], mode, &err);
		if (r != SISIGN_OK) {
			if (err.code == 0)
				err.code = r;
			rc = ss_error(r == SISIGN_ERR_SYSTEM ? a->pos[1] : a->pos[0], &err);
		}
	}
	if (rc == SS_EXIT_OK && a->report) {
		/* Like signsis: the report describes the input as it was read. */
		struct sisign_pkg *orig = NULL;
		if (a->sign || a->unsign) {
			r = sisign_pkg_open(a->pos[0], NULL, &orig, &err);
			if (r != SISIGN_OK) {
				if (err.code == 0)
					err.code = r;
				rc = ss_error(a->pos[0], &err);
			}
		}
		if (rc == SS_EXIT_OK)
			rc = ss_report(orig ? orig : pkg, a->extract);
		sisign_pkg_free(orig);
	}
	sisign_pkg_free(pkg);
	return rc;
}

static int cmd_signsis(int argc, char **argv)
{
	struct ss_args a;
	int rc = ss_run(argc, argv, &a);

	sisign_memzero(&a, sizeof a);
	return rc;
}

const struct cli_command cli_cmd_signsis = {
	"signsis",
	"[-s] [-c(r|d)] [-v] [-?|-h] [-i] [-o [-p]] [-u] input [output [cert key [passphrase]]]",
	"Symbian signsis-compatible command line",
	cmd_signsis,
	"The command line of Symbian's signsis 5.1 (options may share one dash,\n"
	"e.g. -sv).  Also available as a program named `signsis` (a link to\n"
	"sisign).  Output is written atomically; a key that does not match the\n"
	"certificate is an error.  KEY may be a pkcs11: URI.  A passphrase\n"
	"argument works but prints a warning: prefer $SISIGN_PASS or the prompt;\n"
	"it is wiped from the process's command line as soon as it is read.\n"
	"As with `sisign sign`, -s refuses (exit 1, before any passphrase or\n"
	"PIN) a package the device would refuse whatever is added: a chain already\n"
	"in it that does not verify or uses MD2/MD5, a file hash that does not\n"
	"match its data, a damaged controller.\n"
	"-o -p writes Chain/certN.pem atomically and refuses a Chain directory\n"
	"or certN.pem that is a symbolic link.\n"
	"  sisign signsis -i INPUT -c KEY.p12 -o OUTDIR [-q] [-v]\n"
	"is the form batch scripts call: a bare -c names a PKCS#12\n"
	"file (.p12/.pfx) holding the key, its certificate and any chain; the\n"
	"signed package is written as OUTDIR/<input's name> (OUTDIR is made if\n"
	"missing, once the signature is made; an output that is the input is\n"
	"refused); the password comes from $SISIGN_PASS or a prompt, never the\n"
	"command line; -q prints nothing but errors and warnings.\n"
	"Exit: 0 success, 1 error, 4 bad command line.\n",
};
