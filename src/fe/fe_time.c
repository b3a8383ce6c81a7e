/* SPDX-License-Identifier: Apache-2.0 */
/* ISO 8601 UTC formatting and the --at TIME parser. */
#include "fe.h"

#include <string.h>

int fe_time_format(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!buf || size == 0)
		return -1;
	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(buf, size, "?");
		return -1;
	}
	return 0;
}

void fe_datetime_format(const struct sisign_datetime *dt, char *buf, size_t size)
{
	snprintf(buf, size, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)dt->year, (unsigned)dt->month,
		(unsigned)dt->day, (unsigned)dt->hour, (unsigned)dt->minute, (unsigned)dt->second);
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Exactly `width` decimal digits. */
static int digits(const char *s, int width, int *out)
{
	int i, v = 0;

	for (i = 0; i < width; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int fe_time_parse(const char *s, time_t *out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h = 0, mi = 0, sec = 0, dim;
	size_t len;
	struct tm tm;
	time_t t;

	if (!s || !out)
		return -1;
	len = strlen(s);
	if (len != 10 && len != 20)
		return -1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
		digits(s + 8, 2, &d))
		return -1;
	if (len == 20) {
		if ((s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) || s[13] != ':' ||
			digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec) ||
			(s[19] != 'Z' && s[19] != 'z'))
			return -1;
	}
	if (y < 1900 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
		return -1;
	dim = mdays[mo - 1] + (mo == 2 && is_leap(y));
	if (d > dim)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31 && h == 23 && mi == 59 && sec == 59))
		return -1;
	*out = t;
	return 0;
}
