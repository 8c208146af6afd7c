// Asks the kernel to acknowledge what a TCP socket has received now, not after the delayed-ACK
// timer (40 ms or more on Linux).
//
// Why: iPXE keeps one unacknowledged segment in flight (src/net/tcp.c: "only one unACKed packet
// in the TX queue at any time"), and it sends an iSCSI PDU's header and its data segment as two
// segments. After the header it waits for our ACK; Linux, having just answered the previous
// PDU, is in its delayed-ACK mode and sends that ACK 40 ms later: 41-44 ms at the second Login
// Request of a sanboot (captures against tgtd and diskless alike), and by the same rule at any
// PDU with a data segment (iPXE's INT 13h WRITEs). Node has no
// TCP_QUICKACK, so src/iscsi/connection.ts calls this when a read ends right after a header.
//
//   quickAck(fd) -> undefined
//       setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, 1): a pending ACK leaves at once (the flag is
//       not sticky; the kernel may return to delayed ACKs). Throws with err.code from errno.
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include <sys/socket.h>

#include "napi-errors.h"

static napi_value js_quick_ack(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "EINVAL", "quickAck(fd)");
    return NULL;
  }
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one) < 0) return throw_errno(env, errno, "setsockopt(TCP_QUICKACK)");
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "quickAck", NAPI_AUTO_LENGTH, js_quick_ack, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "quickAck", fn) != napi_ok)
    return NULL;
  return exports;
}
