/* The NAT simulator (sim/): a discrete-event driver with a virtual clock
 * and a virtual network of hosts, links and routers, any of which may NAT
 * (RFC 4787, RFC 5382 for TCP, RFC 6888 for carrier-grade NAT) or
 * firewall. The protocol cores of ref/ run on its hosts unchanged.
 *
 * Deterministic: every random choice (loss, jitter, NAT ports) comes from
 * one seeded generator and events at the same instant run in the order
 * they were scheduled, so one seed gives the same packets bit for bit.
 *
 * Time is in microseconds of virtual time (il_sim_now). Packets come from
 * a pool: no allocation per packet. Built as build/libicelab_sim.a (it
 * links libpcap); sim/README.md describes the scenario format and knobs. */
#ifndef ICELAB_SIM_H
#define ICELAB_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "icelab/addr.h"
#include "icelab/peer_policy.h"

/* ---- Seeded randomness: xoshiro256** seeded by splitmix64. ---- */

typedef struct il_sim_rng {
	uint64_t s[4];
} il_sim_rng;

void il_sim_rng_seed(il_sim_rng *r, uint64_t seed);
uint64_t il_sim_rng_next(il_sim_rng *r);
/* Uniform in [0, n); n == 0 gives 0. */
uint32_t il_sim_rng_below(il_sim_rng *r, uint32_t n);
/* Uniform in [0, 1). */
double il_sim_rng_unit(il_sim_rng *r);
void il_sim_rng_bytes(il_sim_rng *r, uint8_t *out, size_t len);

/* ---- The simulator. ---- */

typedef struct il_sim il_sim;

enum il_sim_proto {
	IL_SIM_ICMP = 1,
	IL_SIM_TCP = 6,
	IL_SIM_UDP = 17,
};

/* ICMP errors, named by meaning; the pcap writer gives the ICMPv4 or
 * ICMPv6 type and code. */
enum il_sim_icmp_kind {
	IL_SIM_ICMP_HOST_UNREACH = 1,
	IL_SIM_ICMP_PORT_UNREACH,
	IL_SIM_ICMP_TOO_BIG,       /* v4 fragmentation needed, v6 packet too big */
	IL_SIM_ICMP_ADMIN_PROHIBITED,
};

#define IL_SIM_TCP_FIN 0x01
#define IL_SIM_TCP_SYN 0x02
#define IL_SIM_TCP_RST 0x04
#define IL_SIM_TCP_PSH 0x08
#define IL_SIM_TCP_ACK 0x10

/* Largest transport payload a packet carries (larger sends are refused);
 * above any MTU we model so MTU drops can be tested. */
#define IL_SIM_MAX_PAYLOAD 2048

/* One IP packet in flight. Headers are kept as fields; the pcap writer
 * synthesises the bytes. */
typedef struct il_sim_packet {
	struct il_sim_packet *next_free;
	il_addr src, dst;      /* IPs and transport ports */
	uint8_t proto;         /* enum il_sim_proto */
	uint8_t tcp_flags;
	uint8_t icmp_kind;     /* enum il_sim_icmp_kind */
	uint8_t inner_proto;   /* ICMP: the offending packet's protocol */
	uint16_t icmp_mtu;
	uint16_t inner_len;    /* ICMP: the offending packet's payload length */
	uint16_t len;          /* payload bytes */
	uint32_t tcp_seq, tcp_ack;
	il_addr inner_src, inner_dst; /* ICMP: the offending packet's addresses */
	uint32_t link;         /* in flight: the link ... */
	uint8_t dir;           /* ... and its direction (0: a to b) */
	uint64_t arrive_us;    /* in flight: when it reaches the far end */
	uint64_t id;           /* creation order, for logs */
	uint8_t data[IL_SIM_MAX_PAYLOAD];
} il_sim_packet;

/* Bytes the packet takes on the wire: IP + transport headers + payload. */
size_t il_sim_packet_wire_len(const il_sim_packet *p);

il_sim *il_sim_new(uint64_t seed);
void il_sim_free(il_sim *sim);
uint64_t il_sim_now(const il_sim *sim);
il_sim_rng *il_sim_get_rng(il_sim *sim);

/* Events. fn runs at `at` (never before now); events at the same time run
 * in the order scheduled. */
typedef void (*il_sim_event_fn)(il_sim *sim, void *arg, uint64_t u);
void il_sim_schedule(il_sim *sim, uint64_t at_us, il_sim_event_fn fn, void *arg, uint64_t u);
/* Runs events up to and including end_us (or until none is left, or
 * il_sim_stop); the clock then reads end_us. Returns events run. */
uint64_t il_sim_run_until(il_sim *sim, uint64_t end_us);
void il_sim_stop(il_sim *sim);
size_t il_sim_pending_events(const il_sim *sim);

/* ---- Topology. ---- */

typedef struct il_sim_link_config {
	uint32_t latency_us;      /* one way */
	uint32_t jitter_us;       /* uniform extra delay in [0, jitter]; FIFO kept */
	double loss;              /* independent loss probability */
	/* Gilbert-Elliott bursts: good->bad with p, bad->good with r; loss
	 * probability in each state. ge_p == 0 disables. */
	double ge_p, ge_r, ge_loss_good, ge_loss_bad;
	double duplicate;         /* probability a packet arrives twice */
	double reorder;           /* probability a packet is held back ... */
	uint32_t reorder_delay_us;/* ... this much more, overtaken by later ones */
	uint16_t mtu;             /* bytes of IP packet; 0: 1500 */
	uint64_t bandwidth_bps;   /* 0: unlimited */
	uint32_t queue_us;        /* tail drop past this much queueing; 0: 200 ms */
} il_sim_link_config;

void il_sim_link_config_defaults(il_sim_link_config *cfg);

typedef struct il_sim_link_stats {
	uint64_t sent, delivered, bytes;
	uint64_t lost_random, lost_burst, dropped_mtu, dropped_queue, dropped_down;
	uint64_t duplicated, reordered;
} il_sim_link_stats;

/* Nodes: hosts (end systems with sockets) and routers (forward, and may
 * NAT). Names are unique; returns the node id, or -1. */
int il_sim_add_host(il_sim *sim, const char *name);
int il_sim_add_router(il_sim *sim, const char *name);
int il_sim_find_node(const il_sim *sim, const char *name);
const char *il_sim_node_name(const il_sim *sim, int node);

/* A point-to-point link between two nodes, each end an interface with an
 * address "a.b.c.d/len" or "v6/len". Each end's subnet becomes a route
 * of that node; a host's first link is its default route. Returns the
 * link id, or -1 (with a reason from il_sim_error). */
int il_sim_connect(il_sim *sim, int node_a, const char *addr_a, int node_b,
		   const char *addr_b, const il_sim_link_config *cfg, const char *name);
int il_sim_find_link(const il_sim *sim, const char *name);
const char *il_sim_link_name(const il_sim *sim, int link);
/* Adds a route on node: prefix ("0.0.0.0/0" for the default) via link. */
int il_sim_add_route(il_sim *sim, int node, const char *prefix, int link);
void il_sim_link_set_up(il_sim *sim, int link, bool up);
void il_sim_link_get_stats(const il_sim *sim, int link, int dir, il_sim_link_stats *out);
/* The address of a node on a link (end a or b), or NULL. */
const il_addr *il_sim_iface_addr(const il_sim *sim, int node, int link);
/* Changes a node's address on a link (a host moving, a NAT renumbered):
 * sockets bound to the old IP move to the new one. */
int il_sim_set_iface_addr(il_sim *sim, int node, int link, const char *addr);
/* The node's first address of family (IL_AF_INET/6), or NULL. */
const il_addr *il_sim_node_addr(const il_sim *sim, int node, uint8_t family);
size_t il_sim_node_count(const il_sim *sim);
size_t il_sim_link_count(const il_sim *sim);
/* The last error in words ("link a-b: bad address '10.0.0/24'"). */
const char *il_sim_error(const il_sim *sim);

/* ---- NAT and firewall (RFC 4787 terms). ---- */

enum il_sim_nat_mapping {
	IL_SIM_MAP_EIM = 0, /* endpoint-independent */
	IL_SIM_MAP_ADM,     /* address-dependent */
	IL_SIM_MAP_APDM,    /* address and port-dependent */
};
enum il_sim_nat_filtering {
	IL_SIM_FILTER_EIF = 0,
	IL_SIM_FILTER_ADF,
	IL_SIM_FILTER_APDF,
};
enum il_sim_nat_ports {
	IL_SIM_PORTS_PRESERVE = 0, /* keep the internal port when free, else sequential */
	IL_SIM_PORTS_SEQUENTIAL,
	IL_SIM_PORTS_RANDOM,
};
enum il_sim_nat_pooling {
	IL_SIM_POOL_PAIRED = 0,    /* one external IP per internal IP (RFC 4787 REQ-2) */
	IL_SIM_POOL_ARBITRARY,     /* any external IP per mapping */
};

#define IL_SIM_NAT_MAX_EXTERNAL 8
#define IL_SIM_NAT_MAX_TCP_PORTS 8

typedef struct il_sim_nat_config {
	bool translate;            /* false: a firewall only, no NAT */
	uint8_t mapping;           /* enum il_sim_nat_mapping */
	uint8_t filtering;         /* enum il_sim_nat_filtering */
	uint8_t ports;             /* enum il_sim_nat_ports */
	uint8_t pooling;           /* enum il_sim_nat_pooling */
	bool parity;               /* external port keeps the internal parity */
	bool hairpin;              /* inside to own external address loops back */
	bool icmp;                 /* translate and forward ICMP errors inbound */
	bool inbound_refresh;      /* inbound packets refresh a mapping */
	uint32_t udp_timeout_ms;   /* REQ-5: not under 2 min by default */
	uint32_t tcp_established_ms;/* RFC 5382 REQ-5: 2 h 4 min */
	uint32_t tcp_transitory_ms; /* 4 min */
	uint16_t port_min, port_max;
	bool block_udp;            /* drop every UDP packet, both ways */
	uint16_t tcp_ports[IL_SIM_NAT_MAX_TCP_PORTS]; /* allowed outbound TCP ports */
	uint8_t tcp_port_count;    /* 0: any */
	il_addr external[IL_SIM_NAT_MAX_EXTERNAL]; /* pool; none: the outside address */
	uint8_t external_count;
} il_sim_nat_config;

void il_sim_nat_config_defaults(il_sim_nat_config *cfg);

/* Preset by name (open, full-cone, restricted-cone, port-restricted-cone,
 * symmetric, symmetric-random, udp-blocked, cgn) or a custom list
 * "mapping=eim,filtering=apdf,hairpin=on,timeout=30s" (keys in
 * sim/README.md), optionally after a preset: "symmetric,hairpin=off".
 * *layers is 2 for cgn (a home NAT behind a carrier NAT: outer config
 * in cgn_outer), else 1; 0 for open (no NAT). Returns 0, or -1 with a
 * one-line reason in err. */
int il_sim_preset_parse(const char *text, il_sim_nat_config *cfg, il_sim_nat_config *cgn_outer,
			int *layers, char *err, size_t err_len);
/* Preset names in order, NULL-terminated, and one line about each. */
const char *const *il_sim_preset_names(void);
const char *il_sim_preset_summary(const char *name);
/* "eim", "adm", "apdm" / "eif", "adf", "apdf". */
const char *il_sim_mapping_name(int m);
const char *il_sim_filtering_name(int f);

/* Makes router a NAT whose outside is `outside_link`; every other link of
 * the router is inside. Returns 0 or -1. */
int il_sim_set_nat(il_sim *sim, int router, int outside_link, const il_sim_nat_config *cfg);

typedef struct il_sim_nat_stats {
	uint64_t mappings_created, mappings_expired, translated_out, translated_in;
	uint64_t filtered_in, no_mapping_in, hairpinned, hairpin_dropped;
	uint64_t blocked_out, icmp_translated, port_exhausted;
} il_sim_nat_stats;
int il_sim_nat_get_stats(const il_sim *sim, int router, il_sim_nat_stats *out);
/* Drops every mapping (a NAT reboot): scenario event "flush". */
int il_sim_nat_flush(il_sim *sim, int router);
/* Live mappings now. */
size_t il_sim_nat_mapping_count(const il_sim *sim, int router);
/* Writes the mapping table, one line a mapping. */
void il_sim_nat_dump(const il_sim *sim, int router, FILE *out);
/* The external endpoint of the live mapping for internal -> remote, or
 * -1 when none (for tests). */
int il_sim_nat_lookup(const il_sim *sim, int router, uint8_t proto, const il_addr *internal,
		      const il_addr *remote, il_addr *external);

/* ---- Sockets on hosts. ---- */

typedef void (*il_sim_udp_recv_fn)(void *user, il_sim *sim, int sock, const il_addr *from,
				   const uint8_t *data, size_t len);
/* ICMP errors about what a socket sent. */
typedef void (*il_sim_icmp_fn)(void *user, il_sim *sim, int sock, const il_sim_packet *icmp);

/* Binds a UDP socket on a host. local->port 0 picks an ephemeral port
 * (from 50000 up); local's IP must be the host's (family NONE: its first
 * IPv4 address). *bound receives the address. Returns the socket, or -1. */
int il_sim_udp_bind(il_sim *sim, int host, const il_addr *local, il_sim_udp_recv_fn recv,
		    il_sim_icmp_fn icmp, void *user, il_addr *bound);
int il_sim_udp_send(il_sim *sim, int sock, const il_addr *to, const uint8_t *data, size_t len);
void il_sim_udp_close(il_sim *sim, int sock);

/* A small TCP (sim/tcp.c): handshake, cumulative ACKs, go-back-N
 * retransmission, FIN and RST. Enough for TURN over TCP across NATs and
 * firewalls, not a congestion study. */
typedef struct il_sim_tcp_callbacks {
	void *user;
	void (*connected)(void *user, il_sim *sim, int conn);
	void (*data)(void *user, il_sim *sim, int conn, const uint8_t *data, size_t len);
	/* Closed by the peer (FIN or RST) or failed to connect; conn is freed
	 * after this returns. */
	void (*closed)(void *user, il_sim *sim, int conn, bool reset);
} il_sim_tcp_callbacks;
/* accept gets a new connection id and fills its callbacks; false refuses. */
typedef bool (*il_sim_tcp_accept_fn)(void *user, il_sim *sim, int conn, const il_addr *peer,
				     il_sim_tcp_callbacks *cb);
int il_sim_tcp_listen(il_sim *sim, int host, const il_addr *local, il_sim_tcp_accept_fn accept,
		      void *user, il_addr *bound);
int il_sim_tcp_connect(il_sim *sim, int host, const il_addr *to, const il_sim_tcp_callbacks *cb,
		       il_addr *local);
int il_sim_tcp_send(il_sim *sim, int conn, const uint8_t *data, size_t len);
void il_sim_tcp_close(il_sim *sim, int conn);
const il_addr *il_sim_tcp_local(const il_sim *sim, int conn);
const il_addr *il_sim_tcp_remote(const il_sim *sim, int conn);

/* ---- Capture. ---- */

/* Writes every packet put on a link (before loss) to pcap: one merged
 * file at path, or with per_link one file per link, path with ".LINK.pcap"
 * in place of ".pcap". Raw IP (LINKTYPE_RAW) with IPv4/IPv6, UDP/TCP/ICMP
 * headers and checksums synthesised. Returns 0 or -1. */
int il_sim_pcap_open(il_sim *sim, const char *path, bool per_link);
void il_sim_pcap_close(il_sim *sim);

/* A packet's bytes as IP (for pcap and tests); returns the length, or 0
 * when out is too small. */
size_t il_sim_packet_to_ip(const il_sim_packet *p, uint8_t *out, size_t cap);

/* Counters over the whole run. */
typedef struct il_sim_stats {
	uint64_t events, packets_sent, packets_delivered, packets_dropped_no_route;
	uint64_t packets_dropped_no_socket, packets_forwarded, pool_packets;
} il_sim_stats;
void il_sim_get_stats(const il_sim *sim, il_sim_stats *out);

#endif
