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
//   sendMany(fd, datagrams, addresses, ports[, from[, count]]) -> datagrams sent
//       Datagram i (a Buffer) goes to addresses[i] (an IPv4 or IPv6 literal) : ports[i], for i
//       from `from` (default 0), `count` of them (default: to the end), at most 64 per call: one
//       sendmmsg with a sockaddr per datagram (the DHCP server's replies of one event-loop turn,
//       each to its own client). Returns how many left, in order: fewer than asked when the send
//       buffer filled (EAGAIN), when sendmmsg stopped at a failing datagram (its error is lost:
//       call again from there to learn it), or when an entry is not a Buffer, an address literal
//       and a port (the batch stops before it). Throws (err.code from errno, or a TypeError for
//       a bad entry) only when datagrams[from] itself could not be sent: the caller then sends
//       that one another way, or counts it as failed.
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

#include "napi-errors.h"

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

/* One sendmmsg: how many datagrams left (0 when the send buffer is full); throws on other errors. */
static napi_value send_messages(napi_env env, int fd, struct mmsghdr* messages, unsigned count) {
  napi_value result;
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
  napi_value argv[5];
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
  return send_messages(env, fd, messages, count);
}

/* An optional uint32 argument: `fallback` when undefined; false when present but not a uint32. */
static bool read_optional_uint32(napi_env env, napi_value value, uint32_t fallback, uint32_t* out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return false;
  if (type == napi_undefined) {
    *out = fallback;
    return true;
  }
  return napi_get_value_uint32(env, value, out) == napi_ok;
}

/* The length of a JS array, or -1 when it is not one. */
static int64_t array_length(napi_env env, napi_value value) {
  bool is_array = false;
  uint32_t length = 0;
  if (napi_is_array(env, value, &is_array) != napi_ok || !is_array) return -1;
  if (napi_get_array_length(env, value, &length) != napi_ok) return -1;
  return length;
}

static napi_value js_send_many(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], result;
  struct iovec iov[MAX_DATAGRAMS];
  struct mmsghdr messages[MAX_DATAGRAMS];
  peer_address peers[MAX_DATAGRAMS];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return throw_usage(env, "sendMany(fd, datagrams, addresses, ports[, from[, count]])");
  int fd = read_fd(env, argv[0]);
  int64_t datagrams = array_length(env, argv[1]);
  int64_t addresses = array_length(env, argv[2]);
  int64_t ports = array_length(env, argv[3]);
  if (fd < 0 || datagrams < 0 || addresses < 0 || ports < 0)
    return throw_usage(env, "sendMany: bad fd, or datagrams/addresses/ports not arrays");
  /* napi_get_cb_info fills the arguments not given (up to argv's size) with undefined. */
  uint32_t from = 0, count = 0;
  if (!read_optional_uint32(env, argv[4], 0, &from)) return throw_usage(env, "sendMany: from must be a uint32");
  uint32_t rest = from <= (uint64_t)datagrams ? (uint32_t)(datagrams - from) : 0;
  if (!read_optional_uint32(env, argv[5], rest, &count)) return throw_usage(env, "sendMany: count must be a uint32");
  if ((uint64_t)from + count > (uint64_t)datagrams || (uint64_t)from + count > (uint64_t)addresses ||
      (uint64_t)from + count > (uint64_t)ports)
    return throw_usage(env, "sendMany: from + count runs past datagrams, addresses or ports");
  if (count > MAX_DATAGRAMS) count = MAX_DATAGRAMS; /* the caller calls again for the rest */
  if (count == 0) {
    CHECK(napi_create_uint32(env, 0, &result));
    return result;
  }

  memset(messages, 0, sizeof messages);
  uint32_t ready = 0;
  for (; ready < count; ready++) {
    napi_value datagram, address, port;
    bool is_buffer = false;
    void* data = NULL;
    size_t length = 0;
    if (napi_get_element(env, argv[1], from + ready, &datagram) != napi_ok ||
        napi_get_element(env, argv[2], from + ready, &address) != napi_ok ||
        napi_get_element(env, argv[3], from + ready, &port) != napi_ok)
      break;
    if (napi_is_buffer(env, datagram, &is_buffer) != napi_ok || !is_buffer ||
        napi_get_buffer_info(env, datagram, &data, &length) != napi_ok || length > MAX_PAYLOAD)
      break;
    socklen_t peer_length = read_address(env, address, port, &peers[ready]);
    if (peer_length == 0) break; /* not a literal (a host name): the caller's resolver sends it */
    iov[ready].iov_base = data;
    iov[ready].iov_len = length;
    messages[ready].msg_hdr.msg_name = &peers[ready];
    messages[ready].msg_hdr.msg_namelen = peer_length;
    messages[ready].msg_hdr.msg_iov = &iov[ready];
    messages[ready].msg_hdr.msg_iovlen = 1;
  }
  if (ready == 0) return throw_usage(env, "sendMany: the first datagram is not a Buffer, or its address not an IP literal or its port not 1..65535");

  return send_messages(env, fd, messages, ready);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  CHECK(napi_create_function(env, "sendSegmented", NAPI_AUTO_LENGTH, js_send_segmented, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "sendSegmented", fn));
  CHECK(napi_create_function(env, "sendEach", NAPI_AUTO_LENGTH, js_send_each, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "sendEach", fn));
  CHECK(napi_create_function(env, "sendMany", NAPI_AUTO_LENGTH, js_send_many, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "sendMany", fn));
  return exports;
}
