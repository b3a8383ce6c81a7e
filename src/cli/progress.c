/* SPDX-License-Identifier: Apache-2.0 */
/* A one-line progress bar on stderr: files, bytes, rate, ETA.  Only drawn
 * when enabled (a terminal or --progress, no -q).  It fits the terminal's
 * width (less one column), dropping the rates and byte counts and then
 * narrowing the bar as needed, and is redrawn in place ("\r", erase to the
 * end of the line), so updates never add lines. */
#include "batch_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

double progress_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, int enabled)
{
	p->enabled = enabled;
	p->start = progress_now();
	p->last = 0;
	p->drawn = 0;
}

static void human(char *buf, size_t n, double v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* Columns of the terminal on stderr (TIOCGWINSZ, asked at every redraw so
 * a resize is followed), else $COLUMNS, else 80. */
static int term_width(void)
{
	struct winsize ws;
	const char *env;
	char *end;
	long v;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if ((env = getenv("COLUMNS")) != NULL) {
		v = strtol(env, &end, 10);
		if (end != env && *end == '\0' && v > 0 && v <= 1000)
			return (int)v;
	}
	return 80;
}

enum { F_FILES, F_FAILED, F_BYTES, F_FRATE, F_BRATE, F_ETA, NFIELDS };

void progress_update(struct progress *p, const struct sisign_batch_progress *bp)
{
	/* Dropped first when the line does not fit: the rates, then bytes. */
	static const int drop[] = { F_FRATE, F_BRATE, F_BYTES };
	char f[NFIELDS][64], done[24], total[24], rate[24], text[NFIELDS * 66], line[1024];
	int keep[NFIELDS], width, room, barw, len = 0;
	double now, el, frac;
	size_t fill, nd = 0;

	if (!p->enabled)
		return;
	now = progress_now();
	if (bp->files_done < bp->files_total && now - p->last < 0.1)
		return;
	p->last = now;
	el = now - p->start;
	frac = bp->bytes_total ? (double)bp->bytes_done / (double)bp->bytes_total
			       : (bp->files_total ? (double)bp->files_done / (double)bp->files_total : 1.0);
	human(done, sizeof done, (double)bp->bytes_done);
	human(total, sizeof total, (double)bp->bytes_total);
	human(rate, sizeof rate, el > 0 ? (double)bp->bytes_done / el : 0);
	snprintf(f[F_FILES], sizeof f[0], "%zu/%zu files", bp->files_done, bp->files_total);
	snprintf(f[F_FAILED], sizeof f[0], "%zu failed", bp->failed);
	snprintf(f[F_BYTES], sizeof f[0], "%s/%s", done, total);
	snprintf(f[F_FRATE], sizeof f[0], "%.1f files/s", el > 0 ? (double)bp->files_done / el : 0.0);
	snprintf(f[F_BRATE], sizeof f[0], "%s/s", rate);
	if (frac > 0 && frac < 1 && el > 0) {
		long s = (long)(el / frac - el);
		snprintf(f[F_ETA], sizeof f[0], "ETA %ld:%02ld", s / 60, s % 60);
	} else {
		snprintf(f[F_ETA], sizeof f[0], "%s", frac >= 1 ? "done" : "ETA --:--");
	}
	for (int i = 0; i < NFIELDS; i++)
		keep[i] = 1;

	/* One column less than the terminal: writing the last column makes
	 * some terminals wrap, and then "\r" no longer redraws in place. */
	width = term_width() - 1;
	if (width > (int)sizeof line - 8)
		width = (int)sizeof line - 8;
	for (;;) {
		len = 0;
		text[0] = '\0';
		for (int i = 0; i < NFIELDS; i++)
			if (keep[i])
				len += snprintf(text + len, sizeof text - (size_t)len, "%s%s", len ? "  " : "", f[i]);
		/* A bar of at least 10 cells, "[...] ", while fields can go. */
		if (len + 13 <= width || nd == sizeof drop / sizeof drop[0])
			break;
		keep[drop[nd++]] = 0;
	}
	room = width - len - 3;
	barw = room > 30 ? 30 : room;
	if (barw >= 5) {
		fill = (size_t)(frac * (double)barw);
		line[0] = '[';
		for (int i = 0; i < barw; i++)
			line[1 + i] = (size_t)i < fill ? '#' : '.';
		line[barw + 1] = ']';
		line[barw + 2] = ' ';
		snprintf(line + barw + 3, sizeof line - (size_t)barw - 3, "%s", text);
	} else {
		snprintf(line, sizeof line, "%s", text);
	}
	if (width < 1)
		width = 1;
	if ((int)strlen(line) > width)
		line[width] = '\0'; /* a very narrow terminal: cut, never wrap */
	/* Redraw in place: back to column 0, the line, clear what is left of
	 * a longer earlier one. */
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p->drawn = 1;
}

void progress_clear(struct progress *p)
{
	if (p->enabled && p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->drawn = 0;
	}
}
