/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcp_nodelay.so: an LD_PRELOAD library for pcscd in the emulated-card
 * test (tests/integration/test_opensc_card.sh).  It turns Nagle's
 * algorithm off on every TCP socket the process accepts or connects.
 *
 * Why: the vpcd reader driver inside pcscd sends each APDU to the card
 * emulator in two send() calls (a two-byte length, then the bytes).  With
 * Nagle on, the second waits for the peer's delayed ACK, about 40 ms per
 * APDU, so one signature through OpenSC takes seconds.  With TCP_NODELAY
 * it takes milliseconds.  Test-only code: never linked into sisign.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <sys/socket.h>

/* Set TCP_NODELAY on fd when it is a TCP socket; leave errno as it was. */
static void nodelay(int fd)
{
	int saved = errno;
	int proto = 0, one = 1;
	socklen_t len = sizeof proto;

	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == IPPROTO_TCP)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	errno = saved;
}

typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

/* Find the real function once with RTLD_NEXT and store it in *slot (a
 * function pointer seen as bytes: ISO C has no cast from void * to one).
 * Returns 0, or -1 with errno ENOSYS when there is none. */
static int resolve(const char *name, void *slot)
{
	void *p;

	if (*(void **)slot != NULL)
		return 0;
	if ((p = dlsym(RTLD_NEXT, name)) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	*(void **)slot = p;
	return 0;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	static accept_fn real;
	int r;

	if (resolve("accept", &real) < 0)
		return -1;
	if ((r = real(fd, addr, len)) >= 0)
		nodelay(r);
	return r;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	static accept4_fn real;
	int r;

	if (resolve("accept4", &real) < 0)
		return -1;
	if ((r = real(fd, addr, len, flags)) >= 0)
		nodelay(r);
	return r;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	static connect_fn real;

	if (resolve("connect", &real) < 0)
		return -1;
	/* Before connecting: a non-blocking connect returns EINPROGRESS. */
	nodelay(fd);
	return real(fd, addr, len);
}
