/* SPDX-License-Identifier: Apache-2.0 */
/* sisign cert / sisign csr — a self-signed certificate or a PKCS#10 request
 * for an existing key in a file or on a token (issue #5).  Both share this
 * file's option handling; `csr` lives in cmd_csr.c. */
#include "certopts.h"
#include "cli.h"
#include "fe.h"
#include "keyopts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sisign/keygen.h>

enum { CE_STORE = 0x1300 };

/* Shared by cert and csr (declared in cmd_csr.c). */
int cli_cert_or_csr(int argc, char **argv, int csr);

int cli_cert_or_csr(int argc, char **argv, int csr)
{
	static const struct option own[] = {
		{ "key", required_argument, NULL, KO_KEY },
		{ "pass-fd", required_argument, NULL, KO_PASS_FD },
		{ "pass-file", required_argument, NULL, KO_PASS_FILE },
		{ "store", no_argument, NULL, CE_STORE },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = csr ? "csr" : "cert";
	struct option longopts[64], tmp[32];
	struct keyopts ko;
	struct certopts co;
	struct sisign_key_ref ref;
	struct sisign_token_opts to;
	struct sisign_error err;
	unsigned char *der = NULL;
	size_t len = 0;
	unsigned flags = 0;
	int c, r;

	keyopts_init(&ko);
	certopts_init(&co);
	sisign_error_clear(&err);
	memset(&ref, 0, sizeof ref);
	certopts_token_longopts(CO_F_CERT | CO_F_OUT, own, tmp, sizeof tmp / sizeof tmp[0], longopts,
		sizeof longopts / sizeof longopts[0]);

	opterr = 0;
	optind = 0; /* full reset: GNU permutation, options after operands too */
	while ((c = getopt_long(argc, argv, ":o:qv", longopts, NULL)) != -1) {
		if (c == 'o')
			c = CO_OUT;
		if (csr && (c == CO_DAYS || c == CO_NOT_BEFORE || c == CO_NOT_AFTER || c == CE_STORE))
			return cli_getopt_error(cmd, '?', argv, NULL);
		if ((r = certopts_keyopts_handle(&co, &ko, cmd, c, optarg)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		if (c == CE_STORE) {
			flags |= SISIGN_CERT_STORE;
			continue;
		}
		return cli_getopt_error(cmd, c, argv, longopts);
	}
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!ko.key)
		return cli_usage_error(cmd, "--key KEYFILE or --key pkcs11:... is required");
	if (!co.cp.subject)
		return cli_usage_error(cmd, "--subject is required (e.g. \"CN=Jane Dev O=Acme C=FI\")");
	if ((flags & SISIGN_CERT_STORE) && !keyopts_is_uri(ko.key))
		return cli_usage_error(cmd, "--store needs a token key (--key pkcs11:...)");

	if (keyopts_is_uri(ko.key)) {
		keyopts_token_opts(&ko, &to);
		ref.uri = ko.key;
		ref.token_opts = &to;
	} else {
		keyopts_pass_src(&ko);
		ref.key_file = ko.key;
		ref.pass_cb = fe_secret_cb;
		ref.pass_cb_data = &ko.pass_src;
	}
	if (csr)
		r = sisign_csr_make(&ref, co.cp.subject, co.cp.digest, &der, &len, &err);
	else
		r = sisign_cert_selfsign(&ref, &co.cp, flags, &der, &len, &err);
	if (r != SISIGN_OK)
		return keyopts_fail(&ko, ko.key, r, &err);
	if (cli_verbose) {
		char *safe = sisign_token_uri_redact(ko.key);
		cli_note("%s: signed with %s%s", cmd, safe ? safe : "?",
			(flags & SISIGN_CERT_STORE) ? "; certificate stored on the token" : "");
		free(safe);
	}
	r = EXIT_OK;
	/* Stored on the token and no -o: nothing to print. */
	if (co.out || !(flags & SISIGN_CERT_STORE))
		r = certopts_write(&co, cmd, der, len, csr ? "CERTIFICATE REQUEST" : "CERTIFICATE");
	free(der);
	return r;
}

static int run(int argc, char **argv)
{
	return cli_cert_or_csr(argc, argv, 0);
}

const struct cli_command cli_cmd_cert = {
	"cert", "--key KEYFILE|pkcs11:URI --subject DN [OPTIONS]",
	"make a self-signed code-signing certificate for an existing key", run,
	"X.509 v3, issuer = subject, random serial, basicConstraints CA:FALSE,\n"
	"keyUsage digitalSignature, extendedKeyUsage codeSigning, subject key\n"
	"identifier; signed with SHA-1 unless --digest sha256.  Written as PEM to\n"
	"standard output or to --out FILE (never over an existing file).\n"
	"\n"
	"Options:\n"
	"  --key KEYFILE|URI      the private key: a key file or a token key URI\n"
	"  --subject DN           \"CN=Jane Dev OU=Apps O=Acme C=FI EM=jane@acme.example\" or \"/CN=.../O=...\"\n"
	"  --days N               validity in days (default 365)\n"
	"  --not-before DATE, --not-after DATE   explicit validity (YYYY-MM-DD[THH:MM:SSZ])\n"
	"  --digest sha1|sha256   signature digest (default sha1)\n"
	"  -o, --out FILE         output file (PEM; --der for DER)\n"
	"  --store                token key: store the certificate on the token under the key's\n"
	"                         label and id (refused if the key already has one)\n"
	"  --pass-fd N, --pass-file FILE   key file passphrase (else $SISIGN_PASS, else asked)\n"
	"  --module PATH, --allow-module DIR, --pin-fd N, --pin-file FILE, --allow-pin-in-uri, --force\n"
	"                         token access, as for `sisign sign`\n"
	"  -q, --quiet            no notes on stderr (errors still shown)\n"
	"  -v, --verbose          notes on stderr: the key used and the files written\n"
	"The new certificate's signature is checked before it is written or stored.  A\n"
	"token key that asks for the PIN before each signature (CKA_ALWAYS_AUTHENTICATE)\n"
	"gets the login PIN again.\n",
};
