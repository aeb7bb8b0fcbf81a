/* `icelab probe ice`: our ICE agent (ref/io ice_driver) against a peer
 * described by an SDP file: gathers (host candidates; relayed ones with
 * --turn over UDP or TCP, and only those with --relay-only), then
 * prints our own SDP (to hand to the peer),
 * runs the checks, optionally exchanges media packets, and prints the
 * selected pair and the pair statistics (--json for data).
 *
 * Two processes introduce themselves through files: each writes its own
 * description (--local-sdp-out, written to a temporary file and renamed)
 * and polls for the other's (--wait-remote S: up to S seconds, every
 * 100 ms, until the file exists and parses). `--help` says more. */
#ifndef ICELAB_PROBE_ICE_H
#define ICELAB_PROBE_ICE_H

/* argv[0] is the sub-verb's name ("ice"). Returns the exit status: 0
 * connected (and the packets asked for went both ways), 1 the checks
 * failed or timed out, 2 bad usage or a harness error. */
int il_probe_ice_main(int argc, char **argv);

#endif
