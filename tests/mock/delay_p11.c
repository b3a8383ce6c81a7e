/* SPDX-License-Identifier: Apache-2.0 */
/* A PKCS#11 module that stands for a network HSM in tests and benchmarks:
 * it forwards every call to a real module (SoftHSM) and makes each
 * signature take longer, as a round trip to a remote HSM does.
 *
 * Environment (read once, at the first C_GetFunctionList):
 *   DELAY_P11_MODULE  the module to forward to; default $SOFTHSM2_MODULE,
 *                     else Debian's libsofthsm2.so
 *   DELAY_P11_MS      the delay in milliseconds added to every C_Sign and
 *                     C_SignFinal that produces a signature (not to a call
 *                     that only asks for the length); default 20, 0 = none
 *   DELAY_P11_LOG     a file that gets one appended line per event, so tests
 *                     can check what the module saw:
 *                       "init RV PID" a C_Initialize (its result) in process PID
 *                       "login U RV PID"  a C_Login (U the user type, RV its
 *                                     result) in process PID
 *                       "sign RV US"  a delayed C_Sign / C_SignFinal: its result
 *                                     and how long the real module took (µs)
 *                       "max N"       N signatures were in flight at once, more
 *                                     than this process had seen before
 *                     The in-flight count is shared by every process that
 *                     logs to the same file, through DELAY_P11_LOG.flight (a
 *                     small file mapped shared, made when missing): behind
 *                     `p11-kit server` each connection is a process of its own
 *                     with its own copy of this module, and the count must
 *                     span them.  A test that starts afresh removes both
 *                     files; a process killed inside a signature leaves
 *                     the count one too high.
 *
 * What is forwarded: the real module's function list is copied once, and
 * only C_GetFunctionList, C_Initialize, C_Login, C_Sign and C_SignFinal are
 * replaced.  The list says version 2.40 (p11-kit 0.24 and libp11 0.4.12 look only for
 * C_GetFunctionList; no C_GetInterface is offered).
 *
 * Threads: the delay is a nanosleep outside any lock, so N sessions
 * signing at once all wait together (N in flight take one delay, not N).
 * The in-flight count and its maximum are atomics; log lines are single
 * O_APPEND writes, whole even from several threads or processes (p11-kit
 * server runs one module instance per connection). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define EXPORT __attribute__((visibility("default")))
#define DEFAULT_MODULE "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static CK_RV load_rv = CKR_GENERAL_ERROR;
static CK_FUNCTION_LIST_PTR real;   /* the forwarded module's own list */
static CK_FUNCTION_LIST ours;       /* a copy with our entry points */
static long delay_ms = 20;
static const char *log_path;
static atomic_int local_in_flight;
static atomic_int *in_flight = &local_in_flight; /* DELAY_P11_LOG.flight's, when mapped */
static atomic_int max_in_flight;                 /* the most this process has seen */

static void log_line(const char *fmt, ...)
{
	char line[96];
	va_list ap;
	int fd, n;

	if (!log_path)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n <= 0 || (size_t)n >= sizeof line)
		return;
	if ((fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return;
	if (write(fd, line, (size_t)n) != n) {
		/* a test then finds the line missing */
	}
	close(fd);
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One signature round trip: counted in flight for its whole length, the
 * delay first (the request travelling), then the real call. */
static void flight_begin(void)
{
	int n = atomic_fetch_add(in_flight, 1) + 1;
	int m = atomic_load(&max_in_flight);
	while (n > m) {
		if (atomic_compare_exchange_weak(&max_in_flight, &m, n)) {
			log_line("max %d\n", n);
			break;
		}
	}
	pause_ms(delay_ms);
}

static long usec_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

static void flight_end(CK_RV rv, const struct timespec *t0)
{
	long us = usec_since(t0);
	atomic_fetch_sub(in_flight, 1);
	log_line("sign %lu %ld\n", (unsigned long)rv, us);
}

static CK_RV d_Initialize(CK_VOID_PTR args)
{
	CK_RV rv = real->C_Initialize(args);
	log_line("init %lu %ld\n", (unsigned long)rv, (long)getpid());
	return rv;
}

static CK_RV d_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	CK_RV rv = real->C_Login(h, user, pin, len);
	log_line("login %lu %lu %ld\n", (unsigned long)user, (unsigned long)rv, (long)getpid());
	return rv;
}

static CK_RV d_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	struct timespec t0;
	CK_RV rv;
	if (!sig)
		return real->C_Sign(h, data, len, sig, siglen);
	flight_begin();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rv = real->C_Sign(h, data, len, sig, siglen);
	flight_end(rv, &t0);
	return rv;
}

static CK_RV d_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	struct timespec t0;
	CK_RV rv;
	if (!sig)
		return real->C_SignFinal(h, sig, siglen);
	flight_begin();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rv = real->C_SignFinal(h, sig, siglen);
	flight_end(rv, &t0);
	return rv;
}

EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

/* Count signatures in flight in DELAY_P11_LOG.flight, mapped shared, so
 * that every process logging to the same file counts together.  Without
 * it the count stays this process's own. */
static void map_shared_count(void)
{
	char path[4096];
	struct stat st;
	void *p;
	int fd;

	if (!log_path || snprintf(path, sizeof path, "%s.flight", log_path) >= (int)sizeof path)
		return;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return;
	/* Growing only: a file another process made is never cut short. */
	if (fstat(fd, &st) == 0 && (st.st_size >= (off_t)sizeof(atomic_int) ||
		    ftruncate(fd, (off_t)sizeof(atomic_int)) == 0)) {
		p = mmap(NULL, sizeof(atomic_int), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED)
			in_flight = p;
	}
	close(fd);
}

static void load(void)
{
	const char *path = getenv("DELAY_P11_MODULE");
	const char *ms = getenv("DELAY_P11_MS");
	CK_C_GetFunctionList gfl;
	void *dl;

	if (!path || !*path)
		path = getenv("SOFTHSM2_MODULE");
	if (!path || !*path)
		path = DEFAULT_MODULE;
	if (ms && *ms) {
		char *end;
		long v = strtol(ms, &end, 10);
		if (*end || v < 0 || v > 60000) {
			fprintf(stderr, "delay_p11: DELAY_P11_MS=%s is not 0..60000\n", ms);
			return;
		}
		delay_ms = v;
	}
	log_path = getenv("DELAY_P11_LOG");
	if (log_path && !*log_path)
		log_path = NULL;
	map_shared_count();
	if (!(dl = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
		fprintf(stderr, "delay_p11: cannot load %s: %s\n", path, dlerror());
		return;
	}
	if (!(gfl = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList")) || gfl(&real) != CKR_OK || !real) {
		fprintf(stderr, "delay_p11: %s has no usable C_GetFunctionList\n", path);
		return; /* dl stays open: harmless in a test module */
	}
	ours = *real;
	ours.version.major = 2;
	ours.version.minor = 40;
	ours.C_GetFunctionList = C_GetFunctionList;
	ours.C_Initialize = d_Initialize;
	ours.C_Login = d_Login;
	ours.C_Sign = d_Sign;
	ours.C_SignFinal = d_SignFinal;
	load_rv = CKR_OK;
}

EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (!list)
		return CKR_ARGUMENTS_BAD;
	pthread_once(&once, load);
	if (load_rv != CKR_OK)
		return load_rv;
	*list = &ours;
	return CKR_OK;
}
