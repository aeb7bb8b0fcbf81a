/* `icelab probe`: STUN Binding and TURN Allocate against a server
 * (ref/io/probe_*.c drive the client cores). */
#ifndef ICELAB_PROBE_CMD_H
#define ICELAB_PROBE_CMD_H

/* argv[0] is "probe", argv[1] the sub-verb (binding, allocate). Exit
 * status: 0 the probe succeeded, 1 no answer, an error response or a
 * failed step, 2 bad usage or a local error. */
int il_cmd_probe(int argc, char **argv);

#endif
