/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the install-rules checker (src/lib/check).
 *
 * The adapter: what the checker needs from the E32 header reader (the e32
 * work, include/sisign/package.h) and from the developer-certificate
 * constraint decoder (the certrules work, crypto_private.h), behind small
 * names of our own so the engine builds before either lands.  Each
 * adapter function does the real job with what exists in this tree. */
#ifndef SISIGN_CHECK_PRIVATE_H
#define SISIGN_CHECK_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <sisign/error.h>
#include <sisign/package.h>

/* ---- E32 image header (install-rules.md §3.1) ---------------------------- */
enum chk_exe_kind { CHK_EXE_NONE = 0, CHK_EXE_EXE = 1, CHK_EXE_DLL = 2, CHK_EXE_OTHER = 3 };
struct chk_exe {
	enum chk_exe_kind kind;  /* NONE: not an E32 image (see reason) */
	const char *reason;      /* static text when kind is NONE or the header is bad */
	int header_ok;           /* EPOC signature, UID checksum, V format */
	uint32_t uid1, sid, vid, flags;
	uint32_t caps[2];
	int no_data;             /* the file has no data in the package (FN, stub) */
};
/* Read the start of f's data and decode its header. */
int chk_file_exe(struct sisign_pkg *pkg, const struct sisign_file *f, struct chk_exe *out,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* ---- developer-certificate constraints (install-rules.md §5) ------------- */
struct chk_constraints {
	int known;                 /* 0: a chain carries constraint extensions this build cannot decode */
	int devices_set; size_t ndevices;
	int sids_set; size_t nsids; uint32_t *sids;
	int vids_set; size_t nvids; uint32_t *vids;
	int caps_set; uint32_t caps[2];
};
/* Constraints of one chain (DER blob, signer first). */
int chk_chain_constraints(const uint8_t *certs, size_t len, struct chk_constraints *out, struct sisign_error *err)
	SISIGN_WARN_UNUSED;
/* Intersect b into a. */
void chk_constraints_merge(struct chk_constraints *a, const struct chk_constraints *b);
void chk_constraints_free(struct chk_constraints *c);

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

#endif
