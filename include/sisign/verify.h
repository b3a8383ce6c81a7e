/* SPDX-License-Identifier: Apache-2.0 */
/* sisign — verifying signatures as the device installer does
 * (sis-format.md §7.9-§7.10). */
#ifndef SISIGN_VERIFY_H
#define SISIGN_VERIFY_H

#include <stddef.h>
#include <time.h>
#include <sisign/error.h>
#include <sisign/package.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sisign_verdict {
	SISIGN_VERDICT_TRUSTED = 0,     /* a chain validates to a trusted root */
	SISIGN_VERDICT_SELF_SIGNED = 1, /* signatures good; only self-signed chains */
	SISIGN_VERDICT_UNTRUSTED = 2,   /* signatures good; no chain reaches a trusted root (or expired) */
	SISIGN_VERDICT_INVALID = 3,     /* a signature, a file hash or the structure is wrong */
	SISIGN_VERDICT_UNSIGNED = 4,    /* no signature at all */
};

enum sisign_chain_status {
	SISIGN_CHAIN_TRUSTED = 0,
	SISIGN_CHAIN_SELF_SIGNED = 1,
	SISIGN_CHAIN_UNTRUSTED = 2,
	SISIGN_CHAIN_EXPIRED = 3,       /* a path exists but a certificate is outside its validity */
	SISIGN_CHAIN_INVALID = 4,       /* broken certificate chain */
	SISIGN_CHAIN_NO_CODE_SIGNING = 5, /* signer's extended key usage lacks code signing */
};

struct sisign_chain_report {
	int signature;                  /* SISIGN_OK, SISIGN_ERR_SIG_INVALID or SISIGN_ERR_SIG_UNSUPPORTED */
	char algorithm[64];             /* OID of the signature that verified (or the first one) */
	enum sisign_chain_status status;
	char status_detail[256];        /* e.g. OpenSSL's reason */
	char signer_subject[512];
	char signer_issuer[512];
	char signer_serial[130];
	time_t not_before, not_after;
	char key_type[8];
	int key_bits;
	char fingerprint[65];           /* SHA-256 of the signer certificate */
	char root_subject[512];         /* trust anchor used, "" if none */
	size_t ncerts;
};

struct sisign_ctrl_report {
	int depth;
	uint32_t uid;
	size_t nchains;
	struct sisign_chain_report *chains;
	enum sisign_verdict verdict;    /* of this controller on its own */
	size_t nembedded;
	struct sisign_ctrl_report *embedded;
};

struct sisign_verify_report {
	/* Overall: invalid when the structure or a file hash is wrong, else the
	 * worst verdict of all controllers, top level and every embedded one
	 * (the device checks each on its own, sis-format.md §7.9), in the
	 * order invalid > unsigned > untrusted > self-signed > trusted. */
	enum sisign_verdict verdict;
	int data;                       /* SISIGN_OK or the file-data check's error */
	char data_message[512];
	int structure;                  /* SISIGN_OK or the damage code */
	char structure_message[512];
	struct sisign_ctrl_report top;
	/* The controller whose verdict is the overall one (the first such, top
	 * level first, then depth first), pointing into top; NULL when the
	 * structure or the file data decided.  Last, so the fields above keep
	 * their places. */
	const struct sisign_ctrl_report *decided_by;
};

struct sisign_verify_opts {
	const char *const *trust;       /* root certificate files or directories, NULL-terminated */
	time_t at;                      /* validation time; 0 = now */
	int skip_data;                  /* 1 = do not check file hashes */
};

/* Verify every chain of the top-level and each embedded controller: the
 * signature over exactly the signed bytes, path validation to the given
 * roots at the given time, extended key usage and validity; plus file
 * hashes and structure.  Each controller gets its own verdict; the overall
 * one is the worst of them (see struct sisign_verify_report).  Returns SISIGN_OK when the report was produced
 * (whatever its verdict); caller frees with sisign_verify_report_free(). */
SISIGN_API int sisign_pkg_verify(struct sisign_pkg *pkg, const struct sisign_verify_opts *opts,
	struct sisign_verify_report **out, struct sisign_error *err) SISIGN_WARN_UNUSED;
SISIGN_API void sisign_verify_report_free(struct sisign_verify_report *rep);

SISIGN_API const char *sisign_verdict_name(enum sisign_verdict v);       /* "trusted", ... */
SISIGN_API const char *sisign_chain_status_name(enum sisign_chain_status s);

#ifdef __cplusplus
}
#endif
#endif
