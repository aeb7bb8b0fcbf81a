/* icelab check: conformance suites against a target, reports (issue #6). */
#ifndef ICELAB_CLI_CHECK_CMD_H
#define ICELAB_CLI_CHECK_CMD_H

/* argv[0] is "check". Exit 0 every MUST passed, 1 a failure or a test
 * without verdict, 2 usage or reports not written. */
int il_cmd_check(int argc, char **argv);

#endif
