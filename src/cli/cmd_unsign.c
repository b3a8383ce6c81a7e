/* SPDX-License-Identifier: Apache-2.0 */
/* sisign unsign — remove the last (or every) signature chain
 * (sis-format.md §7.6). */
#include "cli.h"
#include "fe.h"
#include "keyopts.h"
#include "batch_cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sisign/package.h>
#include <sisign/sign.h>

static int cmd_unsign(int argc, char **argv)
{
	struct option longopts[32] = {
		{ "all", no_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },
		{ "in-place", no_argument, NULL, 'i' },
	};
	struct batch_cli bc;
	struct out_target ot;
	struct sisign_pkg *pkg = NULL;
	struct sisign_error err;
	int c, all = 0, rc, r;

	out_target_init(&ot);
	batch_cli_init(&bc);
	for (size_t i = 0; batch_cli_longopts[i].name; i++)
		longopts[3 + i] = batch_cli_longopts[i];
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":ao:rj:qv", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': all = 1; break;
		case 'o': ot.output = optarg; break;
		case 'i': ot.in_place = 1; break;
		default:
			r = batch_cli_handle(&bc, argv[0], c, optarg);
			if (r < 0)
				return EXIT_USAGE;
			if (r == 0)
				return cli_getopt_error(argv[0], c, argv, longopts);
		}
	}
	if (batch_cli_wanted(&bc, argc - optind, argv + optind)) {
		bc.output = ot.output; /* one input with --json, --dry-run, ...: batch_cli_run checks */
		bc.in_place = ot.in_place;
		bc.unsign_all = all;
		return batch_cli_run(&bc, argv[0], SISIGN_BATCH_UNSIGN, NULL, NULL, argc - optind, argv + optind);
	}
	if (optind >= argc)
		return cli_usage_error(argv[0], "no input file");
	ot.input = argv[optind];
	ot.no_wait = bc.no_wait;
	if ((rc = out_target_check(&ot, argv[0])) != EXIT_OK)
		return rc;

	sisign_error_clear(&err);
	r = out_target_open(&ot, &pkg, &err);
	if (r == SISIGN_OK)
		r = sisign_pkg_unsign(pkg, all, &err);
	if (r != SISIGN_OK) {
		if (err.code == 0)
			err.code = r;
		if (r == SISIGN_ERR_NOT_SIGNED) {
			/* Like signsis -u: exit 1, not verify's "unsigned" status,
			 * because nothing was done. */
			fe_print_error(stderr, cli_progname, ot.input, &err);
			rc = EXIT_ERROR;
		} else {
			rc = cli_report(ot.input, &err);
		}
		goto out;
	}
	rc = out_target_write(&ot, pkg);
out:
	sisign_pkg_free(pkg);
	out_target_free(&ot);
	return rc;
}

const struct cli_command cli_cmd_unsign = {
	"unsign",
	"[--all] (-o OUT | --in-place) [OPTIONS] IN",
	"remove the last (or every) signature chain",
	cmd_unsign,
	"Removes the most recent signature chain (earlier chains stay valid), or\n"
	"with --all every chain, and writes the result atomically.  File data and\n"
	"earlier chains are kept byte for byte; the controller is recompressed as\n"
	"signsis does.  A package signed by `sisign sign` comes back exactly as it\n"
	"was, with or without CRC fields, when its controller was compressed that\n"
	"way and its CRCs were current (else only those bytes differ).  The file\n"
	"data is read once, to copy it and (when IN has a data CRC field) work out\n"
	"its CRC; file hashes are not checked (use 'sisign verify').\n"
	"\n"
	"Options:\n"
	"  -a, --all          remove every chain\n"
	"  -o, --output OUT   write to OUT (not IN itself); IN's mode less the umask;\n"
	"                     '-' is standard output, as for sign; with one IN,\n"
	"                     also with --json, --dry-run, --audit-log, --progress\n"
	"      --in-place     replace IN (it keeps its mode, without setuid, setgid\n"
	"                     or sticky); IN is locked from before it is read until\n"
	"                     it is replaced; a symlink's target is replaced\n"
	"      --no-wait      with --in-place: fail (exit 3) if IN is locked\n"
	"  -q, --quiet        no progress bar, summary or notes (errors still shown)\n"
	"  -v, --verbose      notes on stderr: files read and written, timings; in\n"
	"                     a batch each input's outcome\n"
	"IN '-' is standard input (not with --in-place), as for sign.\n"
	"Several packages: -r, --follow-symlinks, --files-from, --out-dir, --suffix,\n"
	"-j, --json, --audit-log, -q, --progress, --dry-run as for sign (see\n"
	"'sisign help sign').\n"
	"\n"
	"Exit: 0 done; 1 IN has no signature (nothing written, as signsis -u);\n"
	"2 usage; 3 I/O (also: IN locked, with --no-wait); 4 IN is not a valid\n"
	"package.  With several files (the batch options of 'sisign sign'): 12\n"
	"when some failed and others were done, the highest status when all\n"
	"failed (see 'sisign help exit-codes').\n",
};
