/* SPDX-License-Identifier: Apache-2.0 */
/* Internal model of a parsed SIS package and the field-level helpers the
 * parser, the writer, the signer and the verifier share. */
#ifndef SISIGN_FORMAT_PRIVATE_H
#define SISIGN_FORMAT_PRIVATE_H

#if !defined(SISIGN_BUILD) && !defined(SISIGN_TEST)
#error "format_private.h is internal to libsisign"
#endif

#include <stdint.h>
#include <sisign/package.h>

#include "util/util_private.h"

/* Field type numbers (sis-format.md §4). */
enum sisf_type {
	SISF_STRING = 1, SISF_ARRAY = 2, SISF_COMPRESSED = 3, SISF_VERSION = 4, SISF_VERSION_RANGE = 5,
	SISF_DATE = 6, SISF_TIME = 7, SISF_DATETIME = 8, SISF_UID = 9, SISF_LANGUAGE = 11,
	SISF_CONTENTS = 12, SISF_CONTROLLER = 13, SISF_INFO = 14, SISF_SUPPORTED_LANGUAGES = 15,
	SISF_SUPPORTED_OPTIONS = 16, SISF_PREREQUISITES = 17, SISF_DEPENDENCY = 18, SISF_PROPERTIES = 19,
	SISF_PROPERTY = 20, SISF_CERTIFICATE_CHAIN = 22, SISF_LOGO = 23, SISF_FILE_DESCRIPTION = 24,
	SISF_HASH = 25, SISF_IF = 26, SISF_ELSE_IF = 27, SISF_INSTALL_BLOCK = 28, SISF_EXPRESSION = 29,
	SISF_DATA = 30, SISF_DATA_UNIT = 31, SISF_FILE_DATA = 32, SISF_SUPPORTED_OPTION = 33,
	SISF_CONTROLLER_CHECKSUM = 34, SISF_DATA_CHECKSUM = 35, SISF_SIGNATURE = 36, SISF_BLOB = 37,
	SISF_SIGNATURE_ALGORITHM = 38, SISF_SIGNATURE_CERT_CHAIN = 39, SISF_DATA_INDEX = 40,
	SISF_CAPABILITIES = 41,
};

#define SIS_UID1 0x10201A7Au
#define SIS_LEGACY_UID3 0x10000419u
#define SIS_DEFAULT_MAX_CONTROLLER ((uint64_t)16 << 20) /* real ones are kilobytes */
/* The installer reads a SISCompressed's uncompressed size and refuses
 * 0x3FFFFFFF or more (KErrSISFieldLengthInvalid, sis-format.md §3.6): the
 * largest file a device takes is one byte less. */
#define SIS_DEFAULT_MAX_FILE ((uint64_t)0x3FFFFFFE)
#define SIS_DEFAULT_MAX_DEPTH 8
#define SIS_MAX_NESTING 64          /* IF blocks and expressions */
#define SIS_MAX_FILE_ENTRIES (1u << 20) /* SISFileData entries in all data units */
/* Data units in SISData.  Each serves one controller (the top level or an
 * embedded one, §5.13) and real packages have a handful; an empty unit
 * costs 16 bytes of file, so without a cap a big file could make the
 * parser allocate for tens of millions.  Same bound as one list of a
 * controller (the embedded controllers of one install block are one). */
#define SIS_MAX_DATA_UNITS 65536u
#define SIS_MAX_ELEMENTS 65536u         /* entries in one list of a controller */

const char *sisf_type_name(uint32_t type);

static inline uint64_t sisf_pad(uint64_t len) { return (4 - (len & 3)) & 3; }

/* One decoded field header.  hdrlen counts the type word when there is one. */
struct sisf_hdr {
	uint32_t type;
	uint32_t hdrlen;
	uint64_t len;
};

/* THE field-header decoder: type word (if typed), then the 31-bit length or
 * the 63-bit form when bit 31 of the first length word is set (§3.1).  On
 * failure the cursor does not move. */
int sisf_get_hdr(struct sbuf *b, int typed, struct sisf_hdr *h, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* Canonical header encoding (short form below 2^31); returns bytes written
 * into out (8/12 typed, 4/8 untyped). */
size_t sisf_put_hdr(uint8_t out[12], int typed, uint32_t type, uint64_t len);

/* Writers: a complete typed field from bytes; and the bytes collected in
 * `inner` wrapped as a typed field or an untyped array element (inner is
 * freed).  Both append header, value and zero padding to w. */
void sisf_put_field(struct wbuf *w, uint32_t type, const void *p, size_t n);
void sisf_put_wrapped(struct wbuf *w, int typed, uint32_t type, struct wbuf *inner);

/* A typed field of the wanted type: value view in *val, parent moved past the
 * value and its padding. */
int sisf_get_field(struct sbuf *b, uint32_t want, struct sbuf *val, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* Array value reader: checks the element type word; then sisf_next_elem walks
 * the elements (returns 1 with *elem set, 0 at the end, <0 on error). */
int sisf_get_array(struct sbuf *b, uint32_t elem_type, struct sbuf *elems, struct sisign_error *err)
	SISIGN_WARN_UNUSED;
int sisf_next_elem(struct sbuf *elems, struct sbuf *elem, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* ---- the package ------------------------------------------------------ */

struct sis_unit_file {      /* one SISFileData in a data unit */
	uint64_t payload_off;   /* file offset of the compressed payload */
	uint64_t payload_len;
	uint64_t uncompressed;  /* declared by its SISCompressed */
	uint32_t algorithm;
	/* The data check inflates and hashes an entry once, however many
	 * file descriptions name it; each of them is judged by this. */
	int checked;            /* 1 once hashed (or refused) */
	int check_result;       /* SISIGN_OK, or why the data is unusable */
	uint64_t produced;      /* bytes it inflated to */
	uint8_t md[20];         /* their SHA-1 */
};

struct sis_unit {
	size_t nfiles;
	struct sis_unit_file *files;
};

struct sisign_pkg {
	struct sisign_pkg_info info;
	struct sisign_parse_opts opts;

	/* source */
	int fd;                 /* -1 for memory input */
	const uint8_t *mem;
	uint64_t size;
	char *path;             /* for messages; "(memory)" */

	/* SISX layout, as stored */
	uint8_t header[16];
	uint8_t contents_hdr[12];
	size_t contents_hdrlen;
	uint8_t *ctl_crc_field; size_t ctl_crc_field_len;   /* raw, or NULL */
	uint8_t *data_crc_field; size_t data_crc_field_len; /* raw, or NULL */
	uint8_t *raw_compressed; size_t raw_compressed_len; /* whole SISCompressed field incl. padding */
	uint64_t data_off, data_len;                        /* SISData field incl. header and padding */
	uint64_t contents_vend;                             /* file offset where SISContents' value ends */
	uint64_t contents_end;                              /* ... and after its padding */

	/* the controller: for SISX the decompressed payload; for stubs the file */
	uint8_t *ctrl;          /* whole controller field as stored (type/len header first) */
	size_t ctrl_len;        /* bytes of ctrl used by the field, incl. padding if present */
	size_t ctrl_buf_len;    /* bytes in the buffer (SISX: declared uncompressed size) */
	struct sisign_controller top;

	size_t nunits;
	struct sis_unit *units;

	/* sisign_pkg_open_exclusive: the file fd holds locked, by its path
	 * with every symlink resolved, and its permission bits (& 0777) */
	char *lock_path;
	int lock_mode;

	int dirty;              /* controller changed: rebuild on write */
	int defer_dir_sync;     /* set by the batch: writing does not fsync the output's directory,
	                         * the batch does, once for a group of outputs (batch.c) */
	int data_checked;       /* sisign_pkg_check_data has run: its result is below */
	int data_check_on_write; /* signed without that check: sisign_pkg_write makes it, in the
	                          * one pass that copies SISData, and writes nothing if it fails */
	int data_result;
	struct sisign_error data_err;
	uint64_t data_passes;   /* entries inflated and hashed so far (tests count them) */
	/* The data CRC (CRC-16 of the whole SISData field as stored), once the
	 * data check (pkg_check_data with want_crc), the writer's pass over
	 * SISData or pkg_data_crc worked it out; the writer puts it into the
	 * SISDataChecksum field. */
	int data_crc_known;
	uint16_t data_crc_value;
	unsigned int hash_threads;   /* sisign_pkg_set_threads; 0 = online CPUs */
	uint64_t hash_parallel_min;  /* tests: 0 = write.c's default */
	size_t hash_threads_used;    /* threads the last data check ran on (tests) */
	size_t nwarn;
	char **warn;
};

/* sisign_pkg_check_data, and with want_crc (and a SISX package) the data
 * CRC worked out in the same single read of SISData (data_crc_known).
 * Signing wants it; verify does not. */
int pkg_check_data(struct sisign_pkg *pkg, int want_crc, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* The data CRC: remembered from the data check, or else one read of
 * SISData now (sisign_pkg_check_checksums; the writer works it out in its
 * own pass instead). */
int pkg_data_crc(struct sisign_pkg *pkg, uint16_t *crc, struct sisign_error *err) SISIGN_WARN_UNUSED;

/* sisign_pkg_write that shows the finished output before it is renamed
 * into place: sha256 (65 bytes) gets its SHA-256 in lower-case hex, then
 * before_rename, if not NULL, is called with it; a non-zero answer from it
 * discards the output (nothing is renamed, the temp file is gone) and is
 * returned, with err as before_rename filled it. */
typedef int (*pkg_before_rename_cb)(void *ud, const char *sha256, struct sisign_error *err);
int pkg_write_checked(struct sisign_pkg *pkg, const char *path, int mode, char *sha256,
	pkg_before_rename_cb before_rename, void *ud, struct sisign_error *err) SISIGN_WARN_UNUSED;

int pkg_warn(struct sisign_pkg *pkg, const char *fmt, ...) SISIGN_PRINTF(2, 3);
int pkg_read(const struct sisign_pkg *pkg, uint64_t off, void *buf, size_t n, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* Parse a controller whose whole field (header at ctrl[0]) is in memory.
 * typed: 1 if the field starts with its type word.  base: offset reported in
 * errors for ctrl[0] (relative to the decompressed controller).  The model
 * keeps pointers into ctrl. */
int ctrl_parse(struct sisign_pkg *pkg, const uint8_t *ctrl, size_t len, int typed, uint64_t base,
	struct sisign_controller *out, size_t *used, struct sisign_error *err) SISIGN_WARN_UNUSED;
void ctrl_free(struct sisign_controller *c);

/* Replace the controller bytes (after signing or unsigning): takes ownership
 * of buf, re-parses, and marks the package dirty. buf holds the complete
 * controller field in the package's kind (typed, or length-prefixed for .ctl). */
int pkg_replace_controller(struct sisign_pkg *pkg, uint8_t *buf, size_t len, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* 1 when everything but the controller is the same in both packages, as
 * far as sisign_pkg_write copies it (UID2, the data CRC field, SISData and
 * the bytes after it, compared byte for byte; UID3 and the checksums are
 * derived from the controller when it changes); 0 when not; a negative
 * sisign_err when a read failed. */
int pkg_same_outside_controller(const struct sisign_pkg *a, const struct sisign_pkg *b, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

uint32_t sis_uid_checksum(uint32_t uid1, uint32_t uid2, uint32_t uid3);
/* The 16-byte SISX header: UID1, uid2, uid3 and their checksum (§2). */
void sis_put_uid_header(struct wbuf *w, uint32_t uid2, uint32_t uid3);
/* A SISControllerChecksum or SISDataChecksum field (§5.3): 12 bytes.
 * Writers omit the field when the CRC is 0, as makesis and signsis do. */
void sis_put_crc_field(struct wbuf *w, uint32_t type, uint16_t crc);

/* compress2() at Z_DEFAULT_COMPRESSION (the same bytes), with the deflate
 * state taken from a pool instead of made anew (zdeflate.c).  out has
 * *outlen bytes of room (compressBound(n) always suffices); on success
 * *outlen is the deflated length.  0, or -1. */
int sis_deflate_default(const uint8_t *in, size_t n, uint8_t *out, size_t *outlen);
/* zlib at the default level, or stored when deflate does not shrink it
 * (what signsis does, §3.6).  Builds the whole SISCompressed field incl.
 * header and padding. */
int sis_build_compressed(const uint8_t *p, size_t n, int store, struct wbuf *out, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* "ReadUserData+WriteUserData" for a capability set of two words, "none"
 * when empty; bits without a name show as "CapN", as info shows them.  Always NUL-terminated. */
void sis_caps_text(const uint32_t caps[2], char *out, size_t size);

#endif
