/* libFuzzer target: parse, walk the whole model, check the data, then write
 * the package back and require the bytes to be exactly the input (a package
 * nobody changed is written back byte for byte: package.h).
 *
 * Built with -fsanitize=fuzzer as `fuzz_parse`, and with replay_main.c as
 * `fuzz_parse_replay` so CTest runs every corpus file through it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sisign/package.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Report which invariant broke, then crash so libFuzzer keeps the input. */
#define FZ_ASSERT(cond)                                                                  \
	do {                                                                                 \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "fuzz_parse: %s:%d: assertion failed: %s\n", __FILE__,        \
				__LINE__, #cond);                                                        \
			abort();                                                                     \
		}                                                                                \
	} while (0)

/* Every byte we look at goes through here so the sanitizers see the reads. */
static volatile unsigned fz_sink;

static void touch(const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned acc = 0;
	size_t i;

	FZ_ASSERT(!(n && !p));
	for (i = 0; i < n; i++)
		acc += b[i];
	fz_sink += acc;
}

/* The model promises every string is non-NULL, damaged controllers
 * included (half-parsed entries are dropped). */
static void touch_str(const char *s)
{
	FZ_ASSERT(s != NULL);
	touch(s, strlen(s) + 1);
}

static void touch_strs(char **v, size_t n)
{
	size_t i;

	FZ_ASSERT(!(n && !v));
	for (i = 0; i < n; i++)
		touch_str(v[i]);
}

static void touch_dep(const struct sisign_dependency *d)
{
	touch(d, sizeof(*d));
	touch_strs(d->names, d->nnames);
}

static void touch_file(const struct sisign_file *f)
{
	touch(f, sizeof(*f));
	touch_str(f->target);
	touch_str(f->mime);
	touch(f->caps, f->ncaps * sizeof(f->caps[0]));
	FZ_ASSERT(!(f->hash_len > sizeof(f->hash)));
}

static void touch_ctrl(const struct sisign_controller *c)
{
	size_t i, j;

	touch(c, sizeof(*c));
	if (c->vendor_unique)
		touch_str(c->vendor_unique);
	touch_strs(c->names, c->nnames);
	touch_strs(c->vendors, c->nvendors);
	touch_strs(c->options, c->noptions);
	touch(c->languages, c->nlanguages * sizeof(c->languages[0]));
	FZ_ASSERT(!(c->ntargets && !c->targets));
	for (i = 0; i < c->ntargets; i++)
		touch_dep(&c->targets[i]);
	FZ_ASSERT(!(c->ndeps && !c->deps));
	for (i = 0; i < c->ndeps; i++)
		touch_dep(&c->deps[i]);
	if (c->logo)
		touch_file(c->logo);
	FZ_ASSERT(!(c->nfiles && !c->files));
	for (i = 0; i < c->nfiles; i++)
		touch_file(&c->files[i]);
	FZ_ASSERT(!(c->nchains && !c->chains));
	for (i = 0; i < c->nchains; i++) {
		const struct sisign_chain *ch = &c->chains[i];

		FZ_ASSERT(!(ch->nsigs && !ch->sigs));
		for (j = 0; j < ch->nsigs; j++) {
			touch_str(ch->sigs[j].algorithm);
			touch(ch->sigs[j].sig, ch->sigs[j].siglen);
		}
		touch(ch->certs, ch->certs_len);
		touch(ch->signed_region, ch->signed_len);
	}
	touch(c->value, c->value_len);
	FZ_ASSERT(!(c->data_index_offset > c->value_len));
	if (c->damage)
		touch_str(c->damage_message);
	FZ_ASSERT(!(c->nembedded && !c->embedded));
	for (i = 0; i < c->nembedded; i++)
		touch_ctrl(&c->embedded[i]);
}

static void check_error(int r, const struct sisign_error *err)
{
	/* A failure is negative, matches the record and says something. */
	FZ_ASSERT(r < 0);
	FZ_ASSERT(err->code == r);
	FZ_ASSERT(memchr(err->message, '\0', sizeof(err->message)) != NULL);
	FZ_ASSERT(err->message[0] != '\0');
}

static char fz_dir[256];

static void cleanup_dir(void)
{
	if (fz_dir[0])
		(void)rmdir(fz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("SISIGN_FUZZ_TMPDIR");

	(void)argc;
	(void)argv;
	/* tmpfs makes the writer's fsyncs cheap. */
	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_dir, sizeof(fz_dir), "%s/sisign-fuzz-XXXXXX", base);
	if (!mkdtemp(fz_dir)) {
		perror("mkdtemp");
		abort();
	}
	atexit(cleanup_dir);
	return 0;
}

static uint8_t *read_back(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)n + 1);
	if (!buf)
		goto out;
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = (size_t)n;
out:
	fclose(fp);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sisign_pkg *pkg = NULL, *pkg2 = NULL;
	struct sisign_error err;
	const struct sisign_pkg_info *info;
	const struct sisign_controller *ctl;
	uint8_t *copy = NULL, *back = NULL;
	size_t i, n, backlen = 0;
	char path[300];
	int r;

	if (!fz_dir[0])
		(void)LLVMFuzzerInitialize(NULL, NULL);
	/* An exact-size heap copy so ASan catches a read one past the end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);

	sisign_error_clear(&err);
	r = sisign_pkg_parse_mem(copy, size, NULL, &pkg, &err);
	if (r != SISIGN_OK) {
		check_error(r, &err);
		FZ_ASSERT(!(pkg));
		goto out;
	}
	FZ_ASSERT(pkg != NULL);

	info = sisign_pkg_info(pkg);
	FZ_ASSERT(info != NULL);
	touch(info, sizeof(*info));
	FZ_ASSERT(!(info->file_size != size));
	ctl = sisign_pkg_controller(pkg);
	FZ_ASSERT(ctl != NULL);
	touch_ctrl(ctl);
	n = sisign_pkg_nwarnings(pkg);
	for (i = 0; i < n; i++)
		touch_str(sisign_pkg_warning(pkg, i));

	sisign_error_clear(&err);
	r = sisign_pkg_check_data(pkg, &err);
	if (r != SISIGN_OK)
		check_error(r, &err);
	touch_ctrl(ctl);

	/* Round trip: written bytes == input, and they parse again. */
	snprintf(path, sizeof(path), "%s/rt.sis", fz_dir);
	sisign_error_clear(&err);
	r = sisign_pkg_write(pkg, path, 0644, &err);
	if (r != SISIGN_OK) {
		fprintf(stderr, "fuzz_parse: write of a parsed package failed: %s\n", err.message);
		abort();
	}
	back = read_back(path, &backlen);
	(void)unlink(path);
	FZ_ASSERT(back != NULL);
	if (backlen != size || memcmp(back, data, size) != 0) {
		fprintf(stderr, "fuzz_parse: round trip changed the bytes (%zu -> %zu)\n", size, backlen);
		abort();
	}
	sisign_error_clear(&err);
	r = sisign_pkg_parse_mem(back, backlen, NULL, &pkg2, &err);
	if (r != SISIGN_OK) {
		fprintf(stderr, "fuzz_parse: written package does not parse: %s\n", err.message);
		abort();
	}
out:
	sisign_pkg_free(pkg2);
	sisign_pkg_free(pkg);
	free(back);
	free(copy);
	return 0;
}
