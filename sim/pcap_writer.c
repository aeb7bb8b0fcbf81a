/* Capture of simulated links (libpcap pcap_open_dead + pcap_dump): every
 * packet put on a link, as raw IP (LINKTYPE_RAW), with IPv4 or IPv6 and
 * UDP, TCP or ICMP/ICMPv6 headers synthesised and their checksums right,
 * so Wireshark, tshark and `icelab pcap` dissect a simulated call like a
 * captured one. Timestamps are virtual time from a fixed epoch
 * (2023-11-14 22:13:20 UTC), so the files are the same on every run. */
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

#define PCAP_EPOCH_S 1700000000ull
#define PCAP_SNAP 65535

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

static uint32_t sum_bytes(uint32_t sum, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)(b[len - 1] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The pseudo-header sum of RFC 768 / RFC 8200 §8.1. */
static uint32_t pseudo_sum(const il_addr *src, const il_addr *dst, uint8_t proto, size_t len)
{
	size_t alen = src->family == IL_AF_INET6 ? 16 : 4;
	uint32_t sum = sum_bytes(0, src->ip, alen);
	sum = sum_bytes(sum, dst->ip, alen);
	return sum + proto + (uint32_t)(len & 0xffff) + (uint32_t)(len >> 16);
}

/* An IP header for payload_len bytes of proto; returns its length. */
static size_t ip_header(uint8_t *b, const il_addr *src, const il_addr *dst, uint8_t proto,
			size_t payload_len, uint16_t id)
{
	if (src->family == IL_AF_INET6) {
		put32(b, 0x60000000u);
		put16(b + 4, (uint16_t)payload_len);
		b[6] = proto == IL_SIM_ICMP ? 58 : proto;
		b[7] = 64;
		memcpy(b + 8, src->ip, 16);
		memcpy(b + 24, dst->ip, 16);
		return 40;
	}
	b[0] = 0x45;
	b[1] = 0;
	put16(b + 2, (uint16_t)(20 + payload_len));
	put16(b + 4, id);
	put16(b + 6, 0x4000); /* DF */
	b[8] = 64;
	b[9] = proto;
	put16(b + 10, 0);
	memcpy(b + 12, src->ip, 4);
	memcpy(b + 16, dst->ip, 4);
	put16(b + 10, fold(sum_bytes(0, b, 20)));
	return 20;
}

static void icmp_type_code(const il_sim_packet *p, bool v6, uint8_t *type, uint8_t *code)
{
	switch (p->icmp_kind) {
	case IL_SIM_ICMP_PORT_UNREACH:
		*type = v6 ? 1 : 3;
		*code = v6 ? 4 : 3;
		break;
	case IL_SIM_ICMP_TOO_BIG:
		*type = v6 ? 2 : 3;
		*code = v6 ? 0 : 4;
		break;
	case IL_SIM_ICMP_ADMIN_PROHIBITED:
		*type = v6 ? 1 : 3;
		*code = v6 ? 1 : 13;
		break;
	default: /* host unreachable */
		*type = v6 ? 1 : 3;
		*code = v6 ? 3 : 1;
		break;
	}
}

size_t il_sim_packet_to_ip(const il_sim_packet *p, uint8_t *out, size_t cap)
{
	size_t total = il_sim_packet_wire_len(p);
	if (cap < total)
		return 0;
	bool v6 = p->src.family == IL_AF_INET6;
	size_t iph = v6 ? 40 : 20;
	size_t tl = total - iph;
	ip_header(out, &p->src, &p->dst, p->proto, tl, (uint16_t)p->id);
	uint8_t *t = out + iph;
	memset(t, 0, tl);
	switch (p->proto) {
	case IL_SIM_UDP:
		put16(t, p->src.port);
		put16(t + 2, p->dst.port);
		put16(t + 4, (uint16_t)tl);
		memcpy(t + 8, p->data, p->len);
		{
			uint16_t c = fold(sum_bytes(pseudo_sum(&p->src, &p->dst, 17, tl), t, tl));
			put16(t + 6, c ? c : 0xffff);
		}
		break;
	case IL_SIM_TCP:
		put16(t, p->src.port);
		put16(t + 2, p->dst.port);
		put32(t + 4, p->tcp_seq);
		put32(t + 8, p->tcp_ack);
		t[12] = 5 << 4;
		t[13] = p->tcp_flags;
		put16(t + 14, 65535);
		memcpy(t + 20, p->data, p->len);
		put16(t + 16, fold(sum_bytes(pseudo_sum(&p->src, &p->dst, 6, tl), t, tl)));
		break;
	default: {
		uint8_t type, code;
		icmp_type_code(p, v6, &type, &code);
		t[0] = type;
		t[1] = code;
		if (p->icmp_kind == IL_SIM_ICMP_TOO_BIG) {
			if (v6)
				put32(t + 4, p->icmp_mtu);
			else
				put16(t + 6, p->icmp_mtu);
		}
		/* The offending packet's IP header and first 8 transport bytes. */
		uint8_t *in = t + 8;
		size_t inner_tl = (p->inner_proto == IL_SIM_TCP ? 20 : 8) + p->inner_len;
		size_t ih = ip_header(in, &p->inner_src, &p->inner_dst, p->inner_proto, inner_tl,
				      0);
		put16(in + ih, p->inner_src.port);
		put16(in + ih + 2, p->inner_dst.port);
		if (p->inner_proto == IL_SIM_UDP)
			put16(in + ih + 4, (uint16_t)inner_tl);
		uint32_t sum = v6 ? pseudo_sum(&p->src, &p->dst, 58, tl) : 0;
		put16(t + 2, fold(sum_bytes(sum, t, tl)));
		break;
	}
	}
	return total;
}

static pcap_dumper_t *open_dump(il_sim *sim, const char *path)
{
	pcap_dumper_t *d = pcap_dump_open(sim->pcap_dead, path);
	if (!d)
		sim_set_error(sim, "pcap: cannot write %s: %s", path, pcap_geterr(sim->pcap_dead));
	return d;
}

int il_sim_pcap_open(il_sim *sim, const char *path, bool per_link)
{
	il_sim_pcap_close(sim);
	sim->pcap_dead = pcap_open_dead(DLT_RAW, PCAP_SNAP);
	sim->pcap_buf = malloc(PCAP_SNAP);
	if (!sim->pcap_dead || !sim->pcap_buf) {
		il_sim_pcap_close(sim);
		return -1;
	}
	if (!per_link) {
		sim->pcap_merged = open_dump(sim, path);
		if (!sim->pcap_merged) {
			il_sim_pcap_close(sim);
			return -1;
		}
		return 0;
	}
	size_t n = strlen(path);
	size_t stem = (n > 5 && strcmp(path + n - 5, ".pcap") == 0) ? n - 5 : n;
	for (size_t i = 0; i < sim->link_count; i++) {
		char name[4096];
		snprintf(name, sizeof name, "%.*s.%s.pcap", (int)stem, path, sim->links[i].name);
		sim->links[i].dump = open_dump(sim, name);
		if (!sim->links[i].dump) {
			il_sim_pcap_close(sim);
			return -1;
		}
	}
	return 0;
}

void il_sim_pcap_close(il_sim *sim)
{
	if (sim->pcap_merged)
		pcap_dump_close(sim->pcap_merged);
	sim->pcap_merged = NULL;
	for (size_t i = 0; i < sim->link_count; i++) {
		if (sim->links[i].dump)
			pcap_dump_close(sim->links[i].dump);
		sim->links[i].dump = NULL;
	}
	if (sim->pcap_dead)
		pcap_close(sim->pcap_dead);
	sim->pcap_dead = NULL;
	free(sim->pcap_buf);
	sim->pcap_buf = NULL;
}

void sim_pcap_record(il_sim *sim, sim_link *l, const il_sim_packet *p)
{
	size_t n = il_sim_packet_to_ip(p, sim->pcap_buf, PCAP_SNAP);
	if (!n)
		return;
	struct pcap_pkthdr h;
	memset(&h, 0, sizeof h);
	h.ts.tv_sec = (time_t)(PCAP_EPOCH_S + sim->now / 1000000);
	h.ts.tv_usec = (suseconds_t)(sim->now % 1000000);
	h.caplen = h.len = (bpf_u_int32)n;
	if (sim->pcap_merged)
		pcap_dump((u_char *)sim->pcap_merged, &h, sim->pcap_buf);
	if (l->dump)
		pcap_dump((u_char *)l->dump, &h, sim->pcap_buf);
}
