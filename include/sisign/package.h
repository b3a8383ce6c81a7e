/* SPDX-License-Identifier: Apache-2.0 */
/* sisign — reading, describing and writing Symbian OS 9+ SIS packages.
 *
 * A package is parsed from a file (streamed: file data is never loaded
 * whole) or from memory.  The parsed model below is read-only and owned by
 * the package; every pointer in it stays valid until sisign_pkg_free().
 * Strings are UTF-8.  Format reference: docs in ../shared/docs/sis-format.md. */
#ifndef SISIGN_PACKAGE_H
#define SISIGN_PACKAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sisign/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sisign_pkg;

enum sisign_pkg_kind {
	SISIGN_PKG_SISX = 1, /* UID header + SISContents: an ordinary package */
	SISIGN_PKG_STUB = 2, /* bare SISController field (makesis -s ROM stub) */
	SISIGN_PKG_CTL = 3,  /* SISController without its type word (.ctl registry file) */
};

struct sisign_parse_opts {
	uint64_t max_controller; /* cap on the decompressed controller; 0 = 16 MiB */
	uint64_t max_file;       /* cap on one file's declared uncompressed size; 0 =
	                          * 0x3FFFFFFE bytes (just under 1 GiB), the largest
	                          * the device's installer takes */
	int max_depth;           /* embedding depth cap; 0 = 8 (the device's limit) */
};
/* Fixed caps, each refused with SISIGN_ERR_TOO_LARGE: 65,536 entries in one
 * list of a controller; 65,536 data units in SISData (each serves one
 * controller, real packages have a handful); 1,048,576 file data entries in
 * all data units. */

struct sisign_version {
	int32_t major, minor, build; /* -1 = wildcard in dependency ranges */
};

struct sisign_datetime {
	uint16_t year;
	uint8_t month; /* 1-12 here (stored 0-11 in the file) */
	uint8_t day, hour, minute, second;
};

struct sisign_dependency {
	uint32_t uid;
	int has_from, has_to;
	struct sisign_version from, to;
	size_t nnames;
	char **names; /* per language */
};

enum sisign_hash_status {
	SISIGN_HASH_UNCHECKED = 0,
	SISIGN_HASH_OK = 1,
	SISIGN_HASH_MISMATCH = 2,
	SISIGN_HASH_NO_DATA = 3,   /* no file data (e.g. "null" operation, empty hash,
	                            * a preinstalled package or a stub) */
	SISIGN_HASH_MISSING = 4,   /* the data unit or file index points nowhere */
	SISIGN_HASH_CORRUPT = 5,   /* data does not inflate to its declared size */
};

struct sisign_file {
	char *target;              /* device path, e.g. "!:\sys\bin\x.exe"; may be "" */
	char *mime;
	size_t ncaps;              /* capability words (0 = field absent) */
	const uint32_t *caps;
	uint32_t hash_alg;         /* 1 = SHA-1 */
	size_t hash_len;           /* 20, or 0 for no data */
	uint8_t hash[20];
	uint32_t operation;        /* 1 install, 2 run, 4 text, 8 null */
	uint32_t options;
	uint64_t length;           /* as declared: compressed payload size */
	uint64_t uncompressed_length;
	uint32_t file_index;
	int conditional;           /* inside an IF/ELSEIF block */
	enum sisign_hash_status hash_status;  /* set by sisign_pkg_check_data() */
	uint64_t data_offset;      /* file offset of the SISCompressed payload, 0 if unknown */
	uint64_t data_stored;      /* payload bytes in the file */
	uint32_t data_algorithm;   /* 0 stored, 1 zlib */
};

struct sisign_signature {
	char *algorithm;           /* OID text, e.g. "1.2.840.113549.1.1.5" */
	const uint8_t *sig;
	size_t siglen;
};

struct sisign_chain {
	size_t nsigs;
	struct sisign_signature *sigs;
	const uint8_t *certs;      /* concatenated DER certificates, signer first */
	size_t certs_len;
	/* The signed message of this chain, inside the controller bytes
	 * (sis-format.md §7.1): signed_region[0 .. signed_len). */
	const uint8_t *signed_region;
	size_t signed_len;
};

struct sisign_controller {
	int depth;                 /* 0 = top level */
	uint32_t uid;
	char *vendor_unique;
	size_t nnames;
	char **names;              /* per language */
	size_t nvendors;
	char **vendors;
	struct sisign_version version;
	struct sisign_datetime created;
	uint8_t install_type;      /* 0 SA, 1 SP, 2 PU, 3 PA, 4 PP */
	uint8_t install_flags;
	size_t noptions;
	char **options;            /* first-language name of each option */
	size_t nlanguages;
	uint32_t *languages;
	size_t ntargets;
	struct sisign_dependency *targets;   /* target devices / platforms */
	size_t ndeps;
	struct sisign_dependency *deps;      /* package dependencies */
	size_t nproperties;
	const struct sisign_file *logo;      /* NULL if none */
	size_t nfiles;
	struct sisign_file *files;           /* every file, including conditional ones */
	size_t nembedded;
	struct sisign_controller *embedded;
	size_t nchains;
	struct sisign_chain *chains;
	const uint8_t *value;                /* the controller's value (after its header) */
	size_t value_len;
	size_t data_index_offset;            /* where SISDataIndex starts in value */
	uint32_t data_index;                 /* as stored */
	uint32_t abs_data_unit;              /* parent's absolute unit + data_index */
	size_t trailing;                     /* unsigned bytes after SISDataIndex */
	/* A member field (SISInfo, SISInstallBlock, ...) whose outer length is
	 * sound but whose contents are not: the package still parses (its
	 * structure and signatures can be examined) but it is damaged, and the
	 * device would refuse it.  0 if undamaged, else the sisign_err. */
	int damage;
	char *damage_message;
	long long damage_offset;             /* in the decompressed controller */
};

struct sisign_pkg_info {
	enum sisign_pkg_kind kind;
	uint64_t file_size;
	uint32_t uid1, uid2, uid3, uid_checksum;
	int uid_checksum_ok;
	int uid3_matches;          /* header UID3 == SISInfo UID */
	int has_controller_crc, controller_crc_ok;
	uint16_t controller_crc, controller_crc_computed;
	int has_data_crc;
	int data_crc_ok;           /* -1 until sisign_pkg_check_checksums() computes it */
	uint16_t data_crc, data_crc_computed;
	uint32_t controller_compression; /* 0 stored, 1 zlib (SISX only) */
	uint64_t controller_size;  /* decompressed controller field bytes */
	size_t ndata_units;
};

/* Parse a package file.  Structure, controller and data-unit layout are read
 * and checked; file data is not read (see sisign_pkg_check_data).  Anything
 * but a regular file is refused (SISIGN_ERR_INVALID_ARG) without blocking:
 * a FIFO is opened non-blocking and never read.  Caller frees *out with
 * sisign_pkg_free(). */
SISIGN_API int sisign_pkg_open(const char *path, const struct sisign_parse_opts *opts,
	struct sisign_pkg **out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Open a package to replace it in place (read, change, sisign_pkg_replace).
 * As sisign_pkg_open, and: symlinks in path are resolved, so the file a
 * link leads to is the one replaced and the link stays; the file is locked
 * (an exclusive flock) from before it is read until sisign_pkg_free(), so
 * two writers using this call on one file take turns and neither loses
 * the other's change.  If another holds the lock: wait for it (nowait 0),
 * or fail at once with SISIGN_ERR_SYSTEM, sys_errno EWOULDBLOCK (nowait 1).
 * A file replaced while we waited is not read: the lock is taken again on
 * the file the path names now.  Caller frees *out with sisign_pkg_free(). */
SISIGN_API int sisign_pkg_open_exclusive(const char *path, const struct sisign_parse_opts *opts, int nowait,
	struct sisign_pkg **out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Parse from memory; the bytes are copied only where needed, so `data` must
 * stay valid until sisign_pkg_free(). */
SISIGN_API int sisign_pkg_parse_mem(const void *data, size_t len, const struct sisign_parse_opts *opts,
	struct sisign_pkg **out, struct sisign_error *err) SISIGN_WARN_UNUSED;

SISIGN_API void sisign_pkg_free(struct sisign_pkg *pkg);

SISIGN_API const struct sisign_pkg_info *sisign_pkg_info(const struct sisign_pkg *pkg);
SISIGN_API const struct sisign_controller *sisign_pkg_controller(const struct sisign_pkg *pkg);

/* The first damaged controller (the top level, else an embedded one in
 * order), or NULL if none is: see struct sisign_controller.damage. */
SISIGN_API const struct sisign_controller *sisign_pkg_damaged(const struct sisign_pkg *pkg);

/* Non-fatal findings (stale CRC, UID3 mismatch, ...), one line each. */
SISIGN_API size_t sisign_pkg_nwarnings(const struct sisign_pkg *pkg);
SISIGN_API const char *sisign_pkg_warning(const struct sisign_pkg *pkg, size_t i);

/* Stream every file's data: inflate, check the declared size, SHA-1 it and
 * compare with its SISFileDescription.  Each data entry is inflated and
 * hashed once, however many descriptions name it (so repeated descriptions
 * cost a comparison each, not another pass).  A declared size over
 * max_file is refused with SISIGN_ERR_TOO_LARGE before any data is read.
 * Sets each file's hash_status.  A file that names no data is
 * SISIGN_HASH_NO_DATA, not a failure, when its package is preinstalled (PA,
 * PP) or the whole package is a stub (SISData without a data unit: its
 * files are on the media it came on, install-rules.md IR-SIG-8); in any
 * other package it is SISIGN_HASH_MISSING and fails (SISIGN_ERR_MALFORMED).
 * Returns SISIGN_OK if every file with a hash matches, else the first
 * failure (SISIGN_ERR_HASH_MISMATCH, SISIGN_ERR_CORRUPT_DATA, ...) with a
 * message naming the file.  The result is remembered: a second call, or
 * sisign_pkg_sign and sisign_pkg_write after it, do not hash the files
 * again (a failed result makes sisign_pkg_sign refuse). */
SISIGN_API int sisign_pkg_check_data(struct sisign_pkg *pkg, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* How many threads the data check (sisign_pkg_check_data, and so
 * verifying; sisign_pkg_check_signable; and sisign_pkg_write's pass after
 * sisign_pkg_sign) hashes this package's files on: each thread takes whole
 * files, so a package of one file uses one.  0 (the default) = the online
 * CPUs, at most 16; packages with less than 4 MiB of file data are hashed
 * on the calling thread alone.  Results and messages do not depend on it. */
SISIGN_API void sisign_pkg_set_threads(struct sisign_pkg *pkg, unsigned int n);

/* Compute the data CRC (a full read of SISData, unless a data check for
 * signing or a write has already computed it) and set
 * info->data_crc_ok and data_crc_computed; a stale one adds a warning.
 * Only for reporting: the device ignores both CRCs. */
SISIGN_API int sisign_pkg_check_checksums(struct sisign_pkg *pkg, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Write the package to `path` atomically (temp file, fsync, rename).  A
 * package nobody changed is written back byte for byte.  A signed or
 * unsigned one gets its controller recompressed (zlib's default level, or
 * stored when that does not shrink it, as signsis does), the header's UID3
 * and checksum recomputed, and each CRC field (SISControllerChecksum,
 * SISDataChecksum) exactly when the input had one, with the CRC of what is
 * written, as signsis does (signsis would also add a missing one, and drop
 * one whose CRC is 0; the device ignores both CRCs).  File data and all
 * other bytes are copied.  A package signed by sisign_pkg_sign() without
 * a data check before it (sisign_pkg_check_signable or _check_data) has
 * SISData copied in ONE pass that reads each byte once into memory, writes
 * it to the temp file, inflates and SHA-1s the files (on several threads)
 * and works out the data CRC; a file whose SHA-1 does not match its data
 * fails the write with the data check's error (SISIGN_ERR_HASH_MISMATCH,
 * ...), the temp file is removed and nothing is written.  The data CRC is
 * put into the temp file's head once the pass is over, before the file is
 * renamed into place.  An unsigned package (sisign_pkg_unsign) with a
 * SISDataChecksum field gets the same pass, for the CRC only (file hashes
 * are not checked, as before).  Otherwise (hashes and CRC known from a
 * check made before, or no CRC field) the kernel copies SISData
 * (copy_file_range).  mode: e.g. 0644; only its 0777
 * bits are used (never setuid, setgid or sticky), exactly (the umask is the
 * caller's to apply). */
SISIGN_API int sisign_pkg_write(struct sisign_pkg *pkg, const char *path, int mode,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Write a package opened with sisign_pkg_open_exclusive() back over its
 * file (the link's target for a symlink), atomically, while the lock is
 * still held; the file keeps its permission bits (& 0777).
 * SISIGN_ERR_INVALID_ARG for a package opened otherwise. */
SISIGN_API int sisign_pkg_replace(struct sisign_pkg *pkg, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* ---- building a package (sisign pack) ------------------------------------ */

struct sisign_pack_file {
	const char *source;        /* local file */
	const char *target;        /* device path, e.g. "!:\sys\bin\x.exe" */
	const char *mime;          /* NULL = "" */
	uint32_t capabilities;     /* capability set given by hand (bit n =
	                            * capability n); 0 = none given.  Used as
	                            * the file's Capabilities field, except for
	                            * an E32 image going directly into
	                            * \sys\bin\ (see sisign_pack) */
	uint32_t operation;        /* 0 = install (1) */
	uint32_t options;
};

struct sisign_pack_opts {
	uint32_t uid;
	const char *const *names;  /* one per language */
	const char *const *vendors;/* one per language; NULL = use vendor for all */
	const char *vendor;        /* unique (non-localised) vendor name */
	struct sisign_version version;
	const uint32_t *languages; /* TLanguage codes; NULL/0 = English (1) */
	size_t nlanguages;
	uint8_t install_type;      /* 0 = SA */
	uint8_t install_flags;
	int platform;              /* 0 none; 1 S60 3rd edition dependency (UID 0x101F7961) */
	const struct sisign_pack_file *files;
	size_t nfiles;
	int store;                 /* 1 = do not compress (controller or data) */
	const struct sisign_datetime *created; /* NULL = now (UTC) */
	/* Called with each warning, one line that names the file and why
	 * (the library never prints); NULL drops them. */
	void (*warning)(void *userdata, const char *message);
	void *warning_userdata;
};

/* Build an unsigned package at `path` (atomically).  A source file of more
 * than 0x3FFFFFFE bytes (the device installer's limit) is refused with
 * SISIGN_ERR_TOO_LARGE before any of it is read.
 *
 * Executables, as makesis does them (install-rules.md IR-EXE-4): for a
 * target directly in \sys\bin\ (any drive, "!:" or none; case ignored)
 * the first bytes of the source are read as an E32 image header.  If it
 * is one (an EXE or a DLL), the file's Capabilities field is the header's
 * capability set (no field when that is empty, as makesis writes it), and
 * a hand-given capabilities set that differs is refused with
 * SISIGN_ERR_INVALID_ARG, the message naming the source, the target and
 * both sets; a header the installer would refuse (bad UID checksum, not
 * the V format) is a warning.  A source that is not an EXE or DLL E32
 * image is a warning (the installer refuses it there, IR-EXE-1) and keeps
 * the hand-given set. */
SISIGN_API int sisign_pack(const struct sisign_pack_opts *opts, const char *path,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* ---- executables (E32 image headers, install-rules.md §3.1) --------------- */

/* What the first bytes of a file say about it as a Symbian executable.
 * The capability words use the layout of a SIS file description's
 * Capabilities field: capability n is caps[n / 32] & (1u << n % 32), and
 * sisign_capability_name(n) names it. */
enum sisign_exe_kind {
	SISIGN_EXE_NONE = 0,  /* not an E32 image (see reason) */
	SISIGN_EXE_EXE = 1,   /* UID1 0x1000007A */
	SISIGN_EXE_DLL = 2,   /* UID1 0x10000079 */
	SISIGN_EXE_OTHER = 3, /* 'EPOC' signature, but UID1 is neither */
};

struct sisign_exe_info {
	enum sisign_exe_kind kind;  /* NONE: not an E32 image (see reason) */
	const char *reason;         /* static text when kind == NONE or the header is bad, else NULL */
	int header_ok;              /* EPOC signature, UID checksum valid, V format
	                             * (flags & 0x0F000000 == 0x02000000) */
	uint32_t uid1, uid2, uid3;
	uint32_t flags;             /* header word at 0x2C */
	uint32_t sid, vid;          /* 0x80, 0x84 */
	uint32_t caps[2];           /* 0x88, 0x8C */
};

/* Bytes of a file that sisign_exe_decode needs to see everything it
 * reports (the header up to the end of the capability words). */
#define SISIGN_EXE_HEADER_BYTES 0x90u

/* Decode the first n bytes of a file (an E32 header is 0x90+ bytes long).
 * Never fails: short or foreign data gives kind NONE with a reason.  An
 * image is recognised by the 'EPOC' signature at 0x10 (what Symbian's PC
 * tools test); the UID checksum at 0x0C is the checked-UID CRC a SIS
 * header uses too.  Fields are filled as far as n holds them whole, all 0 beyond. */
SISIGN_API void sisign_exe_decode(const uint8_t *p, size_t n, struct sisign_exe_info *out);

/* 1 when a SIS target path names a file directly in \sys\bin\, the one
 * directory where the installer takes executables and nothing else
 * (install-rules.md IR-EXE-1): an optional drive ("C:", "!:"), then
 * \sys\bin\ in any case, then a name without another backslash; else 0. */
SISIGN_API int sisign_target_in_sys_bin(const char *target);

/* Inflate the first SISIGN_EXE_HEADER_BYTES bytes of one file of an opened
 * package (stored or zlib data; never more of it, however big the file)
 * and decode them into *out.  f must be one of pkg's files.  A file with
 * no data in the package (a "null" operation, a preinstalled package)
 * gives SISIGN_OK with kind NONE and a reason.  Errors: SISIGN_ERR_SYSTEM
 * (read failed), SISIGN_ERR_CORRUPT_DATA (the data is not zlib data, or
 * its first 1 MiB of zlib input yields less than a header without ending),
 * SISIGN_ERR_UNSUPPORTED (unknown compression algorithm), SISIGN_ERR_NOMEM;
 * the message names the file's target.  *out is then kind NONE. */
SISIGN_API int sisign_pkg_file_exe(struct sisign_pkg *pkg, const struct sisign_file *f,
	struct sisign_exe_info *out, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* Names for codes: capability number → "ReadUserData" etc. (NULL if
 * unknown); TLanguage → "English" etc. (NULL if unknown). */
/* ---- certificates ------------------------------------------------------ */

/* A certificate as every sisign front end shows it.  Distinguished names
 * have one style everywhere (info, verify, keys, signsis, messages): RFC
 * 2253 order and escaping, ", " between components, UTF-8 kept as is,
 * e.g. "CN=Jane Dev, OU=Apps, O=Acme, C=FI". */
struct sisign_cert_info {
	char subject[512];
	char issuer[512];
	char serial[132];          /* upper-case hex, "-" first if negative */
	time_t not_before, not_after;
	char key_type[8];          /* "RSA", "DSA" or "other" */
	int key_bits;              /* 0 if unknown */
	char sig_alg[64];          /* e.g. "sha1WithRSAEncryption" */
	char sha256[65];           /* lower-case hex SHA-256 of the DER */
	int self_issued;           /* issuer == subject (signature not checked) */
};

/* Describe each certificate of a concatenation of DER certificates (a SIS
 * chain's certs: signer first).  *out is an array of *n descriptions,
 * freed with sisign_cert_info_free().  Returns SISIGN_OK (len 0 gives
 * *n == 0), or SISIGN_ERR_BAD_CERT (err->offset: where in der the failing
 * certificate starts) with the certificates described before it still in
 * *out and *n; SISIGN_ERR_NOMEM. */
SISIGN_API int sisign_certs_describe(const uint8_t *der, size_t len, struct sisign_cert_info **out, size_t *n,
	struct sisign_error *err) SISIGN_WARN_UNUSED;
SISIGN_API void sisign_cert_info_free(struct sisign_cert_info *v);

/* Symbian developer-certificate constraints (install-rules.md §5) that one
 * certificate carries: the device IDs (IMEIs), SIDs and VIDs a package
 * signed through it may use, and the capabilities it may grant.  A *_set
 * flag is 1 when the certificate has that extension; a set list may be
 * empty and then allows nothing.  caps: bit n of caps[n / 32] is capability
 * n (sisign_capability_name), 0 when !caps_set.  error is "" or why this
 * certificate's extensions do not decode (then nothing is set; the device
 * would refuse the chain). */
struct sisign_cert_constraints {
	int devices_set;
	size_t ndevices;
	char **devices;
	int sids_set;
	size_t nsids;
	uint32_t *sids;
	int vids_set;
	size_t nvids;
	uint32_t *vids;
	int caps_set;
	uint32_t caps[2];
	char error[512];           /* as sisign_error.message */
};

/* The constraints of each certificate of a concatenation of DER
 * certificates (as sisign_certs_describe: (*out)[i] belongs to certificate
 * i).  Returns SISIGN_OK (len 0 gives *n == 0), SISIGN_ERR_BAD_CERT if the
 * certificates themselves do not decode (*out NULL), SISIGN_ERR_NOMEM.  A
 * broken extension is reported in that entry's error, not as a failure.
 * Free with sisign_cert_constraints_free(*out, *n). */
SISIGN_API int sisign_certs_constraints(const uint8_t *der, size_t len, struct sisign_cert_constraints **out,
	size_t *n, struct sisign_error *err) SISIGN_WARN_UNUSED;
SISIGN_API void sisign_cert_constraints_free(struct sisign_cert_constraints *v, size_t n);

SISIGN_API const char *sisign_capability_name(unsigned cap);
SISIGN_API const char *sisign_language_name(uint32_t lang);
SISIGN_API int sisign_capability_from_name(const char *name); /* -1 if unknown */

#ifdef __cplusplus
}
#endif
#endif
