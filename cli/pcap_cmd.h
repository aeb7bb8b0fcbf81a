/* `icelab pcap`: analyse captures (pcaps/). */
#ifndef ICELAB_PCAP_CMD_H
#define ICELAB_PCAP_CMD_H

/* argv[0] is "pcap". Exit: 0 ok (stats) or no error-severity finding
 * (analyze); 1 analyze found at least one finding of severity error;
 * 2 bad usage, or a file that cannot be read as a capture. */
int il_cmd_pcap(int argc, char **argv);

#endif
