// Sends a window of UDP datagrams in one system call, on a socket Node's dgram module owns.
// Node sends one datagram per sendmsg, each through a libuv request and a JS callback; a TFTP
// window (RFC 7440) of 16 blocks is then 16 trips down the whole UDP/IP stack, and on a 2-core
// machine that per-datagram cost is what limits windowed TFTP. Here the window goes out as
// one sendmsg with UDP generic segmentation offload (UDP_SEGMENT, Linux 4.18: the kernel walks
// the stack once and cuts the payload into datagrams of segment bytes, the last one shorter),
// or, where GSO is unavailable, as one sendmmsg. Only socket plumbing lives here; what to send
// is decided in TypeScript (src/tftp/batch-send.ts).
//
//   sendSegmented(fd, parts, segment, address, port) -> bytes sent
//       The concatenation of parts (Buffers) is cut into datagrams of `segment` bytes, the last
//       one may be shorter. At most 64 datagrams and 65,507 bytes (one IP packet). Throws with
//       err.code (EAGAIN when the send buffer is full: nothing was sent; EIO/EINVAL/ENOPROTOOPT
//       when this socket or route cannot segment: fall back to sendEach).
//   sendEach(fd, parts, ends, address, port) -> datagrams sent
//       Datagram i is parts[ends[i-1] .. ends[i]-1]; one sendmmsg. Returns how many left (fewer
//       than asked when the send buffer filled: the caller sends the rest another way). Throws
//       with err.code when not even the first could be sent for another reason than EAGAIN.
//
// The fd is the dgram socket's own (non-blocking); the kernel copies the bytes before
// returning, so the buffers are free again as soon as a call returns.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define MAX_PARTS 160   /* two parts per datagram, up to 64 datagrams, with room */
#define MAX_DATAGRAMS 64 /* the kernel's UDP_MAX_SEGMENTS on older kernels */
#define MAX_PAYLOAD 65507

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      napi_throw_error(env, "EADDON", "udp-batch: Node-API call failed: " #call); \
      return NULL;                                                             \
    }                                                                          \
  } while (0)

static napi_value throw_errno(napi_env env, int err, const char* syscall) {
  char message[160];
  napi_value code, text, error;
  snprintf(message, sizeof message, "%s: %s", syscall, strerror(err));
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_usage(napi_env env, const char* message) {
  napi_throw_type_error(env, "EINVAL", message);
  return NULL;
}

typedef union {
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
} peer_address;

/* Reads address (string) and port into a sockaddr; returns its length, 0 when invalid. */
static socklen_t read_address(napi_env env, napi_value address, napi_value port, peer_address* out) {
  char text[INET6_ADDRSTRLEN + 1];
  size_t length = 0;
  uint32_t number = 0;
  if (napi_get_value_string_utf8(env, address, text, sizeof text, &length) != napi_ok) return 0;
  if (napi_get_value_uint32(env, port, &number) != napi_ok || number == 0 || number > 65535) return 0;
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, text, &out->v4.sin_addr) == 1) {
    out->v4.sin_family = AF_INET;
    out->v4.sin_port = htons((uint16_t)number);
    return sizeof out->v4;
  }
  if (inet_pton(AF_INET6, text, &out->v6.sin6_addr) == 1) {
    out->v6.sin6_family = AF_INET6;
    out->v6.sin6_port = htons((uint16_t)number);
    return sizeof out->v6;
  }
  return 0;
}

/* Fills iov from a JS array of Buffers; returns the count, -1 when not an array of Buffers. */
static int read_parts(napi_env env, napi_value array, struct iovec* iov, size_t* total) {
  uint32_t count = 0;
  bool is_array = false;
  if (napi_is_array(env, array, &is_array) != napi_ok || !is_array) return -1;
  if (napi_get_array_length(env, array, &count) != napi_ok || count == 0 || count > MAX_PARTS) return -1;
  *total = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    void* data = NULL;
    size_t length = 0;
    bool is_buffer = false;
    if (napi_get_element(env, array, i, &element) != napi_ok) return -1;
    if (napi_is_buffer(env, element, &is_buffer) != napi_ok || !is_buffer) return -1;
    if (napi_get_buffer_info(env, element, &data, &length) != napi_ok) return -1;
    iov[i].iov_base = data;
    iov[i].iov_len = length;
    *total += length;
  }
  return (int)count;
}

static int read_fd(napi_env env, napi_value value) {
  int32_t fd = -1;
  if (napi_get_value_int32(env, value, &fd) != napi_ok) return -1;
  return fd;
}

static napi_value js_send_segmented(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result;
  struct iovec iov[MAX_PARTS];
  peer_address peer;
  size_t total = 0;
  uint32_t segment = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_usage(env, "sendSegmented(fd, parts, segment, address, port)");
  int fd = read_fd(env, argv[0]);
  int parts = read_parts(env, argv[1], iov, &total);
  socklen_t peer_length = read_address(env, argv[3], argv[4], &peer);
  if (fd < 0 || parts < 0 || peer_length == 0) return throw_usage(env, "sendSegmented: bad fd, parts or address");
  if (napi_get_value_uint32(env, argv[2], &segment) != napi_ok || segment == 0 || segment > UINT16_MAX)
    return throw_usage(env, "sendSegmented: segment must be 1..65535 bytes");
  if (total > MAX_PAYLOAD || (total + segment - 1) / segment > MAX_DATAGRAMS)
    return throw_usage(env, "sendSegmented: more than one IP packet or 64 datagrams");

  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {
      .msg_name = &peer, .msg_namelen = peer_length, .msg_iov = iov, .msg_iovlen = (size_t)parts,
      .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_UDP;
  cmsg->cmsg_type = UDP_SEGMENT;
  cmsg->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t gso_size = (uint16_t)segment;
  memcpy(CMSG_DATA(cmsg), &gso_size, sizeof gso_size);
  /* One datagram needs no segmentation (and a short one would be refused with EINVAL). */
  if (total <= segment) msg.msg_controllen = 0;

  ssize_t sent;
  do sent = sendmsg(fd, &msg, MSG_DONTWAIT);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) return throw_errno(env, errno, "sendmsg");
  CHECK(napi_create_double(env, (double)sent, &result));
  return result;
}

static napi_value js_send_each(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result;
  struct iovec iov[MAX_PARTS];
  struct mmsghdr messages[MAX_DATAGRAMS];
  peer_address peer;
  size_t total = 0;
  uint32_t count = 0;
  bool is_array = false;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_usage(env, "sendEach(fd, parts, ends, address, port)");
  int fd = read_fd(env, argv[0]);
  int parts = read_parts(env, argv[1], iov, &total);
  socklen_t peer_length = read_address(env, argv[3], argv[4], &peer);
  if (fd < 0 || parts < 0 || peer_length == 0) return throw_usage(env, "sendEach: bad fd, parts or address");
  if (napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[2], &count) != napi_ok ||
      count == 0 || count > MAX_DATAGRAMS)
    return throw_usage(env, "sendEach: ends must list 1..64 datagrams");
  uint32_t start = 0;
  memset(messages, 0, sizeof messages);
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    uint32_t end = 0;
    if (napi_get_element(env, argv[2], i, &element) != napi_ok || napi_get_value_uint32(env, element, &end) != napi_ok ||
        end <= start || end > (uint32_t)parts)
      return throw_usage(env, "sendEach: ends must rise and stay within parts");
    messages[i].msg_hdr.msg_name = &peer;
    messages[i].msg_hdr.msg_namelen = peer_length;
    messages[i].msg_hdr.msg_iov = &iov[start];
    messages[i].msg_hdr.msg_iovlen = end - start;
    start = end;
  }
  int sent;
  do sent = sendmmsg(fd, messages, count, MSG_DONTWAIT);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return throw_errno(env, errno, "sendmmsg");
    sent = 0;
  }
  CHECK(napi_create_uint32(env, (uint32_t)sent, &result));
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  CHECK(napi_create_function(env, "sendSegmented", NAPI_AUTO_LENGTH, js_send_segmented, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "sendSegmented", fn));
  CHECK(napi_create_function(env, "sendEach", NAPI_AUTO_LENGTH, js_send_each, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "sendEach", fn));
  return exports;
}
