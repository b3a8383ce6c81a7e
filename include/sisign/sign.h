/* SPDX-License-Identifier: Apache-2.0 */
/* sisign — adding and removing signatures (sis-format.md §7.4-§7.6). */
#ifndef SISIGN_SIGN_H
#define SISIGN_SIGN_H

#include <stddef.h>
#include <time.h>
#include <sisign/error.h>
#include <sisign/package.h>
#include <sisign/signer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A signing identity: a signer plus the certificate chain written into each
 * signature, checked once (key matches certificate, validity, key size,
 * extended key usage) and then used for any number of packages. */
struct sisign_identity;

struct sisign_identity_opts {
	/* PEM or DER file: the signer's certificate first, optionally followed
	 * by intermediates.  NULL: the certificate that came with the signer
	 * (a token's certificate with the key's CKA_ID). */
	const char *cert_file;
	/* Further certificate files appended to the chain, NULL-terminated. */
	const char *const *chain_files;
	int allow_expired;   /* an expired or not-yet-valid certificate is an error unless set */
	time_t now;          /* time for the validity check; 0 = current time */
};

/* Builds an identity; takes no ownership of signer (it must outlive the
 * identity).  Warnings (weak key, no code-signing EKU) are available with
 * sisign_identity_nwarnings/warning.  Caller frees with sisign_identity_free(). */
SISIGN_API int sisign_identity_new(struct sisign_signer *signer, const struct sisign_identity_opts *opts,
	struct sisign_identity **out, struct sisign_error *err) SISIGN_WARN_UNUSED;
SISIGN_API void sisign_identity_free(struct sisign_identity *id);
SISIGN_API size_t sisign_identity_nwarnings(const struct sisign_identity *id);
SISIGN_API const char *sisign_identity_warning(const struct sisign_identity *id, size_t i);
/* Signer certificate details: subject (one line) and SHA-256 fingerprint
 * (lower-case hex of the DER). */
SISIGN_API const char *sisign_identity_subject(const struct sisign_identity *id);
SISIGN_API const char *sisign_identity_fingerprint(const struct sisign_identity *id);
/* The DER chain blob written into signatures (signer first). */
SISIGN_API const unsigned char *sisign_identity_chain(const struct sisign_identity *id, size_t *len);

/* Append one signature chain to the package's top-level controller, just
 * before SISDataIndex.  Before anything changes: the package must be a SIS
 * package or .ctl controller (not a ROM stub), undamaged, and every chain
 * already in it (top level and embedded packages) must verify
 * (sisign_pkg_check_signable_nodata).  This call reads no file data: the
 * file hashes are checked by sisign_pkg_write(), in the one pass that
 * copies SISData into the output (inflate, SHA-1 of every file on several
 * threads, see sisign_pkg_set_threads, and the data CRC, as it copies);
 * if a file's SHA-1 does not match its data, that write fails with the
 * error sisign_pkg_check_signable() would have given
 * (SISIGN_ERR_HASH_MISMATCH, SISIGN_ERR_CORRUPT_DATA, ...) and nothing is
 * written.  So the signature is made, and thrown away, before such a
 * package is found out: call sisign_pkg_check_signable() first to refuse
 * it before any signature (that reads SISData once more; its result is
 * cached, so neither this call nor the writer hashes the files again, and
 * this call then refuses a package that failed it).  Earlier chains and
 * all file data bytes are kept exactly; the writer refreshes the CRC
 * fields. */
SISIGN_API int sisign_pkg_sign(struct sisign_pkg *pkg, struct sisign_identity *id, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* What sisign_pkg_sign refuses before it signs, without reading file
 * data: a ROM stub, a damaged controller (SISIGN_ERR_MALFORMED); a chain
 * already in the package, in the top-level controller or an embedded one,
 * whose signature does not verify over its signed bytes or whose
 * certificates cannot be read (SISIGN_ERR_SIG_INVALID), or whose algorithm
 * the device does not accept, such as MD2 or MD5
 * (SISIGN_ERR_SIG_UNSUPPORTED): the device refuses such a package whatever
 * chain is added, so the message names the chain and, for the top level,
 * suggests `sisign unsign --all`; and the failure of a data check made
 * before (sisign_pkg_check_data or sisign_pkg_check_signable).  The
 * header's UID3 and UID checksum are not refused: writing the signed
 * package writes them anew.  Lets a front end refuse a package before it
 * asks for a passphrase or PIN; `sisign sign` calls this one, and leaves
 * the file hashes to the writer's single pass. */
SISIGN_API int sisign_pkg_check_signable_nodata(struct sisign_pkg *pkg, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* sisign_pkg_check_signable_nodata, then the file data: every file's
 * SHA-1 must match its data (a pass over SISData: inflate and SHA-1 on
 * several threads, and the data CRC in the same read).  For a caller that
 * must decide before it signs or writes anything (`sisign sign
 * --dry-run`, --skip-signed).  The result is cached, so sisign_pkg_sign
 * does not hash the files again, and sisign_pkg_write copies SISData
 * without reading it in userspace (copy_file_range). */
SISIGN_API int sisign_pkg_check_signable(struct sisign_pkg *pkg, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Remove the last chain (all = 0) or every chain (all = 1).
 * SISIGN_ERR_NOT_SIGNED if there is none.  Unsigning what sisign_pkg_sign
 * signed gives back its input byte for byte, CRC fields included, when the
 * input's controller was compressed the way sisign_pkg_write compresses it
 * (as signsis does) and its CRCs were not stale; otherwise only the
 * compressed controller and the CRC values differ.  Reads no file data;
 * sisign_pkg_write() then copies SISData in one pass that also works out
 * the data CRC (when the package has that field) and checks no file
 * hash. */
SISIGN_API int sisign_pkg_unsign(struct sisign_pkg *pkg, int all, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* True if the package's last chain was made with this identity's
 * certificate (same signer certificate bytes). */
SISIGN_API int sisign_pkg_last_chain_is(const struct sisign_pkg *pkg, const struct sisign_identity *id);

#ifdef __cplusplus
}
#endif
#endif
