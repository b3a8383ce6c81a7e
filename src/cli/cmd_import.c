/* SPDX-License-Identifier: Apache-2.0 */
/* sisign import / sisign export-cert — a key and certificate onto a token
 * (non-extractable), and a token certificate back into a file (issue #5). */
#include "certopts.h"
#include "cli.h"
#include "fe.h"
#include "keyopts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sisign/keygen.h>

static int run_import(int argc, char **argv)
{
	static const struct option own[] = {
		{ "key", required_argument, NULL, KO_KEY },
		{ "cert", required_argument, NULL, KO_CERT },
		{ "pass-fd", required_argument, NULL, KO_PASS_FD },
		{ "pass-file", required_argument, NULL, KO_PASS_FILE },
		{ NULL, 0, NULL, 0 },
	};
	struct option longopts[48], tmp[24];
	struct keyopts ko;
	struct certopts co;
	struct sisign_token_opts to;
	struct sisign_error err;
	char *uri = NULL;
	int c, r;

	keyopts_init(&ko);
	certopts_init(&co);
	sisign_error_clear(&err);
	certopts_token_longopts(CO_F_OBJ, own, tmp, sizeof tmp / sizeof tmp[0], longopts,
		sizeof longopts / sizeof longopts[0]);
	opterr = 0;
	optind = 0; /* full reset: GNU permutation, options after operands too */
	while ((c = getopt_long(argc, argv, ":qv", longopts, NULL)) != -1) {
		if ((r = certopts_keyopts_handle(&co, &ko, "import", c, optarg)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		return cli_getopt_error("import", c, argv, longopts);
	}
	if (optind != argc - 1 || !keyopts_is_uri(argv[optind]))
		return cli_usage_error("import", "name one token: pkcs11:token=LABEL");
	if (!ko.key)
		return cli_usage_error("import", "--key FILE (PEM, DER or PKCS#12) is required");
	keyopts_pass_src(&ko);
	keyopts_token_opts(&ko, &to);
	r = sisign_token_import(argv[optind], &to, ko.key, ko.cert, fe_secret_cb, &ko.pass_src, co.label,
		co.id_len ? co.id : NULL, co.id_len, &uri, &err);
	if (r != SISIGN_OK)
		return keyopts_fail(&ko, ko.key, r, &err);
	cli_note("import: %s imported%s", ko.key, ko.cert ? " with its certificate" : "");
	printf("%s\n", uri);
	free(uri);
	return EXIT_OK;
}

const struct cli_command cli_cmd_import = {
	"import", "--key FILE [--cert FILE] [OPTIONS] pkcs11:token=LABEL",
	"put an existing RSA key and certificate onto a token, non-extractable", run_import,
	"The key (PEM, DER, or PKCS#12 with its certificate) becomes a sensitive,\n"
	"non-extractable, sign-only private key on the token, with its public key\n"
	"and certificate beside it under the same label and id.  The certificate\n"
	"must match the key.  Nothing is overwritten.  Prints the key's URI.\n"
	"Delete the key file afterwards if the token is to be its only home.\n"
	"\n"
	"Options:\n"
	"  --key FILE             private key file or PKCS#12 (.p12/.pfx)\n"
	"  --cert FILE            certificate (PEM or DER); default: the PKCS#12's, if any\n"
	"  --label LABEL          CKA_LABEL (default: object= in the URI, else the certificate's CN)\n"
	"  --id HEX               CKA_ID (default: id= in the URI, else random)\n"
	"  --pass-fd N, --pass-file FILE   passphrase of the key file (else $SISIGN_PASS, else asked)\n"
	"  --module PATH, --allow-module DIR, --pin-fd N, --pin-file FILE, --allow-pin-in-uri, --force\n"
	"                         token access, as for `sisign sign`\n"
	"  -q, --quiet            no notes on stderr (errors still shown)\n"
	"  -v, --verbose          notes on stderr: the key used and the files written\n",
};

static int run_export(int argc, char **argv)
{
	struct option longopts[32], tmp[8];
	struct keyopts ko;
	struct certopts co;
	struct sisign_token_opts to;
	struct sisign_error err;
	unsigned char *der = NULL;
	size_t len = 0;
	int c, r;

	keyopts_init(&ko);
	certopts_init(&co);
	sisign_error_clear(&err);
	certopts_token_longopts(CO_F_OUT, NULL, tmp, sizeof tmp / sizeof tmp[0], longopts,
		sizeof longopts / sizeof longopts[0]);
	opterr = 0;
	optind = 0; /* full reset: GNU permutation, options after operands too */
	while ((c = getopt_long(argc, argv, ":o:qv", longopts, NULL)) != -1) {
		if (c == 'o')
			c = CO_OUT;
		if ((r = certopts_keyopts_handle(&co, &ko, "export-cert", c, optarg)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		return cli_getopt_error("export-cert", c, argv, longopts);
	}
	if (optind != argc - 1 || !keyopts_is_uri(argv[optind]))
		return cli_usage_error("export-cert", "name one certificate: pkcs11:token=LABEL;object=NAME");
	keyopts_token_opts(&ko, &to);
	/* Certificates are public: log in only when a PIN was given. */
	if (ko.pin_fd < 0 && !ko.pin_file) {
		to.pin_cb = NULL;
		to.pin_cb_data = NULL;
	}
	r = sisign_token_export_cert(argv[optind], &to, &der, &len, &err);
	if (r != SISIGN_OK)
		return keyopts_fail(&ko, argv[optind], r, &err);
	r = certopts_write(&co, "export-cert", der, len, "CERTIFICATE");
	free(der);
	return r;
}

const struct cli_command cli_cmd_export_cert = {
	"export-cert", "[-o FILE] [--der] pkcs11:token=LABEL;object=NAME",
	"write a certificate from a token to a file", run_export,
	"The URI names one certificate by object= and/or id= (a key URI works:\n"
	"its certificate has the same label and id).  PEM to standard output or\n"
	"--out FILE (never over an existing file).  No login unless --pin-fd or\n"
	"--pin-file is given.\n"
	"\n"
	"Options:\n"
	"  -o, --out FILE         output file (PEM; --der for DER)\n"
	"  --module PATH, --allow-module DIR, --pin-fd N, --pin-file FILE, --allow-pin-in-uri\n"
	"                         token access, as for `sisign sign`\n"
	"  -q, --quiet            no notes on stderr (errors still shown)\n"
	"  -v, --verbose          notes on stderr: the key used and the files written\n",
};
