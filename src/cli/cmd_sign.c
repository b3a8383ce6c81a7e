/* sisign sign — add a signature chain to a SIS package with a key file or a
 * key on a PKCS#11 token (sis-format.md §7.5). */
#include "cli.h"
#include "fe.h"
#include "keyopts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sisign/package.h>
#include <sisign/sign.h>

static int cmd_sign(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "in-place", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct option longopts[40];
	struct keyopts ko;
	struct out_target ot;
	struct sisign_signer *signer = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	int c, h, rc = EXIT_ERROR, r;

	keyopts_init(&ko);
	out_target_init(&ot);
	keyopts_longopts(KEYOPTS_F_KEY | KEYOPTS_F_TOKEN, extra, longopts, sizeof longopts / sizeof longopts[0]);
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+:k:c:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': ko.key = optarg; continue;
		case 'c': ko.cert = optarg; continue;
		case 'o': ot.output = optarg; continue;
		case 'i': ot.in_place = 1; continue;
		default: break;
		}
		h = keyopts_handle(&ko, argv[0], c, optarg);
		if (h < 0)
			return EXIT_USAGE;
		if (h == 0)
			return cli_getopt_error(argv[0], c, argv);
	}
	if (!ko.key)
		return cli_usage_error(argv[0], "--key KEY (a key file or a pkcs11: URI) is required");
	if (!keyopts_is_uri(ko.key) && !ko.cert)
		return cli_usage_error(argv[0], "--cert CERT is required with a key file");
	if (optind >= argc)
		return cli_usage_error(argv[0], "no input file");
	if (optind + 1 < argc)
		return cli_usage_error(argv[0], "one input file only (got '%s' too)", argv[optind + 1]);
	ot.input = argv[optind];
	if ((rc = out_target_check(&ot, argv[0])) != EXIT_OK)
		return rc;

	sisign_error_clear(&err);
	r = sisign_pkg_open(ot.input, NULL, &pkg, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		rc = cli_report(ot.input, &err);
		goto out;
	}
	if ((rc = keyopts_precheck(pkg, ot.input)) != EXIT_OK)
		goto out;
	if ((rc = keyopts_load_signer(&ko, &signer)) != EXIT_OK)
		goto out;
	if ((rc = keyopts_load_identity(&ko, signer, &id)) != EXIT_OK)
		goto out;
	sisign_error_clear(&err);
	r = sisign_pkg_sign(pkg, id, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		rc = cli_report(ot.input, &err);
		goto out;
	}
	rc = out_target_write(&ot, pkg);
out:
	sisign_pkg_free(pkg);
	sisign_identity_free(id);
	sisign_signer_free(signer);
	return rc;
}

const struct cli_command cli_cmd_sign = {
	"sign",
	"--key KEY [--cert CERT] [--chain FILE]... (-o OUT | --in-place) [OPTIONS] IN",
	"sign a SIS package with a key file or a PKCS#11 token key",
	cmd_sign,
	"Appends one signature chain to IN (earlier chains stay valid and are\n"
	"covered by the new one) and writes the result atomically: on any failure\n"
	"no output file exists and IN is untouched.  The output keeps IN's mode.\n"
	"\n"
	"Options:\n"
	"  -k, --key KEY          private key: a PEM/DER key file (RSA or DSA,\n"
	"                         PKCS#1, PKCS#8, traditional; encrypted or not) or a\n"
	"                         'pkcs11:' URI naming one key on one token\n"
	"  -c, --cert CERT        signer certificate (PEM or DER), optionally followed\n"
	"                         by intermediates; required with a key file; for a\n"
	"                         token key the certificate with the key's CKA_ID is\n"
	"                         used when --cert is absent\n"
	"      --chain FILE       more certificates to append to the chain (repeatable)\n"
	"  -o, --output OUT       write the signed package to OUT (not IN itself)\n"
	"      --in-place         replace IN\n"
	"      --allow-expired    sign even if the certificate is expired or not yet valid\n"
	"\n"
	"Key file passphrase, first that applies: --pass-fd N (one line read from\n"
	"descriptor N), --pass-file F (mode 0600), $SISIGN_PASS (empty = unset), a\n"
	"prompt on the terminal.  Never on the command line.\n"
	"      --pass-fd N, --pass-file F\n"
	"\n"
	"Token options:\n"
	"      --module PATH      PKCS#11 module when the URI names none (default:\n"
	"                         the p11-kit proxy)\n"
	"      --allow-module DIR a directory a URI's module-path may point into\n"
	"                         (repeatable)\n"
	"      --pin-fd N         read the PIN from descriptor N\n"
	"      --pin-file F       read the PIN from F (refused unless mode 0600/0400)\n"
	"      --allow-pin-in-uri accept pin-value= in the URI\n"
	"      --force            log in even when the token says this is the final\n"
	"                         PIN try\n"
	"PIN, first that applies: --pin-fd, --pin-file, $SISIGN_PIN (empty = unset),\n"
	"the URI's pin-source, its pin-value (with --allow-pin-in-uri), a prompt.\n"
	"\n"
	"Exit: 0 signed; 2 usage; 3 I/O; 4 IN is not a signable package; 5 key or\n"
	"certificate problem (wrong passphrase, key/cert mismatch, expired); 6 token\n"
	"problem (not found, ambiguous URI: the candidates are listed); 7 PIN\n"
	"(incorrect, locked, final try, unsafe --pin-file, no PIN); 8 a file's hash\n"
	"does not match its data.\n",
};
