/* SPDX-License-Identifier: Apache-2.0 */
/* Findings of the install-rules checker as the CLI shows them: `sisign
 * check`, and `sisign sign` (warnings; errors with --strict). */
#ifndef SISIGN_CLI_CHECK_CLI_H
#define SISIGN_CLI_CHECK_CLI_H

#include <stddef.h>
#include <stdio.h>

#include <sisign/check.h>

/* Parse depth for check: one more than the installer allows, so a package
 * nested too deeply is a finding (IR-DEP-1) rather than a parse error. */
#define MAX_DEPTH_PARSE 9

struct fe_json;

/* 0, EXIT_DEPENDS or EXIT_WOULD_NOT_INSTALL for a report. */
int check_cli_exit(const struct sisign_check_report *rep);
/* "would install", "would not install", "depends on the device". */
const char *check_cli_verdict(const struct sisign_check_report *rep);
/* The device state the report depends on, space-separated ("CS Reg"). */
void check_cli_needs(const struct sisign_check_report *rep, char *buf, size_t cap);
/* Two lines: "INDENTseverity RULE [file: ]message" and "... fix: ...". */
void check_cli_print_finding(FILE *fp, const char *indent, const struct sisign_finding *f);
/* The report's keys of a JSON record: verdict, trust, depends_on,
 * requested_capabilities, findings. */
void check_cli_json_findings(struct fe_json *j, const struct sisign_check_report *rep);
/* "installs", "would_not_install" or "depends" for a report's worst severity. */
const char *check_cli_json_verdict(int worst);
/* The "findings" key of a JSON record: [{"rule", "severity", "depth", "uid",
 * "file", "message", "fix", "needs"}, ...] (docs/json.md). */
void check_cli_json_finding_list(struct fe_json *j, const struct sisign_finding *findings, size_t n);
/* What `sisign sign` says about the install rules on a package it signed
 * (one package, or each of a batch): each error and depends finding as a
 * line "PROG: INPUT: warning: RULE (severity): [FILE: ]message; fix: ..."
 * on stderr ("error:" instead of "warning:" for an error finding with
 * strict), warning-severity ones (prompts the user will see) only with -v;
 * and without strict, when worst is error, a line that the installer
 * would refuse it (with strict the caller says that nothing was written). */
void check_cli_sign_findings(const char *input, const struct sisign_finding *findings, size_t n, int worst,
	int strict);
/* The rule list and exit statuses of `sisign help check` (after its help text). */
void check_cli_help_rules(FILE *fp);
/* --trusted-root FILE[=CAPS] into r (arg is changed); -1 after a usage error. */
int check_cli_parse_root(const char *cmd, char *arg, struct sisign_check_root *r);

#endif
