/* SPDX-License-Identifier: Apache-2.0 */
/* sisign keygen — a new key pair on a token or in a file, optionally with
 * its self-signed certificate (issue #5). */
#include "certopts.h"
#include "cli.h"
#include "fe.h"
#include "keyopts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sisign/keygen.h>

enum {
	KG_TYPE = 0x1200,
	KG_BITS,
	KG_CERT,
	KG_NO_PASS,
	KG_TRADITIONAL,
	KG_OVERWRITE,
};

static int run(int argc, char **argv)
{
	static const struct option own[] = {
		{ "type", required_argument, NULL, KG_TYPE },
		{ "bits", required_argument, NULL, KG_BITS },
		{ "cert", no_argument, NULL, KG_CERT },
		{ "no-passphrase", no_argument, NULL, KG_NO_PASS },
		{ "traditional", no_argument, NULL, KG_TRADITIONAL },
		{ "overwrite", no_argument, NULL, KG_OVERWRITE },
		{ "pass-fd", required_argument, NULL, KO_PASS_FD },
		{ "pass-file", required_argument, NULL, KO_PASS_FILE },
		{ NULL, 0, NULL, 0 },
	};
	struct option longopts[64], tmp[32];
	struct keyopts ko;
	struct certopts co;
	struct sisign_keygen_params kp;
	struct sisign_keygen_result *res = NULL;
	struct sisign_token_opts to;
	struct sisign_error err;
	const char *target;
	int c, r, want_cert = 0, no_pass = 0;
	unsigned flags = 0;

	keyopts_init(&ko);
	certopts_init(&co);
	memset(&kp, 0, sizeof kp);
	sisign_error_clear(&err);
	certopts_token_longopts(CO_F_CERT | CO_F_OUT | CO_F_OBJ, own, tmp, sizeof tmp / sizeof tmp[0], longopts,
		sizeof longopts / sizeof longopts[0]);

	opterr = 0;
	optind = 0; /* full reset: GNU permutation, options after operands too */
	while ((c = getopt_long(argc, argv, ":o:qv", longopts, NULL)) != -1) {
		if (c == 'o')
			c = CO_OUT;
		if ((r = certopts_keyopts_handle(&co, &ko, "keygen", c, optarg)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (c) {
		case KG_TYPE:
			if (strcasecmp(optarg, "rsa") == 0)
				kp.type = SISIGN_KEY_RSA;
			else if (strcasecmp(optarg, "dsa") == 0)
				kp.type = SISIGN_KEY_DSA;
			else
				return cli_usage_error("keygen", "--type is rsa or dsa, not '%s'", optarg);
			break;
		case KG_BITS: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v <= 0 || v > 16384)
				return cli_usage_error("keygen", "--bits needs a number, not '%s'", optarg);
			kp.bits = (int)v;
			break;
		}
		case KG_CERT:
			want_cert = 1;
			break;
		case KG_NO_PASS:
			no_pass = 1;
			break;
		case KG_TRADITIONAL:
			flags |= SISIGN_KEYFILE_TRADITIONAL;
			break;
		case KG_OVERWRITE:
			flags |= SISIGN_KEYFILE_OVERWRITE;
			break;
		default:
			return cli_getopt_error("keygen", c, argv, longopts);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("keygen", optind >= argc ? "name a token (pkcs11:token=...) or a key file"
								: "too many arguments");
	target = argv[optind];
	if (want_cert && !co.cp.subject)
		return cli_usage_error("keygen", "--cert needs --subject (e.g. \"CN=Jane Dev O=Acme C=FI\")");
	if (!want_cert && (co.cp.subject || co.out))
		return cli_usage_error("keygen", "--subject and --out go with --cert");

	if (keyopts_is_uri(target)) {
		if (co.der && !co.out)
			return cli_usage_error("keygen", "--der goes with --out");
		if (no_pass || ko.pass_fd >= 0 || ko.pass_file || (flags & (SISIGN_KEYFILE_TRADITIONAL | SISIGN_KEYFILE_OVERWRITE)))
			return cli_usage_error("keygen",
				"--no-passphrase, --pass-*, --traditional and --overwrite are for key files; a token key "
				"never leaves the token");
		kp.label = co.label;
		kp.id = co.id_len ? co.id : NULL;
		kp.id_len = co.id_len;
		keyopts_token_opts(&ko, &to);
		r = sisign_keygen_token(target, &to, &kp, want_cert ? &co.cp : NULL, &res, &err);
		if (r != SISIGN_OK)
			return keyopts_fail(&ko, target, r, &err);
	} else {
		if (co.label || co.id_len || ko.module || ko.pin_fd >= 0 || ko.pin_file)
			return cli_usage_error("keygen", "--label, --id and token options are for token keys");
		if (want_cert && !co.out)
			return cli_usage_error("keygen", "a key file's certificate needs --out FILE");
		if (no_pass && (ko.pass_fd >= 0 || ko.pass_file))
			return cli_usage_error("keygen", "--no-passphrase and --pass-fd/--pass-file contradict");
		keyopts_pass_src(&ko);
		r = sisign_keygen_file(&kp, target, flags, no_pass ? NULL : fe_secret_cb, &ko.pass_src,
			want_cert ? &co.cp : NULL, &res, &err);
		if (r != SISIGN_OK)
			return keyopts_fail(&ko, target, r, &err);
	}
	if (cli_verbose) {
		char *safe = sisign_token_uri_redact(target);
		cli_note("keygen: %s key made in %s%s", kp.type == SISIGN_KEY_DSA ? "DSA" : "RSA", safe ? safe : "?",
			want_cert ? ", with a self-signed certificate" : "");
		free(safe);
	}
	r = EXIT_OK;
	if (want_cert && co.out)
		r = certopts_write(&co, "keygen", res->cert_der, res->cert_der_len, "CERTIFICATE");
	if (r == EXIT_OK && res->key_uri)
		printf("%s\n", res->key_uri);
	sisign_keygen_result_free(res);
	return r;
}

const struct cli_command cli_cmd_keygen = {
	"keygen", "[OPTIONS] pkcs11:token=LABEL[;object=KEY] | KEYFILE",
	"generate a key pair on a token or in a file, optionally with a self-signed certificate", run,
	"On a token (the argument is a pkcs11: URI naming one token): an RSA key\n"
	"pair is generated on the token.  The private key is sensitive, never\n"
	"extractable and may only sign; the public key and (with --cert) the\n"
	"certificate are stored beside it under the same label and id.  An\n"
	"existing object with that label or id is never overwritten.  Prints the\n"
	"key's URI, ready for `sisign sign --key`.\n"
	"In a file: an RSA or DSA-1024 key is written as PEM, mode 0600, encrypted\n"
	"(PKCS#8, AES-256) with a passphrase unless --no-passphrase.\n"
	"\n"
	"Options:\n"
	"  --type rsa|dsa         key type (default rsa; dsa only in files)\n"
	"  --bits N               RSA 1024, 2048 (default), 3072, 4096; DSA 1024\n"
	"  --label LABEL          token: CKA_LABEL (or object= in the URI)\n"
	"  --id HEX               token: CKA_ID (or id= in the URI; default random)\n"
	"  --cert                 also make a self-signed code-signing certificate\n"
	"  --subject DN           its subject: \"CN=Jane Dev OU=Apps O=Acme C=FI EM=jane@acme.example\"\n"
	"                         (makekeys -dname syntax) or \"/CN=Jane Dev/O=Acme\"\n"
	"  --days N               validity in days (default 365)\n"
	"  --not-before DATE, --not-after DATE   explicit validity (YYYY-MM-DD[THH:MM:SSZ])\n"
	"  --digest sha1|sha256   certificate signature digest (default sha1, what devices check)\n"
	"  -o, --out FILE         write the certificate to FILE (PEM; --der for DER)\n"
	"  --no-passphrase        file: write the key unencrypted\n"
	"  --pass-fd N, --pass-file FILE   file: the new passphrase (else $SISIGN_PASS, else asked)\n"
	"  --traditional          file: makekeys' format (\"RSA/DSA PRIVATE KEY\", DES-EDE3-CBC)\n"
	"  --overwrite            file: replace an existing key file\n"
	"  --module PATH, --allow-module DIR, --pin-fd N, --pin-file FILE, --allow-pin-in-uri, --force\n"
	"                         token access, as for `sisign sign` (PIN also from $SISIGN_PIN)\n"
	"  -q, --quiet            no notes on stderr (errors still shown)\n"
	"  -v, --verbose          notes on stderr: the key used and the files written\n"
	"With --cert, the certificate's signature is checked before it is stored or written, and a\n"
	"token that makes keys ask for the PIN before each signature (CKA_ALWAYS_AUTHENTICATE) gets\n"
	"the login PIN again.\n",
};
