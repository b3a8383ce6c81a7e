/* SPDX-License-Identifier: Apache-2.0 */
/* Internal helpers shared by every library module: error filling, bounded
 * reader (sbuf), growable writer (wbuf), CRC-16, UTF-16 conversion, atomic
 * output files.  Not part of the public API. */
#ifndef SISIGN_UTIL_PRIVATE_H
#define SISIGN_UTIL_PRIVATE_H

#if !defined(SISIGN_BUILD) && !defined(SISIGN_TEST)
#error "util_private.h is internal to libsisign"
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <sisign/error.h>

/* ---- errors ---------------------------------------------------------- */

/* Set err (if not NULL) and return code, so callers can `return err_set(...)`.
 * offset < 0 means "no offset". */
int err_set(struct sisign_error *err, int code, long long offset, const char *fmt, ...)
	SISIGN_PRINTF(4, 5);
/* As err_set, and also records errno (captured by the caller) in the message. */
int err_sys(struct sisign_error *err, int saved_errno, const char *fmt, ...) SISIGN_PRINTF(3, 4);
/* As err_set with SISIGN_ERR_CRYPTO (or the given code), draining the OpenSSL
 * error queue into err->ossl_reason. */
int err_ossl(struct sisign_error *err, int code, const char *fmt, ...) SISIGN_PRINTF(3, 4);
/* Drain and discard the OpenSSL error queue. */
void err_ossl_clear(void);

/* ---- hex (misc.c) ------------------------------------------------------ */

/* sisign_hex into a malloc'd string (free()); NULL if out of memory. */
char *util_hex_dup(const void *p, size_t n);

/* ---- secrets (secret.c) ------------------------------------------------ */

/* Ask cb for a secret into buf (size bytes, ideally from
 * sisign_secret_alloc) and apply sisign_secret_check to the length the
 * callback returned, so a NUL inside is seen, not cut.  Returns SISIGN_OK
 * with *len set, the callback's negative code (err says "no PIN/passphrase";
 * the front end knows the real reason), or the check's error.  buf is wiped
 * on failure. */
int util_secret_ask(int (*cb)(void *, const char *, const char *, int, char *, size_t), void *data,
	const char *kind, const char *what, int tries_left, char *buf, size_t size, size_t *len,
	struct sisign_error *err) SISIGN_WARN_UNUSED;

/* ---- bounded reader ---------------------------------------------------- */

/* A read-only view.  `base` is the absolute offset of data[0] in whatever the
 * caller reports offsets against (file offset, or offset in a decompressed
 * controller), so errors can name a position.  A failed get never moves off. */
struct sbuf {
	const uint8_t *data;
	size_t len;
	size_t off;
	uint64_t base;
};

void sbuf_init(struct sbuf *b, const void *data, size_t len, uint64_t base);
static inline size_t sbuf_avail(const struct sbuf *b) { return b->len - b->off; }
static inline uint64_t sbuf_pos(const struct sbuf *b) { return b->base + b->off; }
int sbuf_get_u8(struct sbuf *b, uint8_t *v) SISIGN_WARN_UNUSED;
int sbuf_get_u16le(struct sbuf *b, uint16_t *v) SISIGN_WARN_UNUSED;
int sbuf_get_u32le(struct sbuf *b, uint32_t *v) SISIGN_WARN_UNUSED;
int sbuf_get_u64le(struct sbuf *b, uint64_t *v) SISIGN_WARN_UNUSED;
int sbuf_peek_u32le(const struct sbuf *b, uint32_t *v) SISIGN_WARN_UNUSED;
/* Point *p at the next n bytes without copying. */
int sbuf_get_direct(struct sbuf *b, size_t n, const uint8_t **p) SISIGN_WARN_UNUSED;
/* Child view of the next n bytes; the parent moves past them. */
int sbuf_sub(struct sbuf *b, size_t n, struct sbuf *child) SISIGN_WARN_UNUSED;
int sbuf_skip(struct sbuf *b, size_t n) SISIGN_WARN_UNUSED;
/* All return SISIGN_OK or SISIGN_ERR_TRUNCATED. */

static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32); }
static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* ---- growable writer ----------------------------------------------------- */

/* Append-only buffer with a sticky failure flag: calls after a failure are
 * no-ops; check wbuf_failed() once before using the bytes. */
struct wbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int failed;
	size_t max; /* 0 = default cap (1 GiB) */
};

void wbuf_init(struct wbuf *w);
void wbuf_free(struct wbuf *w);          /* wipes nothing; use wbuf_freezero for secrets */
void wbuf_put(struct wbuf *w, const void *p, size_t n);
void wbuf_put_u8(struct wbuf *w, uint8_t v);
void wbuf_put_u16le(struct wbuf *w, uint16_t v);
void wbuf_put_u32le(struct wbuf *w, uint32_t v);
void wbuf_put_u64le(struct wbuf *w, uint64_t v);
void wbuf_put_zeros(struct wbuf *w, size_t n);
/* Reserve n bytes and return their offset (for lengths patched later). */
size_t wbuf_reserve(struct wbuf *w, size_t n);
static inline int wbuf_failed(const struct wbuf *w) { return w->failed; }
/* Hand the bytes to the caller (who frees them); the wbuf is reset. */
uint8_t *wbuf_steal(struct wbuf *w, size_t *len);

/* ---- CRC-16 (poly 0x1021, init 0, no reflection; sis-format.md §6) -------- */
uint16_t crc16_update(uint16_t crc, const void *p, size_t n);
/* The CRC of A followed by B, from crca = crc16_update(0, A) and crcb =
 * crc16_update(0, B) and B's length (the CRC is linear: crca is carried
 * through lenb zero bytes, in O(log lenb) steps, and crcb added). */
uint16_t crc16_combine(uint16_t crca, uint16_t crcb, uint64_t lenb);

/* ---- text ------------------------------------------------------------------ */
/* UTF-16LE (n bytes, n even) to a NUL-terminated UTF-8 string (malloc'd).
 * Unpaired surrogates become U+FFFD.  Returns NULL on allocation failure. */
char *utf16le_to_utf8(const uint8_t *p, size_t n);
/* UTF-8 to UTF-16LE (malloc'd, *outlen bytes).  SISIGN_ERR_INVALID_ARG on
 * bad UTF-8. */
int utf8_to_utf16le(const char *s, uint8_t **out, size_t *outlen) SISIGN_WARN_UNUSED;

/* ---- files ------------------------------------------------------------------ */

/* Reads whole small files (certificates, keys); refuses files over max bytes,
 * anything but a regular file (opened non-blocking: a FIFO never blocks),
 * and a file that reads shorter than its size (SISIGN_ERR_SYSTEM). */
int file_read_all(const char *path, size_t max, uint8_t **out, size_t *len, struct sisign_error *err)
	SISIGN_WARN_UNUSED;

/* Atomic output: a temp file in the destination's directory (unnamed
 * O_TMPFILE where the filesystem has it, linked to a temp name
 * "PATH.tmpXXXXXX" only when complete; else created under that name with
 * O_EXCL), fsynced, then renamed over the destination (and the directory
 * fsynced, see atomic_commit).  When the destination's name is so long that the temp name
 * would pass NAME_MAX, the temp is named by atomic_tmp_short_stem instead:
 * ".sisign-HHHHHHHH.tmpXXXXXX" in the same directory.  The writer holds an
 * exclusive flock on the temp file until it is renamed: batch/stale.c
 * skips a locked temp.  A symlink at the destination is replaced, never
 * written through.  mode is masked with 0777: setuid, setgid and sticky
 * are never set.  On any failure or abort the temp file is removed and the
 * destination is untouched. */
struct atomic_file {
	int fd;
	int dirfd;      /* paths are relative to this (AT_FDCWD for atomic_open) */
	char *path;     /* final path */
	char *tmppath;  /* temp path, NULL once committed or aborted */
	int mode;       /* permission bits for the final file */
	int unnamed;    /* fd is an O_TMPFILE not yet linked */
	void *md;       /* an EVP_MD_CTX that atomic_write feeds every byte written, or NULL (caller's) */
};
int atomic_open(struct atomic_file *af, const char *path, int mode, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* The same with path relative to the open directory dirfd (which the caller
 * keeps open until commit or abort). */
int atomic_openat(struct atomic_file *af, int dirfd, const char *path, int mode, struct sisign_error *err)
	SISIGN_WARN_UNUSED;
/* The temp suffix ".tmpXXXXXX" and its length. */
#define ATOMIC_TMP_TAG ".tmp"
#define ATOMIC_TMP_SUFFIX_LEN 10
/* If base (a file name without directory) + ATOMIC_TMP_SUFFIX_LEN would
 * pass NAME_MAX: write its short temp stem ".sisign-HHHHHHHH" (H: a hash
 * of base, so the stale-temp cleaner can tell whose temp it is) to
 * buf[ATOMIC_TMP_STEM_MAX] and return 1; else return 0 (the stem is base). */
#define ATOMIC_TMP_STEM_MAX 24
int atomic_tmp_short_stem(const char *base, char buf[ATOMIC_TMP_STEM_MAX]);
int atomic_write(struct atomic_file *af, const void *p, size_t n, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* fsync, rename, then fsync the directory: an error from that last step
 * (the output is in place then, but the rename may not survive a crash)
 * is returned too, except where the filesystem cannot sync a directory
 * (EINVAL, ENOTSUP) or the directory cannot be opened for reading. */
int atomic_commit(struct atomic_file *af, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* The same; with sync_dir 0 the directory is not synced: the caller must
 * call fsync_dir_of() for it before it reports the output as written (a
 * batch syncs each directory once for a group of renames). */
int atomic_commit_sync(struct atomic_file *af, int sync_dir, struct sisign_error *err) SISIGN_WARN_UNUSED;
/* fsync the directory that holds path (relative to dirfd), as
 * atomic_commit does after its rename. */
int fsync_dir_of(int dirfd, const char *path, struct sisign_error *err) SISIGN_WARN_UNUSED;
void atomic_abort(struct atomic_file *af); /* safe to call after commit, or twice */

/* Full write / pread loops that retry on EINTR and short counts. */
int write_full(int fd, const void *p, size_t n);       /* 0 or -1 with errno */
ssize_t pread_full(int fd, void *p, size_t n, off_t off); /* bytes read (< n only at EOF) or -1 */
int pwrite_full(int fd, const void *p, size_t n, off_t off); /* 0 or -1 with errno */

#endif
