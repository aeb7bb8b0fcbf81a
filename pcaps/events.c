/* A bounded log of the signalling the HTML ladder draws besides SIP (SIP
 * messages are kept per call, sip.c): STUN and TURN messages and DTLS
 * hellos, the first EVENT_LOG_MAX of them. Memory is constant whatever
 * the capture's size; how many were left out is counted. */
#include <stdarg.h>
#include <stdlib.h>

#include "pcaps_internal.h"

void pa_event_log(il_pcap_analysis *a, const pa_pkt *pkt, const char *fmt, ...)
{
	if (a->event_count == EVENT_LOG_MAX) {
		a->events_dropped++;
		return;
	}
	if (!a->events) {
		a->events = calloc(EVENT_LOG_MAX, sizeof *a->events);
		if (!a->events)
			return;
	}
	pa_event *e = &a->events[a->event_count++];
	e->frame = pkt->frame;
	e->us = pkt->ts_us;
	e->src = pkt->src;
	e->dst = pkt->dst;
	e->relayed = pkt->relayed;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->label, sizeof e->label, fmt, ap);
	va_end(ap);
}
