/*
 * trace.h - what an access log line may say about a request's identity
 * across services: its request id (X-Request-Id, passed through when sane,
 * else generated) and the trace id of a W3C traceparent header.  Both
 * headers come from the client, so both are parsed strictly and bounded:
 * a value that fails is never logged or echoed.
 */
#ifndef SESSIONBRIDGE_TRACE_H
#define SESSIONBRIDGE_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#define SB_REQUEST_ID_MAX 64   /* longest request id passed through */
#define SB_TRACE_ID_HEX 32     /* a W3C trace id: 32 lower-case hex digits */

/* True when v may be passed through as a request id: 1 to
 * SB_REQUEST_ID_MAX bytes of A-Z a-z 0-9 and "-._:@+=/" (what common
 * proxies generate: UUIDs, hex, base64url, "host/seq"), nothing else. */
bool sb_request_id_sane(const char *v);

/* Writes a new request id (32 lower-case hex digits) into buf, which must
 * hold SB_REQUEST_ID_MAX + 1 bytes: 128 bits from a per-thread generator
 * seeded by getrandom(2).  Unique, not secret. */
void sb_request_id_new(char *buf);

/* The trace id of traceparent header v ("00-<32 hex>-<16 hex>-<2 hex>",
 * version 00 exactly, or a later version with the same first four fields
 * followed by '-' and more), into buf (SB_TRACE_ID_HEX + 1 bytes).  False,
 * buf "", when v is absent or malformed, or when the trace id or parent id
 * is all zeros (invalid by the W3C rules), or the version is ff. */
bool sb_traceparent_trace_id(const char *v, char *buf);

#endif
