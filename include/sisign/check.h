/* SPDX-License-Identifier: Apache-2.0 */
/* sisign — would the device's installer accept this package, signed by this
 * identity?  The package-only rules of the Symbian OS 9 software installer
 * (docs/check.md; rule IDs from ../shared/docs/install-rules.md): those that
 * need no device state, or whose assumption about the device is stated in
 * the finding.  Nothing is printed: the front ends turn findings into text,
 * JSON or a row in the app. */
#ifndef SISIGN_CHECK_H
#define SISIGN_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sisign/error.h>
#include <sisign/package.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Ordered: a report's worst severity decides the verdict. */
enum sisign_check_severity {
	SISIGN_CHECK_WARNING = 1, /* installs, but the user is asked (a prompt he may refuse) */
	SISIGN_CHECK_DEPENDS = 2, /* the outcome depends on device state the tool cannot know */
	SISIGN_CHECK_ERROR = 3,   /* the installer would refuse the package */
};

/* How the installer would rate the signature of one controller (install-rules.md §1). */
enum sisign_check_trust {
	SISIGN_TRUST_UNSIGNED = 0,    /* no chain, or none usable (EValidated never reached) */
	SISIGN_TRUST_SELF_SIGNED = 1, /* chains end in a self-signed certificate not named a trusted root */
	SISIGN_TRUST_DEPENDS = 2,     /* a chain ends below a root the device's certstore may or may not hold */
	SISIGN_TRUST_TRUSTED = 3,     /* a chain reaches a root named with sisign_check_root */
};

struct sisign_finding {
	const char *rule;      /* "IR-CAGE-2", ... (static) */
	enum sisign_check_severity severity;
	int depth;             /* controller: 0 = top level */
	uint32_t uid;          /* that controller's package UID */
	char *file;            /* the file's target path, or NULL */
	char *message;         /* one line in the installer's terms ("would fail with ...") */
	const char *fix;       /* one line: how to make the package pass (static) */
	const char *needs;     /* DEPENDS only: the device state, e.g. "CS" (certstore), "Reg", "Dev" (static) */
};

struct sisign_check_report {
	size_t nfindings;
	struct sisign_finding *findings;  /* controller order (top level first), then rule order */
	int worst;                        /* highest severity found, 0 if none */
	enum sisign_check_trust trust;    /* of the top-level controller */
	uint32_t requested_caps[2];       /* capabilities the top-level controller asks for (§4 step 1) */
};

/* A root the device's certstore is assumed to hold, with the capabilities its
 * certstore entry grants (install-rules.md §4 step 2). */
struct sisign_check_root {
	const char *file;      /* PEM or DER certificate file, or a directory of them */
	int caps_set;          /* 0: the root grants every capability */
	uint32_t caps[2];
};

/* What the checker works out from a certificate chain's bytes alone
 * (decoded certificates, self-signed or not, the extended-key-usage verdict,
 * the developer-certificate constraints, the top issuer), kept across calls
 * so that many packages with the same chains (a batch: every package gets
 * the signer's chain) decode each chain once.  Its first call also reads
 * the policy file and the root certificate files, and later calls that name
 * the same files (by name; roots with the same caps) use those: a file
 * changed while the cache lives is not read again.  A call with another
 * policy file or other roots runs as without a cache.  Reports are the same
 * with or without one.  Safe to share between threads; at most max_chains
 * chains are kept (later ones are worked out on every call). */
struct sisign_check_cache;
SISIGN_API int sisign_check_cache_new(size_t max_chains, struct sisign_check_cache **out,
	struct sisign_error *err) SISIGN_WARN_UNUSED;
SISIGN_API void sisign_check_cache_free(struct sisign_check_cache *cache);

struct sisign_check_opts {
	/* The identity: a DER chain blob, signer first (as struct
	 * sisign_chain.certs).  NULL: the package's own top-level chains. */
	const uint8_t *certs;
	size_t certs_len;
	/* Or the identity from files (when certs is NULL): a PEM or DER file,
	 * the signer's certificate first, then intermediates; and further
	 * certificate files appended to the chain (NULL-terminated, may be
	 * NULL).  NULL cert_file: the package's own chains. */
	const char *cert_file;
	const char *const *chain_files;
	/* With certs: 1 = the package's own top-level chains count too (what
	 * `sign` produces: it appends a chain); 0 = as if certs were its only
	 * chain. */
	int keep_chains;
	size_t nroots;
	const struct sisign_check_root *roots;
	/* A device's swipolicy.ini (install-rules.md §10).  NULL: the values
	 * Symbian shipped (AllowUnsigned false, AllowGrantUserCapabilities
	 * true, UserCapabilities NetworkServices LocalServices ReadUserData
	 * WriteUserData Location UserEnvironment, ...). */
	const char *policy_file;
	time_t at;             /* time for certificate validity; 0 = now */
	int skip_data;         /* 1: do not hash file data (IR-EXE-9); sign has done it */
	struct sisign_check_cache *cache; /* NULL: none (everything is read and decoded per call) */
};

/* Apply every package-only rule to the top-level controller and each
 * embedded one.  Reads the start of each file going to \sys\bin\ (its E32
 * header) and, unless skip_data, every file's data (hashes).  Returns
 * SISIGN_OK when the report was produced, whatever it finds; an error for
 * an unreadable policy file (SISIGN_ERR_SYSTEM), a corrupt one
 * (SISIGN_ERR_MALFORMED, as KErrPolicyFileCorrupt), a root or identity
 * certificate that cannot be read (SISIGN_ERR_BAD_CERT), a package whose
 * data cannot be read, or no memory.  Caller frees with
 * sisign_check_report_free(). */
SISIGN_API int sisign_pkg_check_install(struct sisign_pkg *pkg, const struct sisign_check_opts *opts,
	struct sisign_check_report **out, struct sisign_error *err) SISIGN_WARN_UNUSED;
SISIGN_API void sisign_check_report_free(struct sisign_check_report *rep);

SISIGN_API const char *sisign_check_severity_name(int sev);            /* "warning", "depends", "error" */
SISIGN_API const char *sisign_check_trust_name(enum sisign_check_trust t); /* "unsigned", "self-signed", ... */

/* One line per rule this library checks, for help text: *rule and *text
 * are static; returns 0 past the end. */
SISIGN_API int sisign_check_rule(size_t i, const char **rule, const char **text);

#ifdef __cplusplus
}
#endif
#endif
