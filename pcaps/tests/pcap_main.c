/* A stand-alone `icelab pcap` for the tests of pcaps/ until (or unless)
 * cli/main.c dispatches the verb: build/pcaps/tests/pcap_main ARGS is
 * `icelab pcap ARGS`. */
#include "pcap_cmd.h"

int main(int argc, char **argv)
{
	argv[0] = "pcap";
	return il_cmd_pcap(argc, argv);
}
