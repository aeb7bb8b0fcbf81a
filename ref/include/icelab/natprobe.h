/* `icelab probe nat udp://HOST[:PORT]`: RFC 5780 NAT behaviour discovery
 * (the core of nat_discovery.h) on real UDP sockets, the clock and
 * getrandom(2). ref/io/natprobe.c; the `icelab probe` verb dispatches to
 * it with argv[0] = "nat".
 *
 *   --lifetime MAX      also search the binding lifetime (§4.6) up to MAX
 *                       ("90s", "5m"); off by default: it takes minutes
 *   --resolution D      lifetime precision (default 1s)
 *   --no-hairpin        skip the hairpinning test
 *   --rto MS, --rc N    transaction timers (RFC 8489 §6.2.1: 500, 7)
 *   --expect NAME       exit 1 unless the NAT type is NAME (open,
 *                       full-cone, restricted-cone, port-restricted-cone,
 *                       symmetric, udp-blocked, firewall)
 *   --expect-mapping M, --expect-filtering F   (eim|adm|apdm|no-nat,
 *                       eif|adf|apdf)
 *   --json              the result as one JSON object
 *
 * Exit: 0 classified (and as expected), 1 not classified (no answer, no
 * RFC 5780 on the server) or not as expected, 2 bad usage or a local
 * error. */
#ifndef ICELAB_NATPROBE_H
#define ICELAB_NATPROBE_H

#include <stdbool.h>
#include <stdio.h>

#include "icelab/nat_discovery.h"

int il_probe_nat_main(int argc, char **argv);

/* The result as `icelab probe nat` prints it: aligned lines, or one JSON
 * object (json). Shared with `icelab sim discover`. */
void il_natd_result_print(const il_natd_result *r, const il_addr *server, FILE *out,
			  bool json);

#endif
