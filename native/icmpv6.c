// A raw ICMPv6 socket bound to one interface, for Neighbor Discovery (RFC 4861): Node has no
// raw sockets. Only socket plumbing lives here; every protocol decision is in TypeScript
// (src/ra/). Linux only (SO_BINDTODEVICE). Needs CAP_NET_RAW.
//
//   open(ifname, types, groups, onPacket) -> handle
//       A SOCK_RAW/IPPROTO_ICMPV6 socket that hears only the ICMPv6 types listed (ICMP6_FILTER),
//       on ifname only (SO_BINDTODEVICE), member of the multicast groups listed, sending with
//       hop limit 255 (RFC 4861 section 6.1: ND messages must arrive with 255). The kernel
//       computes and checks the ICMPv6 checksum of raw ICMPv6 sockets (RFC 3542 section 3.1).
//       onPacket(null, bytes, sourceAddress, hopLimit) for each message (the ICMPv6 message
//       without the IPv6 header; hopLimit -1 when unknown), onPacket(err) on a socket error.
//   send(handle, bytes, destination, source|null)
//       One message to destination on the interface, from source (IPV6_PKTINFO) when given.
//       Throws on failure (err.code: EADDRNOTAVAIL, ENETDOWN, ...).
//   close(handle)
//       Idempotent. Also done when the handle is garbage-collected or the environment ends.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "napi-errors.h"

#define MAX_GROUPS 8
#define MAX_MESSAGE 9216 /* a jumbo frame; larger messages are dropped (MSG_TRUNC) */
#define MAX_READS_PER_WAKEUP 64

typedef struct {
  int fd;
  unsigned ifindex;
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int closed;
  int refs; /* the JS handle and the uv handle: freed when both are gone */
} icmp_socket;

static unsigned char rx_buffer[MAX_MESSAGE];

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, "EADDON", "icmpv6: Node-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static void release(icmp_socket* s) {
  if (--s->refs == 0) free(s);
}

static void on_poll_closed(uv_handle_t* handle) {
  icmp_socket* s = handle->data;
  close(s->fd);
  release(s);
}

static void cleanup_hook(void* arg);

/* Stops polling and drops the callback; the fd is closed once libuv has let go of it. */
static void shut(icmp_socket* s, int from_hook) {
  if (s->closed) return;
  s->closed = 1;
  if (!from_hook) napi_remove_env_cleanup_hook(s->env, cleanup_hook, s);
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t*)&s->poll, on_poll_closed);
  napi_delete_reference(s->env, s->callback);
  napi_async_destroy(s->env, s->async);
}

static void cleanup_hook(void* arg) { shut(arg, 1); }

static void finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  shut(data, 0);
  release(data);
}

static void deliver(icmp_socket* s, size_t argc, napi_value* argv) {
  napi_env env = s->env;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, s->callback, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &recv); /* napi_make_callback needs an object as `this` */
  if (napi_make_callback(env, s->async, recv, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception); /* as an uncaught exception in JS would be */
  }
}

static void on_readable(uv_poll_t* handle, int status, int events) {
  (void)events;
  icmp_socket* s = handle->data;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (status < 0) {
    napi_value argv[1] = {make_error(env, -status, "poll")};
    deliver(s, 1, argv);
  }
  for (int i = 0; status >= 0 && i < MAX_READS_PER_WAKEUP && !s->closed; i++) {
    struct sockaddr_in6 from;
    union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = rx_buffer, .iov_len = sizeof rx_buffer};
    struct msghdr msg = {
        .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    ssize_t n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      napi_value argv[1] = {make_error(env, errno, "recvmsg")};
      deliver(s, 1, argv);
      break;
    }
    if ((msg.msg_flags & MSG_TRUNC) || from.sin6_family != AF_INET6) continue;
    int hop_limit = -1;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len == CMSG_LEN(sizeof(int))) {
        memcpy(&hop_limit, CMSG_DATA(c), sizeof hop_limit);
      }
    }
    char address[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, &from.sin6_addr, address, sizeof address) == NULL) continue;
    napi_value argv[4];
    void* copy;
    napi_get_null(env, &argv[0]);
    napi_create_buffer_copy(env, (size_t)n, rx_buffer, &copy, &argv[1]);
    napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &argv[2]);
    napi_create_int32(env, hop_limit, &argv[3]);
    deliver(s, 4, argv);
  }
  napi_close_handle_scope(env, scope);
}

static int set_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value);
}

/* open(ifname: string, types: number[], groups: string[], onPacket: function) */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char ifname[64];
  size_t length;
  uint32_t type_count, group_count;
  napi_valuetype fn_type = napi_undefined;
  if (argc < 4 || napi_get_value_string_utf8(env, argv[0], ifname, sizeof ifname, &length) != napi_ok ||
      length == 0 || length >= IF_NAMESIZE || napi_get_array_length(env, argv[1], &type_count) != napi_ok ||
      napi_get_array_length(env, argv[2], &group_count) != napi_ok || group_count > MAX_GROUPS ||
      napi_typeof(env, argv[3], &fn_type) != napi_ok || fn_type != napi_function) {
    napi_throw_type_error(env, "EINVAL", "icmpv6.open(ifname, types[], groups[], onPacket)");
    return NULL;
  }
  struct icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  for (uint32_t i = 0; i < type_count; i++) {
    napi_value element;
    uint32_t type;
    CHECK(napi_get_element(env, argv[1], i, &element));
    if (napi_get_value_uint32(env, element, &type) != napi_ok || type > 255) {
      napi_throw_type_error(env, "EINVAL", "icmpv6.open: types are ICMPv6 type numbers (0-255)");
      return NULL;
    }
    ICMP6_FILTER_SETPASS(type, &filter);
  }
  struct in6_addr groups[MAX_GROUPS];
  for (uint32_t i = 0; i < group_count; i++) {
    napi_value element;
    char text[64];
    CHECK(napi_get_element(env, argv[2], i, &element));
    if (napi_get_value_string_utf8(env, element, text, sizeof text, &length) != napi_ok || length >= sizeof text - 1 ||
        inet_pton(AF_INET6, text, &groups[i]) != 1 || !IN6_IS_ADDR_MULTICAST(&groups[i])) {
      napi_throw_type_error(env, "EINVAL", "icmpv6.open: groups are IPv6 multicast addresses");
      return NULL;
    }
  }

  unsigned ifindex = if_nametoindex(ifname);
  if (ifindex == 0) return throw_errno(env, errno, "if_nametoindex");
  int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (fd < 0) return throw_errno(env, errno, "socket");
  const char* failed = NULL;
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0) failed = "SO_BINDTODEVICE";
  else if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) < 0) failed = "ICMP6_FILTER";
  else if (set_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1) < 0) failed = "IPV6_RECVHOPLIMIT";
  else if (set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255) < 0) failed = "IPV6_UNICAST_HOPS";
  else if (set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255) < 0) failed = "IPV6_MULTICAST_HOPS";
  else if (set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, (int)ifindex) < 0) failed = "IPV6_MULTICAST_IF";
  else if (set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0) < 0) failed = "IPV6_MULTICAST_LOOP";
  for (uint32_t i = 0; failed == NULL && i < group_count; i++) {
    struct ipv6_mreq membership = {.ipv6mr_multiaddr = groups[i], .ipv6mr_interface = ifindex};
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &membership, sizeof membership) < 0) failed = "IPV6_JOIN_GROUP";
  }
  if (failed != NULL) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, failed);
  }
  /* Whatever arrived before the filter and the device binding took effect. */
  while (recv(fd, rx_buffer, sizeof rx_buffer, MSG_DONTWAIT) >= 0) {
  }

  icmp_socket* s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return throw_errno(env, ENOMEM, "calloc");
  }
  s->fd = fd;
  s->ifindex = ifindex;
  s->env = env;
  s->refs = 2;
  s->poll.data = s;
  napi_value handle, name;
  uv_loop_t* loop;
  int rc;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || (rc = uv_poll_init(loop, &s->poll, fd)) != 0) {
    close(fd);
    free(s);
    napi_throw_error(env, "EADDON", "icmpv6: uv_poll_init failed");
    return NULL;
  }
  napi_create_string_utf8(env, "diskless:icmpv6", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[3], 1, &s->callback) != napi_ok ||
      napi_async_init(env, NULL, name, &s->async) != napi_ok ||
      napi_create_external(env, s, finalize, NULL, &handle) != napi_ok) {
    /* Unreachable in practice; leak s rather than free memory libuv still points at. */
    s->closed = 1;
    uv_close((uv_handle_t*)&s->poll, on_poll_closed);
    napi_throw_error(env, "EADDON", "icmpv6: could not create the handle");
    return NULL;
  }
  napi_add_env_cleanup_hook(env, cleanup_hook, s);
  if ((rc = uv_poll_start(&s->poll, UV_READABLE, on_readable)) != 0) {
    shut(s, 0);
    return throw_errno(env, -rc, "uv_poll_start");
  }
  return handle;
}

static icmp_socket* get_socket(napi_env env, napi_value value) {
  void* data = NULL;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, value, &data) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "icmpv6: not a socket handle");
    return NULL;
  }
  return data;
}

/* send(handle, bytes: Buffer, destination: string, source: string | null) */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, "EINVAL", "icmpv6.send(handle, bytes, destination, source)");
    return NULL;
  }
  icmp_socket* s = get_socket(env, argv[0]);
  if (s == NULL) return NULL;
  if (s->closed) return throw_errno(env, EBADF, "send");
  void* data;
  size_t data_length, length;
  char text[64]; /* longer than any IPv6 address: a longer string fails the length check */
  struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_scope_id = s->ifindex};
  if (napi_get_buffer_info(env, argv[1], &data, &data_length) != napi_ok ||
      napi_get_value_string_utf8(env, argv[2], text, sizeof text, &length) != napi_ok ||
      length >= sizeof text - 1 || inet_pton(AF_INET6, text, &to.sin6_addr) != 1) {
    napi_throw_type_error(env, "EINVAL", "icmpv6.send: bytes must be a Buffer, destination an IPv6 address");
    return NULL;
  }
  struct iovec iov = {.iov_base = data, .iov_len = data_length};
  struct msghdr msg = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1};
  union {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } control;
  napi_valuetype source_type;
  CHECK(napi_typeof(env, argv[3], &source_type));
  if (source_type == napi_string) {
    struct in6_pktinfo pktinfo = {.ipi6_ifindex = s->ifindex};
    if (napi_get_value_string_utf8(env, argv[3], text, sizeof text, &length) != napi_ok ||
        length >= sizeof text - 1 || inet_pton(AF_INET6, text, &pktinfo.ipi6_addr) != 1) {
      napi_throw_type_error(env, "EINVAL", "icmpv6.send: source must be an IPv6 address or null");
      return NULL;
    }
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pktinfo);
    memcpy(CMSG_DATA(c), &pktinfo, sizeof pktinfo);
  }
  ssize_t sent = sendmsg(s->fd, &msg, 0);
  if (sent < 0) return throw_errno(env, errno, "sendmsg");
  if ((size_t)sent != data_length) return throw_errno(env, EMSGSIZE, "sendmsg");
  return NULL;
}

/* close(handle) */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "EINVAL", "icmpv6.close(handle)");
    return NULL;
  }
  icmp_socket* s = get_socket(env, argv[0]);
  if (s != NULL) shut(s, 0);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  CHECK(napi_create_function(env, "open", NAPI_AUTO_LENGTH, js_open, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "open", fn));
  CHECK(napi_create_function(env, "send", NAPI_AUTO_LENGTH, js_send, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "send", fn));
  CHECK(napi_create_function(env, "close", NAPI_AUTO_LENGTH, js_close, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "close", fn));
  return exports;
}
