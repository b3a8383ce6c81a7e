/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the --at / --not-before date parser fe_time_parse
 * (src/fe/fe_time.c, "YYYY-MM-DD" or "YYYY-MM-DDThh:mm:ssZ") and its
 * formatter fe_time_format.
 *
 * Invariants: an accepted date formats back to the same digits and parses
 * again to the same time_t; a refused one leaves *out alone.  Any 8 bytes
 * as a time_t must format without crashing, and a formatted time within
 * the parser's years must parse back to itself. */
#include <time.h>

#include "fe.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_format_roundtrip(time_t t)
{
	char buf[FE_TIME_BUFSIZE];
	time_t back = 0;
	int y;

	if (fe_time_format(t, buf, sizeof buf) != 0) {
		FZ_ASSERT(strcmp(buf, "?") == 0);
		return;
	}
	FZ_ASSERT(strlen(buf) < sizeof buf);
	/* The parser takes four-digit years from 1900 on. */
	if (strlen(buf) != 20 || sscanf(buf, "%4d", &y) != 1 || y < 1900)
		return;
	FZ_ASSERT(fe_time_parse(buf, &back) == 0);
	FZ_ASSERT(back == t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_cstr(data, size);
	char buf[FE_TIME_BUFSIZE];
	time_t t = (time_t)0x5eed, again = 0;
	int64_t raw = 0;

	if (size >= sizeof raw) {
		memcpy(&raw, data, sizeof raw);
		check_format_roundtrip((time_t)raw);
	}
	if (!s)
		return 0;
	if (fe_time_parse(s, &t) != 0) {
		FZ_ASSERT(t == (time_t)0x5eed);
		goto out;
	}
	FZ_ASSERT(size == 10 || size == 20);
	FZ_ASSERT(fe_time_format(t, buf, sizeof buf) == 0);
	/* Same digits: the date, and for the long form the time of day. */
	FZ_ASSERT(memcmp(buf, s, 10) == 0);
	if (size == 20)
		FZ_ASSERT(memcmp(buf + 11, s + 11, 8) == 0);
	else
		FZ_ASSERT(strcmp(buf + 10, "T00:00:00Z") == 0);
	FZ_ASSERT(fe_time_parse(buf, &again) == 0);
	FZ_ASSERT(again == t);
out:
	free(s);
	return 0;
}
