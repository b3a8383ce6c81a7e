/* SPDX-License-Identifier: Apache-2.0 */
/* sisign sign — add a signature chain to a SIS package with a key file or a
 * key on a PKCS#11 token (sis-format.md §7.5). */
#include "cli.h"
#include "fe.h"
#include "keyopts.h"
#include "batch_cli.h"
#include "check_cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sisign/check.h>
#include <sisign/package.h>
#include <sisign/sign.h>

enum { OPT_STRICT = 0x2100 };

/* The findings of the install rules on a signed package: error and
 * depends ones as warnings on stderr (warning ones, which are prompts the
 * user will see, only with -v); with strict, error-severity ones are
 * printed as errors.  Shared with the batch (batch_cli.c). */
void check_cli_sign_findings(const char *input, const struct sisign_finding *findings, size_t n, int worst,
	int strict)
{
	for (size_t i = 0; i < n; i++) {
		const struct sisign_finding *f = &findings[i];
		if (f->severity == SISIGN_CHECK_WARNING && !cli_verbose)
			continue; /* a prompt the user may see (self-signed, capabilities): only with -v */
		fprintf(stderr, "%s: ", cli_progname);
		fe_fputs_safe(input, stderr);
		fprintf(stderr, ": %s: %s (%s): ", strict && f->severity == SISIGN_CHECK_ERROR ? "error" : "warning",
			f->rule, sisign_check_severity_name(f->severity));
		if (f->file) {
			fe_fputs_safe(f->file, stderr);
			fputs(": ", stderr);
		}
		fe_fputs_safe(f->message, stderr);
		fprintf(stderr, "; fix: %s\n", f->fix);
	}
	if (worst >= SISIGN_CHECK_ERROR && !strict)
		cli_msg("%s: the installer would refuse the signed package; see 'sisign check' (--strict refuses "
			"to write it)", input);
}

/* The install rules on the package as signed (docs/check.md).  With
 * strict, an error-severity finding refuses the output here, before it is
 * written (exit 14, the findings printed).  Otherwise the report is kept
 * in *out for sign_check_report once the package is written: a package
 * whose file data turns out bad as it is written gets its one error line
 * only.  Returns an exit code. */
static int sign_check(struct sisign_pkg *pkg, const char *input, int strict, struct sisign_check_report **out)
{
	struct sisign_check_opts o;
	struct sisign_check_report *rep = NULL;
	struct sisign_error err;
	int r;

	*out = NULL;
	memset(&o, 0, sizeof o);
	o.skip_data = 1; /* writing the signed package checks every hash */
	sisign_error_clear(&err);
	r = sisign_pkg_check_install(pkg, &o, &rep, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		return cli_report(input, &err);
	}
	if (strict && rep->worst >= SISIGN_CHECK_ERROR) {
		check_cli_sign_findings(input, rep->findings, rep->nfindings, rep->worst, strict);
		cli_msg("%s: the installer would refuse the signed package (--strict): nothing written", input);
		sisign_check_report_free(rep);
		return EXIT_WOULD_NOT_INSTALL;
	}
	*out = rep;
	return EXIT_OK;
}

/* What sign_check kept, once the package is written. */
static void sign_check_report(struct sisign_check_report *rep, const char *input, int strict)
{
	if (rep)
		check_cli_sign_findings(input, rep->findings, rep->nfindings, rep->worst, strict);
}

static int cmd_sign(int argc, char **argv)
{
	struct option extra[32] = {
		{ "output", required_argument, NULL, 'o' },
		{ "in-place", no_argument, NULL, 'i' },
		{ "strict", no_argument, NULL, OPT_STRICT },
	};
	struct option longopts[64];
	struct batch_cli bc;
	struct keyopts ko;
	struct out_target ot;
	struct sisign_signer *signer = NULL;
	struct sisign_identity *id = NULL;
	struct sisign_pkg *pkg = NULL;
	struct sisign_check_report *rep = NULL;
	struct sisign_error err;
	int c, h, rc = EXIT_ERROR, r, strict = 0;

	keyopts_init(&ko);
	out_target_init(&ot);
	batch_cli_init(&bc);
	for (size_t i = 0; batch_cli_longopts[i].name; i++)
		extra[3 + i] = batch_cli_longopts[i];
	keyopts_longopts(KEYOPTS_F_KEY | KEYOPTS_F_TOKEN, extra, longopts, sizeof longopts / sizeof longopts[0]);
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":k:c:o:rj:qv", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': ko.key = optarg; continue;
		case 'c': ko.cert = optarg; continue;
		case 'o': ot.output = optarg; continue;
		case 'i': ot.in_place = 1; continue;
		case OPT_STRICT: strict = 1; continue;
		default: break;
		}
		h = batch_cli_handle(&bc, argv[0], c, optarg);
		if (h < 0)
			return EXIT_USAGE;
		if (h > 0)
			continue;
		h = keyopts_handle(&ko, argv[0], c, optarg);
		if (h < 0)
			return EXIT_USAGE;
		if (h == 0)
			return cli_getopt_error(argv[0], c, argv, longopts);
	}
	if (!ko.key)
		return cli_usage_error(argv[0], "--key KEY (a key file or a pkcs11: URI) is required");
	if (!keyopts_is_uri(ko.key) && !ko.cert && !sisign_key_file_is_pkcs12(ko.key))
		return cli_usage_error(argv[0], "--cert CERT is required with a key file (a PKCS#12 file carries its own)");
	/* Several inputs, a directory or a batch option: the batch engine,
	 * with one signer (one token login) for all of them. */
	if (batch_cli_wanted(&bc, argc - optind, argv + optind)) {
		bc.strict = strict;
		bc.output = ot.output; /* one input with --json, --dry-run, ...: batch_cli_run checks */
		bc.in_place = ot.in_place;
		return batch_cli_run(&bc, argv[0], SISIGN_BATCH_SIGN, &ko, NULL, argc - optind, argv + optind);
	}
	if (optind >= argc)
		return cli_usage_error(argv[0], "no input file");
	ot.input = argv[optind];
	ot.no_wait = bc.no_wait;
	if ((rc = out_target_check(&ot, argv[0])) != EXIT_OK)
		return rc;

	sisign_error_clear(&err);
	r = out_target_open(&ot, &pkg, &err);
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
	if ((rc = sign_check(pkg, ot.input, strict, &rep)) != EXIT_OK)
		goto out;
	if ((rc = out_target_write(&ot, pkg)) == EXIT_OK)
		sign_check_report(rep, ot.input, strict);
out:
	sisign_check_report_free(rep);
	sisign_pkg_free(pkg);
	out_target_free(&ot);
	sisign_identity_free(id);
	sisign_signer_free(signer);
	return rc;
}

const struct cli_command cli_cmd_sign = {
	"sign",
	"--key KEY [--cert CERT] [--chain FILE]... (-o OUT | --in-place | --out-dir DIR | --suffix SUF) [OPTIONS] IN...",
	"sign a SIS package with a key file or a PKCS#11 token key",
	cmd_sign,
	"Appends one signature chain to IN (earlier chains stay valid and are\n"
	"covered by the new one) and writes the result atomically: on any failure\n"
	"no output file exists and IN is untouched.  Modes: -o and --suffix give\n"
	"IN's mode less the umask (as cp does), --out-dir 0644 less the umask; IN\n"
	"replaced in place keeps its mode; setuid, setgid and sticky bits are\n"
	"never set.\n"
	"\n"
	"Options:\n"
	"  -k, --key KEY          private key: a PEM/DER key file (RSA or DSA,\n"
	"                         PKCS#1, PKCS#8, traditional; encrypted or not), a\n"
	"                         PKCS#12 file (.p12/.pfx, known by its content)\n"
	"                         holding the key, its certificate and any chain, or\n"
	"                         a 'pkcs11:' URI naming one key on one token\n"
	"  -c, --cert CERT        signer certificate (PEM or DER), optionally followed\n"
	"                         by intermediates; required with a key file; for a\n"
	"                         PKCS#12 file or a token key the certificate that\n"
	"                         came with the key (and a PKCS#12 file's chain) is\n"
	"                         used when --cert is absent; a --cert given instead\n"
	"                         must belong to the key (else exit 5) and replaces\n"
	"                         them\n"
	"      --chain FILE       more certificates to append to the chain (repeatable)\n"
	"  -o, --output OUT       write the signed package to OUT (not IN itself);\n"
	"                         with one IN, also with --json, --dry-run,\n"
	"                         --audit-log or --progress\n"
	"      --in-place         replace IN: IN is locked from before it is read\n"
	"                         until it is replaced, so a second sisign on it\n"
	"                         waits and then adds its chain too; a symlink's\n"
	"                         target is replaced and the link kept\n"
	"      --no-wait          with --in-place: if another process holds IN's\n"
	"                         lock, fail at once (exit 3) instead of waiting\n"
	"      --allow-expired    sign even if the certificate is expired or not yet valid\n"
	"      --strict           the install rules of 'sisign check', which run on\n"
	"                         every signed package, are errors: if the phone's\n"
	"                         installer would refuse a package, nothing is\n"
	"                         written for it (exit 14; in a batch that package\n"
	"                         fails with 14 and the others go on).  Without it\n"
	"                         the findings that would stop or depend on the\n"
	"                         phone are printed as warnings on stderr (with -v\n"
	"                         also the prompts the user will see; --json: the\n"
	"                         record's install_check; docs/check.md)\n"
	"  -q, --quiet            no progress bar, summary or notes (errors and\n"
	"                         warnings still shown)\n"
	"  -v, --verbose          notes on stderr: files read and written, the key\n"
	"                         (URI with any PIN hidden), certificate and signer\n"
	"                         used, with timings; in a batch each input's outcome\n"
	"\n"
	"Standard input and output: IN '-' is read from standard input (into\n"
	"memory, at most 1 GiB; not with --in-place), -o - writes to standard\n"
	"output.  Neither may be a terminal (exit 2).  Standard output cannot be\n"
	"replaced atomically: the package is written to a private temporary\n"
	"directory ($TMPDIR, else /tmp) and copied to standard output only once\n"
	"it is signed and written; on any failure nothing is sent.  '-' is for\n"
	"one package: the batch options below refuse it.\n"
	"\n"
	"Several packages (a batch: one key load or token login for all of them;\n"
	"reading, hashing and writing on all cores, signatures through one queue\n"
	"or --token-sessions at once):\n"
	"  -r, --recursive        sign the *.sis/*.sisx files under directories;\n"
	"                         symlinks to directories below them are skipped\n"
	"      --follow-symlinks  -r enters symlinked directories too, each one once\n"
	"                         (a directory is never entered inside itself)\n"
	"      --files-from F     read input paths from F, one per line ('-' = stdin);\n"
	"                         at most 4095 bytes a line, no NUL bytes, at most\n"
	"                         1000000 lines; 1000000 inputs in all\n"
	"      --out-dir DIR      write outputs under DIR, mirroring the input tree;\n"
	"                         DIR is created only once the command line, the\n"
	"                         inputs and the key (token login) have passed\n"
	"      --suffix SUF       write IN's neighbour NAME<SUF>.sis (e.g. _signed)\n"
	"      --in-place         replace each input (atomically, locked as above);\n"
	"                         one file named twice is refused\n"
	"      --skip-signed      skip a package whose output already is exactly IN\n"
	"                         plus one last chain by this certificate that\n"
	"                         verifies, or whose own last chain is this\n"
	"                         certificate's (a separate output then gets an\n"
	"                         exact copy); an output from an older IN, by\n"
	"                         another key or with a corrupt signature is signed\n"
	"                         again and replaced.  IN is checked in full first\n"
	"                         (file hashes too): one that would be refused is an\n"
	"                         error, never skipped or copied\n"
	"      --resign           replace a last chain by this certificate (even a\n"
	"                         corrupt one) instead of adding one\n"
	"  -j, --jobs N           worker threads (default: all cores; 1: none, the\n"
	"                         jobs run in the main thread)\n"
	"      --token-sessions N keep up to N signatures in flight (1 to 16), each\n"
	"                         on its own session of the one token login, with\n"
	"                         N - 1 more workers than -j; default 1: one queue.\n"
	"                         For tokens that take concurrent sessions (SoftHSM,\n"
	"                         network HSMs, where N signatures take about the\n"
	"                         time of one round trip); not for smartcards, which\n"
	"                         sign one at a time and may break.  Through\n"
	"                         p11-kit-client.so (p11-kit server) N sessions are\n"
	"                         N connections, each logged in with the one PIN\n"
	"                         (asked once): the server serves each connection in\n"
	"                         a process of its own, one call at a time\n"
	"      --parallel-token   deprecated: --token-sessions as many as workers\n"
	"      --json             one JSON record per file on stdout, in the schema\n"
	"                         of docs/json.md (\"schema\": 1): input, status,\n"
	"                         exit (that file's exit status), error, output,\n"
	"                         output_sha256, signer_fingerprint, token_serial,\n"
	"                         key_id, chains, warnings, install_check (the\n"
	"                         install rules' verdict and findings); if the key\n"
	"                         cannot be used, each input gets its error record\n"
	"      --audit-log FILE   append the same records (plus user, host) to FILE\n"
	"                         (mode 0600), each\n"
	"                         one write and fsync; also a \"writing\" record with\n"
	"                         the output's SHA-256 before each output appears,\n"
	"                         and a \"login\" record for each token login attempt,\n"
	"                         failed ones too; a record that cannot be written\n"
	"                         stops signing (exit 3)\n"
	"      --progress         a progress bar even when stderr is not a terminal;\n"
	"                         it fits the terminal's width (else $COLUMNS, else\n"
	"                         80) and is redrawn in place\n"
	"      --dry-run          resolve and test the key (one throw-away test\n"
	"                         signature), parse and hash-check every input, apply\n"
	"                         the install rules as it would be signed, write\n"
	"                         nothing; prints NOT SIGNED and exits 13\n"
	"An output that is its own input (--out-dir ., -r --out-dir T T) is refused\n"
	"unless you mean --in-place and say so.  An input that is not a regular\n"
	"file (a FIFO, a device) fails without being read.  Names up to 255 bytes\n"
	"work in every mode.\n"
	"Every file gets a status; one bad package does not stop the batch.  A\n"
	"token that is removed or fails (CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT,\n"
	"CKR_SESSION_HANDLE_INVALID, CKR_DEVICE_ERROR, CKR_GENERAL_ERROR, or a\n"
	"signature that does not verify) does: signing stops at the first such\n"
	"failure, which is reported once; the files not yet signed are \"not\n"
	"started\" (JSON status not_started) and the exit status is 6.\n"
	"SIGINT/SIGTERM finish the files in flight and exit 130; outputs are always\n"
	"complete or absent, so a rerun with --skip-signed finishes the job.\n"
	"\n"
	"File data and earlier chains are copied byte for byte; the controller is\n"
	"recompressed as signsis does, and each CRC field IN has (controller, data)\n"
	"gets the CRC of what is written, as signsis does; none is added, so\n"
	"`sisign unsign` gives IN back.  The file data is read once, after the\n"
	"signature is made: one pass copies it into the temporary output, checks\n"
	"every file's SHA-1 (on all cores) and works out the data CRC, written\n"
	"into the temporary file before it is renamed into place.\n"
	"\n"
	"Every signature is checked against the certificate's key before anything\n"
	"is written.  Keys that ask for the PIN before each signature\n"
	"(CKA_ALWAYS_AUTHENTICATE, e.g. PIV slot 9C) get it from the login: the PIN\n"
	"is read once per run and kept in memory until the run ends.\n"
	"\n"
	"Key file passphrase (also a PKCS#12 file's password), first that applies:\n"
	"--pass-fd N (one line read from descriptor N), --pass-file F (mode 0600),\n"
	"$SISIGN_PASS (empty = unset), a prompt on the terminal.  Never on the\n"
	"command line.  A PKCS#12 file exported without a password opens without\n"
	"asking; a wrong password is exit 5, never retried.  Files with old ciphers\n"
	"(RC2-40, from older Windows tools or 'openssl pkcs12 -legacy') are read\n"
	"with OpenSSL's legacy provider, loaded only for such a file.\n"
	"      --pass-fd N, --pass-file F\n"
	"\n"
	"Token options:\n"
	"      --module PATH      PKCS#11 module when the URI names none (default:\n"
	"                         the p11-kit proxy)\n"
	"      --allow-module DIR a directory a URI's module-path may lead into,\n"
	"                         symlinks resolved (repeatable)\n"
	"      --pin-fd N         read the PIN from descriptor N\n"
	"      --pin-file F       read the PIN from F (refused unless mode 0600/0400)\n"
	"      --allow-pin-in-uri accept pin-value= in the URI\n"
	"      --force            log in even when the token says this is the final\n"
	"                         PIN try\n"
	"PIN, first that applies: --pin-fd, --pin-file, $SISIGN_PIN (empty = unset),\n"
	"the URI's pin-source, its pin-value (with --allow-pin-in-uri), a prompt.\n"
	"One trailing newline is removed; an empty PIN, one with a NUL byte or more\n"
	"than one line is refused before any login (exit 7); passphrases likewise\n"
	"(exit 5).  $SISIGN_PIN/$SISIGN_PASS are removed from the environment once\n"
	"read; no core dumps while a secret is held; messages never show pin-value.\n"
	"\n"
	"Exit: 0 signed; 2 usage; 3 I/O (also: IN locked, with --no-wait); 4 IN is not a signable package; 5 key or\n"
	"certificate problem (wrong passphrase, key/cert mismatch, expired); 6 token\n"
	"problem (not found, ambiguous URI: the candidates are listed; removed or\n"
	"failing; a signature that does not verify); 7 PIN (incorrect, locked,\n"
	"final try, empty or malformed, unsafe --pin-file or pin-source, refused\n"
	"pin-value, no PIN; a login the card refused with CKR_GENERAL_ERROR, as\n"
	"some cards answer a wrong PIN); 8 a file's hash does not match its data,\n"
	"or a chain already in IN (top level or an embedded package) does not\n"
	"verify or uses an algorithm the device refuses (MD2, MD5): the device\n"
	"would refuse IN whatever is added, so it is not signed; the message names\n"
	"the chain (take the top level's chains off with 'sisign unsign --all').\n"
	"A bad chain (8), like a damaged package (4), is refused before the PIN\n"
	"or passphrase is asked for (in a batch: its status is error, --dry-run\n"
	"included).  A file whose SHA-1 does not match its data is found only as\n"
	"the signed package is written (the one read of the file data): the PIN\n"
	"or passphrase has been asked for and the key has made a signature, which\n"
	"is thrown away; exit 8, nothing written.  --dry-run and --skip-signed\n"
	"check the hashes first, before any signature.  13 --dry-run (12 if some\n"
	"file failed its checks); 130 interrupted; 14 --strict and the installer\n"
	"would refuse the signed package.  With several files: 12 when some\n"
	"failed (--strict: a package the installer would refuse counts as failed)\n"
	"and others were signed or skipped, the highest status when all failed\n"
	"(see 'sisign help\n"
	"exit-codes').\n",
};
