/* SPDX-License-Identifier: Apache-2.0 */
/* makekeys — Symbian's key and certificate tool, command-line compatible
 * (sis-format.md §8.2), run as `makekeys` (multi-call link) or
 * `sisign makekeys`:
 *   makekeys -cert [-expdays N] [-password PW] [-len N] [-rsa|-dsa] -dname "DN" KEY CERT
 *   makekeys -req [-password PW] -dname "DN" KEY CERT REQUEST
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
			"       makekeys -req [-password PW] -dname \"CN=... O=...\" KEYFILE CERTFILE REQFILE\n");
	return EXIT_USAGE;
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

static int run(int argc, char **argv)
{
	const char *dname = NULL, *pos[3] = { NULL, NULL, NULL };
	char pass[MK_PASS_MAX] = "";
	int mode = 0, npos = 0, days = 0, bits = 0, type = SISIGN_KEY_DSA, have_pass = 0, r;
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
			return mk_usage("-view is not supported; use `openssl x509 -text -in CERT`");
		} else if (strcmp(a, "-rsa") == 0) {
			type = SISIGN_KEY_RSA;
		} else if (strcmp(a, "-dsa") == 0) {
			type = SISIGN_KEY_DSA;
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
	"makekeys", "-cert|-req [-password PW] [-len N] [-expdays N] -dname \"DN\" KEY CERT [REQ]",
	"Symbian makekeys-compatible key, certificate and request generation", run,
	"  makekeys -cert [-expdays DAYS] [-password PW] [-len BITS] [-rsa|-dsa] -dname DN KEY CERT\n"
	"      A new DSA-1024 key (RSA with -rsa) in KEY unless KEY exists (then it is\n"
	"      reused), and a self-signed certificate in CERT (PEM, rewritten).\n"
	"  makekeys -req [-password PW] -dname DN KEY CERT REQ\n"
	"      A PKCS#10 request for KEY in REQ (PEM).\n"
	"DN is \"CN=Jane Dev OU=Apps O=Acme C=FI EM=jane@acme.example\".  The key\n"
	"file's passphrase comes from -password (warned about: other users can\n"
	"see it) or $SISIGN_PASS; without either a new key is left unencrypted.\n"
	"Also run as `makekeys` through a link to sisign.\n",
};
