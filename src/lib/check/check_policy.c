/* SPDX-License-Identifier: Apache-2.0 */
/* swipolicy.ini as the installer reads it (install-rules.md §10): one
 * "key = value" per line, unknown keys ignored, a line with fewer than two
 * tokens makes the file corrupt, a boolean is true unless its value is
 * exactly "false". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check/check_private.h"
#include "util/util_private.h"

#define POLICY_MAX (1024 * 1024)

/* Never user-grantable, whatever UserCapabilities says (IR-CAP-4). */
static const unsigned never_user[] = { 0 /* TCB */, 1 /* CommDD */, 3 /* MultimediaDD */, 6 /* DRM */,
	9 /* DiskAdmin */, 10 /* NetworkControl */, 11 /* AllFiles */ };

static void add_user_cap(struct chk_policy *p, const char *name)
{
	int c = sisign_capability_from_name(name);

	if (c < 0 || c >= 64)
		return;
	for (size_t i = 0; i < sizeof never_user / sizeof never_user[0]; i++)
		if ((unsigned)c == never_user[i])
			return;
	p->user_caps[c / 32] |= 1u << (c % 32);
}

static int add_str(char ***v, size_t *n, const char *s, struct sisign_error *err)
{
	char **nv = realloc(*v, (*n + 2) * sizeof *nv); /* kept NULL-terminated */

	if (!nv)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	*v = nv;
	nv[*n] = NULL;
	if (!(nv[*n] = strdup(s)))
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	(*n)++;
	nv[*n] = NULL;
	return SISIGN_OK;
}

static void code_defaults(struct chk_policy *p)
{
	memset(p, 0, sizeof *p);
	/* Everything false but these two when the key is absent. */
	p->allow_package_propagate = 0;
	p->allow_grant_user_caps = 0;
}

int chk_policy_load(const char *path, struct chk_policy *p, struct sisign_error *err)
{
	static const char *const shipped_user[] = { "NetworkServices", "LocalServices", "ReadUserData",
		"WriteUserData", "Location", "UserEnvironment" };
	static const char *const shipped_alt[] = { "1.3.6.1.4.1.94.1.49.1.2.2.1", "1.3.6.1.4.1.94.1.49.1.2.2.5" };
	char line[4096];
	FILE *fp;
	int rc = SISIGN_OK, lineno = 0;
	long total = 0;

	code_defaults(p);
	if (!path) {
		p->allow_grant_user_caps = 1;
		p->allow_package_propagate = 1;
		for (size_t i = 0; i < sizeof shipped_user / sizeof shipped_user[0]; i++)
			add_user_cap(p, shipped_user[i]);
		for (size_t i = 0; i < sizeof shipped_alt / sizeof shipped_alt[0]; i++)
			if ((rc = add_str(&p->alt_oids, &p->nalt, shipped_alt[i], err)))
				return rc;
		return SISIGN_OK;
	}
	if (!(fp = fopen(path, "r")))
		return err_sys(err, errno, "%s", path);
	while (fgets(line, sizeof line, fp)) {
		char *save = NULL, *key, *tok;

		lineno++;
		total += (long)strlen(line);
		if (total > POLICY_MAX) {
			rc = err_set(err, SISIGN_ERR_TOO_LARGE, -1, "%s: longer than %d bytes", path, POLICY_MAX);
			break;
		}
		key = strtok_r(line, " \t\r\n", &save);
		if (!key)
			continue; /* blank line */
		tok = strtok_r(NULL, " \t\r\n", &save);
		if (tok && strcmp(tok, "=") == 0)
			tok = strtok_r(NULL, " \t\r\n", &save);
		if (!tok) {
			rc = err_set(err, SISIGN_ERR_MALFORMED, -1,
				"%s:%d: '%s' has no value (the installer would fail with KErrPolicyFileCorrupt)",
				path, lineno, key);
			break;
		}
		for (; tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
			int b = strcmp(tok, "false") != 0;
			if (strcmp(key, "AllowUnsigned") == 0)
				p->allow_unsigned = b;
			else if (strcmp(key, "MandateCodeSigningExtension") == 0)
				p->mandate_codesign = b;
			else if (strcmp(key, "MandatePolicies") == 0)
				p->mandate_policies = b;
			else if (strcmp(key, "AllowGrantUserCapabilities") == 0)
				p->allow_grant_user_caps = b;
			else if (strcmp(key, "AllowPackagePropagate") == 0)
				p->allow_package_propagate = b;
			else if (strcmp(key, "UserCapabilities") == 0)
				add_user_cap(p, tok);
			else if (strcmp(key, "Oid") == 0)
				rc = add_str(&p->oids, &p->noids, tok, err);
			else if (strcmp(key, "AlternativeCodeSigningOID") == 0)
				rc = add_str(&p->alt_oids, &p->nalt, tok, err);
			if (rc)
				break;
			/* A boolean or Oid takes its first value token only. */
			if (strcmp(key, "UserCapabilities") != 0 && strcmp(key, "AlternativeCodeSigningOID") != 0)
				break;
		}
		if (rc)
			break;
	}
	if (!rc && ferror(fp))
		rc = err_sys(err, errno, "%s", path);
	fclose(fp);
	if (rc)
		chk_policy_free(p);
	return rc;
}

void chk_policy_free(struct chk_policy *p)
{
	for (size_t i = 0; i < p->noids; i++)
		free(p->oids[i]);
	for (size_t i = 0; i < p->nalt; i++)
		free(p->alt_oids[i]);
	free(p->oids);
	free(p->alt_oids);
	memset(p, 0, sizeof *p);
}
