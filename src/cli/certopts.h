/* SPDX-License-Identifier: Apache-2.0 */
/* Options shared by `sisign keygen`, `cert`, `csr`, `import` and the
 * makekeys front end: subject, validity, digest, output format, CKA_ID. */
#ifndef SISIGN_CLI_CERTOPTS_H
#define SISIGN_CLI_CERTOPTS_H

#include <stddef.h>

#include <sisign/keygen.h>

enum certopt_id {
	CO_SUBJECT = 0x1100,
	CO_DAYS,
	CO_NOT_BEFORE,
	CO_NOT_AFTER,
	CO_DIGEST,
	CO_DER,
	CO_OUT,
	CO_LABEL,
	CO_ID,
};

struct certopts {
	struct sisign_cert_params cp;
	int der;
	const char *out;
	const char *label;
	unsigned char id[64];
	size_t id_len;
};

void certopts_init(struct certopts *co);

/* Handle one getopt_long result: 1 handled, 0 not ours, -1 after a usage
 * error was printed for cmd. */
int certopts_handle(struct certopts *co, const char *cmd, int c, const char *arg);

/* Long options: --subject --days --not-before --not-after --digest --der
 * -o/--out --label --id (each only if its bit is in `which`). */
#define CO_F_CERT 1   /* subject, days, not-before, not-after, digest */
#define CO_F_OUT 2    /* der, out */
#define CO_F_OBJ 4    /* label, id */
struct option;
size_t certopts_longopts(int which, struct option *out, size_t max);

/* The long options of a command that takes certificate options (which, as
 * for certopts_longopts), its own options own (NULL-terminated; may be NULL)
 * and the token options of keyopts, in that order, into out (max entries,
 * terminated).  tmp (ntmp entries) is scratch. */
struct keyopts;
void certopts_token_longopts(int which, const struct option *own, struct option *tmp, size_t ntmp,
	struct option *out, size_t max);

/* certopts_handle, then keyopts_handle: 1 handled, 0 neither's, -1 after a
 * usage message. */
int certopts_keyopts_handle(struct certopts *co, struct keyopts *ko, const char *cmd, int c, const char *arg);

/* Parse hex (with optional ':' separators) into buf; returns the length
 * or -1. */
long certopts_parse_hex(const char *s, unsigned char *buf, size_t size);

/* Write DER to co->out ("-" or NULL = standard output) as PEM (pem_type)
 * or DER; prints any error.  Returns an exit code. */
int certopts_write(const struct certopts *co, const char *cmd, const unsigned char *der, size_t len,
	const char *pem_type);

#endif
