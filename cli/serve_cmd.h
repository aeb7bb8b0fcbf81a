/* `icelab serve`: the reference STUN/TURN server (ref/io drives the core). */
#ifndef ICELAB_SERVE_CMD_H
#define ICELAB_SERVE_CMD_H

/* argv[0] is "serve". Exit status: 0 after a clean stop or a done action,
 * 2 on bad usage, a bad configuration, or sockets/TLS that cannot be set up. */
int il_cmd_serve(int argc, char **argv);

/* `icelab serve --sbc` (cli/serve_sbc.c): the SBC bridge and its ng socket. */
#include <stdbool.h>
bool il_serve_wants_sbc(int argc, char **argv);
int il_cmd_serve_sbc(int argc, char **argv);

#endif
