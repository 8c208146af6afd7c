// A UDP socket whose datagrams reach JavaScript in batches, without an allocation per datagram.
//
// Node's dgram module receives one datagram per recvmsg and, for each, allocates a 64 KiB
// buffer, copies it down to the datagram's size, builds a Buffer and an rinfo object and emits
// an event. For a windowed TFTP transfer (RFC 7440) that path sits between every ACK and the
// next window, and profiles of the server put the garbage collector at as much time as all of
// the transfer's JavaScript. Here the socket is the addon's own: libuv polls its fd
// (uv_poll_t), recvmmsg reads every waiting datagram into slots of one arena the caller gave
// once, and the caller's function is called once per batch with the count. The sends of
// native/udp-batch.c work on the same fd. What the datagrams mean is decided in TypeScript
// (src/lib/native-udp.ts).
//
//   open(family, address, port, arena, meta, slot, onBatch[, flags, receiveBufferBytes])
//           -> [handle, fd, boundPort]
//       A non-blocking, close-on-exec UDP socket (family 4 or 6) bound to address:port (port 0:
//       the kernel picks), polled for reading. flags: 1 SO_REUSEADDR (set before the bind: a
//       DHCP server binds 0.0.0.0:67 and its own address:67), 2 SO_BROADCAST; a non-zero
//       receiveBufferBytes sets SO_RCVBUF (the kernel caps it at net.core.rmem_max). Throws with err.code from errno (EADDRINUSE,
//       EADDRNOTAVAIL, ...), or a TypeError for bad arguments. On each readable event, recvmmsg fills slot i of arena (bytes
//       [i*slot, (i+1)*slot)) and 24 bytes of meta per datagram: u32 length as sent (larger
//       than slot when the datagram was cut), u16 port, u8 family (4/6), u8 0, then the
//       address (4 or 16 bytes, network order); then onBatch(count) runs. A full batch is
//       read again, up to 8 batches per event (then libuv polls again, so other sockets get
//       their turn). onBatch(-errno) reports a receive error other than EAGAIN/EINTR.
//       The arena and meta must stay as they are while watched (the handle holds them).
//   sendTo(fd, datagram, address, port) -> bytes sent, or -1 when the send buffer is full.
//       Throws with err.code for other errors.
//   waitWritable(handle) -> undefined
//       Polls for writing too, once: when the send buffer has room, onBatch(0) runs (after the
//       sender saw -1 or a short sendmmsg and queued the rest).
//   close(handle) -> undefined
//       Stops polling and closes the fd (once libuv has let go of it). onBatch is not called
//       again; closing again is a no-op.
//   pumpStart(handle, fileFd, fileSize, blockSize, windowSize, peerAddress, peerPort, state)
//       A TFTP read transfer's steady state, done here: the ACK of a window's last block is
//       answered with the next window (RFC 1350 lock-step is a window of 1; RFC 7440 more).
//       state is a Float64Array of 4 shared with JavaScript: [0] acked, [1] sent (absolute block
//       numbers), [2] blocks the pump has sent, [3] 1 while the pump may act. An ACK from the
//       peer of block `sent` (sent > acked, not the last block) is answered here: the next
//       window is read from fileFd (page cache only: cached-pread.h; read ahead while the client
//       handles the last one, as tftpd-hpa does) and sent (a sendto per datagram, as atftpd),
//       the state moved on, and the ACK is not
//       handed to onBatch (its meta length reads 0xffffffff; a batch of nothing else makes no
//       call at all). Anything else (the last ACK, a duplicate, an ACK inside the window, an
//       ERROR, a read that would wait for the disk, a full send buffer) goes to onBatch as
//       before, and JavaScript, which reads and writes the state around each of its own steps,
//       carries on. A window costs no call into JavaScript: the event loop's round trip through
//       the callback was most of the time between an ACK and the next block.
//   pumpStop(handle) -> undefined
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "cached-pread.h"
#include "napi-errors.h"

#define MAX_PUMP_WINDOW 64

#define META_BYTES 24
#define CONSUMED 0xffffffffu
#define FLAG_REUSEADDR 1u
#define FLAG_BROADCAST 2u
#define MAX_BATCH 64
#define BATCHES_PER_EVENT 8

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      napi_throw_error(env, "EADDON", "udp-socket: Node-API call failed: " #call); \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

typedef struct {
  int file_fd;
  uint64_t size;
  uint32_t block_size;
  /* size / block_size + 1: the last block is short, and empty when size is a multiple. */
  uint64_t total_blocks;
  uint32_t window_size;
  struct sockaddr_storage peer;
  socklen_t peer_len;
  /* Two windows of DATA datagrams, each (4 + block_size) apart: the one sent last, and the next
   * read ahead into the other. */
  uint8_t* windows[2];
  int ahead;
  /* The blocks windows[ahead] holds (first 0: none), and its bytes. */
  uint64_t ahead_first;
  uint64_t ahead_last;
  size_t ahead_bytes;
  /* The file is on tmpfs or ramfs: plain preadv (RWF_NOWAIT is refused there). */
  int memory_fs;
  double* state;
  napi_ref state_ref;
} pump_t;

typedef struct {
  uv_poll_t poll;
  pump_t* pump;
  napi_env env;
  napi_ref on_batch;
  napi_ref arena_ref;
  napi_ref meta_ref;
  napi_async_context context;
  uint8_t* arena;
  uint8_t* meta;
  size_t slot;
  unsigned capacity;
  int fd;
  int closed;
  int want_write;
} watcher_t;

static napi_value throw_usage(napi_env env, const char* message) {
  napi_throw_type_error(env, "EINVAL", message);
  return NULL;
}

/* Parses an IPv4 or IPv6 literal into addr; the length of the sockaddr, or 0 when it is not one. */
static socklen_t parse_address(const char* text, uint16_t port, struct sockaddr_storage* addr) {
  memset(addr, 0, sizeof *addr);
  struct sockaddr_in* v4 = (struct sockaddr_in*)addr;
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return sizeof *v4;
  }
  struct sockaddr_in6* v6 = (struct sockaddr_in6*)addr;
  if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return sizeof *v6;
  }
  return 0;
}

static int read_string(napi_env env, napi_value value, char* out, size_t size) {
  size_t len;
  return napi_get_value_string_utf8(env, value, out, size, &len) == napi_ok && len < size - 1;
}

static void call_on_batch(watcher_t* w, int32_t value) {
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_value fn, recv, arg, ignored;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, w->on_batch, &fn) == napi_ok && fn != NULL && napi_get_global(env, &recv) == napi_ok &&
      napi_create_int32(env, value, &arg) == napi_ok) {
    // make_callback, not call_function: the microtasks and nextTicks the callback queued run
    // after it, as after any I/O callback of Node's own. (Its receiver must be an object.)
    if (napi_make_callback(env, w->context, recv, fn, 1, &arg, &ignored) == napi_pending_exception) {
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* Fills the meta record of one datagram. */
static void write_meta(uint8_t* meta, uint32_t length, const struct sockaddr_storage* from) {
  memcpy(meta, &length, 4);
  memset(meta + 4, 0, META_BYTES - 4);
  if (from->ss_family == AF_INET) {
    const struct sockaddr_in* v4 = (const struct sockaddr_in*)from;
    uint16_t port = ntohs(v4->sin_port);
    memcpy(meta + 4, &port, 2);
    meta[6] = 4;
    memcpy(meta + 8, &v4->sin_addr, 4);
  } else if (from->ss_family == AF_INET6) {
    const struct sockaddr_in6* v6 = (const struct sockaddr_in6*)from;
    uint16_t port = ntohs(v6->sin6_port);
    memcpy(meta + 4, &port, 2);
    meta[6] = 6;
    memcpy(meta + 8, &v6->sin6_addr, 16);
  }
}

static int same_peer(const struct sockaddr_storage* a, const struct sockaddr_storage* b) {
  if (a->ss_family != b->ss_family) return 0;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in* x = (const struct sockaddr_in*)a;
    const struct sockaddr_in* y = (const struct sockaddr_in*)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->ss_family == AF_INET6) {
    const struct sockaddr_in6* x = (const struct sockaddr_in6*)a;
    const struct sockaddr_in6* y = (const struct sockaddr_in6*)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return 0;
}

/* DATA datagrams for blocks first..last into window: its bytes, or -1 when the page cache cannot give them now. */
static ssize_t pump_fill(const pump_t* p, uint8_t* window, uint64_t first, uint64_t last) {
  struct iovec iov[MAX_PUMP_WINDOW];
  size_t stride = 4 + (size_t)p->block_size, want = 0, bytes = 0;
  int parts = 0;
  for (uint64_t block = first; block <= last; block++) {
    uint8_t* datagram = window + (block - first) * stride;
    uint64_t offset = (block - 1) * p->block_size;
    size_t length = offset >= p->size ? 0 : (size_t)(p->size - offset < p->block_size ? p->size - offset : p->block_size);
    datagram[0] = 0;
    datagram[1] = 3;
    datagram[2] = (uint8_t)((block >> 8) & 0xff);
    datagram[3] = (uint8_t)(block & 0xff);
    if (length > 0) {
      iov[parts].iov_base = datagram + 4;
      iov[parts].iov_len = length;
      parts++;
    }
    want += length;
    bytes = (size_t)(datagram - window) + 4 + length;
  }
  off_t position = (off_t)((first - 1) * p->block_size);
  if (want > 0 && (p->memory_fs ? memory_preadv(p->file_fd, iov, parts, position) : cached_preadv(p->file_fd, iov, parts, position)) != (ssize_t)want) return -1;
  return (ssize_t)bytes;
}

static ssize_t send_one(watcher_t* w, const uint8_t* data, size_t length) {
  pump_t* p = w->pump;
  ssize_t n;
  do n = sendto(w->fd, data, length, MSG_DONTWAIT, (struct sockaddr*)&p->peer, p->peer_len);
  while (n < 0 && errno == EINTR);
  return n;
}

/*
 * Sends the datagrams of window (bytes in all, each stride apart, the last maybe shorter), one
 * sendto each, as atftpd does: the client wakes on the first and reads while the rest arrive.
 * Measured against the first alone and the rest in one UDP_SEGMENT send (what the JavaScript
 * path does, batch-send.ts): atftp windowsize 16, 20 downloads, 3.47-3.56 s against 3.70-3.86 s,
 * for a third more of the server's CPU. How many left; 0 when none did.
 */
static uint64_t pump_send(watcher_t* w, const uint8_t* window, uint64_t count, size_t bytes) {
  size_t stride = 4 + (size_t)w->pump->block_size;
  uint64_t sent = 0;
  for (; sent < count; sent++) {
    size_t offset = (size_t)sent * stride;
    if (send_one(w, window + offset, sent + 1 == count ? bytes - offset : stride) < 0) break;
  }
  // A full send buffer dropped the rest: the client's timeout or RFC 7440 rollback asks again.
  return sent;
}

/* Answers the ACK in data[0..length) with the next window, if it is the steady state's; 1 if so. */
static int pump_ack(watcher_t* w, const uint8_t* data, uint32_t length, const struct sockaddr_storage* from) {
  pump_t* p = w->pump;
  if (p == NULL || p->state[3] != 1.0 || length != 4 || data[0] != 0 || data[1] != 4 || !same_peer(from, &p->peer)) return 0;
  double acked = p->state[0], sent = p->state[1];
  if (!(sent > acked) || sent >= (double)p->total_blocks) return 0;
  uint64_t last_sent = (uint64_t)sent;
  if (((uint32_t)data[2] << 8 | data[3]) != (last_sent & 0xffff)) return 0;
  uint64_t first = last_sent + 1;
  uint64_t last = last_sent + p->window_size < p->total_blocks ? last_sent + p->window_size : p->total_blocks;
  ssize_t bytes;
  if (p->ahead_first == first && p->ahead_last == last) {
    bytes = (ssize_t)p->ahead_bytes;
  } else {
    bytes = pump_fill(p, p->windows[p->ahead], first, last);
    if (bytes < 0) return 0;
  }
  uint64_t count = last - first + 1;
  uint64_t went = pump_send(w, p->windows[p->ahead], count, (size_t)bytes);
  if (went == 0) return 0;
  p->state[0] = (double)last_sent;
  p->state[1] = (double)last;
  p->state[2] += (double)count;
  // Read the following window into the other buffer now, off the path of the next ACK.
  p->ahead ^= 1;
  p->ahead_first = 0;
  if (last < p->total_blocks) {
    uint64_t next_last = last + p->window_size < p->total_blocks ? last + p->window_size : p->total_blocks;
    ssize_t ahead = pump_fill(p, p->windows[p->ahead], last + 1, next_last);
    if (ahead >= 0) {
      p->ahead_first = last + 1;
      p->ahead_last = next_last;
      p->ahead_bytes = (size_t)ahead;
    }
  }
  return 1;
}

static void on_readable(uv_poll_t* handle, int status, int events) {
  watcher_t* w = (watcher_t*)handle->data;
  if (w->closed) return;
  if (status < 0) {
    call_on_batch(w, status);
    return;
  }
  if ((events & UV_WRITABLE) && w->want_write) {
    w->want_write = 0;
    uv_poll_start(&w->poll, UV_READABLE, on_readable);
    call_on_batch(w, 0);
    if (w->closed || !(events & UV_READABLE)) return;
  }
  struct mmsghdr messages[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  struct sockaddr_storage from[MAX_BATCH];
  for (int round = 0; round < BATCHES_PER_EVENT && !w->closed; round++) {
    unsigned count = w->capacity;
    for (unsigned i = 0; i < count; i++) {
      iov[i].iov_base = w->arena + i * w->slot;
      iov[i].iov_len = w->slot;
      memset(&messages[i].msg_hdr, 0, sizeof messages[i].msg_hdr);
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_name = &from[i];
      messages[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int got;
    do got = recvmmsg(w->fd, messages, count, MSG_DONTWAIT | MSG_TRUNC, NULL);
    while (got < 0 && errno == EINTR);
    if (got < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) call_on_batch(w, -errno);
      return;
    }
    if (got == 0) return;
    int for_js = 0;
    for (int i = 0; i < got; i++) {
      uint32_t length = messages[i].msg_len;
      if (length <= w->slot && pump_ack(w, w->arena + (size_t)i * w->slot, length, &from[i])) length = CONSUMED;
      else for_js++;
      write_meta(w->meta + (size_t)i * META_BYTES, length, &from[i]);
    }
    if (for_js > 0) call_on_batch(w, got);
    if ((unsigned)got < count) return;
  }
}

/* A bound socket, or -1 with an exception pending; *port gets the port it is bound to. */
static int bind_socket(napi_env env, uint32_t family, const char* text, uint32_t port, uint32_t flags, uint32_t receive_buffer, uint16_t* bound_port) {
  struct sockaddr_storage addr;
  socklen_t len = parse_address(text, (uint16_t)port, &addr);
  if (len == 0 || (family == 4) != (addr.ss_family == AF_INET)) {
    throw_usage(env, "open: the address is not of the family");
    return -1;
  }
  int fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, errno, "socket");
    return -1;
  }
  int one = 1;
  int rcvbuf = receive_buffer > INT32_MAX ? INT32_MAX : (int)receive_buffer;
  if (((flags & FLAG_REUSEADDR) && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) ||
      ((flags & FLAG_BROADCAST) && setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) ||
      (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0)) {
    int err = errno;
    close(fd);
    throw_errno(env, err, "setsockopt");
    return -1;
  }
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;
  if (bind(fd, (struct sockaddr*)&addr, len) < 0 || getsockname(fd, (struct sockaddr*)&bound, &bound_len) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, err, "bind");
    return -1;
  }
  *bound_port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in*)&bound)->sin_port : ((struct sockaddr_in6*)&bound)->sin6_port);
  return fd;
}

/* The external a handle is: it outlives the watcher (JS may hold it after close). */
typedef struct {
  watcher_t* watcher;
} box_t;

static void free_box(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void free_watcher(uv_handle_t* handle) {
  free(handle->data);
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9], result, item, name, handle;
  uint32_t family, port, slot, flags = 0, receive_buffer = 0;
  char text[64];
  void* arena;
  void* meta;
  size_t arena_len, meta_len;
  napi_valuetype type;
  bool is_buffer;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7 || napi_get_value_uint32(env, argv[0], &family) != napi_ok || (family != 4 && family != 6) ||
      !read_string(env, argv[1], text, sizeof text) || napi_get_value_uint32(env, argv[2], &port) != napi_ok || port > 65535 ||
      napi_get_value_uint32(env, argv[5], &slot) != napi_ok || slot == 0)
    return throw_usage(env, "open(family 4|6, address, port, arena, meta, slot, onBatch)");
  if (napi_is_buffer(env, argv[3], &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, argv[3], &arena, &arena_len) != napi_ok)
    return throw_usage(env, "open: arena must be a Buffer");
  if (napi_is_buffer(env, argv[4], &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, argv[4], &meta, &meta_len) != napi_ok)
    return throw_usage(env, "open: meta must be a Buffer");
  if (napi_typeof(env, argv[6], &type) != napi_ok || type != napi_function) return throw_usage(env, "open: onBatch must be a function");
  if ((argc > 7 && napi_get_value_uint32(env, argv[7], &flags) != napi_ok) || (argc > 8 && napi_get_value_uint32(env, argv[8], &receive_buffer) != napi_ok))
    return throw_usage(env, "open: flags and receiveBufferBytes must be numbers");
  size_t capacity = arena_len / slot;
  if (meta_len / META_BYTES < capacity) capacity = meta_len / META_BYTES;
  if (capacity > MAX_BATCH) capacity = MAX_BATCH;
  if (capacity == 0) return throw_usage(env, "open: the arena and meta must hold at least one datagram");
  uv_loop_t* loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  box_t* box = calloc(1, sizeof *box);
  watcher_t* w = calloc(1, sizeof *w);
  if (box == NULL || w == NULL) {
    free(box);
    free(w);
    return throw_errno(env, ENOMEM, "open");
  }
  if (napi_create_external(env, box, free_box, NULL, &handle) != napi_ok) {
    free(box);
    free(w);
    napi_throw_error(env, "EADDON", "udp-socket: cannot create the handle");
    return NULL;
  }
  uint16_t bound_port = 0;
  int fd = bind_socket(env, family, text, port, flags, receive_buffer, &bound_port);
  if (fd < 0) {
    free(w);
    return NULL;
  }
  w->env = env;
  w->arena = arena;
  w->meta = meta;
  w->slot = slot;
  w->capacity = (unsigned)capacity;
  w->fd = fd;
  int rc = uv_poll_init_socket(loop, &w->poll, fd);
  if (rc < 0) {
    close(fd);
    free(w);
    return throw_errno(env, -rc, "uv_poll_init");
  }
  w->poll.data = w;
  if (napi_create_reference(env, argv[6], 1, &w->on_batch) != napi_ok || napi_create_reference(env, argv[3], 1, &w->arena_ref) != napi_ok ||
      napi_create_reference(env, argv[4], 1, &w->meta_ref) != napi_ok || napi_create_string_utf8(env, "diskless:udp", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &w->context) != napi_ok || (rc = uv_poll_start(&w->poll, UV_READABLE, on_readable)) < 0) {
    // References that were made leak with the failed socket: this only happens when Node-API
    // itself fails. libuv wants the handle closed before its memory goes.
    w->closed = 1;
    close(fd);
    uv_close((uv_handle_t*)&w->poll, free_watcher);
    if (rc < 0) return throw_errno(env, -rc, "uv_poll_start");
    napi_throw_error(env, "EADDON", "udp-socket: cannot keep the callback");
    return NULL;
  }
  box->watcher = w;
  CHECK(napi_create_array_with_length(env, 3, &result));
  CHECK(napi_set_element(env, result, 0, handle));
  CHECK(napi_create_int32(env, fd, &item));
  CHECK(napi_set_element(env, result, 1, item));
  CHECK(napi_create_uint32(env, bound_port, &item));
  CHECK(napi_set_element(env, result, 2, item));
  return result;
}

static void free_pump(napi_env env, watcher_t* w) {
  pump_t* p = w->pump;
  if (p == NULL) return;
  w->pump = NULL;
  napi_delete_reference(env, p->state_ref);
  free(p->windows[0]);
  free(p->windows[1]);
  free(p);
}

/* After libuv let go of the fd: the references go here, not in close(), which may run inside
 * onBatch while call_on_batch still uses them. */
static void on_closed(uv_handle_t* handle) {
  watcher_t* w = (watcher_t*)handle->data;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) == napi_ok) {
    free_pump(env, w);
    napi_delete_reference(env, w->on_batch);
    napi_delete_reference(env, w->arena_ref);
    napi_delete_reference(env, w->meta_ref);
    napi_async_destroy(env, w->context);
    napi_close_handle_scope(env, scope);
  }
  close(w->fd);
  free(w);
}

/* The box a handle argument is, or NULL when the argument is not a handle. */
static box_t* box_of(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void* data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok)
    return NULL;
  return data;
}

static napi_value js_wait_writable(napi_env env, napi_callback_info info) {
  box_t* box = box_of(env, info);
  if (box == NULL) return throw_usage(env, "waitWritable(handle)");
  watcher_t* w = box->watcher;
  if (w == NULL || w->want_write) return NULL;
  w->want_write = 1;
  int rc = uv_poll_start(&w->poll, UV_READABLE | UV_WRITABLE, on_readable);
  if (rc < 0) return throw_errno(env, -rc, "uv_poll_start");
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  box_t* box = box_of(env, info);
  if (box == NULL) return throw_usage(env, "close(handle)");
  watcher_t* w = box->watcher;
  if (w == NULL) return NULL;
  box->watcher = NULL;
  w->closed = 1;
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t*)&w->poll, on_closed);
  return NULL;
}

static napi_value js_send_to(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  int32_t fd;
  uint32_t port;
  void* data;
  size_t len;
  bool is_buffer;
  char text[64];
  struct sockaddr_storage addr;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || !read_string(env, argv[2], text, sizeof text) ||
      napi_get_value_uint32(env, argv[3], &port) != napi_ok || port > 65535)
    return throw_usage(env, "sendTo(fd, datagram, address, port)");
  socklen_t addr_len = parse_address(text, (uint16_t)port, &addr);
  if (addr_len == 0) return throw_usage(env, "sendTo: not an IP address literal");
  ssize_t sent;
  do sent = sendto(fd, data, len, MSG_DONTWAIT, (struct sockaddr*)&addr, addr_len);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return throw_errno(env, errno, "sendto");
    sent = -1;
  }
  CHECK(napi_create_int32(env, (int32_t)sent, &result));
  return result;
}

static napi_value js_pump_start(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  void* data;
  int32_t file_fd;
  int64_t size;
  uint32_t block_size, window_size, port;
  char text[64];
  bool is_typed;
  napi_typedarray_type type;
  size_t length, offset;
  napi_value buffer;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 8 || napi_get_value_external(env, argv[0], &data) != napi_ok || napi_get_value_int32(env, argv[1], &file_fd) != napi_ok || file_fd < 0 ||
      napi_get_value_int64(env, argv[2], &size) != napi_ok || size < 0 || napi_get_value_uint32(env, argv[3], &block_size) != napi_ok ||
      block_size == 0 || block_size > 65464 || napi_get_value_uint32(env, argv[4], &window_size) != napi_ok || window_size == 0 ||
      window_size > MAX_PUMP_WINDOW || !read_string(env, argv[5], text, sizeof text) || napi_get_value_uint32(env, argv[6], &port) != napi_ok ||
      port > 65535 || napi_is_typedarray(env, argv[7], &is_typed) != napi_ok || !is_typed)
    return throw_usage(env, "pumpStart(handle, fileFd, fileSize, blockSize, windowSize 1..64, peerAddress, peerPort, state)");
  void* state;
  if (napi_get_typedarray_info(env, argv[7], &type, &length, &state, &buffer, &offset) != napi_ok || type != napi_float64_array || length < 4)
    return throw_usage(env, "pumpStart: state must be a Float64Array of 4");
  box_t* box = data;
  watcher_t* w = box->watcher;
  if (w == NULL) return throw_usage(env, "pumpStart: the socket is closed");
  pump_t* p = calloc(1, sizeof *p);
  size_t window_bytes = (size_t)window_size * (4 + (size_t)block_size);
  uint8_t* first = malloc(window_bytes);
  uint8_t* second = malloc(window_bytes);
  if (p == NULL || first == NULL || second == NULL) {
    free(p);
    free(first);
    free(second);
    return throw_errno(env, ENOMEM, "pumpStart");
  }
  p->peer_len = parse_address(text, (uint16_t)port, &p->peer);
  if (p->peer_len == 0 || napi_create_reference(env, argv[7], 1, &p->state_ref) != napi_ok) {
    free(p);
    free(first);
    free(second);
    return throw_usage(env, "pumpStart: not an IP address literal");
  }
  p->windows[0] = first;
  p->windows[1] = second;
  p->window_size = window_size;
  p->file_fd = file_fd;
  p->memory_fs = on_memory_fs(file_fd);
  p->size = (uint64_t)size;
  p->block_size = block_size;
  p->total_blocks = (uint64_t)size / block_size + 1;
  p->state = state;
  free_pump(env, w);
  w->pump = p;
  return NULL;
}

static napi_value js_pump_stop(napi_env env, napi_callback_info info) {
  box_t* box = box_of(env, info);
  if (box == NULL) return throw_usage(env, "pumpStop(handle)");
  if (box->watcher != NULL) free_pump(env, box->watcher);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  CHECK(napi_create_function(env, "pumpStart", NAPI_AUTO_LENGTH, js_pump_start, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "pumpStart", fn));
  CHECK(napi_create_function(env, "pumpStop", NAPI_AUTO_LENGTH, js_pump_stop, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "pumpStop", fn));
  CHECK(napi_create_function(env, "open", NAPI_AUTO_LENGTH, js_open, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "open", fn));
  CHECK(napi_create_function(env, "sendTo", NAPI_AUTO_LENGTH, js_send_to, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "sendTo", fn));
  CHECK(napi_create_function(env, "waitWritable", NAPI_AUTO_LENGTH, js_wait_writable, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "waitWritable", fn));
  CHECK(napi_create_function(env, "close", NAPI_AUTO_LENGTH, js_close, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "close", fn));
  return exports;
}
