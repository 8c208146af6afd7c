// A positional read that never waits for a disk: preadv2 with RWF_NOWAIT (what the page cache
// holds, or -1 with EAGAIN), and a plain pread on tmpfs and ramfs, which answer RWF_NOWAIT with
// EOPNOTSUPP on this kernel but whose data is memory. Shared by file-io.c and udp-socket.c.
#ifndef DISKLESS_CACHED_PREAD_H
#define DISKLESS_CACHED_PREAD_H

#include <errno.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

/* linux/magic.h */
#define DISKLESS_TMPFS_MAGIC 0x01021994
#define DISKLESS_RAMFS_MAGIC 0x858458f6

/* Whether fd's data lives in RAM, where a read is a copy that cannot wait for a disk. */
static inline int on_memory_fs(int fd) {
  struct statfs fs;
  if (fstatfs(fd, &fs) != 0) return 0;
  unsigned long type = (unsigned long)fs.f_type;
  return type == DISKLESS_TMPFS_MAGIC || type == DISKLESS_RAMFS_MAGIC;
}

/*
 * Bytes read into the count iovecs (a short count: the rest is not cached, or the end of the
 * file), or -1 with errno.
 */
static inline ssize_t cached_preadv(int fd, const struct iovec* iov, int count, off_t position) {
  ssize_t n;
  do n = preadv2(fd, iov, count, position, RWF_NOWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EOPNOTSUPP && on_memory_fs(fd)) {
    do n = preadv(fd, iov, count, position);
    while (n < 0 && errno == EINTR);
    // An error here is reported as "not cached": the caller's usual read reports the real one.
    if (n < 0) errno = EAGAIN;
  }
  return n;
}

/* cached_preadv for a file already known to be on a memory file system (on_memory_fs): one
 * system call instead of three (the refused preadv2, fstatfs, preadv). */
static inline ssize_t memory_preadv(int fd, const struct iovec* iov, int count, off_t position) {
  ssize_t n;
  do n = preadv(fd, iov, count, position);
  while (n < 0 && errno == EINTR);
  if (n < 0) errno = EAGAIN;
  return n;
}

static inline ssize_t cached_pread(int fd, const struct iovec* iov, off_t position) {
  return cached_preadv(fd, iov, 1, position);
}

#endif
