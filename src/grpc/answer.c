/* answer.c - a gRPC answer from the HTTP API's JSON answer: the
 * sessionbridge.v1 services send the same message the HTTP API sends in
 * protobuf (sb_wire_pack over the same JSON), so the two surfaces cannot
 * drift apart. */
#include <stdlib.h>

#include "http/api.h"
#include "service.h"

int sb_grpc_answer_json(json_t *body, const ProtobufCMessageDescriptor *d,
                        struct sb_grpc_answer *ans)
{
    struct sb_err err = {0};

    if (body == NULL) {
        sb_grpc_fail(ans, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return -1;
    }
    if (sb_wire_pack(body, d, &ans->msg, &ans->len, &err) != 0) {
        json_decref(body);
        sb_grpc_fail(ans, GRPC_STATUS_INTERNAL, "internal: %s", err.msg);
        return -1;
    }
    json_decref(body);
    ans->status = GRPC_STATUS_OK;
    return 0;
}
