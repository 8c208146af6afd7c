// One sendmsg of datagrams cut by the kernel (UDP generic segmentation offload, Linux 4.18):
// the payload in iov is sent as datagrams of `segment` bytes, the last one shorter. Shared by
// udp-batch.c (TFTP windows from JavaScript) and udp-socket.c (the TFTP pump).
#ifndef DISKLESS_UDP_GSO_H
#define DISKLESS_UDP_GSO_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

/* Bytes sent, or -1 with errno. `total` bytes in iov; one datagram needs no segmentation (and a
 * short one would be refused with EINVAL), so then none is asked for. */
static inline ssize_t send_segmented(int fd, struct iovec* iov, size_t iovlen, size_t total, uint16_t segment, const void* peer, socklen_t peer_len) {
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {
      .msg_name = (void*)peer, .msg_namelen = peer_len, .msg_iov = iov, .msg_iovlen = iovlen,
      .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_UDP;
  cmsg->cmsg_type = UDP_SEGMENT;
  cmsg->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  memcpy(CMSG_DATA(cmsg), &segment, sizeof segment);
  if (total <= segment) msg.msg_controllen = 0;
  ssize_t sent;
  do sent = sendmsg(fd, &msg, MSG_DONTWAIT);
  while (sent < 0 && errno == EINTR);
  return sent;
}

#endif
