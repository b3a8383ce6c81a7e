/* SPDX-License-Identifier: Apache-2.0 */
/* sisign csr — a PKCS#10 certificate request for a key in a file or on a
 * token (issue #5).  The work is shared with `sisign cert` (cmd_cert.c). */
#include "cli.h"

int cli_cert_or_csr(int argc, char **argv, int csr);

static int run(int argc, char **argv)
{
	return cli_cert_or_csr(argc, argv, 1);
}

const struct cli_command cli_cmd_csr = {
	"csr", "--key KEYFILE|pkcs11:URI --subject DN [OPTIONS]",
	"make a PKCS#10 certificate signing request for an existing key", run,
	"The request carries the subject and the public key and is signed with\n"
	"the key (SHA-1 unless --digest sha256); send it to a CA (e.g. Symbian\n"
	"Signed's Publisher ID).  PEM to standard output or --out FILE.\n"
	"\n"
	"Options:\n"
	"  --key KEYFILE|URI      the private key: a key file or a token key URI\n"
	"  --subject DN           \"CN=Jane Dev O=Acme C=FI\" (makekeys) or \"/CN=.../O=...\"\n"
	"  --digest sha1|sha256   signature digest (default sha1)\n"
	"  -o, --out FILE         output file (PEM; --der for DER)\n"
	"  --pass-fd N, --pass-file FILE   key file passphrase (else $SISIGN_PASS, else asked)\n"
	"  --module PATH, --allow-module DIR, --pin-fd N, --pin-file FILE, --allow-pin-in-uri, --force\n"
	"                         token access, as for `sisign sign`\n"
	"  -q, --quiet            no notes on stderr (errors still shown)\n"
	"  -v, --verbose          notes on stderr: the key used and the files written\n"
	"The request's signature is checked before it is written.  A token key that asks\n"
	"for the PIN before each signature (CKA_ALWAYS_AUTHENTICATE) gets the login PIN again.\n",
};
