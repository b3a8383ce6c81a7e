/* SPDX-License-Identifier: Apache-2.0 */
/* sisign-gtk — the app's logic that does not draw: the package list, output
 * path rules, settings persistence, describing packages and the batch worker
 * (sign / remove signature / verify off the UI thread).
 *
 * Uses GLib and libsisign only (no GTK), so tests/gui/test_gui_model.c runs it
 * without a display.  Everything here is main-thread only except where a
 * comment says otherwise; the batch worker reports back through g_idle_add. */
#ifndef SISIGN_GUI_APP_MODEL_H
#define SISIGN_GUI_APP_MODEL_H

#include <glib.h>
#include <stdint.h>
#include <time.h>

#include <sisign/error.h>

G_BEGIN_DECLS

/* ---- packages ----------------------------------------------------------- */

enum gui_job_state {
	GUI_JOB_IDLE = 0,     /* loaded, nothing run yet (or load failed: see load_error) */
	GUI_JOB_QUEUED,
	GUI_JOB_RUNNING,
	GUI_JOB_DONE,
	GUI_JOB_FAILED,
	GUI_JOB_CANCELLED,
};

/* What the install rules (sisign_pkg_check_install) say about a package,
 * for a row. */
struct gui_check {
	int worst;               /* -1 not checked (see error), 0 no finding, else enum sisign_check_severity */
	guint nfindings;
	/* The first finding of the worst severity when that is error or
	 * depends, else NULL: its rule ID ("IR-CAGE-2"), one-line message (with
	 * the file it concerns in front, if any) and fix. */
	char *rule, *message, *fix;
	char *all;               /* every finding, "RULE (severity): message — fix: fix" one a line; NULL if none */
	char *error;             /* why the check could not run, else NULL */
};

struct gui_job {
	char *path;              /* input file (absolute) */
	/* From sisign_pkg_open; refreshed after an in-place change. */
	char *name;              /* first-language name, "" if none */
	uint32_t uid;
	char version[48];        /* "1.2.3" */
	size_t nchains;          /* top-level signature chains */
	char *load_error;        /* plain-words reason the package could not be read, else NULL */
	/* The end of the folder that tells this row from another row with the
	 * same file name ("a", or "x/a" when the parents share a name too);
	 * NULL when no other row has this file name.  Kept by the model. */
	char *where;
	/* Last operation. */
	enum gui_job_state state;
	char *status;            /* one line for the row, e.g. "Signed → foo_signed.sis" */
	char *output;            /* file written by the last operation, else NULL */
	int verdict;             /* enum sisign_verdict of the last verify/sign check, -1 unknown */
	/* Top-level chains of output, re-read from that file once the
	 * operation wrote it; -1 when there is no output or it cannot be read. */
	int out_nchains;
	/* The install rules of `sisign check` (docs/check.md) with the
	 * package's own signature chains: on the input when the row is added
	 * or re-read, then on the file the last sign / remove-signature wrote
	 * (the package as signed, what `sisign sign` checks). */
	struct gui_check check;
};

struct gui_model;

struct gui_model *gui_model_new(void);
void gui_model_free(struct gui_model *m); /* accepts NULL */

guint gui_model_njobs(const struct gui_model *m);
struct gui_job *gui_model_job(struct gui_model *m, guint i);
/* Remove rows; indexes refer to the list before removal. */
void gui_model_remove(struct gui_model *m, const guint *idx, guint n);
void gui_model_clear(struct gui_model *m);

/* Add a package file, or every *.sis / *.sisx / *.ctl file under a folder
 * (recursively; hidden entries skipped).  Duplicates (same absolute path) are
 * ignored.  A file that fails to parse is still added, with load_error set,
 * so the user sees why.  Returns the number of rows added; *err (may be
 * NULL) is set only when path itself cannot be read. */
guint gui_model_add_path(struct gui_model *m, const char *path, GError **err);

/* Re-read one row's summary from its file (after an in-place change),
 * and run the install rules on it (j->check). */
void gui_job_reload(struct gui_job *j);

/* Run the install rules on the package file at path with its own chains
 * (sisign_pkg_check_install; file data not hashed: verify does that) and
 * fill *c, cleared first.  Any thread. */
void gui_check_run(const char *path, struct gui_check *c);
void gui_check_clear(struct gui_check *c);
/* The row's line for c: "Would not install: IR-CAGE-2 — message",
 * "Depends on the phone: IR-... — message", "Would install, with N
 * prompt(s) to the user" (warnings only: the installer asks, e.g. about a
 * self-signed package), "Would install" (no finding), or "Install rules
 * not checked: why".  NULL when the package could not be read.
 * Newly allocated. */
char *gui_check_line(const struct gui_check *c);

/* The row's "Package" text: "Name  (file.sis)", or the file name alone when
 * the package has no name; with ", in <where>" added when another row has
 * the same file name.  Newly allocated. */
char *gui_job_title(const struct gui_job *j);
/* The folder holding the package, for a dimmed line under the title: the
 * home directory shown as "~".  Newly allocated. */
char *gui_job_folder(const struct gui_job *j);
/* The "Signatures" cell: "unsigned", "1 chain", "2 chains" ("—" when the
 * package cannot be read).  After a sign or remove-signature that wrote a
 * new file, the count is that file's (out_nchains), since that is what the
 * operation made; *tip (may be NULL) then says so and what the input still
 * has.  Both newly allocated (*tip may be set to NULL). */
char *gui_job_signatures_text(const struct gui_job *j, char **tip);

/* ---- output paths ------------------------------------------------------- */

enum gui_output_mode {
	GUI_OUTPUT_SUFFIX = 0,   /* beside the input: foo.sis → foo<suffix>.sis */
	GUI_OUTPUT_FOLDER = 1,   /* chosen folder, same base name */
};

struct gui_output_rules {
	enum gui_output_mode mode;
	const char *suffix;      /* NULL = "_signed" */
	const char *folder;      /* GUI_OUTPUT_FOLDER */
	gboolean in_place;       /* write over the input (overrides mode) */
};

/* Where the result for `input` goes.  Refuses (G_IO_ERROR_EXISTS... no: a
 * GUI_MODEL_ERROR_OVERWRITE) an output that is the input itself unless
 * in_place is set, an empty suffix, and a folder mode without a folder.
 * Returns a newly allocated path or NULL with *err set. */
char *gui_output_path(const char *input, const struct gui_output_rules *rules, GError **err);

#define GUI_MODEL_ERROR (gui_model_error_quark())
GQuark gui_model_error_quark(void);
enum gui_model_error {
	GUI_MODEL_ERROR_OVERWRITE = 1, /* output would replace the input */
	GUI_MODEL_ERROR_RULES,         /* output rules incomplete */
	GUI_MODEL_ERROR_LIB,           /* a libsisign failure; message says what */
	GUI_MODEL_ERROR_CANCELLED,
};

/* A libsisign error in plain words: the message (or sisign_strerror), plus
 * OpenSSL's reason when there is one.  Newly allocated. */
char *gui_error_text(int code, const struct sisign_error *err);

/* ---- settings (never a PIN) ----------------------------------------------- */

enum gui_identity_kind {
	GUI_IDENTITY_NONE = 0,
	GUI_IDENTITY_TOKEN = 1,  /* key_uri on a PKCS#11 token */
	GUI_IDENTITY_FILE = 2,   /* key_file + cert_file */
};

struct gui_settings {
	enum gui_identity_kind identity;
	char *key_uri;
	char *key_file;
	char *cert_file;
	char *module;            /* PKCS#11 module for listing/signing, NULL = p11-kit proxy */
	enum gui_output_mode output_mode;
	char *suffix;            /* NULL = "_signed" */
	char *output_folder;
	gboolean in_place;
	/* Verify: root certificate files or folders, NULL-terminated (NULL =
	 * none).  Only the paths are saved ([verify] trust=a;b). */
	char **trust;
};

/* g_get_user_config_dir()/sisign/gui.ini; newly allocated. */
char *gui_settings_default_path(void);
/* Missing file: defaults, TRUE.  Unreadable or malformed: defaults, FALSE
 * with *err set.  Clears s first. */
gboolean gui_settings_load(struct gui_settings *s, const char *path, GError **err);
/* Creates the directory (0700) and writes atomically (0600). */
gboolean gui_settings_save(const struct gui_settings *s, const char *path, GError **err);
void gui_settings_clear(struct gui_settings *s);
void gui_settings_set_str(char **field, const char *v);

/* ---- describing ----------------------------------------------------------- */

/* The Details of a package as rows the window lays out (a heading per
 * package, embedded package and signature chain; label: value fields under
 * it; one item per file): what `sisign info` shows (header, files and their
 * capabilities, embedded packages, each signature chain) with the `sisign
 * verify` verdict of each chain.  depth: 0 the package, +1 for each level
 * inside it.  mood: NULL, or "success" / "warning" / "error" for a verdict
 * or a failure worth colouring. */
enum gui_detail_kind {
	GUI_DETAIL_HEADING = 0,  /* key: the heading; value: NULL or a note after it */
	GUI_DETAIL_FIELD = 1,    /* key: "UID"; value: "0xe0002001" */
	GUI_DETAIL_ITEM = 2,     /* key: a file's target path; value: its size, hash, capabilities */
};
struct gui_detail {
	enum gui_detail_kind kind;
	int depth;
	char *key;
	char *value;
	const char *mood;        /* static */
};
/* trust: NULL-terminated root files, may be NULL.  Returns a GPtrArray of
 * struct gui_detail * (free with g_ptr_array_unref); never NULL: on a parse
 * failure the rows say why. */
GPtrArray *gui_details_build(const char *path, const char *const *trust);

/* The same Details as plain text, one "Label:  value" line per field
 * (indented by depth).  Newly allocated. */
char *gui_describe_package(const char *path, const char *const *trust);

/* ---- tokens (may run in any thread) ---------------------------------------- */

struct gui_token_key {
	char *label;
	char *id_hex;
	char *key_uri;           /* pkcs11:...;type=private — what signing takes */
	char *subject;           /* certificate subject, NULL if no certificate seen */
	time_t not_after;        /* 0 if none */
	int key_bits;
};

struct gui_token {
	char *label, *manufacturer, *model, *serial, *uri;
	unsigned flags;          /* enum sisign_token_flag */
	char *error;             /* listing its objects failed: why; else NULL */
	GPtrArray *keys;         /* struct gui_token_key * */
};

/* List tokens and their keys with certificates, without logging in (keys
 * are found through their public certificates / public keys).  module may be
 * NULL (the p11-kit proxy).  Returns a GPtrArray of struct gui_token * (free
 * with g_ptr_array_unref) or NULL with *err set. */
GPtrArray *gui_tokens_scan(const char *module, GError **err);

/* "Signing with:" for a token key, in words: the token's label and the
 * key's label and id, decoded from key_uri's percent encoding, and the common
 * name and organisation of the certificate subject:
 *   Token "Dev token"
 *   Key "signing key" (id 01)
 *   Certificate: Jane Dev (Acme)
 * key_label (may be NULL): the key's label as a token scan saw it, shown
 * when the URI names the key by id only (as gui_tokens_scan's URIs do).
 * subject: a one-line subject as gui_tokens_scan gives it ("CN=Jane Dev,
 * O=Acme" or "/CN=Jane Dev/O=Acme"), NULL when no certificate was seen (no
 * third line).  Control characters show as '?'.  Newly allocated. */
char *gui_key_describe(const char *key_uri, const char *key_label, const char *subject);
/* A subject's common name and organisation: "Jane Dev (Acme)", "Jane Dev",
 * "Acme"; the subject as given when it has neither.  Newly allocated. */
char *gui_subject_short(const char *subject);

enum gui_expiry { GUI_EXPIRY_OK = 0, GUI_EXPIRY_SOON = 1, GUI_EXPIRY_PAST = 2, GUI_EXPIRY_UNKNOWN = 3 };
/* PAST if not_after <= now, SOON within 30 days. */
enum gui_expiry gui_expiry_class(time_t not_after, time_t now);

/* ---- certificate wizard (keygen.h) ------------------------------------------------ */

struct gui_subject {
	const char *cn, *ou, *o, *l, *st, *c, *email; /* NULL or "" = absent */
};

/* OpenSSL-style subject ("/CN=Jane Dev/O=Acme/C=FI"), '/' and '\' in values
 * escaped with a backslash; NULL when every field is empty.  Newly allocated. */
char *gui_subject_build(const struct gui_subject *s);

enum gui_wizard_key { GUI_WIZ_TOKEN = 0, GUI_WIZ_FILE = 1 };
enum gui_wizard_out { GUI_WIZ_SELFSIGNED = 0, GUI_WIZ_CSR = 1 };

struct gui_wizard_params {
	enum gui_wizard_key where;
	/* token: the token's URI, module (NULL = p11-kit proxy), key label, PIN */
	const char *token_uri;
	const char *module;
	const char *label;
	const char *pin;
	/* file: a new PEM key file (never overwritten); passphrase NULL or "" =
	 * unencrypted */
	const char *key_file;
	const char *passphrase;
	enum gui_wizard_out what;
	const char *subject;     /* gui_subject_build() or makekeys syntax */
	int days;                /* 0 = SISIGN_CERT_DAYS_DEFAULT (keygen.h) */
	int bits;                /* RSA bits, 0 = 2048 */
	/* Where the certificate (file key, self-signed; PEM) or the request
	 * (CSR, either key; PEM) goes.  A token's self-signed certificate is
	 * stored on the token beside its key (out_file then unused). */
	const char *out_file;
};

struct gui_wizard_result {
	char *key_uri;           /* token key: what signing takes */
	char *key_file;
	char *cert_file;
	char *csr_file;
	char *summary;           /* what was made, in words, one item a line */
};

/* Make the key, then the certificate or the request, through libsisign
 * (sisign_keygen_token / sisign_keygen_file / sisign_csr_make /
 * sisign_der_write_file).  Blocking (run it off the UI thread).  FALSE with
 * *err in plain words on failure. */
gboolean gui_wizard_run(const struct gui_wizard_params *p, struct gui_wizard_result *r, GError **err);
void gui_wizard_result_clear(struct gui_wizard_result *r);

/* ---- verdicts and secret prompts (what the window shows, in words) ---------------- */

/* One line for a package row after Verify: the verdict word and what it
 * means, e.g. "Trusted: a chain reaches a trusted root".  verdict is an enum
 * sisign_verdict; anything else gives "Verified".  Static text. */
const char *gui_verdict_text(int verdict);

/* What the PIN / passphrase dialog says.  kind, what and tries_left as in
 * sisign_secret_cb (tries_left: >= 0 a count, 1 the final try,
 * SISIGN_TRIES_LOW "low", -1 unknown).  warning is NULL when there is
 * nothing to warn about; final is TRUE on the final try (one more wrong PIN
 * locks the token).  Clear with gui_secret_prompt_clear(). */
struct gui_secret_prompt {
	char *title;
	char *prompt;
	char *warning;
	gboolean final;
};
void gui_secret_prompt_make(const char *kind, const char *what, int tries_left, struct gui_secret_prompt *out);
void gui_secret_prompt_clear(struct gui_secret_prompt *p);

/* ---- the batch worker ------------------------------------------------------ */

enum gui_op { GUI_OP_SIGN = 0, GUI_OP_UNSIGN = 1, GUI_OP_VERIFY = 2 };

struct gui_batch;

/* Asked on the main thread when the library wants a PIN or passphrase.  The
 * UI must eventually call gui_batch_secret_reply() (with the secret, or NULL
 * to cancel).  tries_left: >= 0 count, SISIGN_TRIES_LOW "low", -1 unknown. */
typedef void (*gui_secret_fn)(struct gui_batch *b, const char *kind, const char *what, int tries_left,
	void *user);
/* A row changed (main thread; the model's job is already updated). */
typedef void (*gui_row_fn)(struct gui_batch *b, guint idx, void *user);
/* Progress: done of total rows (main thread).  From the library's progress
 * callback, plus the rows refused before the batch ran. */
typedef void (*gui_progress_fn)(struct gui_batch *b, guint done, guint total, void *user);
/* Finished (main thread).  error: a batch-wide failure in plain words (e.g.
 * the key could not be opened), else NULL.  The batch is freed after this
 * returns. */
typedef void (*gui_done_fn)(struct gui_batch *b, const char *error, void *user);

struct gui_batch_params {
	enum gui_op op;
	const struct gui_settings *settings; /* identity, module, output rules and trust roots (copied) */
	const char *const *trust;            /* verify roots overriding settings->trust, NULL-terminated,
	                                      * may be NULL (copied) */
	gboolean unsign_all;                 /* Remove signature: every chain, not just the last */
	gui_secret_fn on_secret;
	gui_row_fn on_row;
	gui_progress_fn on_progress;
	gui_done_fn on_done;
	void *user;
};

/* Start a batch over the given rows (all rows if n == 0).  A GLib thread
 * opens the identity (the one PIN / passphrase prompt, through on_secret)
 * and runs libsisign's batch engine (batch.h), whose worker threads do the
 * packages; its per-file results and progress are handed to the main loop.
 * Output paths are decided here, on the main thread: a row whose output
 * would overwrite its input, or that another row of the batch also writes
 * or reads, fails at once with that reason.  The model must not lose rows
 * while a batch runs (the UI disables removing).  Returns the batch, or NULL
 * with *err set (nothing to do, another batch running). */
struct gui_batch *gui_batch_start(struct gui_model *m, const struct gui_batch_params *p, const guint *idx,
	guint n, GError **err);
/* Ask the batch to stop after the packages in flight (sisign_batch_cancel);
 * rows not started end GUI_JOB_CANCELLED.  A pending secret request is
 * answered "cancelled".  Main thread. */
void gui_batch_cancel(struct gui_batch *b);
/* Answer a secret request.  secret may be NULL (cancel); the caller wipes its
 * own copy; the batch wipes its copy once the library has it.  Main thread. */
void gui_batch_secret_reply(struct gui_batch *b, const char *secret);
gboolean gui_model_busy(const struct gui_model *m);

G_END_DECLS
#endif
