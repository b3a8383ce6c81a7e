/* SPDX-License-Identifier: Apache-2.0 */
/* Developer-certificate constraints (sisign_certs_constraints) for people
 * and for JSON, one wording for info and verify. */
#include "fe.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Entries of a list shown in text; JSON has them all. */
#define TEXT_LIST_MAX 8

static int has_any(const struct sisign_cert_constraints *c)
{
	return c != NULL && (c->error[0] || c->devices_set || c->sids_set || c->vids_set || c->caps_set);
}

static void text_list_end(FILE *m, size_t n)
{
	if (n == 0)
		fputs(" none (an empty list allows none)", m);
	else if (n > TEXT_LIST_MAX)
		fprintf(m, ", ... (%zu in all)", n);
}

static void text_uids(FILE *m, const char *label, const uint32_t *v, size_t n)
{
	fprintf(m, "%s", label);
	for (size_t i = 0; i < n && i < TEXT_LIST_MAX; i++)
		fprintf(m, "%s0x%08" PRIx32, i ? ", " : " ", v[i]);
	text_list_end(m, n);
}

char *fe_cert_constraints_text(size_t idx, const struct sisign_cert_constraints *c)
{
	char *s = NULL, buf[24];
	size_t len = 0, i, ncaps = 0;
	const char *sep = "";
	FILE *m;

	if (!has_any(c) || (m = open_memstream(&s, &len)) == NULL)
		return NULL;
	if (idx == 0)
		fputs("signer certificate", m);
	else
		fprintf(m, "certificate %zu", idx + 1);
	if (c->error[0]) {
		fprintf(m, ": constraint extensions do not decode, the device refuses the chain: %s", c->error);
		goto out;
	}
	fputs(" is limited to", m);
	if (c->devices_set) {
		fputs(" device IDs", m);
		for (i = 0; i < c->ndevices && i < TEXT_LIST_MAX; i++)
			fprintf(m, "%s%s", i ? ", " : " ", c->devices[i]);
		text_list_end(m, c->ndevices);
		sep = ";";
	}
	if (c->sids_set) {
		fputs(sep, m);
		text_uids(m, " SIDs", c->sids, c->nsids);
		sep = ";";
	}
	if (c->vids_set) {
		fputs(sep, m);
		text_uids(m, " VIDs", c->vids, c->nvids);
		sep = ";";
	}
	if (c->caps_set) {
		fprintf(m, "%s capabilities", sep);
		for (i = 0; i < 64; i++)
			if ((c->caps[i / 32] >> (i % 32)) & 1u) {
				const char *name = sisign_capability_name((unsigned)i);
				if (name == NULL) {
					snprintf(buf, sizeof buf, "Cap%zu", i);
					name = buf;
				}
				fprintf(m, "%s%s", ncaps++ ? "+" : " ", name);
			}
		if (ncaps == 0)
			fputs(" none (an empty set grants none)", m);
	}
out:
	if (fclose(m) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void json_uids(struct fe_json *j, const char *key, int set, const uint32_t *v, size_t n)
{
	char buf[16];

	fe_json_key(j, key);
	if (!set) {
		fe_json_null(j);
		return;
	}
	fe_json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof buf, "0x%08" PRIx32, v[i]);
		fe_json_string(j, buf);
	}
	fe_json_end_array(j);
}

void fe_json_cert_constraints(struct fe_json *j, const struct sisign_cert_constraints *c)
{
	char buf[24];

	if (!has_any(c)) {
		fe_json_null(j);
		return;
	}
	fe_json_begin_object(j);
	fe_json_key(j, "device_ids");
	if (c->devices_set) {
		fe_json_begin_array(j);
		for (size_t i = 0; i < c->ndevices; i++)
			fe_json_string(j, c->devices[i]);
		fe_json_end_array(j);
	} else {
		fe_json_null(j);
	}
	json_uids(j, "sids", c->sids_set, c->sids, c->nsids);
	json_uids(j, "vids", c->vids_set, c->vids, c->nvids);
	fe_json_key(j, "capabilities");
	if (c->caps_set) {
		fe_json_begin_array(j);
		for (unsigned i = 0; i < 64; i++)
			if ((c->caps[i / 32] >> (i % 32)) & 1u) {
				const char *name = sisign_capability_name(i);
				if (name == NULL) {
					snprintf(buf, sizeof buf, "Cap%u", i);
					name = buf;
				}
				fe_json_string(j, name);
			}
		fe_json_end_array(j);
	} else {
		fe_json_null(j);
	}
	fe_json_key(j, "error");
	fe_json_string(j, c->error[0] ? c->error : NULL);
	fe_json_end_object(j);
}
