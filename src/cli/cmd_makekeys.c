/* SPDX-License-Identifier: Apache-2.0 */
/* makekeys — Symbian's key and certificate tool, command-line compatible
 * (sis-format.md §8.2), run as `makekeys` (multi-call link) or
 * `sisign makekeys`:
 *   makekeys -cert [-expdays N] [-password PW] [-len N] [-rsa|-dsa] -dname "DN" KEY CERT
 *   makekeys -req [-password PW] -dname "DN" KEY CERT REQUEST
 *   makekeys -view CERT
 * A new key is DSA-1024 as makekeys made it, but RSA when -len is above
 * 1024 and -dsa is not given (Nokia-era guides ask for `-len 2048`, which
 * Symbian's DSA cannot be); a line on stderr says so.  The DN takes every
 * makekeys key: CN, OU, OR (O), LO (L), ST, CO (C), EM (emailAddress).  The
 * password must be at least 4 characters, as makekeys required.
 * Differences, on purpose: the key file is never overwritten (an existing
 * key is reused, as makekeys does); the certificate carries the code-
 * signing profile of `sisign cert` (makekeys wrote no extensions and serial
 * 1); with no password the key is written unencrypted instead of asking;
 * -password works but is warned about (it shows in the process list) —
 * $SISIGN_PASS is the quiet way.  Files are makekeys' formats: traditional
 * PEM key (DES-EDE3-CBC when encrypted), PEM certificate and request. */
#include "cli.h"
#include "fe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sisign/keygen.h>

#define MK_PASS_MAX 1024
#define MK_PASS_MIN 4 /* Symbian's makekeys refused shorter passwords */

static int mk_pass_cb(void *ud, const char *kind, const char *what, int tries, char *buf, size_t size)
{
	const char *pw = ud;
	size_t n = strlen(pw);
	(void)kind;
	(void)what;
	(void)tries;
	if (n + 1 > size)
		return SISIGN_ERR_TOO_LARGE;
	memcpy(buf, pw, n + 1);
	return (int)n;
}

static int mk_usage(const char *fmt, ...) SISIGN_PRINTF(1, 2);

static int mk_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: makekeys -cert [-expdays DAYS] [-password PW] [-len BITS] [-rsa|-dsa] "
			"-dname \"CN=... O=...\" KEYFILE CERTFILE\n"
			"       makekeys -req [-password PW] -dname \"CN=... O=...\" KEYFILE CERTFILE REQFILE\n"
			"       makekeys -view CERTFILE\n");
	return EXIT_USAGE;
}

/* Symbian's makekeys rule, kept: exit 5 (a passphrase problem) before any
 * file is touched. */
static int mk_short_pass(const char *from)
{
	cli_msg("the password (%s) must be at least %d characters, as Symbian's makekeys requires; "
		"nothing was written", from, MK_PASS_MIN);
	return EXIT_KEY;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* makekeys -view CERT: the certificate(s) in CERT as text. */
static int mk_view(const char *path)
{
	struct sisign_error err;
	char *text = NULL;
	int r;

	sisign_error_clear(&err);
	r = sisign_cert_file_text(path, &text, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		return cli_report(strstr(err.message, path) ? NULL : path, &err);
	}
	/* Line by line: whatever a certificate's strings hold is shown
	 * escaped, never sent to the terminal raw. */
	for (char *line = text, *nl; *line; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL) {
			fe_fputs_safe(line, stdout);
			putchar('\n');
			break;
		}
		*nl = '\0';
		fe_fputs_safe(line, stdout);
		putchar('\n');
	}
	free(text);
	return EXIT_OK;
}

static int run(int argc, char **argv)
{
	const char *dname = NULL, *pos[3] = { NULL, NULL, NULL };
	char pass[MK_PASS_MAX] = "";
	int mode = 0, npos = 0, days = 0, bits = 0, type = SISIGN_KEY_DSA, type_given = 0, have_pass = 0, r;
	const char *view = NULL;
	struct sisign_error err;
	const char *env;

	sisign_error_clear(&err);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0') {
			if (npos == 3)
				return mk_usage("too many file arguments ('%s')", a);
			pos[npos++] = a;
			continue;
		}
		if (strcmp(a, "-cert") == 0 || strcmp(a, "-req") == 0) {
			if (mode)
				return mk_usage("give one of -cert and -req");
			mode = a[1];
		} else if (strcmp(a, "-view") == 0) {
			if (i + 1 >= argc)
				return mk_usage("-view needs a certificate file");
			view = argv[++i];
		} else if (strcmp(a, "-rsa") == 0) {
			type = SISIGN_KEY_RSA;
			type_given = 1;
		} else if (strcmp(a, "-dsa") == 0) {
			type = SISIGN_KEY_DSA;
			type_given = 1;
		} else if (strcmp(a, "-v") == 0) {
			/* verbose: nothing more to say */
		} else if (strcmp(a, "-i") == 0) {
			printf("makekeys compatible front end of sisign %s\n", sisign_version());
			return EXIT_OK;
		} else if (strcmp(a, "-expdays") == 0 || strcmp(a, "-len") == 0 || strcmp(a, "-dname") == 0 ||
			   strcmp(a, "-password") == 0) {
			if (i + 1 >= argc)
				return mk_usage("%s needs a value", a);
			i++;
			if (strcmp(a, "-expdays") == 0 && parse_int(argv[i], 1, 36500, &days) != 0)
				return mk_usage("-expdays needs a number of days, not '%s'", argv[i]);
			if (strcmp(a, "-len") == 0 && parse_int(argv[i], 512, 4096, &bits) != 0)
				return mk_usage("-len needs a key length in bits (512 to 4096), not '%s'", argv[i]);
			if (strcmp(a, "-dname") == 0)
				dname = argv[i];
			if (strcmp(a, "-password") == 0) {
				if (strlen(argv[i]) >= sizeof pass)
					return mk_usage("-password is too long");
				strcpy(pass, argv[i]);
				have_pass = 1;
				if (strlen(pass) < MK_PASS_MIN) {
					sisign_memzero(argv[i], strlen(argv[i]));
					sisign_memzero(pass, sizeof pass);
					return mk_short_pass("-password");
				}
				/* Wipe our copy in argv (a mitigation only: it
				 * was visible until now). */
				sisign_memzero(argv[i], strlen(argv[i]));
				cli_msg("warning: -password shows the passphrase to other users (ps); "
					"set $SISIGN_PASS instead");
			}
		} else {
			return mk_usage("unknown option '%s'", a);
		}
	}
	if (view) {
		sisign_memzero(pass, sizeof pass);
		if (mode || npos)
			return mk_usage("-view takes only a certificate file");
		return mk_view(view);
	}
	if (!mode)
		return mk_usage("give -cert or -req");
	if (!dname)
		return mk_usage("-dname \"CN=... O=...\" is required");
	if (npos != (mode == 'c' ? 2 : 3))
		return mk_usage("%s", mode == 'c' ? "-cert takes KEYFILE CERTFILE" : "-req takes KEYFILE CERTFILE REQFILE");
	if (!have_pass && (env = getenv("SISIGN_PASS")) != NULL && *env) {
		if (strlen(env) >= sizeof pass)
			return mk_usage("$SISIGN_PASS is too long");
		strcpy(pass, env);
		have_pass = 1;
		if (strlen(pass) < MK_PASS_MIN) {
			sisign_memzero(pass, sizeof pass);
			return mk_short_pass("$SISIGN_PASS");
		}
	}

	if (mode == 'c') {
		struct sisign_cert_params cp;
		struct sisign_keygen_result *res = NULL;
		unsigned char *der = NULL;
		size_t len = 0;
		memset(&cp, 0, sizeof cp);
		cp.subject = dname;
		cp.days = days;
		cp.digest = SISIGN_DIGEST_SHA1;
		if (access(pos[0], F_OK) == 0) {
			/* makekeys: an existing key is reused. */
			struct sisign_key_ref ref;
			memset(&ref, 0, sizeof ref);
			ref.key_file = pos[0];
			ref.pass_cb = have_pass ? mk_pass_cb : NULL;
			ref.pass_cb_data = pass;
			r = sisign_cert_selfsign(&ref, &cp, 0, &der, &len, &err);
		} else {
			struct sisign_keygen_params kp;
			memset(&kp, 0, sizeof kp);
			/* Symbian's DSA is 1024 bits only: a longer -len means
			 * RSA unless -dsa insists (and is then refused). */
			if (!type_given && bits > 1024) {
				type = SISIGN_KEY_RSA;
				cli_msg("-len %d: making an RSA key (Symbian's DSA keys are 1024 bits; -dsa to insist)",
					bits);
			}
			kp.type = (enum sisign_key_type)type;
			kp.bits = bits ? bits : (type == SISIGN_KEY_RSA ? 1024 : 0);
			r = sisign_keygen_file(&kp, pos[0], SISIGN_KEYFILE_TRADITIONAL, have_pass ? mk_pass_cb : NULL, pass,
				&cp, &res, &err);
			if (r == SISIGN_OK && !have_pass)
				cli_msg("warning: %s is not encrypted (give -password or $SISIGN_PASS)", pos[0]);
			if (r == SISIGN_OK) {
				der = res->cert_der;
				len = res->cert_der_len;
				res->cert_der = NULL;
			}
			sisign_keygen_result_free(res);
		}
		sisign_memzero(pass, sizeof pass);
		if (r != SISIGN_OK) {
			if (err.code == 0)
				err.code = r;
			return cli_report(pos[0], &err);
		}
		/* makekeys rewrote the certificate each time; the key never. */
		r = sisign_der_write_file(pos[1], der, len, "CERTIFICATE", 1, &err);
		free(der);
		return r == SISIGN_OK ? EXIT_OK : cli_report(pos[1], &err);
	} else {
		struct sisign_key_ref ref;
		unsigned char *der = NULL;
		size_t len = 0;
		memset(&ref, 0, sizeof ref);
		ref.key_file = pos[0];
		ref.pass_cb = have_pass ? mk_pass_cb : NULL;
		ref.pass_cb_data = pass;
		r = sisign_csr_make(&ref, dname, SISIGN_DIGEST_SHA1, &der, &len, &err);
		sisign_memzero(pass, sizeof pass);
		if (r != SISIGN_OK) {
			if (err.code == 0)
				err.code = r;
			return cli_report(pos[0], &err);
		}
		r = sisign_der_write_file(pos[2], der, len, "CERTIFICATE REQUEST", 0, &err);
		free(der);
		return r == SISIGN_OK ? EXIT_OK : cli_report(pos[2], &err);
	}
}

const struct cli_command cli_cmd_makekeys = {
	"makekeys", "-cert|-req [-password PW] [-len N] [-expdays N] -dname \"DN\" KEY CERT [REQ] | -view CERT",
	"Symbian makekeys-compatible key, certificate and request generation", run,
	"  makekeys -cert [-expdays DAYS] [-password PW] [-len BITS] [-rsa|-dsa] -dname DN KEY CERT\n"
	"      A new DSA-1024 key (RSA with -rsa, or when -len is above 1024 and\n"
	"      -dsa is not given: a line on stderr says so) in KEY unless KEY exists\n"
	"      (then it is reused), and a self-signed certificate in CERT (PEM,\n"
	"      rewritten).\n"
	"  makekeys -req [-password PW] -dname DN KEY CERT REQ\n"
	"      A PKCS#10 request for KEY in REQ (PEM).\n"
	"  makekeys -view CERT\n"
	"      The certificate(s) in CERT (PEM or DER) as text, with fingerprints.\n"
	"DN is \"CN=Jane Dev OU=Apps OR=Acme LO=Espoo ST=Uusimaa CO=FI\n"
	"EM=jane@acme.example\": makekeys' keys CN, OU, OR (or O), LO (or L), ST,\n"
	"CO (or C) and EM (emailAddress).  The key file's passphrase comes from\n"
	"-password (warned about: other users can see it) or $SISIGN_PASS, at\n"
	"least 4 characters as makekeys required; without either a new key is\n"
	"left unencrypted.\n"
	"Also run as `makekeys` through a link to sisign.\n",
};
