/* icelab sim: run scenarios and the preset matrix (issue #4 §2). */
#ifndef ICELAB_CLI_SIM_CMD_H
#define ICELAB_CLI_SIM_CMD_H

/* argv[0] is "sim". Exit 0 ok, 1 an expectation or cell failed, 2 usage. */
int il_cmd_sim(int argc, char **argv);

#endif
