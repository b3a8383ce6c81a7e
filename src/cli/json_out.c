/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON records of sign, unsign, verify and info (docs/json.md, checked
 * against docs/json-schema.json): one envelope for results and errors. */
#include "cli.h"
#include "fe.h"

#include <string.h>
#include <time.h>

void cli_json_error_value(struct fe_json *j, int exit_status, const struct sisign_error *err)
{
	int code = err && err->code ? err->code : SISIGN_ERR_INTERNAL;

	fe_json_begin_object(j);
	fe_json_kv_int(j, "exit", exit_status);
	fe_json_kv_string(j, "name", sisign_strerror(code));
	fe_json_kv_string(j, "message", err && err->message[0] ? err->message : sisign_strerror(code));
	fe_json_key(j, "offset");
	if (err && err->offset >= 0)
		fe_json_int(j, err->offset);
	else
		fe_json_null(j);
	fe_json_end_object(j);
}

void cli_json_begin(struct fe_json *j, FILE *fp, const char *command, const char *input, const char *status,
	int exit_status, const struct sisign_error *err)
{
	char when[32];

	(void)fe_time_format(time(NULL), when, sizeof when);
	fe_json_init(j, fp);
	fe_json_begin_object(j);
	fe_json_kv_int(j, "schema", CLI_JSON_SCHEMA);
	fe_json_kv_string(j, "command", command);
	fe_json_kv_string(j, "input", input);
	fe_json_kv_string(j, "status", status);
	fe_json_key(j, "exit");
	if (exit_status >= 0)
		fe_json_int(j, exit_status);
	else
		fe_json_null(j);
	fe_json_key(j, "error");
	if (err)
		cli_json_error_value(j, exit_status, err);
	else
		fe_json_null(j);
	fe_json_kv_string(j, "time", when);
}

int cli_json_end(struct fe_json *j)
{
	fe_json_end_object(j);
	fputc('\n', j->fp);
	return fe_json_finish(j);
}
