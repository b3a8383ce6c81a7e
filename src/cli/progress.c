/* SPDX-License-Identifier: Apache-2.0 */
/* A one-line progress bar on stderr: files, bytes, rate, ETA.  Only drawn
 * when enabled (a terminal, no -q). */
#include "batch_cli.h"

#include <stdio.h>
#include <time.h>

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

void progress_update(struct progress *p, const struct sisign_batch_progress *bp)
{
	char bar[31], done[24], total[24], rate[24], eta[48];
	double now, el, frac;
	size_t fill;

	if (!p->enabled)
		return;
	now = progress_now();
	if (bp->files_done < bp->files_total && now - p->last < 0.1)
		return;
	p->last = now;
	el = now - p->start;
	frac = bp->bytes_total ? (double)bp->bytes_done / (double)bp->bytes_total
			       : (bp->files_total ? (double)bp->files_done / (double)bp->files_total : 1.0);
	fill = (size_t)(frac * 30.0);
	for (size_t i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	human(done, sizeof done, (double)bp->bytes_done);
	human(total, sizeof total, (double)bp->bytes_total);
	human(rate, sizeof rate, el > 0 ? (double)bp->bytes_done / el : 0);
	if (frac > 0 && frac < 1 && el > 0) {
		long s = (long)(el / frac - el);
		snprintf(eta, sizeof eta, "ETA %ld:%02ld", s / 60, s % 60);
	} else {
		snprintf(eta, sizeof eta, "%s", frac >= 1 ? "done" : "ETA --:--");
	}
	fprintf(stderr, "\r[%s] %zu/%zu files%s%zu failed  %s/%s  %.1f files/s  %s/s  %s\033[K", bar,
		bp->files_done, bp->files_total, bp->failed ? "  " : "  ", bp->failed, done, total,
		el > 0 ? (double)bp->files_done / el : 0.0, rate, eta);
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
