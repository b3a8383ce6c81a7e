/* SPDX-License-Identifier: Apache-2.0 */
/* One-line error reports shared by the front ends. */
#include "fe.h"

#include <string.h>

void fe_fputs_safe(const char *s, FILE *fp)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		/* Keep UTF-8 (>= 0x80) as is; only C0 controls and DEL break a line
		 * or a terminal. */
		fputc(c < 0x20 || c == 0x7f ? '?' : c, fp);
	}
}

void fe_print_error(FILE *fp, const char *prog, const char *file, const struct sisign_error *err)
{
	const char *msg;

	if (prog && *prog) {
		fe_fputs_safe(prog, fp);
		fputs(": ", fp);
	}
	if (file && *file) {
		fe_fputs_safe(file, fp);
		fputs(": ", fp);
	}
	if (!err) {
		fputs("unknown error\n", fp);
		return;
	}
	msg = err->message[0] ? err->message : sisign_strerror(err->code);
	fe_fputs_safe(msg, fp);
	if (err->offset >= 0)
		fprintf(fp, " (at offset %lld)", err->offset);
	if (err->ossl_reason[0]) {
		fputs(" \xe2\x80\x94 ", fp); /* em dash */
		fe_fputs_safe(err->ossl_reason, fp);
	}
	fputc('\n', fp);
}
