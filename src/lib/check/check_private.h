/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the install-rules checker (src/lib/check).
 */
#ifndef SISIGN_CHECK_PRIVATE_H
#define SISIGN_CHECK_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <sisign/error.h>
#include <sisign/package.h>

/* ---- swipolicy.ini (install-rules.md §10) -------------------------------- */
struct chk_policy {
	int allow_unsigned;
	int mandate_codesign;
	int mandate_policies;
	size_t noids; char **oids;          /* Oid = ... (IR-EKU-3) */
	size_t nalt; char **alt_oids;       /* AlternativeCodeSigningOID */
	int allow_grant_user_caps;
	uint32_t user_caps[2];
	int allow_package_propagate;
};
/* path NULL: the shipped defaults. */
int chk_policy_load(const char *path, struct chk_policy *out, struct sisign_error *err) SISIGN_WARN_UNUSED;
void chk_policy_free(struct chk_policy *p);

/* Test-only: how many times the checker has decoded a certificate chain blob
 * (all calls, all threads), to show that a cache saves the decodes. */
size_t chk_test_chain_decodes(void);

#endif
