// A read that is served only from the page cache: preadv2 with RWF_NOWAIT (Linux 4.14). Node
// reads a file either on the event loop (blocking every connection on a page-cache miss) or on
// the libuv thread pool (a hand-off, a wake-up and an async callback per read: on 2 cores most
// of a cached 128 KiB read's cost). With this the storage code reads on the event loop when
// the data is already in memory (a golden image that every machine boots from is) and goes to
// the pool only for what the kernel says would wait for the disk.
//
//   preadNoWait(fd, buffer, offset, length, position) -> bytes read, or -errno
//       Reads up to length bytes at file position into buffer[offset..]; a short count means
//       the rest is not cached (or the end of the file); -EAGAIN means none of it is cached;
//       -ENOSYS/-EINVAL: this kernel has no RWF_NOWAIT reads; -EOPNOTSUPP: this file's file
//       system has none. Files on tmpfs and ramfs (which answer RWF_NOWAIT with EOPNOTSUPP on
//       this kernel) are read with a plain pread: their data is memory and never waits for a
//       disk. Never blocks on the disk and never throws for I/O errors: the caller reads the
//       usual way and gets the real error there.
//
// Writes are not done this way: ext4 answers RWF_NOWAIT buffered writes with EOPNOTSUPP.
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include "cached-pread.h"

typedef struct {
  int32_t fd;
  struct iovec iov;
  int64_t position;
} io_args;

/* Reads the arguments (fd, buffer, offset, length, position); throws and returns 0 when wrong. */
static int read_args(napi_env env, napi_callback_info info, io_args* out, const char* usage) {
  size_t argc = 5;
  napi_value argv[5];
  uint32_t offset = 0, length = 0;
  void* data = NULL;
  size_t size = 0;
  bool is_buffer = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5 ||
      napi_get_value_int32(env, argv[0], &out->fd) != napi_ok || napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[1], &data, &size) != napi_ok || napi_get_value_uint32(env, argv[2], &offset) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &length) != napi_ok || napi_get_value_int64(env, argv[4], &out->position) != napi_ok ||
      out->fd < 0 || out->position < 0 || (size_t)offset + length > size) {
    napi_throw_type_error(env, "EINVAL", usage);
    return 0;
  }
  out->iov.iov_base = (char*)data + offset;
  out->iov.iov_len = length;
  return 1;
}

static napi_value result_of(napi_env env, ssize_t n) {
  napi_value result;
  napi_create_double(env, n < 0 ? -(double)errno : (double)n, &result);
  return result;
}

static napi_value js_pread_nowait(napi_env env, napi_callback_info info) {
  io_args a;
  if (!read_args(env, info, &a, "preadNoWait(fd, buffer, offset, length, position): bad arguments")) return NULL;
  return result_of(env, cached_pread(a.fd, &a.iov, (off_t)a.position));
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "preadNoWait", NAPI_AUTO_LENGTH, js_pread_nowait, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "preadNoWait", fn) != napi_ok) {
    napi_throw_error(env, "EADDON", "file-io: Node-API call failed");
    return NULL;
  }
  return exports;
}
