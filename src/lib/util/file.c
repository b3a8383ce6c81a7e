/* SPDX-License-Identifier: Apache-2.0 */
/* File helpers: bounded whole-file reads, full read/write loops, and atomic
 * output (temp file in the same directory, fsync, rename, fsync directory). */
#include "util/util_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

int write_full(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = write(fd, b, n > (size_t)1 << 30 ? (size_t)1 << 30 : n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int pwrite_full(int fd, const void *p, size_t n, off_t off)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = pwrite(fd, b, n > (size_t)1 << 30 ? (size_t)1 << 30 : n, off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
		off += (off_t)w;
	}
	return 0;
}

ssize_t pread_full(int fd, void *p, size_t n, off_t off)
{
	uint8_t *b = p;
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, b + got, n - got, off + (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int file_read_all(const char *path, size_t max, uint8_t **out, size_t *len, struct sisign_error *err)
{
	int fd, r = SISIGN_ERR_INTERNAL;
	struct stat st;
	uint8_t *buf = NULL;
	ssize_t got;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "%s", path);
	if (fstat(fd, &st) != 0) {
		r = err_sys(err, errno, "%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = err_set(err, SISIGN_ERR_INVALID_ARG, -1, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = err_set(err, SISIGN_ERR_TOO_LARGE, -1, "%s: file too large (%lld bytes, limit %zu)", path,
			(long long)st.st_size, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = err_set(err, SISIGN_ERR_NOMEM, -1, "%s: out of memory", path);
		goto out;
	}
	got = pread_full(fd, buf, (size_t)st.st_size, 0);
	if (got < 0) {
		r = err_sys(err, errno, "%s", path);
		goto out;
	}
	if ((uint64_t)got != (uint64_t)st.st_size) {
		/* Read short: never parse the part as if it were the file. */
		r = err_set(err, SISIGN_ERR_SYSTEM, -1, "%s: the file shrank while being read (%lld of %lld bytes)",
			path, (long long)got, (long long)st.st_size);
		goto out;
	}
	buf[got] = 0;
	*out = buf;
	*len = (size_t)got;
	buf = NULL; /* transferred */
	r = SISIGN_OK;
out:
	free(buf);
	close(fd);
	return r;
}

static char *dir_of(const char *path)
{
	char *dir = strdup(path);
	char *slash;
	if (!dir)
		return NULL;
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	return dir;
}

/* Put six random characters of [a-z0-9] over the "XXXXXX" (or the previous
 * try's) at the end of af->tmppath. */
static void tmp_rename_suffix(struct atomic_file *af, int tries)
{
	char *x = af->tmppath + strlen(af->tmppath) - 6;
	unsigned char rnd[6];

	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		memset(rnd, tries, sizeof rnd);
	for (int i = 0; i < 6; i++)
		x[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rnd[i] % 36];
}

int atomic_tmp_short_stem(const char *base, char buf[ATOMIC_TMP_STEM_MAX])
{
	uint32_t h = 2166136261u; /* FNV-1a */
	if (strlen(base) + ATOMIC_TMP_SUFFIX_LEN <= NAME_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)base; *p; p++)
		h = (h ^ *p) * 16777619u;
	snprintf(buf, ATOMIC_TMP_STEM_MAX, ".sisign-%08x", (unsigned)h);
	return 1;
}

int atomic_openat(struct atomic_file *af, int dirfd, const char *path, int mode, struct sisign_error *err)
{
	size_t n = strlen(path);
	const char *slash = strrchr(path, '/');
	char stem[ATOMIC_TMP_STEM_MAX];
	char *dir;
	memset(af, 0, sizeof *af);
	af->fd = -1;
	af->dirfd = dirfd;
	mode &= 0777; /* never setuid, setgid or sticky */
	af->mode = mode;
	af->path = strdup(path);
	af->tmppath = malloc(n + ATOMIC_TMP_STEM_MAX + ATOMIC_TMP_SUFFIX_LEN + 1);
	dir = dir_of(path);
	if (!af->path || !af->tmppath || !dir) {
		free(dir);
		atomic_abort(af);
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	}
	/* A name up to NAME_MAX must work: where "NAME.tmpXXXXXX" would be
	 * too long, the temp gets a short name of its own. */
	if (atomic_tmp_short_stem(slash ? slash + 1 : path, stem))
		sprintf(af->tmppath, "%.*s%s" ATOMIC_TMP_TAG "XXXXXX", slash ? (int)(slash + 1 - path) : 0, path, stem);
	else
		sprintf(af->tmppath, "%s" ATOMIC_TMP_TAG "XXXXXX", path);
	/* An unnamed file in the destination directory: if the process dies
	 * (even by SIGKILL) before commit, nothing is left behind.  Where the
	 * filesystem has no O_TMPFILE, a named temp file is the fallback,
	 * created exclusively (O_EXCL never follows a symlink).  Read and
	 * write: the package writer reads the finished file back for its
	 * SHA-256 when its bytes were not written in order (write.c). */
	af->fd = openat(dirfd, dir, O_TMPFILE | O_RDWR | O_CLOEXEC, (mode_t)mode);
	free(dir);
	if (af->fd >= 0) {
		af->unnamed = 1;
	} else {
		for (int tries = 0;; tries++) {
			tmp_rename_suffix(af, tries);
			af->fd = openat(dirfd, af->tmppath, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (af->fd >= 0)
				break;
			if (errno != EEXIST || tries >= 100) {
				int e = errno;
				free(af->tmppath);
				af->tmppath = NULL;
				atomic_abort(af);
				return err_sys(err, e, "%s: cannot create temporary output", path);
			}
		}
	}
	/* The writer holds an exclusive flock on its temp file for the file's
	 * whole named life, so a batch cleaning up after a killed run
	 * (batch/stale.c) can tell a live temp from a leftover.  A filesystem
	 * without flock only loses that hint: the cleaner's age rule stays. */
	(void)flock(af->fd, LOCK_EX | LOCK_NB);
	if (fchmod(af->fd, (mode_t)mode) != 0) {
		int e = errno;
		atomic_abort(af);
		return err_sys(err, e, "%s: cannot set mode", path);
	}
	return SISIGN_OK;
}

int atomic_open(struct atomic_file *af, const char *path, int mode, struct sisign_error *err)
{
	return atomic_openat(af, AT_FDCWD, path, mode, err);
}

int atomic_write(struct atomic_file *af, const void *p, size_t n, struct sisign_error *err)
{
	if (af->fd < 0)
		return err_set(err, SISIGN_ERR_INTERNAL, -1, "write to a closed output");
	if (write_full(af->fd, p, n) != 0)
		return err_sys(err, errno, "%s: write failed", af->path);
	if (af->md && EVP_DigestUpdate(af->md, p, n) != 1)
		return err_ossl(err, SISIGN_ERR_CRYPTO, "SHA-256 failed");
	return SISIGN_OK;
}

int fsync_dir_of(int dirfd, const char *path, struct sisign_error *err)
{
	char *dir = dir_of(path);
	int dfd, r = SISIGN_OK;
	if (!dir)
		return err_set(err, SISIGN_ERR_NOMEM, -1, "out of memory");
	dfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		/* A directory we may not open for reading (mode 0300) was
		 * still written: there is nothing to sync it through. */
		if (errno != EACCES)
			r = err_sys(err, errno, "%s: cannot open its directory to sync the rename", path);
	} else {
		/* EINVAL / ENOTSUP: a filesystem that cannot sync a directory
		 * (the rename is as durable as it will get there). */
		if (fsync(dfd) != 0 && errno != EINVAL && errno != ENOTSUP)
			r = err_sys(err, errno, "%s: renamed into place, but syncing its directory failed", path);
		close(dfd);
	}
	free(dir);
	return r;
}

int atomic_commit(struct atomic_file *af, struct sisign_error *err)
{
	return atomic_commit_sync(af, 1, err);
}

int atomic_commit_sync(struct atomic_file *af, int sync_dir, struct sisign_error *err)
{
	int r, lockfd;
	if (af->fd < 0 || !af->tmppath)
		return err_set(err, SISIGN_ERR_INTERNAL, -1, "commit of a closed output");
	if (fsync(af->fd) != 0) {
		r = err_sys(err, errno, "%s: fsync failed", af->path);
		atomic_abort(af);
		return r;
	}
	if (af->unnamed) {
		/* Give the finished file its temporary name only now, then
		 * rename it over the destination as usual. */
		char proc[64];
		int tries = 0;
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", af->fd);
		for (;;) {
			tmp_rename_suffix(af, tries);
			if (linkat(AT_FDCWD, proc, af->dirfd, af->tmppath, AT_SYMLINK_FOLLOW) == 0)
				break;
			/* without /proc, AT_EMPTY_PATH does the same (needs privilege) */
			if (errno == ENOENT && linkat(af->fd, "", af->dirfd, af->tmppath, AT_EMPTY_PATH) == 0)
				break;
			if (errno != EEXIST || ++tries > 100) {
				r = err_sys(err, errno, "%s: cannot name the finished output", af->path);
				free(af->tmppath);
				af->tmppath = NULL;
				atomic_abort(af);
				return r;
			}
		}
		af->unnamed = 0;
	}
	/* The flock belongs to the open file, not to this descriptor: a
	 * duplicate keeps it held across the close (whose error we still want
	 * before replacing the destination) until the temp name is gone. */
	lockfd = fcntl(af->fd, F_DUPFD_CLOEXEC, 0);
	if (close(af->fd) != 0) {
		af->fd = -1;
		r = err_sys(err, errno, "%s: close failed", af->path);
		if (lockfd >= 0)
			close(lockfd);
		atomic_abort(af);
		return r;
	}
	af->fd = -1;
	r = renameat(af->dirfd, af->tmppath, af->dirfd, af->path);
	if (lockfd >= 0)
		close(lockfd);
	if (r != 0) {
		r = err_sys(err, errno, "%s: rename failed", af->path);
		atomic_abort(af);
		return r;
	}
	free(af->tmppath);
	af->tmppath = NULL;
	r = sync_dir ? fsync_dir_of(af->dirfd, af->path, err) : SISIGN_OK;
	free(af->path);
	af->path = NULL;
	return r;
}

void atomic_abort(struct atomic_file *af)
{
	if (af->fd >= 0)
		close(af->fd);
	af->fd = -1;
	if (af->tmppath && !af->unnamed) {
		(void)unlinkat(af->dirfd, af->tmppath, 0);
		free(af->tmppath);
		af->tmppath = NULL;
	}
	free(af->tmppath);
	af->tmppath = NULL;
	af->unnamed = 0;
	free(af->path);
	af->path = NULL;
}
