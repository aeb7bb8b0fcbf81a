/* icelab check: run conformance suites against a target and write the
 * reports (issue #6; conformance/README.md). Thin: flags here, the rest
 * in conformance/.
 *   icelab check [--target builtin|udp://|tcp://|tls://HOST:PORT] [--user U
 *                --password P [--realm R]] [--user2 U --password2 P]
 *                [--suite S]... [--test GLOB]
 *                [--seed N] [--strict] [--timeout MS] [--out DIR] [--json]
 *                [--baseline FILE] [--jobs N] [--repeat N] [--ca FILE | --insecure]
 *                [--isolate]
 *   icelab check --diff OLD.json NEW.json [--json]
 *   icelab check --list-requirements [--rfc N] [--verbose]
 *   icelab check --list */
#include "check_cmd.h"

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conformance.h"

#define MAX_SUITES 16

static void usage(FILE *f)
{
	fputs("usage: icelab check [--target URI] [--user U --password P [--realm R]]\n"
	      "                    [--user2 U --password2 P]\n"
	      "                    [--suite NAME]... [--test GLOB] [--seed N] [--strict]\n"
	      "                    [--timeout MS] [--test-timeout MS] [--out DIR] [--json]\n"
	      "                    [--baseline FILE] [--jobs N] [--repeat N]\n"
	      "                    [--ca FILE | --insecure] [--isolate]\n"
	      "       icelab check --diff OLD.json NEW.json [--json]\n"
	      "       icelab check --list-requirements [--rfc N] [--verbose]\n"
	      "       icelab check --list\n"
	      "\n"
	      "Runs conformance suites against a target and writes report.json, junit.xml\n"
	      "and report.html into DIR/RUN-ID/ (DIR default: reports), with DIR/latest\n"
	      "pointing at the newest run.\n"
	      "\n"
	      "  --target URI       builtin (default: the reference server in-process, virtual\n"
	      "                     time, no sockets), udp://HOST:PORT, tcp://HOST:PORT or\n"
	      "                     tls://HOST:PORT (one connection per client)\n"
	      "  --ca FILE          tls://: verify the server's certificate with FILE (PEM)\n"
	      "  --insecure         tls://: do not verify the server's certificate\n"
	      "  --jobs N           run N tests at once, each worker its own sockets (default 1);\n"
	      "                     the report's order does not depend on N\n"
	      "  --repeat N         run each test N times: passing only sometimes is flaky, a fail\n"
	      "  --user, --password TURN long-term credentials of the target\n"
	      "  --user2, --password2  a second user of the target (the 441 test)\n"

	      "  --realm R          the realm (default: the one the target announces)\n"
	      "  --suite NAME       stun-server, turn-server, turn-security, nat-behaviour,\n"
	      "                     ice-lite, ice-agent (repeatable; default: all)\n"
	      "  --test GLOB        only tests whose suite/name or name matches\n"
	      "  --seed N           transaction ids and the builtin target's randomness (default 1)\n"
	      "  --strict           a failed SHOULD fails the run too\n"
	      "  --timeout MS       one wait for a response (default 500; silence windows 300)\n"
	      "  --test-timeout MS  a whole test (default 20000)\n"
	      "  --out DIR          where reports go (default reports); --out - writes none\n"
	      "  --json             print report.json on stdout\n"
	      "  --baseline FILE    waive the known deviations FILE lists, each with its reason\n"
	      "                     (conformance/README.md): only new failures fail the run\n"
	      "  --diff OLD NEW     what changed between two report.json files; exit 1 when a\n"
	      "                     test newly fails a MUST or errs\n"
	      "  --list-requirements  coverage per RFC and section (--rfc N: one RFC;\n"
	      "                     --verbose: every requirement)\n"
	      "  --list             the tests, in run order\n"
	      "  --isolate          each test in a process of its own: a crash is that test's\n"
	      "                     error and the run goes on (with --jobs N: N processes)\n"
	      "  --target sdp:ICE[,PEER[,LEGACY]]  an SBC's media endpoint from its SDP, for the\n"
	      "                     ice-lite suite (conformance/README.md \"Target sdp:\")\n"
	      "\n"
	      "Exit: 0 every MUST passed, 1 a MUST failed or a test could not run to a verdict,\n"
	      "2 bad usage or reports could not be written.\n",
	      f);
}

static int parse_u64(const char *text, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	if (errno || end == text || *end || text[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int publish(const cf_run *run, const char *out, char *path, size_t path_len)
{
	char err[512];
	if (mkdir(out, 0755) < 0 && errno != EEXIST) {
		cli_error("check", "--out %s: %s", out, strerror(errno));
		return -1;
	}
	snprintf(path, path_len, "%s/%s", out, run->run_id);
	if (cf_report_write_all(run, path, err, sizeof err) < 0) {
		cli_error("check", "%s", err);
		return -1;
	}
	/* out/latest -> RUN-ID, replaced atomically. */
	char link_tmp[PATH_MAX], link_path[PATH_MAX];
	snprintf(link_tmp, sizeof link_tmp, "%s/.latest.%ld", out, (long)getpid());
	snprintf(link_path, sizeof link_path, "%s/latest", out);
	unlink(link_tmp);
	if (symlink(run->run_id, link_tmp) < 0 || rename(link_tmp, link_path) < 0) {
		cli_error("check", "%s: %s", link_path, strerror(errno));
		unlink(link_tmp);
		return -1;
	}
	return 0;
}

static void print_summary(const cf_run *run, const char *where)
{
	fprintf(stderr, "icelab check: %s: %zu tests: %zu pass, %zu fail (%zu blocking, %zu warnings), "
			"%zu error, %zu skip, %zu n/a, %zu waived in %llu ms: %s\n",
		run->target_uri, run->result_count, run->counts[CF_PASS], run->counts[CF_FAIL],
		run->blocking, run->warnings, run->counts[CF_ERROR], run->counts[CF_SKIP],
		run->counts[CF_NOT_APPLICABLE], run->waived, (unsigned long long)run->duration_ms,
		run->exit_code ? "FAIL" : "PASS");
	for (size_t i = 0; i < run->result_count; i++) {
		const cf_result *r = &run->results[i];
		if (r->verdict == CF_FAIL || r->verdict == CF_ERROR)
			fprintf(stderr, "  %s %s: %s%s%s\n",
				r->waived ? "waived" : r->warning ? "warning" : cf_verdict_name(r->verdict),
				r->id, r->reason ? r->reason : "", r->waived ? " -- known: " : "",
				r->waived && r->waiver ? r->waiver : "");
	}
	if (where)
		fprintf(stderr, "icelab check: reports in %s/\n", where);
}

/* Whether the test ran to a pass or fail: a waiver of a test that ran
 * and matched nothing is stale; one for a test another transport or
 * configuration runs (one baseline serves udp://, tcp:// and tls://) is not. */
static bool ran(const cf_run *run, const char *test)
{
	for (size_t i = 0; i < run->result_count; i++)
		if (strcmp(run->results[i].id, test) == 0)
			return run->results[i].verdict == CF_PASS ||
			       run->results[i].verdict == CF_FAIL;
	return false;
}

int il_cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{"target", required_argument, NULL, 'T'},
		{"user", required_argument, NULL, 'u'},
		{"password", required_argument, NULL, 'p'},
		{"realm", required_argument, NULL, 'r'},
		{"suite", required_argument, NULL, 's'},
		{"test", required_argument, NULL, 't'},
		{"seed", required_argument, NULL, 'S'},
		{"strict", no_argument, NULL, 'X'},
		{"timeout", required_argument, NULL, 'w'},
		{"test-timeout", required_argument, NULL, 'W'},
		{"out", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"list-requirements", no_argument, NULL, 'L'},
		{"list", no_argument, NULL, 'l'},
		{"rfc", required_argument, NULL, 'R'},
		{"verbose", no_argument, NULL, 'v'},
		{"user2", required_argument, NULL, 'U'},
		{"password2", required_argument, NULL, 'P'},
		{"baseline", required_argument, NULL, 'B'},
		{"diff", no_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{"isolate", no_argument, NULL, 'I'},
		{"jobs", required_argument, NULL, 'J'},
		{"repeat", required_argument, NULL, 'N'},
		{"ca", required_argument, NULL, 'C'},
		{"insecure", no_argument, NULL, 'K'},
		{NULL, 0, NULL, 0},
	};
	cf_target_options to;
	memset(&to, 0, sizeof to);
	cf_run_options ro;
	memset(&ro, 0, sizeof ro);
	ro.seed = 1;
	const char *suites[MAX_SUITES];
	size_t nsuites = 0;
	const char *out = "reports", *rfc = NULL;
	bool json = false, list_reqs = false, list = false, verbose = false, diff = false;
	const char *baseline = NULL;
	uint64_t v;
	int c;
	optind = 1;
	opterr = 0; /* our own one-line message below */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'T':
			to.uri = optarg;
			break;
		case 'u':
			to.user = optarg;
			break;
		case 'p':
			to.password = optarg;
			break;
		case 'r':
			to.realm = optarg;
			break;
		case 's':
			if (nsuites == MAX_SUITES) {
				cli_error("check", "--suite: at most %d", MAX_SUITES);
				return CLI_USAGE;
			}
			suites[nsuites++] = optarg;
			break;
		case 't':
			ro.test_glob = optarg;
			break;
		case 'S':
			if (parse_u64(optarg, &ro.seed) < 0) {
				cli_error("check", "--seed: '%s' is not a number", optarg);
				return CLI_USAGE;
			}
			break;
		case 'I':
			ro.isolate = true;
			break;
		case 'X':
			ro.strict = true;
			break;
		case 'w':
		case 'W':
			if (parse_u64(optarg, &v) < 0 || v == 0 || v > 600000) {
				cli_error("check", "--%s: '%s' is not a number of ms in 1..600000",
					  c == 'w' ? "timeout" : "test-timeout", optarg);
				return CLI_USAGE;
			}
			if (c == 'w')
				ro.recv_timeout_ms = (uint32_t)v;
			else
				ro.test_timeout_ms = (uint32_t)v;
			break;
		case 'o':
			out = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'L':
			list_reqs = true;
			break;
		case 'l':
			list = true;
			break;
		case 'R':
			rfc = optarg;
			if (strncasecmp(rfc, "rfc", 3) == 0)
				rfc += 3;
			break;
		case 'v':
			verbose = true;
			break;
		case 'U':
			to.user2 = optarg;
			break;
		case 'P':
			to.password2 = optarg;
			break;
		case 'B':
			baseline = optarg;
			break;
		case 'D':
			diff = true;
			break;
		case 'J':
		case 'N':
			if (parse_u64(optarg, &v) < 0 || v == 0 || v > 64) {
				cli_error("check", "--%s: '%s' is not a number in 1..64",
					  c == 'J' ? "jobs" : "repeat", optarg);
				return CLI_USAGE;
			}
			if (c == 'J')
				ro.jobs = (unsigned)v;
			else
				ro.repeat = (unsigned)v;
			break;
		case 'C':
			to.ca_file = optarg;
			break;
		case 'K':
			to.insecure = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		default:
			return cli_bad_option("check", c, argv);
		}
	}
	if (diff) {
		if (argc - optind != 2) {
			cli_error("check", "--diff takes two files: OLD.json NEW.json");
			return CLI_USAGE;
		}
		char derr[512];
		int reg = cf_report_diff(argv[optind], argv[optind + 1], json, stdout, derr, sizeof derr);
		if (reg < 0) {
			cli_error("check", "--diff: %s", derr);
			return CLI_USAGE;
		}
		return reg ? CLI_FAILED : CLI_OK;
	}
	if (optind < argc) {
		cli_error("check", "unexpected argument '%s' (see icelab check --help)", argv[optind]);
		return CLI_USAGE;
	}
	if ((to.user2 == NULL) != (to.password2 == NULL)) {
		cli_error("check", "--user2 and --password2 go together");
		return CLI_USAGE;
	}

	if ((to.user == NULL) != (to.password == NULL)) {
		cli_error("check", "--user and --password go together");
		return CLI_USAGE;
	}
	char err[512];
	cf_catalogue cat;
	if (cf_catalogue_load_builtin(&cat, err, sizeof err) < 0) {
		cli_error("check", "requirement catalogue: %s", err);
		return CLI_USAGE;
	}
	if (list_reqs) {
		cf_print_coverage(&cat, rfc, verbose, stdout);
		cf_catalogue_free(&cat);
		return CLI_OK;
	}
	if (list) {
		size_t n;
		const cf_test *t = cf_tests_all(&n);
		for (size_t i = 0; i < n; i++)
			printf("%s/%-40s %s\n", t[i].suite, t[i].name, t[i].title);
		cf_catalogue_free(&cat);
		return CLI_OK;
	}
	cf_baseline bl;
	memset(&bl, 0, sizeof bl);
	if (baseline && cf_baseline_load(&bl, baseline, err, sizeof err) < 0) {
		cli_error("check", "--baseline %s", err);
		cf_catalogue_free(&cat);
		return CLI_USAGE;
	}
	cf_target *target = cf_target_open(&to, err, sizeof err);
	if (!target) {
		cli_error("check", "%s", err);
		cf_baseline_free(&bl);
		cf_catalogue_free(&cat);
		return CLI_USAGE;
	}
	ro.suites = nsuites ? suites : NULL;
	ro.suite_count = nsuites;
	ro.progress = isatty(STDERR_FILENO);
	cf_run run;
	int rc = CLI_USAGE;
	if (cf_run_tests(&run, target, &cat, &ro, err, sizeof err) < 0) {
		cli_error("check", "%s", err);
		goto done;
	}
	if (baseline) {
		cf_run_apply_baseline(&run, &bl);
		for (size_t i = 0; i < bl.count; i++)
			if (!bl.waivers[i].used)
				fprintf(stderr, "icelab check: baseline %s: waiver %s%s%s matched nothing "
						"%s\n",
					baseline, bl.waivers[i].test, bl.waivers[i].req[0] ? " " : "",
					bl.waivers[i].req,
					ran(&run, bl.waivers[i].test)
						? "(fixed? remove it)"
						: "(its test did not run here: not selected, skipped or "
						  "not-applicable)");
	}
	char where[PATH_MAX];
	bool write = strcmp(out, "-") != 0;
	if (write && publish(&run, out, where, sizeof where) < 0)
		goto done_run;
	if (json) {
		json_t *doc = cf_report_json(&run);
		json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(doc);
	}
	print_summary(&run, write ? where : NULL);
	rc = run.exit_code ? CLI_FAILED : CLI_OK;
done_run:
	cf_run_free(&run);
done:
	cf_target_close(target);
	cf_baseline_free(&bl);
	cf_catalogue_free(&cat);
	return rc;
}
