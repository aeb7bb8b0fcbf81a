/* The simulator's insides, shared by the files of sim/: the event heap, the packet
 * pool, nodes and links, the NAT tables, the small TCP. */
#ifndef ICELAB_SIM_INTERNAL_H
#define ICELAB_SIM_INTERNAL_H

#include "icelab/sim.h"

#include <pcap/pcap.h>

/* ---- Hash table: fixed 48-byte keys, 64-bit values, linear probing with
 * backward-shift deletion (no tombstones). ---- */

typedef struct sim_key {
	uint64_t w[6];
} sim_key;

typedef struct sim_hash_slot {
	sim_key key;
	uint64_t value;
	uint64_t hash; /* 0: empty */
} sim_hash_slot;

typedef struct sim_hash {
	sim_hash_slot *slots;
	size_t cap, count; /* cap a power of two */
} sim_hash;

int sim_hash_init(sim_hash *h, size_t cap);
void sim_hash_free(sim_hash *h);
uint64_t *sim_hash_find(sim_hash *h, const sim_key *k);
/* Inserts or replaces; -1 when memory ran out. */
int sim_hash_put(sim_hash *h, const sim_key *k, uint64_t value);
bool sim_hash_del(sim_hash *h, const sim_key *k);
void sim_hash_clear(sim_hash *h);

/* ---- Events. ---- */

typedef struct sim_event {
	uint64_t at, seq;
	il_sim_event_fn fn;
	void *arg;
	uint64_t u;
} sim_event;

/* ---- Topology. ---- */

#define SIM_NAME_MAX 32

typedef struct sim_route {
	il_cidr prefix;
	int link;
} sim_route;

typedef struct sim_iface {
	int link;
	il_addr addr; /* port 0 */
	uint8_t prefix_len;
} sim_iface;

struct sim_nat;

typedef struct sim_node {
	char name[SIM_NAME_MAX];
	bool router;
	sim_iface *ifaces;
	size_t iface_count;
	sim_route *routes;
	size_t route_count;
	struct sim_nat *nat;
	uint16_t next_ephemeral;
} sim_node;

typedef struct sim_link_dir {
	il_sim_link_stats stats;
	bool ge_bad;
	uint64_t busy_until, last_arrival;
	/* Packets in flight in arrival order (a link is FIFO but for the
	 * ones reordering holds back, which get their own events): only the
	 * head has an event in the heap. */
	il_sim_packet *fifo_head, *fifo_tail;
	pcap_dumper_t *dump;  /* per-link capture (shared by both directions) */
} sim_link_dir;

typedef struct sim_link {
	char name[SIM_NAME_MAX];
	int node[2];
	size_t iface[2];       /* index in each node's ifaces */
	il_sim_link_config cfg;
	bool up;
	sim_link_dir dir[2];
	pcap_t *pcap_dead;
	pcap_dumper_t *dump;
} sim_link;

/* ---- Sockets. ---- */

enum { SOCK_FREE = 0, SOCK_UDP, SOCK_TCP_LISTEN, SOCK_TCP_CONN };

struct sim_tcp;

typedef struct sim_sock {
	uint8_t kind;
	int node;
	il_addr local;
	il_sim_udp_recv_fn recv;
	il_sim_icmp_fn icmp;
	il_sim_tcp_accept_fn accept;
	void *user;
	struct sim_tcp *tcp;   /* SOCK_TCP_CONN */
} sim_sock;

struct il_sim {
	uint64_t now;
	il_sim_rng rng;
	bool stopped;
	char err[256];

	sim_event *heap;
	size_t heap_len, heap_cap;
	uint64_t next_seq;

	il_sim_packet *free_packets;
	void **chunks;
	size_t chunk_count;
	uint64_t next_packet_id;

	sim_node *nodes;
	size_t node_count;
	sim_link *links;
	size_t link_count;

	sim_sock *socks;
	size_t sock_count;
	/* (node, proto, ip, port) -> socket; TCP connections also by remote */
	sim_hash sock_index;

	pcap_t *pcap_dead;
	pcap_dumper_t *pcap_merged;
	uint8_t *pcap_buf;

	il_sim_stats stats;
	uint32_t tcp_timer_gen;
};

/* Packets. */
il_sim_packet *sim_packet_alloc(il_sim *sim);
void sim_packet_free(il_sim *sim, il_sim_packet *p);

/* Sends a packet from node (routing it), taking ownership. */
void sim_node_output(il_sim *sim, int node, il_sim_packet *p);
/* Puts a packet on a link leaving node; takes ownership. */
void sim_link_transmit(il_sim *sim, int link, int from_node, il_sim_packet *p);
/* Delivers a packet addressed to node itself. */
void sim_node_local_deliver(il_sim *sim, int node, il_sim_packet *p);
/* Route lookup; -1 when none. */
int sim_route_lookup(const il_sim *sim, int node, const il_addr *dst);
bool sim_node_owns(const il_sim *sim, int node, const il_addr *ip);
/* Builds and sends an ICMP error about `about` from node to its source. */
void sim_send_icmp(il_sim *sim, int node, const il_sim_packet *about, uint8_t kind,
		   uint16_t mtu);
void sim_set_error(il_sim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool sim_ip_equal(const il_addr *a, const il_addr *b);

/* NAT: called by the router's forwarding path. Returns true when the
 * packet was consumed (translated and sent, or dropped). */
bool sim_nat_forward(il_sim *sim, int node, int in_link, il_sim_packet *p);
void sim_nat_free(struct sim_nat *nat);
bool sim_nat_owns(const struct sim_nat *nat, const il_addr *ip);

/* TCP (tcp.c). */
void sim_tcp_input(il_sim *sim, int node, il_sim_packet *p);
void sim_tcp_free_all(il_sim *sim);

/* Sockets (net.c). */
int sim_sock_alloc(il_sim *sim);
sim_key sim_sock_key(int node, uint8_t proto, const il_addr *local, const il_addr *remote);

uint16_t sim_ephemeral_port(il_sim *sim, int node, uint8_t proto, const il_addr *a);
/* A NAT's outside address changed: its pool follows, mappings go. */
void sim_nat_renumber(struct sim_nat *nat, const il_addr *old_ip, const il_addr *new_ip);

/* pcap (pcap_writer.c). */
void sim_pcap_record(il_sim *sim, sim_link *l, const il_sim_packet *p);

/* matrix.c: one side of a matrix cell behind a preset (0 alice, 1 bob);
 * returns the host, or -1 with err. Shared with matrix_ice.c. */
int sim_matrix_build_side(il_sim *sim, int inet, int side, const char *desc, char *err,
			  size_t err_len);

static inline uint64_t sim_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* presets.c: matrix labels and the wall clock used only to report run time. */
const char *sim_preset_short_name(const char *preset);
uint64_t sim_wall_clock_us(void);

#endif
