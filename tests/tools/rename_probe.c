/* SPDX-License-Identifier: Apache-2.0 */
/* LD_PRELOAD probe for the integration tests (tests/probe.cmake): at the
 * moment sisign renames a finished temp file ("NAME.tmpXXXXXX") over its
 * output, record what another process could see then, in files under
 * $SISIGN_PROBE_DIR:
 *   cmdline  /proc/self/cmdline, NULs turned into spaces (last rename wins);
 *   lock     one line per rename: "held" if a separate open of the temp
 *            cannot take an exclusive flock (the writer holds it), "free"
 *            if it can, "error" if the probe could not tell.
 * Without $SISIGN_PROBE_DIR it only passes the calls on.  Test code only:
 * nothing in the product loads it. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int rename(const char *oldpath, const char *newpath);
int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

static void put(const char *dir, const char *name, const char *text, size_t n, int append)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0600);
	if (fd < 0)
		return;
	if (write(fd, text, n) != (ssize_t)n)
		(void)0; /* a short record shows up as a failed check */
	close(fd);
}

static void probe(int dirfd, const char *oldpath)
{
	const char *dir = getenv("SISIGN_PROBE_DIR");
	char buf[8192];
	const char *state = "error";
	ssize_t n;
	int fd;

	if (!dir || !strstr(oldpath, ".tmp"))
		return;
	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0) {
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] == '\0')
					buf[i] = ' ';
			buf[n] = '\n';
			put(dir, "cmdline", buf, (size_t)n + 1, 0);
		}
	}
	fd = openat(dirfd, oldpath, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			state = "free";
			(void)flock(fd, LOCK_UN);
		} else if (errno == EWOULDBLOCK) {
			state = "held";
		}
		close(fd);
	}
	snprintf(buf, sizeof buf, "%s\n", state);
	put(dir, "lock", buf, strlen(buf), 1);
}

int rename(const char *oldpath, const char *newpath)
{
	int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");

	probe(AT_FDCWD, oldpath);
	return real(oldpath, newpath);
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	int (*real)(int, const char *, int, const char *) =
		(int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");

	probe(olddirfd, oldpath);
	return real(olddirfd, oldpath, newdirfd, newpath);
}
