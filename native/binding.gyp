{
  "targets": [
    {
      "target_name": "icmpv6",
      "sources": ["icmpv6.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    },
    {
      "target_name": "udp_batch",
      "sources": ["udp-batch.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    },
    {
      "target_name": "udp_socket",
      "sources": ["udp-socket.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    },
    {
      "target_name": "tcp_quickack",
      "sources": ["tcp-quickack.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    },
    {
      "target_name": "file_io",
      "sources": ["file-io.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
