/* SPDX-License-Identifier: Apache-2.0 */
/* Passphrase and PIN sources: descriptor, file, environment, terminal; the
 * process hardening a front end applies before it holds a secret.
 *
 * The secret is written straight into the caller's buffer wherever possible
 * (the library hands out a secure-heap buffer); the temporary file buffer
 * and the values taken from the environment live in the secure heap too.
 * Every answer passes sisign_secret_check before it is returned.  The
 * terminal prompt turns echo off and restores it on every path, including
 * SIGINT/SIGTERM/SIGHUP/SIGQUIT, whose handler restores the terminal and then
 * re-raises the signal with the previous disposition. */
#include "fe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sisign/signer.h>

static int src_fail(struct fe_secret_src *src, int code, const char *fmt, ...) SISIGN_PRINTF(3, 4);

static int src_fail(struct fe_secret_src *src, int code, const char *fmt, ...)
{
	va_list ap;

	sisign_error_clear(&src->err);
	src->err.code = code;
	va_start(ap, fmt);
	vsnprintf(src->err.message, sizeof src->err.message, fmt, ap);
	va_end(ap);
	return code;
}

void fe_secret_src_init(struct fe_secret_src *src)
{
	memset(src, 0, sizeof *src);
	src->fd = -1;
	sisign_error_clear(&src->err);
}

static const char *nz(const char *s)
{
	return s && *s ? s : "?";
}

/* "PIN" reads better than "pin" in messages. */
static const char *kind_label(const char *kind)
{
	return kind && strcmp(kind, "pin") == 0 ? "PIN" : nz(kind);
}

void fe_secret_prompt_text(const char *kind, const char *what, int tries_left, char *out, size_t size)
{
	char safe[256], tries[64] = "";
	size_t i;

	if (!out || size == 0)
		return;
	snprintf(safe, sizeof safe, "%s", nz(what));
	for (i = 0; safe[i]; i++)
		if ((unsigned char)safe[i] < 0x20 || safe[i] == 0x7f)
			safe[i] = '?';
	if (kind && strcmp(kind, "pin") == 0) {
		if (tries_left == 1)
			snprintf(tries, sizeof tries, " (final try!)");
		else if (tries_left >= 0)
			snprintf(tries, sizeof tries, " (%d tries left)", tries_left);
		else if (tries_left == -2) /* SISIGN_TRIES_LOW */
			snprintf(tries, sizeof tries, " (a wrong PIN was entered before)");
		snprintf(out, size, "PIN for token \"%s\"%s: ", safe, tries);
	} else if (kind && strcmp(kind, "passphrase") == 0) {
		snprintf(out, size, "Passphrase for %s: ", safe);
	} else {
		snprintf(out, size, "%s for %s: ", nz(kind), safe);
	}
}

/* Read one line from fd into buf (NUL-terminated, the "\n" kept for
 * sisign_secret_check to strip), one byte at a time so nothing after the
 * newline is consumed.  Returns the length, SISIGN_ERR_TOO_LARGE (rest of
 * the line is drained), SISIGN_ERR_SYSTEM (errno kept) or
 * SISIGN_ERR_CANCELLED (EOF before any byte and eof_is_cancel). */
static int read_line(int fd, char *buf, size_t size, int eof_is_cancel,
	volatile sig_atomic_t *stop)
{
	size_t n = 0;
	int too_long = 0, got_any = 0;
	char c = 0;

	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0) {
			int e = errno;
			if (e == EINTR && !(stop && *stop))
				continue;
			sisign_memzero(buf, size);
			sisign_memzero(&c, sizeof c);
			errno = e;
			return SISIGN_ERR_SYSTEM;
		}
		if (r == 0)
			break;
		got_any = 1;
		if (n + 1 < size)
			buf[n++] = c;
		else
			too_long = 1;
		if (c == '\n')
			break;
	}
	sisign_memzero(&c, sizeof c);
	if (too_long) {
		sisign_memzero(buf, size);
		return SISIGN_ERR_TOO_LARGE;
	}
	if (!got_any && eof_is_cancel) {
		sisign_memzero(buf, size);
		return SISIGN_ERR_CANCELLED;
	}
	buf[n] = '\0';
	return (int)n;
}

/* Apply the library's rule to the n bytes in buf; the message names the
 * source.  Returns the secret's length or a negative code. */
static int check(struct fe_secret_src *src, const char *kind, const char *where, char *buf, size_t n)
{
	struct sisign_error e;
	size_t len = 0;
	int r;

	sisign_error_clear(&e);
	if ((r = sisign_secret_check(kind, buf, n, &len, &e)) != SISIGN_OK) {
		sisign_memzero(buf, n);
		return src_fail(src, r, "%s: %s", where, e.message);
	}
	return (int)len;
}

static int from_fd(struct fe_secret_src *src, const char *kind, char *buf, size_t size)
{
	int r;

	if (src->fd_consumed)
		return src_fail(src, SISIGN_ERR_BAD_PASSPHRASE,
			"the %s from file descriptor %d was already used", kind_label(kind), src->fd);
	src->fd_consumed = 1;
	r = read_line(src->fd, buf, size, 0, NULL);
	if (r == SISIGN_ERR_SYSTEM)
		return src_fail(src, r, "reading the %s from file descriptor %d: %s", kind_label(kind), src->fd,
			strerror(errno));
	if (r == SISIGN_ERR_TOO_LARGE)
		return src_fail(src, r, "the %s from file descriptor %d is too long (at most %zu bytes)",
			kind_label(kind), src->fd, size ? size - 2 : 0);
	{
		char where[48];
		snprintf(where, sizeof where, "file descriptor %d", src->fd);
		return check(src, kind, where, buf, (size_t)r);
	}
}

static int from_file(struct fe_secret_src *src, const char *kind, char *buf, size_t size)
{
	struct stat st;
	char *tmp = NULL;
	size_t cap = size + 2, n = 0;
	int fd = -1, r = SISIGN_ERR_INTERNAL;

	fd = open(src->file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = src_fail(src, SISIGN_ERR_SYSTEM, "%s: cannot open %s file: %s", src->file, kind_label(kind),
			strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = src_fail(src, SISIGN_ERR_SYSTEM, "%s: %s", src->file, strerror(errno));
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		r = src_fail(src, SISIGN_ERR_INVALID_ARG,
			"%s: refusing a %s file that group or others may access (mode %04o); "
			"run chmod 600 on it",
			src->file, kind_label(kind), (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((tmp = sisign_secret_alloc(cap + 1)) == NULL) {
		r = src_fail(src, SISIGN_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Read up to cap bytes: enough to tell "fits with a newline" from
	 * "too long". */
	while (n < cap) {
		ssize_t got = read(fd, tmp + n, cap - n);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = src_fail(src, SISIGN_ERR_SYSTEM, "%s: %s", src->file, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n < cap && (r = check(src, kind, src->file, tmp, n)) < 0)
		goto out;
	if (n == cap || size == 0 || (size_t)r > size - 1 || (size_t)r > (size_t)INT32_MAX) {
		r = src_fail(src, SISIGN_ERR_TOO_LARGE, "%s: the %s is too long (at most %zu bytes)",
			src->file, kind_label(kind), size ? size - 1 : 0);
		goto out;
	}
	memcpy(buf, tmp, (size_t)r + 1);
out:
	sisign_secret_free(tmp, cap + 1);
	if (fd >= 0)
		close(fd);
	return r;
}

static int from_env(struct fe_secret_src *src, const char *kind, char *buf, size_t size)
{
	char where[80];
	size_t n = src->env_len;

	if (size == 0 || n > size - 1)
		return src_fail(src, SISIGN_ERR_TOO_LARGE,
			"the %s in $%s is too long (at most %zu bytes)", kind_label(kind), src->env_name,
			size ? size - 1 : 0);
	memcpy(buf, src->env_value, n);
	buf[n] = '\0';
	snprintf(where, sizeof where, "$%s", src->env_name);
	return check(src, kind, where, buf, n);
}

/* Values taken out of the environment, one per variable name, kept in the
 * secure heap until fe_secret_env_wipe. */
#define ENV_SLOTS 4
static struct {
	char name[32];
	char *value;
	size_t len;
	size_t cap;
} env_taken[ENV_SLOTS];

void fe_secret_src_take_env(struct fe_secret_src *src, const char *name)
{
	size_t i, free_slot = ENV_SLOTS;
	char *v;

	src->env_name = name;
	src->env_value = NULL;
	src->env_len = 0;
	if (!name)
		return;
	for (i = 0; i < ENV_SLOTS; i++) {
		if (env_taken[i].name[0] && strcmp(env_taken[i].name, name) == 0) {
			src->env_value = env_taken[i].value;
			src->env_len = env_taken[i].len;
			return;
		}
		if (!env_taken[i].name[0] && free_slot == ENV_SLOTS)
			free_slot = i;
	}
	if (free_slot == ENV_SLOTS || strlen(name) >= sizeof env_taken[0].name)
		return;
	snprintf(env_taken[free_slot].name, sizeof env_taken[free_slot].name, "%s", name);
	v = getenv(name);
	if (v && *v) {
		size_t n = strlen(v);
		if ((env_taken[free_slot].value = sisign_secret_alloc(n + 1)) != NULL) {
			memcpy(env_taken[free_slot].value, v, n + 1);
			env_taken[free_slot].len = n;
			env_taken[free_slot].cap = n + 1;
		}
		/* Overwrite the bytes themselves: unsetenv only drops the
		 * pointer, and the initial environment (on the stack) is what
		 * /proc/PID/environ shows. */
		sisign_memzero(v, n);
	}
	(void)unsetenv(name);
	src->env_value = env_taken[free_slot].value;
	src->env_len = env_taken[free_slot].len;
}

void fe_secret_env_wipe(void)
{
	for (size_t i = 0; i < ENV_SLOTS; i++) {
		sisign_secret_free(env_taken[i].value, env_taken[i].cap);
		memset(&env_taken[i], 0, sizeof env_taken[i]);
	}
}

int fe_secret_src_explicit(const struct fe_secret_src *src)
{
	return src && (src->fd >= 0 || src->file || src->env_value);
}

int fe_protect_process(void)
{
	struct rlimit rl = { 0, 0 };
	int r = 0;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		r = -1;
	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		r = -1;
	return r;
}

/* ---- terminal prompt ----------------------------------------------------- */

static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define N_TTY_SIGNALS (sizeof tty_signals / sizeof tty_signals[0])

static volatile sig_atomic_t tty_restore_needed;
/* Set when a signal arrived: if the previous disposition was a handler that
 * returns, the prompt gives up instead of reading on with echo back on. */
static volatile sig_atomic_t tty_interrupted;
static int tty_fd = -1;
static struct termios tty_saved;
static struct sigaction tty_old_actions[N_TTY_SIGNALS];

static void tty_on_signal(int sig)
{
	size_t i;
	int saved_errno = errno;

	tty_interrupted = 1;
	/* Only async-signal-safe calls: tcsetattr, write, sigaction, raise. */
	if (tty_restore_needed) {
		(void)tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
		(void)!write(tty_fd, "\n", 1);
		tty_restore_needed = 0;
	}
	for (i = 0; i < N_TTY_SIGNALS; i++)
		if (tty_signals[i] == sig)
			(void)sigaction(sig, &tty_old_actions[i], NULL);
	/* Delivered again once this handler returns (the signal is blocked
	 * while it runs), now with the previous disposition. */
	(void)raise(sig);
	errno = saved_errno;
}

int fe_secret_can_prompt(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static int from_tty(struct fe_secret_src *src, const char *kind, const char *what, int tries_left,
	char *buf, size_t size)
{
	char prompt[512];
	struct termios noecho;
	struct sigaction sa;
	size_t i, ninstalled = 0;
	int fd, r = SISIGN_ERR_INTERNAL, e = 0;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return src_fail(src, SISIGN_ERR_BAD_PASSPHRASE,
			"no %s given and no terminal to ask for it", kind_label(kind));
	if (tcgetattr(fd, &tty_saved) != 0) {
		close(fd);
		return src_fail(src, SISIGN_ERR_BAD_PASSPHRASE,
			"no %s given and no terminal to ask for it", kind_label(kind));
	}
	tty_fd = fd;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = tty_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_TTY_SIGNALS; i++)
		sigaddset(&sa.sa_mask, tty_signals[i]);
	for (i = 0; i < N_TTY_SIGNALS; i++) {
		if (sigaction(tty_signals[i], &sa, &tty_old_actions[i]) != 0)
			break;
		ninstalled++;
	}

	noecho = tty_saved;
	noecho.c_lflag &= (tcflag_t)~(ECHO | ECHOE | ECHOK);
	noecho.c_lflag |= ECHONL | ICANON;
	tty_restore_needed = 1;
	if (tcsetattr(fd, TCSAFLUSH, &noecho) != 0) {
		e = errno;
		r = src_fail(src, SISIGN_ERR_SYSTEM, "cannot turn off terminal echo: %s", strerror(e));
		goto out;
	}

	fe_secret_prompt_text(kind, what, tries_left, prompt, sizeof prompt);
	if (write(fd, prompt, strlen(prompt)) < 0) {
		e = errno;
		r = src_fail(src, SISIGN_ERR_SYSTEM, "cannot write to the terminal: %s", strerror(e));
		goto out;
	}
	tty_interrupted = 0;
	r = read_line(fd, buf, size, 1, &tty_interrupted);
	if (r == SISIGN_ERR_SYSTEM && tty_interrupted)
		r = src_fail(src, SISIGN_ERR_CANCELLED, "interrupted");
	else if (r == SISIGN_ERR_SYSTEM)
		r = src_fail(src, r, "reading the %s from the terminal: %s", kind_label(kind), strerror(errno));
	else if (r == SISIGN_ERR_TOO_LARGE)
		r = src_fail(src, r, "the %s is too long (at most %zu bytes)", kind_label(kind),
			size ? size - 1 : 0);
	else if (r == SISIGN_ERR_CANCELLED)
		r = src_fail(src, r, "no %s entered", kind_label(kind));
	else if (r >= 0)
		r = check(src, kind, "the prompt", buf, (size_t)r);
out:
	if (tty_restore_needed) {
		(void)tcsetattr(fd, TCSAFLUSH, &tty_saved);
		tty_restore_needed = 0;
	}
	for (i = 0; i < ninstalled; i++)
		(void)sigaction(tty_signals[i], &tty_old_actions[i], NULL);
	tty_fd = -1;
	close(fd);
	return r;
}

int fe_secret_cb(void *userdata, const char *kind, const char *what, int tries_left, char *buf,
	size_t size)
{
	struct fe_secret_src *src = userdata;

	if (!src || !buf || size == 0)
		return SISIGN_ERR_INVALID_ARG;
	sisign_error_clear(&src->err);
	buf[0] = '\0';
	if (src->fd >= 0)
		return from_fd(src, kind, buf, size);
	if (src->file)
		return from_file(src, kind, buf, size);
	if (src->env_name && !src->env_value)
		fe_secret_src_take_env(src, src->env_name);
	if (src->env_value)
		return from_env(src, kind, buf, size);
	if (src->allow_prompt)
		return from_tty(src, kind, what, tries_left, buf, size);
	return src_fail(src, SISIGN_ERR_BAD_PASSPHRASE, "no %s given for %s", kind_label(kind), nz(what));
}
