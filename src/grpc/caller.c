/* caller.c - who may call a gRPC method: the HTTP API's rules, with the
 * caller token in the x-bridge-token metadata instead of the X-Bridge-Token
 * header, and the peer address gRPC reports for the loopback rule. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "sessionbridge/percent.h"
#include "service.h"

bool sb_grpc_peer_is_loopback(const char *peer)
{
    char decoded[128], host[128];
    unsigned char addr[16];
    size_t bad_at;
    long n;
    char *colon;

    if (peer == NULL)
        return false;
    n = sb_percent_decode(peer, strlen(peer), false, decoded, sizeof(decoded),
                          &bad_at);
    if (n < 0)
        return false;
    if (strncmp(decoded, "ipv4:", 5) == 0) {
        snprintf(host, sizeof(host), "%s", decoded + 5);
        colon = strrchr(host, ':');
        if (colon != NULL)
            *colon = '\0';
        return inet_pton(AF_INET, host, addr) == 1 && addr[0] == 127;
    }
    if (strncmp(decoded, "ipv6:[", 6) == 0) {
        snprintf(host, sizeof(host), "%s", decoded + 6);
        colon = strchr(host, ']');
        if (colon == NULL)
            return false;
        *colon = '\0';
        if (inet_pton(AF_INET6, host, addr) != 1)
            return false;
        /* ::1, or ::ffff:127.x.y.z (an IPv4 peer on a dual-stack socket) */
        return (memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0) ||
               (memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 &&
                addr[12] == 127);
    }
    return false;
}

bool sb_grpc_authorize(const struct sb_grpc_call_info *call,
                       unsigned open_bit, struct sb_grpc_answer *ans)
{
    const struct sb_config *cfg = call->cfg;
    const char *tok = call->bridge_token;

    if (tok != NULL) {
        if (sb_config_token_role(cfg, tok, strlen(tok)) == SB_ROLE_NONE) {
            sb_grpc_fail(ans, GRPC_STATUS_UNAUTHENTICATED,
                         "unauthenticated: the x-bridge-token is not a "
                         "configured caller token");
            return false;
        }
        return true;
    }
    if (open_bit != 0 && (cfg->open_on_loopback & open_bit) &&
        sb_grpc_peer_is_loopback(call->peer))
        return true;
    sb_grpc_fail(ans, GRPC_STATUS_UNAUTHENTICATED,
                 "unauthenticated: this method needs x-bridge-token "
                 "metadata");
    return false;
}
